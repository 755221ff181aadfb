// Package apptest builds Gatehouse's use cases on memstore and the fakes of
// test/fake (with the real TOTP and secret-box adapters, which need
// nothing outside the process), through app.New as cmd/gatehouse builds
// them on the real adapters, so that tests of app and of the HTTP edge
// share one assembly.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/memstore"
	"github.com/gatehouse-auth/gatehouse/adapters/nfc"
	"github.com/gatehouse-auth/gatehouse/adapters/secretbox"
	"github.com/gatehouse-auth/gatehouse/adapters/totp"
	"github.com/gatehouse-auth/gatehouse/adapters/webauthn"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/fake"
)

// The token lifetimes of every Env: the service's defaults.
const (
	AccessTTL  = 15 * time.Minute
	RefreshTTL = 720 * time.Hour
)

// The relying party of every Env's passkeys: its RP ID and the one
// origin whose pages may run its ceremonies.
const (
	PasskeyRPID   = "example.com"
	PasskeyOrigin = "https://app.example.com"
)

// Env is the use cases on one fresh memstore, with the fakes they run on.
type Env struct {
	*app.App
	Store  *memstore.Store
	Hasher *fake.Hasher
	Tokens *fake.AccessTokens
	Mailer *fake.Mailer
	Clock  *fake.Clock
}

// Option changes the ports or the configuration an Env is built with, as a
// test that wraps a store, or turns rate limits off, needs.
type Option func(*app.Ports, *app.Config)

// WithPorts changes the ports before the Env is built.
func WithPorts(f func(*app.Ports)) Option {
	return func(p *app.Ports, _ *app.Config) { f(p) }
}

// WithConfig changes the configuration before the Env is built.
func WithConfig(f func(*app.Config)) Option {
	return func(_ *app.Ports, c *app.Config) { f(c) }
}

// WithLogger makes the use cases log to logger; by default they log
// nowhere.
func WithLogger(logger *slog.Logger) Option {
	return WithPorts(func(p *app.Ports) { p.Logger = logger })
}

// secrets is the box of purpose ("totp", "device") under the Env's own
// service secret.
func secrets(tb testing.TB, purpose string) domain.SecretBox {
	tb.Helper()
	box, err := secretbox.New([]byte("apptest secret, at least 32 characters long"), purpose)
	require.NoError(tb, err)
	return box
}

// relyingParty is the Env's relying party of passkeys.
func relyingParty(tb testing.TB) domain.Passkeys {
	tb.Helper()
	rp, err := webauthn.New(webauthn.Settings{RPID: PasskeyRPID, Origins: []string{PasskeyOrigin}, RPName: "Gatehouse"})
	require.NoError(tb, err)
	return rp
}

// New builds an Env whose clock starts at start. Background work the Env
// starts is awaited when the test ends.
func New(tb testing.TB, start time.Time, opts ...Option) *Env {
	tb.Helper()
	e := &Env{
		Store:  memstore.New(),
		Hasher: &fake.Hasher{},
		Tokens: fake.NewAccessTokens(),
		Mailer: &fake.Mailer{},
		Clock:  fake.NewClock(start),
	}
	ports := app.Ports{
		Stores:       e.Store.Stores(),
		Transactor:   e.Store,
		Standalone:   e.Store.Standalone(),
		Hasher:       e.Hasher,
		Normalizer:   nfc.Normalizer{},
		AccessTokens: e.Tokens,
		Mailer:       e.Mailer,
		TOTP:         totp.New(totp.DefaultIssuer),
		Secrets:      secrets(tb, "totp"),
		Devices:      secrets(tb, "device"),
		Passkeys:     relyingParty(tb),
		Clock:        e.Clock,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	cfg := app.Config{AccessTokenTTL: AccessTTL, RefreshTokenTTL: RefreshTTL}
	for _, opt := range opts {
		opt(&ports, &cfg)
	}
	a, err := app.New(context.Background(), ports, cfg)
	require.NoError(tb, err)
	tb.Cleanup(a.Wait)
	e.App = a
	return e
}

// Claims returns the claims of an access token the Env issued, at the
// Env's clock.
func (e *Env) Claims(tb testing.TB, access string) domain.Claims {
	tb.Helper()
	c, err := e.Tokens.Verify(context.Background(), access, e.Clock.Now())
	require.NoError(tb, err)
	return c
}
