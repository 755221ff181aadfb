package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
)

// env is the use cases on memstore with their fakes, for one test.
type env struct{ *apptest.Env }

const (
	accessTTL  = apptest.AccessTTL
	refreshTTL = apptest.RefreshTTL
)

var client = app.Client{IP: "203.0.113.9", UserAgent: "app-test/1.0"}

// rateLimitsOff builds an env whose rate limits are all disabled.
var rateLimitsOff = apptest.WithConfig(func(c *app.Config) { c.RateLimitsOff = true })

func newEnv(t *testing.T, opts ...apptest.Option) *env {
	t.Helper()
	return &env{apptest.New(t, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), opts...)}
}

// register registers a fresh user and returns its tokens.
func (e *env) register(t *testing.T, email string) app.Tokens {
	t.Helper()
	tokens, err := e.Auth.Register(context.Background(), app.RegisterInput{
		Email: email, Password: "correct horse battery staple", Client: client,
	})
	require.NoError(t, err)
	return tokens
}

// linkToken returns the single-use token of the newest email of purpose
// sent to address.
func (e *env) linkToken(t *testing.T, address string, purpose domain.EmailPurpose) string {
	t.Helper()
	mails := e.Mailer.To(address)
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].Purpose == purpose {
			return mails[i].Secret
		}
	}
	t.Fatalf("no %s email to %s", purpose, address)
	return ""
}

// requireProblems fails unless err is a validation error with exactly the
// given field:code pairs.
func requireProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	var v *domain.ValidationError
	require.ErrorAs(t, err, &v)
	var got []string
	for _, p := range v.Problems {
		got = append(got, p.Field+":"+p.Code)
	}
	require.ElementsMatch(t, want, got)
}
