package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Token holds the schema of the tokens table: single-use tokens (email
// verification, password reset, MFA challenges, recovery codes), stored
// only as SHA-256 hashes, and passkey ceremonies' state.
type Token struct {
	ent.Schema
}

// Fields of Token. The kind is stored in the column "type", as the seed plan
// names it.
func (Token) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(newID).Immutable(),
		// user_id is NULL for a token of no user: a passwordless passkey
		// sign-in's ceremony, before a passkey names its user.
		field.UUID("user_id", uuid.UUID{}).Optional().Nillable().Immutable(),
		field.String("kind").StorageKey("type").Immutable().SchemaType(varchar(50)),
		field.String("token_hash").Unique().Immutable().Sensitive().SchemaType(varchar(64)),
		// auth_methods holds, for an MFA challenge, the amr names
		// (domain.AuthMethod) the sign-in it finishes has used so far,
		// space-separated in order, as sessions' auth_methods does; NULL
		// for a token that carries none, which is every other kind.
		field.String("auth_methods").Optional().Nillable().Immutable(),
		// data is what the token's flow keeps until it is consumed (a
		// passkey ceremony's state), opaque to the store; NULL for most
		// kinds.
		field.Bytes("data").Optional().Nillable().Immutable().Sensitive(),
		field.Time("expires_at").Immutable(),
		field.Time("created_at").Immutable().
			Annotations(entsql.DefaultExpr("CURRENT_TIMESTAMP")),
	}
}

// Edges of Token.
func (Token) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("tokens").Field("user_id").
			Unique().Immutable(),
	}
}

// Indexes of Token: by owner (superseding a user's tokens) and by expiry
// (pruning).
func (Token) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "kind"),
		index.Fields("expires_at"),
	}
}
