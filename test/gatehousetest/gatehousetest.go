// Package gatehousetest runs a real Gatehouse inside a test, for the tests
// of the services behind it: no Docker, no database, a few milliseconds.
//
// [New] builds Gatehouse as cmd/gatehouse does, through app.New and the
// HTTP adapter of production (adapters/httpapi) serving over
// net/http/httptest, with the real access-token adapter
// (adapters/accesstoken), so that its tokens are ES256 JWTs that verify
// against its JWKS exactly as a production token does. What differs from
// production is what a test needs to differ: the stores are memstore's,
// passwords are hashed by test/fake's cheap hasher instead of argon2id,
// emails go to a [Mailbox], time is a clock the test moves
// ([Gatehouse.Advance]), rate limits are off unless [WithRateLimits], and
// the admin API is on under [Gatehouse.AdminKey].
//
// [Gatehouse.NewUser] makes a user of any tier, verified or not, with or
// without a second factor, and returns its token response;
// [Gatehouse.VerifierConfig] configures client/verifier for the server,
// on its clock. Everything stops when the test ends (t.Cleanup).
package gatehousetest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/memstore"
	"github.com/gatehouse-auth/gatehouse/adapters/nfc"
	"github.com/gatehouse-auth/gatehouse/adapters/secretbox"
	"github.com/gatehouse-auth/gatehouse/adapters/totp"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/client/verifier"
	"github.com/gatehouse-auth/gatehouse/test/fake"
)

// Audience is the aud claim of Gatehouse's access tokens.
const Audience = verifier.DefaultAudience

// Gatehouse is one running Gatehouse. Its methods are safe for concurrent
// use.
type Gatehouse struct {
	// URL is where it serves, such as http://127.0.0.1:40123: the base of
	// the API, the iss of its tokens and the base of its email links.
	URL string
	// AdminKey is the admin API's key (GATEHOUSE_ADMIN_API_KEY).
	AdminKey string
	// Mail holds every email it sent.
	Mail *Mailbox

	srv   *httptest.Server
	clock *fake.Clock
	users atomic.Int64 // for the emails NewUser makes up
}

// settings are what the options change.
type settings struct {
	start      time.Time
	accessTTL  time.Duration
	rateLimits bool
}

// Option changes how New builds a Gatehouse.
type Option func(*settings)

// WithStart starts the clock at t instead of the time New was called.
func WithStart(t time.Time) Option { return func(s *settings) { s.start = t } }

// WithAccessTokenTTL sets the access tokens' lifetime
// (GATEHOUSE_ACCESS_TOKEN_TTL, 15 minutes by default).
func WithAccessTokenTTL(d time.Duration) Option { return func(s *settings) { s.accessTTL = d } }

// WithRateLimits turns the rate limits on, as in production. They are off
// by default because every request of a test comes from one address, so a
// test that made 21 users would hit the registrations' limit.
func WithRateLimits() Option { return func(s *settings) { s.rateLimits = true } }

// New starts a Gatehouse for tb and stops it when tb ends. Its clock
// stands still at the time of the call (or WithStart's) until the test
// moves it, so a token's exp is wherever the test puts it.
func New(tb testing.TB, opts ...Option) *Gatehouse {
	tb.Helper()
	s := settings{start: time.Now().UTC().Truncate(time.Second), accessTTL: 15 * time.Minute}
	for _, o := range opts {
		o(&s)
	}
	ctx := context.Background()
	srv := httptest.NewUnstartedServer(nil)
	g := &Gatehouse{
		URL:      "http://" + srv.Listener.Addr().String(),
		AdminKey: rand.Text() + rand.Text(),
		srv:      srv,
		clock:    fake.NewClock(s.start),
	}
	g.Mail = newMailbox(httpapi.EmailLinks(g.URL))
	store := memstore.New()
	secret := []byte(rand.Text() + rand.Text())
	discard := slog.New(slog.DiscardHandler)
	issuer, err := accesstoken.New(ctx, accesstoken.Config{
		Issuer: g.URL, Audience: Audience, TTL: s.accessTTL, Secret: secret,
		Keys: store.Standalone().Keys, Clock: g.clock, Logger: discard,
	})
	if err != nil {
		srv.Close()
		tb.Fatalf("gatehousetest: access tokens: %v", err)
	}
	box, err := secretbox.New(secret, "totp")
	if err != nil {
		srv.Close()
		tb.Fatalf("gatehousetest: secret box: %v", err)
	}
	devices, err := secretbox.New(secret, "device")
	if err != nil {
		srv.Close()
		tb.Fatalf("gatehousetest: secret box: %v", err)
	}
	usecases, err := app.New(ctx, app.Ports{
		Stores: store.Stores(), Transactor: store, Standalone: store.Standalone(),
		Hasher: &fake.Hasher{}, Normalizer: nfc.Normalizer{}, AccessTokens: issuer, Mailer: g.Mail,
		TOTP: totp.New(totp.DefaultIssuer), Secrets: box, Devices: devices, Clock: g.clock, Logger: discard,
	}, app.Config{AccessTokenTTL: s.accessTTL, RefreshTokenTTL: 720 * time.Hour, RateLimitsOff: !s.rateLimits})
	if err != nil {
		srv.Close()
		tb.Fatalf("gatehousetest: use cases: %v", err)
	}
	tb.Cleanup(usecases.Wait) // after the server has closed: cleanups run last first
	srv.Config.Handler = httpapi.New(httpapi.Config{
		Auth: usecases.Auth, Account: usecases.Account, Admin: usecases.Admin, KeySet: issuer,
		Logger: discard, PublicURL: g.URL, AdminAPIKey: g.AdminKey,
	})
	srv.Start()
	tb.Cleanup(srv.Close)
	return g
}

// Now returns the time on Gatehouse's clock.
func (g *Gatehouse) Now() time.Time { return g.clock.Now() }

// Advance moves Gatehouse's clock on by d, and returns the new time: past
// an access token's 15 minutes, it has expired.
func (g *Gatehouse) Advance(d time.Duration) time.Time { return g.clock.Advance(d) }

// JWKSURL is where Gatehouse publishes the keys that verify its tokens.
func (g *Gatehouse) JWKSURL() string { return g.URL + "/.well-known/jwks.json" }

// VerifierConfig is the client/verifier configuration of a service behind
// this Gatehouse: its JWKS, issuer and audience, and its clock, so that
// tokens expire for the verifier when the test advances it.
func (g *Gatehouse) VerifierConfig() verifier.Config {
	return verifier.Config{JWKSURL: g.JWKSURL(), Issuer: g.URL, Audience: Audience, Now: g.Now, HTTPClient: g.srv.Client()}
}

// Verifier returns a client/verifier.Verifier of VerifierConfig.
func (g *Gatehouse) Verifier(tb testing.TB) *verifier.Verifier {
	tb.Helper()
	v, err := verifier.New(g.VerifierConfig())
	if err != nil {
		tb.Fatalf("gatehousetest: verifier: %v", err)
	}
	return v
}
