package entstore

import (
	"context"
	"fmt"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/factor"
)

// factorStore implements domain.FactorStore on the mfa_factors table.
type factorStore struct {
	client  *ent.Client
	dialect string
}

var _ domain.FactorStore = (*factorStore)(nil)

// Create stores f with a new ID. A zero VerifiedAt is stored as NULL.
func (s *factorStore) Create(ctx context.Context, f domain.Factor) (domain.Factor, error) {
	const op = "create factor"
	if f.Kind == (domain.FactorKind{}) {
		return domain.Factor{}, fmt.Errorf("entstore: %s: %w", op, domain.ErrInvalidFactorKind)
	}
	uid, ok := parseID(string(f.UserID))
	if !ok {
		return domain.Factor{}, notFound(op)
	}
	create := s.client.Factor.Create().
		SetUserID(uid).
		SetKind(f.Kind.String()).
		SetSecret(f.Secret).
		SetLastStep(f.LastStep).
		SetCreatedAt(dbTime(f.CreatedAt))
	if !f.VerifiedAt.IsZero() {
		create.SetVerifiedAt(dbTime(f.VerifiedAt))
	}
	row, err := create.Save(ctx)
	if err != nil {
		return domain.Factor{}, factorError(op, err)
	}
	return factorFromEnt(op, row)
}

// ByUser returns the user's factors, oldest first; ties go to the lesser
// (UUIDv7, so earlier) ID, so the order is total.
func (s *factorStore) ByUser(ctx context.Context, id domain.UserID) ([]domain.Factor, error) {
	const op = "list user factors"
	uid, ok := parseID(string(id))
	if !ok {
		return []domain.Factor{}, nil // no user has this ID, so none has factors
	}
	rows, err := s.client.Factor.Query().
		Where(factor.UserID(uid)).
		Order(ent.Asc(factor.FieldCreatedAt), ent.Asc(factor.FieldID)).
		All(ctx)
	if err != nil {
		return nil, factorError(op, err)
	}
	factors := make([]domain.Factor, 0, len(rows))
	for _, row := range rows {
		f, err := factorFromEnt(op, row)
		if err != nil {
			return nil, err
		}
		factors = append(factors, f)
	}
	return factors, nil
}

// AcceptStep advances the factor's last_step to step in one conditional
// UPDATE, which also sets verified_at unless it is set. Of concurrent
// calls with one step, the first to lock the row updates it; the others
// wait for its lock, then find last_step no longer below step and update
// nothing (on SQLite writers run one at a time), so exactly one wins. When
// the update changes nothing, AcceptStep looks the factor up to tell a
// replay from a missing factor.
func (s *factorStore) AcceptStep(ctx context.Context, id domain.FactorID, step int64, now time.Time) error {
	const op = "accept factor step"
	fid, ok := parseID(string(id))
	if !ok {
		return notFound(op)
	}
	query, args := entsql.Dialect(s.dialect).
		Update(factor.Table).
		Set(factor.FieldLastStep, step).
		Set(factor.FieldVerifiedAt, entsql.ExprFunc(func(b *entsql.Builder) {
			b.WriteString("COALESCE(").Ident(factor.FieldVerifiedAt).Comma().Arg(dbTime(now)).WriteString(")")
		})).
		Where(entsql.And(entsql.EQ(factor.FieldID, fid), entsql.LT(factor.FieldLastStep, step))).
		Query()
	res, err := s.client.ExecContext(ctx, query, args...)
	if err != nil {
		return factorError(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("entstore: %s: %w", op, err)
	}
	if n > 0 {
		return nil
	}
	exists, err := s.client.Factor.Query().Where(factor.ID(fid)).Exist(ctx)
	if err != nil {
		return factorError(op, err)
	}
	if !exists {
		return notFound(op)
	}
	return fmt.Errorf("entstore: %s: %w", op, domain.ErrCodeReplayed)
}

// Delete removes the factor with id.
func (s *factorStore) Delete(ctx context.Context, id domain.FactorID) error {
	const op = "delete factor"
	fid, ok := parseID(string(id))
	if !ok {
		return notFound(op)
	}
	if err := s.client.Factor.DeleteOneID(fid).Exec(ctx); err != nil {
		return factorError(op, err)
	}
	return nil
}

// DeleteByUser removes the user's factors.
func (s *factorStore) DeleteByUser(ctx context.Context, id domain.UserID) (int, error) {
	const op = "delete user factors"
	uid, ok := parseID(string(id))
	if !ok {
		return 0, nil // no user has this ID, so none has factors
	}
	n, err := s.client.Factor.Delete().Where(factor.UserID(uid)).Exec(ctx)
	if err != nil {
		return 0, factorError(op, err)
	}
	return n, nil
}

// factorError maps an error from op on the mfa_factors table to the
// domain's errors: not found, and a foreign-key violation (on create, the
// user does not exist), to ErrNotFound, and a unique violation, which only
// the index on (user_id, kind) can raise (IDs are fresh UUIDv7s), to
// ErrFactorExists.
func factorError(op string, err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("entstore: %s: %w", op, domain.ErrFactorExists)
	}
	return ownedRowError(op, err)
}

// factorFromEnt converts an mfa_factors row read by op. A stored kind that
// names no kind is a corrupt row, reported as an internal error.
func factorFromEnt(op string, row *ent.Factor) (domain.Factor, error) {
	kind, err := domain.ParseFactorKind(row.Kind)
	if err != nil {
		return domain.Factor{}, fmt.Errorf("entstore: %s: corrupt mfa_factors row: %v", op, err)
	}
	f := domain.Factor{
		ID:        domain.FactorID(row.ID.String()),
		UserID:    domain.UserID(row.UserID.String()),
		Kind:      kind,
		Secret:    row.Secret,
		LastStep:  row.LastStep,
		CreatedAt: row.CreatedAt.UTC(),
	}
	if row.VerifiedAt != nil {
		f.VerifiedAt = row.VerifiedAt.UTC()
	}
	return f, nil
}
