package entstore

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/user"
)

// userStore implements domain.UserStore on the users table.
type userStore struct {
	client *ent.Client
	// batch, outside a unit of work only, gathers concurrent ByID lookups
	// into one query; nil inside one, where statements run one by one on
	// the transaction's connection.
	batch *userBatcher
}

var _ domain.UserStore = (*userStore)(nil)

// Create stores u with a new ID. An empty email or password hash is stored
// as NULL, as for an anonymous user.
func (s *userStore) Create(ctx context.Context, u domain.User) (domain.User, error) {
	const op = "create user"
	if !u.Tier.Valid() {
		return domain.User{}, fmt.Errorf("entstore: %s: %w", op, domain.ErrInvalidTier)
	}
	row, err := s.client.User.Create().
		SetNillableEmail(nullIfEmpty(domain.NormalizeEmail(u.Email))).
		SetNillablePasswordHash(nullIfEmpty(u.PasswordHash)).
		SetEmailVerified(u.EmailVerified).
		SetTier(u.Tier.String()).
		SetCreatedAt(dbTime(u.CreatedAt)).
		SetUpdatedAt(dbTime(u.UpdatedAt)).
		Save(ctx)
	if err != nil {
		return domain.User{}, userError(op, err)
	}
	return userFromEnt(op, row)
}

// ByID returns the user with id.
func (s *userStore) ByID(ctx context.Context, id domain.UserID) (domain.User, error) {
	const op = "get user"
	uid, ok := parseID(string(id))
	if !ok {
		return domain.User{}, notFound(op)
	}
	if s.batch == nil {
		row, err := s.client.User.Get(ctx, uid)
		if err != nil {
			return domain.User{}, userError(op, err)
		}
		return userFromEnt(op, row)
	}
	row, err := s.batch.get(ctx, uid)
	switch {
	case err != nil:
		return domain.User{}, userError(op, err)
	case row == nil:
		return domain.User{}, notFound(op)
	}
	return userFromEnt(op, row)
}

// ByEmail returns the user with the normalised email.
func (s *userStore) ByEmail(ctx context.Context, email string) (domain.User, error) {
	const op = "get user by email"
	row, err := s.client.User.Query().
		Where(user.Email(domain.NormalizeEmail(email))).
		Only(ctx)
	if err != nil {
		return domain.User{}, userError(op, err)
	}
	return userFromEnt(op, row)
}

// Update overwrites the mutable fields of the user with u.ID.
func (s *userStore) Update(ctx context.Context, u domain.User) (domain.User, error) {
	const op = "update user"
	if !u.Tier.Valid() {
		return domain.User{}, fmt.Errorf("entstore: %s: %w", op, domain.ErrInvalidTier)
	}
	uid, ok := parseID(string(u.ID))
	if !ok {
		return domain.User{}, notFound(op)
	}
	upd := s.client.User.UpdateOneID(uid).
		SetEmailVerified(u.EmailVerified).
		SetTier(u.Tier.String()).
		SetUpdatedAt(dbTime(u.UpdatedAt))
	if email := domain.NormalizeEmail(u.Email); email != "" {
		upd.SetEmail(email)
	} else {
		upd.ClearEmail()
	}
	if u.PasswordHash != "" {
		upd.SetPasswordHash(u.PasswordHash)
	} else {
		upd.ClearPasswordHash()
	}
	row, err := upd.Save(ctx)
	if err != nil {
		return domain.User{}, userError(op, err)
	}
	return userFromEnt(op, row)
}

// Delete removes the user with id; the database cascades the delete to the
// user's tokens, sessions and factors, and from the sessions to their
// rotated-away hashes.
func (s *userStore) Delete(ctx context.Context, id domain.UserID) error {
	const op = "delete user"
	uid, ok := parseID(string(id))
	if !ok {
		return notFound(op)
	}
	if err := s.client.User.DeleteOneID(uid).Exec(ctx); err != nil {
		return userError(op, err)
	}
	return nil
}

// userError maps an error from op on the users table to the domain's
// errors: not found to ErrNotFound and, since email is the only unique
// column the store writes (IDs are fresh UUIDv7s), a unique violation to
// ErrEmailTaken.
func userError(op string, err error) error {
	switch {
	case ent.IsNotFound(err):
		return notFound(op)
	case isUniqueViolation(err):
		return fmt.Errorf("entstore: %s: %w", op, domain.ErrEmailTaken)
	default:
		return fmt.Errorf("entstore: %s: %w", op, err)
	}
}

// userFromEnt converts a users row read by op. A stored tier that names no
// tier is a corrupt row, reported as an internal error rather than
// ErrInvalidTier, which would blame the caller.
func userFromEnt(op string, row *ent.User) (domain.User, error) {
	tier, err := domain.ParseTier(row.Tier)
	if err != nil {
		return domain.User{}, fmt.Errorf("entstore: %s: corrupt users row: %v", op, err)
	}
	return domain.User{
		ID:            domain.UserID(row.ID.String()),
		Email:         valueOrEmpty(row.Email),
		PasswordHash:  valueOrEmpty(row.PasswordHash),
		EmailVerified: row.EmailVerified,
		Tier:          tier,
		CreatedAt:     row.CreatedAt.UTC(),
		UpdatedAt:     row.UpdatedAt.UTC(),
	}, nil
}

// nullIfEmpty returns nil for "", which the store writes as NULL.
func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// valueOrEmpty returns "" for NULL.
func valueOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
