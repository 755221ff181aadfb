package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// RateLimit holds the schema of the rate_limits table: one fixed-window
// counter per rate-limit key, shared by every replica. The primary key,
// stored in the column "key", is the SHA-256 hex of the caller's key (see
// domain.HashToken), never the key itself, so no email or IP address that
// a limit is keyed on is stored in clear; the hash also gives every key,
// however long, the same 64 characters.
type RateLimit struct {
	ent.Schema
}

// Fields of RateLimit.
func (RateLimit) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").StorageKey("key").Immutable().Sensitive().SchemaType(varchar(64)),
		field.Int("count"),
		field.Time("window_ends_at"),
	}
}

// Indexes of RateLimit: by the end of the window (pruning).
func (RateLimit) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("window_ends_at"),
	}
}
