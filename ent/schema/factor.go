package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"
)

// Factor holds the schema of the mfa_factors table: users' second factors,
// at most one of each kind per user. The secret is stored only sealed
// (domain.SecretBox); last_step is the latest TOTP time step whose code
// was accepted, which a conditional update advances so that a code is
// accepted once.
type Factor struct {
	ent.Schema
}

// Annotations of Factor name its table mfa_factors: a password is a factor
// too, and is not kept there.
func (Factor) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entsql.Annotation{Table: "mfa_factors"},
	}
}

// Fields of Factor.
func (Factor) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(newID).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("kind").Immutable().SchemaType(varchar(20)),
		field.Bytes("secret").Immutable().Sensitive(),
		field.Int64("last_step").Default(0),
		field.Time("created_at").Immutable(),
		// verified_at is NULL until a first code proves the factor works.
		field.Time("verified_at").Optional().Nillable(),
	}
}

// Edges of Factor.
func (Factor) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("factors").Field("user_id").
			Unique().Required().Immutable(),
	}
}

// Indexes of Factor: one factor of a kind per user. The index also finds
// a user's factors (listing, and the cascade when the user is deleted), so
// user_id needs none of its own.
func (Factor) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "kind").Unique(),
	}
}
