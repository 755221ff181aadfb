package entstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/passkey"
)

// passkeyStore implements domain.PasskeyStore on the passkeys table.
type passkeyStore struct {
	client  *ent.Client
	dialect string
}

var _ domain.PasskeyStore = (*passkeyStore)(nil)

// Create stores p with a new ID. A zero LastUsedAt is stored as NULL.
func (s *passkeyStore) Create(ctx context.Context, p domain.Passkey) (domain.Passkey, error) {
	const op = "create passkey"
	uid, ok := parseID(string(p.UserID))
	if !ok {
		return domain.Passkey{}, notFound(op)
	}
	create := s.client.Passkey.Create().
		SetUserID(uid).
		SetCredentialID(p.CredentialID).
		SetPublicKey(p.PublicKey).
		SetSignCount(int64(p.SignCount)).
		SetAaguid(p.AAGUID).
		SetTransports(strings.Join(p.Transports, " ")).
		SetBackupEligible(p.BackupEligible).
		SetBackedUp(p.BackedUp).
		SetName(p.Name).
		SetCreatedAt(dbTime(p.CreatedAt))
	if !p.LastUsedAt.IsZero() {
		create.SetLastUsedAt(dbTime(p.LastUsedAt))
	}
	row, err := create.Save(ctx)
	if err != nil {
		return domain.Passkey{}, passkeyError(op, err)
	}
	return passkeyFromEnt(row), nil
}

// ByUser returns the user's passkeys, oldest first; ties go to the lesser
// (UUIDv7, so earlier) ID, so the order is total.
func (s *passkeyStore) ByUser(ctx context.Context, id domain.UserID) ([]domain.Passkey, error) {
	const op = "list user passkeys"
	uid, ok := parseID(string(id))
	if !ok {
		return []domain.Passkey{}, nil // no user has this ID, so none has passkeys
	}
	rows, err := s.client.Passkey.Query().
		Where(passkey.UserID(uid)).
		Order(ent.Asc(passkey.FieldCreatedAt), ent.Asc(passkey.FieldID)).
		All(ctx)
	if err != nil {
		return nil, passkeyError(op, err)
	}
	passkeys := make([]domain.Passkey, len(rows))
	for i, row := range rows {
		passkeys[i] = passkeyFromEnt(row)
	}
	return passkeys, nil
}

// RecordUse raises the passkey's sign_count to signCount in one
// conditional UPDATE. Of concurrent calls with one count, the first to
// lock the row updates it; the others wait for its lock, then find the
// count no longer below theirs and update nothing (on SQLite writers run
// one at a time), so exactly one wins. When the update changes nothing,
// RecordUse looks the passkey up to tell a clone from a missing passkey.
func (s *passkeyStore) RecordUse(ctx context.Context, id domain.PasskeyID, signCount uint32, backedUp bool, now time.Time) error {
	const op = "record passkey use"
	pid, ok := parseID(string(id))
	if !ok {
		return notFound(op)
	}
	count := int64(signCount)
	upward := entsql.LT(passkey.FieldSignCount, count)
	if count == 0 {
		upward = entsql.EQ(passkey.FieldSignCount, 0) // an authenticator without a counter
	}
	query, args := entsql.Dialect(s.dialect).
		Update(passkey.Table).
		Set(passkey.FieldSignCount, count).
		Set(passkey.FieldBackedUp, backedUp).
		Set(passkey.FieldLastUsedAt, dbTime(now)).
		Where(entsql.And(entsql.EQ(passkey.FieldID, pid), upward)).
		Query()
	res, err := s.client.ExecContext(ctx, query, args...)
	if err != nil {
		return passkeyError(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("entstore: %s: %w", op, err)
	}
	if n > 0 {
		return nil
	}
	exists, err := s.client.Passkey.Query().Where(passkey.ID(pid)).Exist(ctx)
	if err != nil {
		return passkeyError(op, err)
	}
	if !exists {
		return notFound(op)
	}
	return fmt.Errorf("entstore: %s: %w", op, domain.ErrPasskeyCloned)
}

// Delete removes the passkey with id.
func (s *passkeyStore) Delete(ctx context.Context, id domain.PasskeyID) error {
	const op = "delete passkey"
	pid, ok := parseID(string(id))
	if !ok {
		return notFound(op)
	}
	if err := s.client.Passkey.DeleteOneID(pid).Exec(ctx); err != nil {
		return passkeyError(op, err)
	}
	return nil
}

// DeleteByUser removes the user's passkeys.
func (s *passkeyStore) DeleteByUser(ctx context.Context, id domain.UserID) (int, error) {
	const op = "delete user passkeys"
	uid, ok := parseID(string(id))
	if !ok {
		return 0, nil // no user has this ID, so none has passkeys
	}
	n, err := s.client.Passkey.Delete().Where(passkey.UserID(uid)).Exec(ctx)
	if err != nil {
		return 0, passkeyError(op, err)
	}
	return n, nil
}

// passkeyError maps an error from op on the passkeys table to the
// domain's errors: not found, and a foreign-key violation (on create, the
// user does not exist), to ErrNotFound, and a unique violation, which
// only the index on credential_id can raise (IDs are fresh UUIDv7s), to
// ErrPasskeyExists.
func passkeyError(op string, err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("entstore: %s: %w", op, domain.ErrPasskeyExists)
	}
	return ownedRowError(op, err)
}

// passkeyFromEnt converts a passkeys row. Empty byte columns and
// transports read back as nil, as memstore hands them out.
func passkeyFromEnt(row *ent.Passkey) domain.Passkey {
	p := domain.Passkey{
		ID:             domain.PasskeyID(row.ID.String()),
		UserID:         domain.UserID(row.UserID.String()),
		CredentialID:   nilIfEmpty(row.CredentialID),
		PublicKey:      nilIfEmpty(row.PublicKey),
		SignCount:      uint32(row.SignCount), //nolint:gosec // only ever written from a uint32
		AAGUID:         nilIfEmpty(row.Aaguid),
		Transports:     strings.Fields(row.Transports),
		BackupEligible: row.BackupEligible,
		BackedUp:       row.BackedUp,
		Name:           row.Name,
		CreatedAt:      row.CreatedAt.UTC(),
	}
	if len(p.Transports) == 0 {
		p.Transports = nil
	}
	if row.LastUsedAt != nil {
		p.LastUsedAt = row.LastUsedAt.UTC()
	}
	return p
}

// nilIfEmpty returns b, or nil when it is empty.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
