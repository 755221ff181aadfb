package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// RotatedToken holds the schema of the rotated_tokens table: the hash of
// every refresh token a session has rotated away. Presenting one of them
// again is reuse, and revokes the session it belongs to.
type RotatedToken struct {
	ent.Schema
}

// Fields of RotatedToken.
func (RotatedToken) Fields() []ent.Field {
	return []ent.Field{
		field.Int64("id"),
		field.String("token_hash").Unique().Immutable().Sensitive().SchemaType(varchar(64)),
		field.UUID("session_id", uuid.UUID{}).Immutable(),
		field.Time("rotated_at").Immutable(),
	}
}

// Edges of RotatedToken.
func (RotatedToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("session", Session.Type).Ref("rotated_tokens").Field("session_id").
			Unique().Required().Immutable(),
	}
}

// Indexes of RotatedToken: by session, which deleting a session (pruning,
// deleting its user) needs to cascade to its hashes without reading the
// whole table once per session.
func (RotatedToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("session_id"),
	}
}
