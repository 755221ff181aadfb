// Package schema is the hand-written Ent schema of Gatehouse's tables. The
// versioned migrations in ent/migrate/migrations are generated from it.
package schema

import (
	"strconv"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"
)

// User holds the schema of the users table. Emails are stored normalised
// (trimmed, lower-cased) by the store, so the unique index on email makes
// them unique regardless of case; anonymous users have a NULL email.
type User struct {
	ent.Schema
}

// Fields of User.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(newID).Immutable(),
		field.String("email").Optional().Nillable().Unique().
			SchemaType(varchar(254)),
		field.String("password_hash").Optional().Nillable().Sensitive(),
		field.Bool("email_verified").Default(false),
		field.String("tier").Default("free").SchemaType(varchar(20)),
		field.Time("created_at").Immutable(),
		field.Time("updated_at"),
	}
}

// Edges of User. Deleting a user deletes its tokens, sessions, second
// factors and passkeys in the database (ON DELETE CASCADE), so no code path can leave
// orphans.
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tokens", Token.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("sessions", Session.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("factors", Factor.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("passkeys", Passkey.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

// newID returns a time-ordered UUID (version 7), which keeps primary-key
// indexes append-mostly.
func newID() uuid.UUID {
	return uuid.Must(uuid.NewV7())
}

// varchar returns a column type of exactly n characters on both dialects;
// Ent ignores MaxLen when it picks Postgres column types.
func varchar(n int) map[string]string {
	t := "varchar(" + strconv.Itoa(n) + ")"
	return map[string]string{dialect.Postgres: t, dialect.SQLite: t}
}
