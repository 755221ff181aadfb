package entstore

import (
	"context"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/signingkey"
)

// keyStore implements domain.KeyStore on the signing_keys table.
type keyStore struct {
	client  *ent.Client
	outside outside
}

var _ domain.KeyStore = (*keyStore)(nil)

// Add stores k under its own ID. A stored ID makes the insert fail on the
// primary key; no domain error names that, since the signing adapter draws
// IDs at random and a collision is a bug. The error wraps the driver's,
// which names the constraint but no value, so key material never reaches
// a log.
func (s *keyStore) Add(ctx context.Context, k domain.SigningKey) error {
	const op = "add signing key"
	if err := s.outside.check(ctx, op); err != nil {
		return err
	}
	err := s.client.SigningKey.Create().
		SetID(k.ID).
		SetAlgorithm(k.Algorithm).
		SetPublicKey(k.PublicKey).
		SetEncryptedPrivateKey(k.EncryptedPrivateKey).
		SetCreatedAt(dbTime(k.CreatedAt)).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("entstore: %s: %w", op, err)
	}
	return nil
}

// List returns every key, newest first; keys created at the same instant
// go by ID, greatest first, so the order is total.
func (s *keyStore) List(ctx context.Context) ([]domain.SigningKey, error) {
	const op = "list signing keys"
	if err := s.outside.check(ctx, op); err != nil {
		return nil, err
	}
	rows, err := s.client.SigningKey.Query().
		Order(ent.Desc(signingkey.FieldCreatedAt), ent.Desc(signingkey.FieldID)).
		All(ctx)
	if err != nil {
		return nil, fmt.Errorf("entstore: %s: %w", op, err)
	}
	keys := make([]domain.SigningKey, 0, len(rows))
	for _, row := range rows {
		keys = append(keys, keyFromEnt(row))
	}
	return keys, nil
}

// keyFromEnt converts a signing_keys row. The driver scans every row into
// fresh byte slices, so the key owns them.
func keyFromEnt(row *ent.SigningKey) domain.SigningKey {
	return domain.SigningKey{
		ID:                  row.ID,
		Algorithm:           row.Algorithm,
		PublicKey:           row.PublicKey,
		EncryptedPrivateKey: row.EncryptedPrivateKey,
		CreatedAt:           row.CreatedAt.UTC(),
	}
}
