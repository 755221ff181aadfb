package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Passkey holds the schema of the passkeys table: users' WebAuthn
// credentials. Nothing in a row is secret (the private key never leaves
// the authenticator); sign_count is the authenticator's signature counter
// as last seen, which a conditional update only ever raises, so that two
// replicas cannot both accept a cloned authenticator's signature.
type Passkey struct {
	ent.Schema
}

// Fields of Passkey.
func (Passkey) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(newID).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		// credential_id is the authenticator's ID of the credential, at
		// most 1023 bytes (WebAuthn Level 3), unique across all users.
		field.Bytes("credential_id").Unique().Immutable().MaxLen(1023),
		field.Bytes("public_key").Immutable(),
		field.Int64("sign_count").Default(0),
		field.Bytes("aaguid").Optional().Immutable(),
		// transports are the browser's names of them, space-separated.
		field.String("transports").Default("").Immutable(),
		field.Bool("backup_eligible").Default(false).Immutable(),
		field.Bool("backed_up").Default(false),
		field.String("name").Default("").SchemaType(varchar(100)),
		field.Time("created_at").Immutable(),
		// last_used_at is NULL until the passkey's first sign-in.
		field.Time("last_used_at").Optional().Nillable(),
	}
}

// Edges of Passkey.
func (Passkey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("passkeys").Field("user_id").
			Unique().Required().Immutable(),
	}
}

// Indexes of Passkey: by owner (listing, the cascade when the user is
// deleted).
func (Passkey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id"),
	}
}
