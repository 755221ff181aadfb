package password_test

import (
	"context"
	"testing"

	"github.com/gatehouse-auth/gatehouse/adapters/password"
)

// These give the in-process argon2id ceiling that load tests of the whole
// service compare against. ops/s is per process.

func BenchmarkHash(b *testing.B) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkVerify(b *testing.B) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if match, _, err := h.Verify(ctx, encoded, "correct horse battery staple"); err != nil || !match {
			b.Fatal("no match", err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkVerifyParallel runs verifications from GOMAXPROCS goroutines
// through one Hasher with its default concurrency, as logins do.
func BenchmarkVerifyParallel(b *testing.B) {
	h := password.NewHasher(password.Config{})
	ctx := context.Background()
	encoded, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if match, _, err := h.Verify(ctx, encoded, "correct horse battery staple"); err != nil || !match {
				b.Error("no match", err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
