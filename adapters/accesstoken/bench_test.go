package accesstoken_test

import "testing"

func BenchmarkIssue(b *testing.B) {
	e := newEnv()
	iss := e.replica(b)
	c := e.claims()
	for b.Loop() {
		if _, err := iss.Issue(b.Context(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify measures the full check of a token seen for the first
// time: every iteration verifies another token.
func BenchmarkVerify(b *testing.B) {
	e := newEnv()
	iss := e.replica(b)
	toks := make([]string, b.N)
	for n := range toks {
		toks[n] = e.issue(b, iss)
	}
	now := e.clock.Now()
	b.ResetTimer()
	for n := range b.N {
		if _, err := iss.Verify(b.Context(), toks[n], now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached measures a token presented again, as a client
// presents its access token with every request.
func BenchmarkVerifyCached(b *testing.B) {
	e := newEnv()
	iss := e.replica(b)
	tok := e.issue(b, iss)
	now := e.clock.Now()
	for b.Loop() {
		if _, err := iss.Verify(b.Context(), tok, now); err != nil {
			b.Fatal(err)
		}
	}
}
