package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/memstore"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/fake"
)

// fakeHasher "hashes" by prefixing, so flows run fast; hashes that start
// with "legacy$" match but ask for a rehash, as bcrypt hashes do.
type fakeHasher struct{ hashes, verifies atomic.Int64 }

func (h *fakeHasher) Hash(_ context.Context, password string) (string, error) {
	h.hashes.Add(1)
	return "fake$" + password, nil
}

func (h *fakeHasher) Verify(_ context.Context, encoded, password string) (bool, bool, error) {
	h.verifies.Add(1)
	scheme, rest, ok := strings.Cut(encoded, "$")
	if !ok {
		return false, false, errors.New("fakeHasher: malformed hash")
	}
	return rest == password, scheme == "legacy" && rest == password, nil
}

// env is a Service on memstore with its fakes, for one test.
type env struct {
	*app.Service
	store  *memstore.Store
	hasher *fakeHasher
	tokens *fake.AccessTokens
	mailer *fake.Mailer
	clock  *fake.Clock
}

const (
	accessTTL  = 15 * time.Minute
	refreshTTL = 720 * time.Hour
)

var client = app.Client{IP: "203.0.113.9", UserAgent: "app-test/1.0"}

const publicURL = "https://auth.example.com"

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, app.Config{AccessTokenTTL: accessTTL, RefreshTokenTTL: refreshTTL, PublicURL: publicURL})
}

func newEnvWith(t *testing.T, cfg app.Config) *env {
	t.Helper()
	e := &env{
		store:  memstore.New(),
		hasher: &fakeHasher{},
		tokens: fake.NewAccessTokens(),
		mailer: &fake.Mailer{},
		clock:  fake.NewClock(time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)),
	}
	svc, err := app.New(context.Background(), app.Deps{
		Stores:       e.store.Stores(),
		Transactor:   e.store,
		Hasher:       e.hasher,
		AccessTokens: e.tokens,
		Mailer:       e.mailer,
		RateLimits:   e.store.Standalone().RateLimits,
		Locker:       e.store.Standalone().Locker,
		Clock:        e.clock,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, cfg)
	require.NoError(t, err)
	e.Service = svc
	return e
}

// register registers a fresh user and returns its tokens.
func (e *env) register(t *testing.T, email string) app.Tokens {
	t.Helper()
	tokens, err := e.Register(context.Background(), app.RegisterInput{
		Email: email, Password: "correct horse battery staple", Client: client,
	})
	require.NoError(t, err)
	return tokens
}

// linkToken returns the token in the query string of the newest email of
// purpose sent to address.
func (e *env) linkToken(t *testing.T, address string, purpose domain.EmailPurpose) string {
	t.Helper()
	mails := e.mailer.To(address)
	for i := len(mails) - 1; i >= 0; i-- {
		if mails[i].Purpose == purpose {
			u, err := url.Parse(mails[i].Link)
			require.NoError(t, err)
			return u.Query().Get("token")
		}
	}
	t.Fatalf("no %s email to %s", purpose, address)
	return ""
}

// claims returns the claims of an access token the fake issued.
func (e *env) claims(t *testing.T, access string) domain.Claims {
	t.Helper()
	c, err := e.tokens.Verify(context.Background(), access, e.clock.Now())
	require.NoError(t, err)
	return c
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
