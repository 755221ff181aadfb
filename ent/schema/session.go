package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Session holds the schema of the sessions table: one row per login, with
// the hash of its current refresh token.
type Session struct {
	ent.Schema
}

// Fields of Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(newID).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("token_hash").Unique().Sensitive().SchemaType(varchar(64)),
		field.String("user_agent").Default("").SchemaType(varchar(domain.MaxUserAgent)),
		field.String("ip").Default("").SchemaType(varchar(45)),
		// auth_methods holds the amr names (domain.AuthMethod) the session
		// was started with, space-separated in the order they were used; ''
		// for an anonymous session. One text column rather than a table:
		// the methods are read with the session, never queried by.
		field.String("auth_methods").Default(""),
		// The last rotation's retry secret: the hash it spent, the token it
		// issued sealed under the spent one (domain.SealRetry), and until
		// when a retry presenting the spent token gets that token again.
		// All three are NULL when the last rotation kept no secret, and
		// pruning clears them once the grace has ended.
		field.String("retry_hash").Optional().Nillable().Sensitive().SchemaType(varchar(64)),
		field.Bytes("retry_sealed").Optional().Nillable().Sensitive(),
		field.Time("retry_until").Optional().Nillable(),
		field.Time("expires_at"),
		field.Time("created_at").Immutable().
			Annotations(entsql.DefaultExpr("CURRENT_TIMESTAMP")),
		field.Time("last_used_at"),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Edges of Session. Rotated-away hashes go with their session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").
			Unique().Required().Immutable(),
		edge.To("rotated_tokens", RotatedToken.Type).
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of Session: by owner (listing, revoking all) and by expiry
// (pruning). The retry columns have none: every rotation rewrites them,
// and each index would cost every refresh an insert. A retry finds its
// session through rotated_tokens' unique hash, and pruning the ended
// retry secrets scans.
func (Session) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
		index.Fields("expires_at"),
	}
}
