// Package httpapi is Gatehouse's HTTP edge, on Echo: the routes of the
// public API, their handlers, the JSON shapes they exchange, the one table
// that turns errors into RFC 9457 problems, and the middleware every request
// passes through (request IDs, security headers, panic recovery, access
// logs, metrics, a deadline), the admin API behind its own key, the two
// small HTML pages that the links in account emails open, and the
// operators' endpoints: liveness, readiness and Prometheus metrics.
// Handlers call the use cases of app and nothing else; no other adapter is
// imported (adapters/setting, through which ReadSettings reads the edge's
// variables, is a leaf every adapter may use), and Echo stays inside this
// package: New returns a plain http.Handler.
//
// The API it serves is described by openapi.json in this package, which the
// server publishes at /openapi.json and the tests hold every response to.
package httpapi

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-auth/gatehouse/app"
)

// KeySet publishes the public keys that verify access tokens. The access
// token adapter implements it.
type KeySet interface {
	// JWKS returns the JSON Web Key Set (RFC 7517) of every key that may
	// still verify a live token.
	JWKS(ctx context.Context) ([]byte, error)
	// MaxAge returns how long a client may cache what JWKS returns. The
	// key set decides it, because it must publish a new key at least this
	// long before the key signs.
	MaxAge() time.Duration
}

// Config is what the HTTP edge needs.
type Config struct {
	// Auth, Account and Admin are the use cases the API exposes; required.
	Auth    *app.Auth
	Account *app.Account
	Admin   *app.Admin
	KeySet  KeySet       // served at /.well-known/jwks.json; required
	Logger  *slog.Logger // one line per request; nil means slog.Default()
	// TrustedProxies are the networks whose X-Forwarded-For is believed
	// (GATEHOUSE_TRUSTED_PROXIES). A request whose socket peer is in none of
	// them is taken to come from that peer.
	TrustedProxies []netip.Prefix
	// PublicURL is the base URL users reach Gatehouse at
	// (GATEHOUSE_PUBLIC_URL), an absolute http(s) URL. Its origin is the one
	// the pages accept forms from; left empty, a form is accepted from the
	// host the request names. On https, every response carries
	// Strict-Transport-Security.
	PublicURL string
	// CORSOrigins are the exact origins (as readCORSOrigins returns them)
	// of the browser apps that may call the API from other origins
	// (GATEHOUSE_CORS_ORIGINS), with credentials, and use cookie mode.
	CORSOrigins []string
	// AdminAPIKey enables the admin API (GATEHOUSE_ADMIN_API_KEY), whose
	// callers present it as a bearer token. Left empty, the admin API does
	// not exist: its paths answer 404.
	AdminAPIKey string

	// Ready reports whether the service can take requests, for GET /readyz:
	// nil when its database answers a query. It gets a context that ends
	// within a few seconds. Nil means ready whenever not Draining.
	Ready func(ctx context.Context) error
	// Draining is closed when the process begins to shut down. From then
	// on GET /readyz answers 503, so that load balancers stop sending
	// requests here, while the server goes on answering those it gets. Nil
	// means never.
	Draining <-chan struct{}
	// Metrics is the registry GET /metrics serves; New adds the HTTP
	// metrics to it. Nil means a registry of New's own, with those alone.
	Metrics *prometheus.Registry
	// RequestTimeout bounds how long a request may wait for the database
	// or a password hash, after which it answers 503 unavailable: a
	// request that cannot be answered soon is better refused than left
	// hanging. Zero means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// RedirectURLs are the client URLs that a redirect_to may name
	// (GATEHOUSE_REDIRECT_URLS), as ReadSettings accepts them. A
	// redirect_to is allowed when its scheme and host are an entry's and
	// its path is the entry's or, when that ends in "/", under it. None
	// means that no redirect_to is allowed.
	RedirectURLs []string
}

// DefaultRequestTimeout is Config.RequestTimeout's default: long enough
// for a login queued behind a burst of others, far shorter than a client's
// patience.
const DefaultRequestTimeout = 10 * time.Second

// maxBodyBytes is the largest request body the API reads.
const maxBodyBytes = 64 << 10

// openAPIDocument is the OpenAPI 3.1 description of the API, served as is.
//
//go:embed openapi.json
var openAPIDocument []byte

// server holds what the handlers share.
type server struct {
	auth    *app.Auth
	account *app.Account
	admin   *app.Admin
	keys    KeySet
	log     *slog.Logger
	proxies []netip.Prefix
	origin  string // of Config.PublicURL, as browsers write it; "" when none is configured
	// cookie is how the refresh token's cookie is written, and
	// crossOrigin what accepts a request in cookie mode: from this
	// origin or one of Config.CORSOrigins.
	cookie      hostCookie
	crossOrigin *http.CrossOriginProtection
	// deviceCookie holds a client's device token (see newDeviceCookie).
	deviceCookie hostCookie
	// adminKey is the SHA-256 digest of Config.AdminAPIKey, so that comparing
	// a presented key against it takes the same time whatever their lengths.
	adminKey [sha256.Size]byte
	adminOn  bool // whether the admin API is enabled
	// passkeysOn is whether passkeys are configured (a relying party).
	passkeysOn bool

	ready    func(context.Context) error // nil: always ready
	draining <-chan struct{}             // nil: never
	gatherer prometheus.Gatherer
	metrics  *httpMetrics
	timeout  time.Duration

	redirects redirectList // of Config.RedirectURLs
}

// New returns the handler of the whole API. It panics when cfg lacks the
// use cases or the KeySet, when PublicURL is set but not an absolute http(s)
// URL, when a CORS origin is not an origin, when RedirectURLs has an entry
// ReadSettings would refuse, or when Metrics has the HTTP metrics already,
// which are wiring mistakes rather than conditions to handle at run time.
func New(cfg Config) http.Handler {
	if cfg.Auth == nil || cfg.Account == nil || cfg.Admin == nil || cfg.KeySet == nil {
		panic("httpapi: Config.Auth, Account, Admin and KeySet are required")
	}
	s := &server{auth: cfg.Auth, account: cfg.Account, admin: cfg.Admin, keys: cfg.KeySet, log: cfg.Logger, proxies: cfg.TrustedProxies,
		ready: cfg.Ready, draining: cfg.Draining, timeout: cfg.RequestTimeout, passkeysOn: cfg.Auth.PasskeysEnabled()}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.timeout <= 0 {
		s.timeout = DefaultRequestTimeout
	}
	reg := cfg.Metrics
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.gatherer, s.metrics = reg, newHTTPMetrics(reg)
	var public *url.URL
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			panic("httpapi: Config.PublicURL must be an absolute http(s) URL")
		}
		public, s.origin = u, originOf(u)
	}
	s.cookie = newRefreshCookie(public)
	s.deviceCookie = newDeviceCookie(public)
	s.crossOrigin = http.NewCrossOriginProtection()
	for _, o := range cfg.CORSOrigins {
		if err := s.crossOrigin.AddTrustedOrigin(o); err != nil {
			panic("httpapi: Config.CORSOrigins: " + err.Error())
		}
	}
	if cfg.AdminAPIKey != "" {
		s.adminOn, s.adminKey = true, sha256.Sum256([]byte(cfg.AdminAPIKey))
	}
	redirects, err := newRedirectList(cfg.RedirectURLs)
	if err != nil {
		panic("httpapi: Config.RedirectURLs: " + err.Error())
	}
	s.redirects = redirects

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Errors are rendered by observe inside the chain; this handler only
	// catches what might escape it, and still answers with a problem.
	e.HTTPErrorHandler = func(err error, c echo.Context) { writeError(c, problemFor(err)) }
	hsts := public != nil && public.Scheme == "https"
	e.Use(s.identify, securityHeaders(hsts), s.observe, recoverPanics, cors(cfg.CORSOrigins), refuseQueryTokens, s.deadline)
	s.routes(e)
	return e
}
