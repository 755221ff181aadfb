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

func BenchmarkVerify(b *testing.B) {
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
