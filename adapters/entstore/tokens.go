package entstore

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/ent"
	"github.com/gatehouse-auth/gatehouse/ent/predicate"
	"github.com/gatehouse-auth/gatehouse/ent/token"
)

// tokenStore implements domain.TokenStore on the tokens table.
type tokenStore struct {
	client *ent.Client
}

var _ domain.TokenStore = (*tokenStore)(nil)

// Create stores t with a new ID. No methods, no data and no user are
// stored as NULL (the tokens that predate the columns have no methods and
// no data).
func (s *tokenStore) Create(ctx context.Context, t domain.Token) (domain.Token, error) {
	const op = "create token"
	if !t.Kind.Valid() {
		return domain.Token{}, fmt.Errorf("entstore: %s: %w", op, domain.ErrInvalidTokenKind)
	}
	methods, err := authMethodsToEnt(op, t.Methods)
	if err != nil {
		return domain.Token{}, err
	}
	create := s.client.Token.Create()
	if t.UserID != "" {
		uid, ok := parseID(string(t.UserID))
		if !ok {
			return domain.Token{}, notFound(op)
		}
		create.SetUserID(uid)
	}
	if len(t.Data) > 0 {
		create.SetData(t.Data)
	}
	create.
		SetKind(t.Kind.String()).
		SetTokenHash(t.Hash).
		SetExpiresAt(dbTime(t.ExpiresAt)).
		SetCreatedAt(dbTime(t.CreatedAt))
	if methods != "" {
		create.SetAuthMethods(methods)
	}
	row, err := create.Save(ctx)
	if err != nil {
		return domain.Token{}, ownedRowError(op, err)
	}
	return tokenFromEnt(op, row)
}

// Find returns the unexpired token of kind with hash.
func (s *tokenStore) Find(ctx context.Context, kind domain.TokenKind, hash string, now time.Time) (domain.Token, error) {
	const op = "find token"
	row, err := s.find(ctx, kind, hash, dbTime(now))
	if err != nil {
		return domain.Token{}, ownedRowError(op, err)
	}
	return tokenFromEnt(op, row)
}

// find reads the token of kind with hash that is unexpired at now.
func (s *tokenStore) find(ctx context.Context, kind domain.TokenKind, hash string, now time.Time) (*ent.Token, error) {
	return s.client.Token.Query().
		Where(token.TokenHash(hash), token.Kind(kind.String()), token.ExpiresAtGT(now)).
		Only(ctx)
}

// Consume finds the unexpired token and then deletes it on the condition
// that it is still there and unexpired. Concurrent consumers may all find
// it, but the database lets only one delete the row: on Postgres the others
// wait for its row lock and then see the row gone, on SQLite writers run one
// at a time. The one whose delete affected the row wins.
func (s *tokenStore) Consume(ctx context.Context, kind domain.TokenKind, hash string, now time.Time) (domain.Token, error) {
	const op = "consume token"
	now = dbTime(now)
	row, err := s.find(ctx, kind, hash, now)
	if err != nil {
		return domain.Token{}, ownedRowError(op, err)
	}
	n, err := s.client.Token.Delete().
		Where(token.ID(row.ID), token.ExpiresAtGT(now)).
		Exec(ctx)
	if err != nil {
		return domain.Token{}, ownedRowError(op, err)
	}
	if n != 1 {
		return domain.Token{}, notFound(op)
	}
	return tokenFromEnt(op, row)
}

// DeleteByUser deletes the user's tokens of kind.
func (s *tokenStore) DeleteByUser(ctx context.Context, id domain.UserID, kind domain.TokenKind) (int, error) {
	const op = "delete user tokens"
	uid, ok := parseID(string(id))
	if !ok {
		return 0, nil // no user has this ID, so none has tokens
	}
	n, err := s.client.Token.Delete().
		Where(token.UserID(uid), token.Kind(kind.String())).
		Exec(ctx)
	if err != nil {
		return 0, ownedRowError(op, err)
	}
	return n, nil
}

// DeleteExpired deletes up to limit expired tokens, those that expired first
// first, in one statement.
func (s *tokenStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	const op = "delete expired tokens"
	if limit <= 0 {
		return 0, nil
	}
	now = dbTime(now)
	n, err := s.client.Token.Delete().
		Where(
			token.ExpiresAtLTE(now),
			predicate.Token(firstExpired(token.Table, token.FieldID, token.FieldExpiresAt, now, limit)),
		).
		Exec(ctx)
	if err != nil {
		return 0, ownedRowError(op, err)
	}
	return n, nil
}

// tokenFromEnt converts a tokens row read by op. A stored kind or method
// that names none is a corrupt row, reported as an internal error.
func tokenFromEnt(op string, row *ent.Token) (domain.Token, error) {
	kind, err := domain.ParseTokenKind(row.Kind)
	if err != nil {
		return domain.Token{}, fmt.Errorf("entstore: %s: corrupt tokens row: %v", op, err)
	}
	var methods []domain.AuthMethod
	if row.AuthMethods != nil {
		if methods, err = authMethodsFromEnt(*row.AuthMethods); err != nil {
			return domain.Token{}, fmt.Errorf("entstore: %s: corrupt tokens row: %v", op, err)
		}
	}
	var user domain.UserID
	if row.UserID != nil {
		user = domain.UserID(row.UserID.String())
	}
	var data []byte
	if row.Data != nil && len(*row.Data) > 0 {
		data = *row.Data
	}
	return domain.Token{
		ID:        row.ID.String(),
		UserID:    user,
		Data:      data,
		Kind:      kind,
		Hash:      row.TokenHash,
		Methods:   methods,
		ExpiresAt: row.ExpiresAt.UTC(),
		CreatedAt: row.CreatedAt.UTC(),
	}, nil
}
