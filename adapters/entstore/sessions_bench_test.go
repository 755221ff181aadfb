package entstore_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/adapters/memstore"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// BenchmarkRotate measures the store work of a refresh as app.Refresh
// runs it: one Rotate, outside any unit of work, which moves a session's
// current refresh-token hash to a new one and returns the session with its
// user. Each iteration presents the hash the
// one before it installed, so every rotation succeeds, updates the
// session's row and records one more rotated-away hash, as a client that
// keeps refreshing does. The hashes are SHA-256 of a counter, like real
// ones in length and spread; hashing costs about a microsecond.
//
// memstore is the reference: the fake copies all its data for every call,
// so its store is rebuilt, off the clock, every memstoreChain
// rotations, lest the benchmark measure that copy growing.
func BenchmarkRotate(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		db := openBench(b, "sqlite://"+filepath.Join(b.TempDir(), "gatehouse.db"), true)
		benchRotate(b, db.Stores, 0)
	})
	b.Run("postgres", func(b *testing.B) {
		db := openBench(b, pgtest.Database(b), false) // skips without Docker unless GATEHOUSE_REQUIRE_DOCKER=1
		benchRotate(b, db.Stores, 0)
	})
	b.Run("memstore", func(b *testing.B) {
		benchRotate(b, func() domain.Stores { return memstore.New().Stores() }, memstoreChain)
	})
}

// memstoreChain is how many rotations BenchmarkRotate/memstore makes in one
// store.
const memstoreChain = 256

// openBench opens the database at url, migrating it first if asked, and
// closes it when b ends.
func openBench(b *testing.B, url string, migrate bool) *entstore.DB {
	b.Helper()
	ctx := context.Background()
	db, err := entstore.Open(ctx, url)
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, db.Close()) })
	if migrate {
		require.NoError(b, db.Migrate(ctx))
	}
	return db
}

// benchRotate runs the refresh's rotation on the stores open returns,
// calling open again, off the clock, every chain rotations (0: never).
func benchRotate(b *testing.B, open func() domain.Stores, chain int) {
	ctx := context.Background()
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	var (
		s       domain.Stores
		current string
	)
	start := func(n int) {
		s = open()
		user, err := s.Users.Create(ctx, domain.User{
			Email: "ada" + strconv.Itoa(n) + "@example.com", PasswordHash: "fake$x", Tier: domain.TierFree, CreatedAt: now, UpdatedAt: now,
		})
		require.NoError(b, err)
		current = domain.HashToken("start " + strconv.Itoa(n))
		_, err = s.Sessions.Create(ctx, domain.Session{
			UserID: user.ID, TokenHash: current, UserAgent: "bench/1.0", IP: "192.0.2.1",
			CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(720 * time.Hour),
		})
		require.NoError(b, err)
	}
	start(0)
	b.ReportAllocs()
	for n := 1; b.Loop(); n++ {
		if chain > 0 && n%chain == 0 {
			b.StopTimer()
			start(n)
			b.StartTimer()
		}
		next := domain.HashToken(strconv.Itoa(n))
		_, _, err := s.Sessions.Rotate(ctx, domain.Rotation{
			PresentedHash: current, NextHash: next, Now: now, ExpiresAt: now.Add(720 * time.Hour),
		})
		if err != nil {
			b.Fatalf("rotation %d: %v", n, err)
		}
		current = next
	}
}
