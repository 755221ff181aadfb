package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SigningKey holds the schema of the signing_keys table: the key pairs that
// sign access tokens, shared by every replica. The ID is the key's kid,
// chosen by the signing adapter. The private half is stored only
// encrypted. Rows are never updated.
type SigningKey struct {
	ent.Schema
}

// Fields of SigningKey.
func (SigningKey) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").Immutable().SchemaType(varchar(64)),
		field.String("algorithm").Immutable().SchemaType(varchar(16)),
		field.Bytes("public_key").Immutable(),
		field.Bytes("encrypted_private_key").Immutable().Sensitive(),
		field.Time("created_at").Immutable(),
	}
}

// Indexes of SigningKey: by age, the order keys are listed in.
func (SigningKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_at"),
	}
}
