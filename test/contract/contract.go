// Package contract holds the conformance suites that every implementation
// of Gatehouse's store ports must pass, shaped like testing/slogtest: each
// suite takes a factory for empty, isolated stores and runs its cases as
// subtests. memstore, entstore on SQLite and entstore on Postgres all run
// every suite, so a fake can never drift from the real thing.
package contract

import (
	"testing"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Subject is one empty, isolated set of stores under test.
type Subject struct {
	Stores     domain.Stores     // the stores outside any unit of work
	Transactor domain.Transactor // runs units of work over the same data
	Standalone domain.Standalone // the keys, rate limits and locks, which belong to no unit of work
}

// NewSubject returns a fresh, empty Subject for t. It registers its own
// clean-up with t.Cleanup and may be called concurrently from parallel
// subtests.
type NewSubject func(t *testing.T) Subject

// Run runs every suite in this package against the stores newSubject makes.
func Run(t *testing.T, newSubject NewSubject) {
	t.Run("UserStore", func(t *testing.T) { RunUserStore(t, newSubject) })
	t.Run("TokenStore", func(t *testing.T) { RunTokenStore(t, newSubject) })
	t.Run("SessionStore", func(t *testing.T) { RunSessionStore(t, newSubject) })
	t.Run("FactorStore", func(t *testing.T) { RunFactorStore(t, newSubject) })
	t.Run("PasskeyStore", func(t *testing.T) { RunPasskeyStore(t, newSubject) })
	t.Run("Transactor", func(t *testing.T) { RunTransactor(t, newSubject) })
	t.Run("KeyStore", func(t *testing.T) { RunKeyStore(t, newSubject) })
	t.Run("RateLimitStore", func(t *testing.T) { RunRateLimitStore(t, newSubject) })
	t.Run("Locker", func(t *testing.T) { RunLocker(t, newSubject) })
	t.Run("Standalone", func(t *testing.T) { RunStandalone(t, newSubject) })
}
