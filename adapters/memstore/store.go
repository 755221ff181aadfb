// Package memstore implements Gatehouse's store ports in memory. It is the
// fake that tests swap in for the Postgres store: use cases' tests in app and
// developers' own tests run on it without a database. It passes the same
// contract suites (test/contract) as the real store, so it behaves like it:
// it is safe for concurrent use, InTx is a real unit of work, and it enforces
// the same uniqueness, foreign keys and cascades as the schema.
//
// Units of work are serialised: InTx holds the store for as long as fn runs.
// As on Postgres, a write the schema rejects (a unique or foreign-key
// violation) aborts the unit of work it runs in: later calls on its stores
// fail and it does not commit, even if fn carries on and returns nil.
// Inside fn, use only the stores handed to fn. Using the store's outer
// stores, or calling InTx again, with the context handed to fn returns an
// error instead of deadlocking; with any other context such a call waits
// until that context is done.
//
// Signing keys, rate limits and named locks (Store.Standalone) belong to no
// unit of work. Each has a lock of its own, so they never wait for a unit of
// work; called with the context handed to fn they refuse with
// domain.ErrInsideUnitOfWork, as the database store does, where the call
// could wait for the connection the unit of work holds.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/gatehouse-auth/gatehouse/domain"
)

var (
	_ domain.Transactor     = (*Store)(nil)
	_ domain.UserStore      = userStore{}
	_ domain.TokenStore     = tokenStore{}
	_ domain.SessionStore   = sessionStore{}
	_ domain.FactorStore    = factorStore{}
	_ domain.PasskeyStore   = passkeyStore{}
	_ domain.KeyStore       = (*keyStore)(nil)
	_ domain.RateLimitStore = (*rateLimitStore)(nil)
)

var (
	errInsideTx  = errors.New("memstore: outer store or InTx used inside a unit of work of the same store; use the stores handed to fn")
	errTxEnded   = errors.New("memstore: stores of a unit of work used after it ended")
	errTxAborted = errors.New("memstore: unit of work aborted by a rejected write; fn must return the store's error")
)

// violation marks an error that Postgres raises as a failed statement: a
// unique or foreign-key violation. A failed statement aborts the transaction
// it runs in, so a unit of work that meets one must end.
type violation struct{ err error }

func (v violation) Error() string { return v.err.Error() }
func (v violation) Unwrap() error { return v.err }

// Store is an in-memory database of users, tokens, sessions, second
// factors, passkeys, signing keys and rate limits. Its zero value is not usable;
// call New.
type Store struct {
	// sem is a one-slot semaphore held by one method call or one unit of
	// work at a time. Unlike a sync.Mutex, waiting for it gives up when the
	// caller's context is done, as waiting for a database lock would.
	sem        chan struct{}
	data       *data
	keys       *keyStore       // outside units of work, under its own lock
	rateLimits *rateLimitStore // likewise
	locks      *locker         // likewise
}

// New returns an empty Store.
func New() *Store {
	s := &Store{sem: make(chan struct{}, 1), data: newData()}
	s.keys = newKeyStore(outside{s})
	s.rateLimits = newRateLimitStore(outside{s})
	s.locks = newLocker(outside{s})
	return s
}

// Stores returns the stores outside any unit of work. Each of their methods
// is atomic on its own.
func (s *Store) Stores() domain.Stores {
	return storesOn(s)
}

// Standalone returns the signing keys, the rate limits and the named locks,
// which belong to no unit of work: each call is atomic on its own. A Store
// lives in one process, so its locks exclude the holders within it. Called
// inside a unit of work of s, they return an error wrapping
// domain.ErrInsideUnitOfWork; see domain.Standalone.
func (s *Store) Standalone() domain.Standalone {
	return domain.Standalone{Keys: s.keys, RateLimits: s.rateLimits, Locker: s.locks}
}

// InTx runs fn as one unit of work on a private copy of the data, which
// replaces the store's data only if fn returns nil and ctx is still not
// done, as a database transaction commits. If fn returns an error, panics or
// outlives ctx, the copy is dropped and the error (or panic) is passed on.
// If fn returns nil after one of its stores rejected a write with a unique
// or foreign-key violation, the copy is dropped too and InTx returns an
// error, as committing an aborted Postgres transaction does. Units of work
// run one at a time, and other callers of the store wait for them.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, st domain.Stores) error) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	t := &tx{data: s.data.clone()}
	if err := t.run(context.WithValue(ctx, txKey{s}, true), fn); err != nil {
		return err
	}
	if t.aborted {
		return errTxAborted
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.data = t.data
	return nil
}

// do runs op on the store's data while holding the store.
func (s *Store) do(ctx context.Context, op func(*data) error) error {
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	return op(s.data)
}

// acquire takes the store for the caller. It refuses callers inside a unit
// of work of this store, which already holds it and would wait forever.
func (s *Store) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Value(txKey{s}) != nil {
		return errInsideTx
	}
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() { <-s.sem }

// txKey marks the context handed to fn by InTx of one Store.
type txKey struct{ s *Store }

// outside guards the standalone stores of one Store against calls from
// inside its units of work. They would not wait here, but they would on the
// database (see domain.Standalone), and the fake must fail where the real
// store fails.
type outside struct{ s *Store }

// check returns ctx's error when ctx is done, and an error wrapping
// domain.ErrInsideUnitOfWork, naming op, when ctx is inside a unit of work
// of the Store.
func (o outside) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Value(txKey{o.s}) != nil {
		return fmt.Errorf("memstore: %s: %w", op, domain.ErrInsideUnitOfWork)
	}
	return nil
}

// tx is one unit of work: the private copy its stores read and write.
type tx struct {
	mu      sync.Mutex // fn may share its stores among goroutines
	data    *data
	ended   bool
	aborted bool // a write met a violation
}

// run runs fn on the unit of work's stores and ends it when fn returns or
// panics, so that a store that escaped fn cannot write to data that has
// been committed.
func (t *tx) run(ctx context.Context, fn func(ctx context.Context, st domain.Stores) error) error {
	defer t.end()
	return fn(ctx, storesOn(t))
}

func (t *tx) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ended = true
}

// do runs op on the unit of work's copy of the data, unless the unit of work
// has ended or been aborted.
func (t *tx) do(ctx context.Context, op func(*data) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.ended:
		return errTxEnded
	case t.aborted:
		return errTxAborted
	}
	err := op(t.data)
	if _, ok := errors.AsType[violation](err); ok {
		t.aborted = true
	}
	return err
}

// db is what the stores run their operations on: the Store itself outside
// a unit of work, or a tx inside one. do returns ctx.Err() without running
// op when ctx is done. op must check everything before it writes, so that a
// failing operation leaves no trace.
type db interface {
	do(ctx context.Context, op func(*data) error) error
}

func storesOn(db db) domain.Stores {
	return domain.Stores{
		Users:    userStore{db},
		Tokens:   tokenStore{db},
		Sessions: sessionStore{db},
		Factors:  factorStore{db},
		Passkeys: passkeyStore{db},
	}
}

// data is the content of the database. Its values hold no pointers but
// the Methods and Data of sessions and tokens, the retry secrets, the
// factors' secrets and the passkeys' byte fields, which the store never changes in place and copies where they
// come in and go out, so a value read from a map is already a copy the
// caller may change.
type data struct {
	users    map[domain.UserID]domain.User
	emails   map[string]domain.UserID // non-empty normalised email → user
	tokens   map[string]domain.Token  // by hash, unique as in the schema
	sessions map[domain.SessionID]domain.Session
	current  map[string]domain.SessionID // current refresh-token hash → session
	rotated  map[string]domain.SessionID // rotated-away hash → session
	retries  map[domain.SessionID]retrySecret
	factors  map[domain.FactorID]domain.Factor
	passkeys map[domain.PasskeyID]domain.Passkey
}

// retrySecret is what a session's last rotation kept for a retry (see
// domain.Rotation.Retry).
type retrySecret struct {
	hash   string // the hash that rotation spent
	sealed []byte // never changed in place once stored
	until  time.Time
}

func newData() *data {
	return &data{
		users:    map[domain.UserID]domain.User{},
		emails:   map[string]domain.UserID{},
		tokens:   map[string]domain.Token{},
		sessions: map[domain.SessionID]domain.Session{},
		current:  map[string]domain.SessionID{},
		rotated:  map[string]domain.SessionID{},
		retries:  map[domain.SessionID]retrySecret{},
		factors:  map[domain.FactorID]domain.Factor{},
		passkeys: map[domain.PasskeyID]domain.Passkey{},
	}
}

func (d *data) clone() *data {
	return &data{
		users:    maps.Clone(d.users),
		emails:   maps.Clone(d.emails),
		tokens:   maps.Clone(d.tokens),
		sessions: maps.Clone(d.sessions),
		current:  maps.Clone(d.current),
		rotated:  maps.Clone(d.rotated),
		retries:  maps.Clone(d.retries),
		factors:  maps.Clone(d.factors),
		passkeys: maps.Clone(d.passkeys),
	}
}

// newID returns a new time-ordered UUID (version 7) string, the form of the
// IDs the Postgres store assigns.
func newID() string {
	return uuid.Must(uuid.NewV7()).String()
}

// dbTime returns t as the Postgres store hands it back: timestamptz keeps
// microseconds, and the store reads times in UTC. Storing every time in this
// form keeps a test that compares times from passing here and failing there.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}
