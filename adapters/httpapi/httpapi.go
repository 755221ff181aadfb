// Package httpapi is Gatehouse's HTTP edge, on Echo: the routes of the
// public API, their handlers, the JSON shapes they exchange, the one table
// that turns errors into RFC 9457 problems, and the middleware every request
// passes through (request IDs, security headers, panic recovery, access
// logs). Handlers call the use cases of app and nothing else; no other
// adapter is imported, and Echo stays inside this package: New returns a
// plain http.Handler.
//
// The API it serves is described by openapi.json in this package, which the
// server publishes at /openapi.json and the tests hold every response to.
package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/app"
)

// KeySet publishes the public keys that verify access tokens. The access
// token adapter implements it.
type KeySet interface {
	// JWKS returns the JSON Web Key Set (RFC 7517) of every key that may
	// still verify a live token.
	JWKS(ctx context.Context) ([]byte, error)
}

// Config is what the HTTP edge needs.
type Config struct {
	Service *app.Service // the use cases; required
	KeySet  KeySet       // served at /.well-known/jwks.json; required
	Logger  *slog.Logger // one line per request; nil means slog.Default()
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (GATEHOUSE_TRUSTED_PROXIES). A request whose socket peer is in none of
	// them is taken to come from that peer.
	TrustedProxies []netip.Prefix
}

// maxBodyBytes is the largest request body the API reads.
const maxBodyBytes = 64 << 10

// openAPIDocument is the OpenAPI 3.1 description of the API, served as is.
//
//go:embed openapi.json
var openAPIDocument []byte

// server holds what the handlers share.
type server struct {
	svc     *app.Service
	keys    KeySet
	log     *slog.Logger
	proxies []netip.Prefix
}

// New returns the handler of the whole API. It panics when cfg lacks the
// Service or the KeySet, which is a wiring mistake rather than a condition
// to handle at run time.
func New(cfg Config) http.Handler {
	if cfg.Service == nil || cfg.KeySet == nil {
		panic("httpapi: Config.Service and Config.KeySet are required")
	}
	s := &server{svc: cfg.Service, keys: cfg.KeySet, log: cfg.Logger, proxies: cfg.TrustedProxies}
	if s.log == nil {
		s.log = slog.Default()
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Errors are rendered by observe inside the chain; this handler only
	// catches what might escape it, and still answers with a problem.
	e.HTTPErrorHandler = func(err error, c echo.Context) { writeProblem(c, problemFor(err)) }
	e.Use(s.identify, securityHeaders, s.observe, recoverPanics, refuseQueryTokens)
	s.routes(e)
	return e
}
