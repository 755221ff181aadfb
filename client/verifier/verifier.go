// Package verifier checks Gatehouse's access tokens in the services behind
// Gatehouse: the client side of the tokens that adapters/accesstoken signs.
// It imports nothing of Gatehouse itself, so a service that imports it gets
// only this package and the JWT and JOSE libraries underneath.
//
// A [Verifier] fetches Gatehouse's JWKS and caches it for the max-age the
// response announces, fetches it again when a token names a key ID it has
// not seen (at most once per [Config.RefetchInterval], so forged key IDs
// cannot make it hammer Gatehouse), accepts ES256 only, requires the
// at+jwt type of RFC 9068, and checks iss, aud, exp and iat with a leeway
// for clocks that differ. [Verifier.Middleware] does the same for net/http
// and puts the [Claims] in the request context; [Verifier.RequireTier] and
// [Verifier.RequireAAL2] refuse callers whose token lacks a tier or a
// second factor.
// Refusals are RFC 9457 problems with a WWW-Authenticate challenge, as
// Gatehouse's own. Package echoverifier has the same middleware for Echo.
package verifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DefaultAudience is the aud of every access token Gatehouse issues.
const DefaultAudience = "gatehouse"

// DefaultLeeway is how far apart the clocks of Gatehouse and a service
// may be: a token is accepted that long past its exp, and with an iat that
// far in the future. It is Gatehouse's own leeway between its replicas.
const DefaultLeeway = 5 * time.Second

// DefaultRefetchInterval is the RefetchInterval of a Config that leaves it
// zero.
const DefaultRefetchInterval = 10 * time.Second

// The errors Verify returns wrap one of these.
var (
	// ErrInvalidToken means the token is not one of Gatehouse's for this
	// service: malformed, signed by an unknown key or with another
	// algorithm, of another type, issuer or audience, or issued in the
	// future.
	ErrInvalidToken = errors.New("verifier: invalid access token")
	// ErrTokenExpired means the token was valid but its exp has passed,
	// leeway included: the client should refresh it.
	ErrTokenExpired = errors.New("verifier: access token expired")
	// ErrKeysUnavailable means the JWKS could not be fetched and no copy
	// is at hand, so no token can be checked: a fault of the service's
	// reach to Gatehouse, not of the token.
	ErrKeysUnavailable = errors.New("verifier: the JWKS is unavailable")
)

// Config configures a Verifier.
type Config struct {
	// JWKSURL is Gatehouse's key set: GATEHOUSE_PUBLIC_URL followed by
	// /.well-known/jwks.json. Required.
	JWKSURL string
	// Issuer is the iss every token must carry: Gatehouse's
	// GATEHOUSE_PUBLIC_URL, exactly. Required.
	Issuer string
	// Audience is the aud every token must carry; empty means
	// DefaultAudience.
	Audience string
	// Leeway is the clock difference tolerated (see DefaultLeeway); zero
	// means DefaultLeeway, a negative value none.
	Leeway time.Duration
	// RefetchInterval is the shortest time between two fetches of the
	// JWKS, whatever asks for them: an unknown key ID, an expired copy or
	// a failed fetch. Zero means DefaultRefetchInterval.
	RefetchInterval time.Duration
	// HTTPClient fetches the JWKS; nil means a client with a 10-second
	// timeout.
	HTTPClient *http.Client
	// Now tells the time; nil means time.Now. Tests that move a clock to
	// expire tokens set it.
	Now func() time.Time
	// Realm is the realm of the WWW-Authenticate challenges the
	// middleware sends; empty means the audience.
	Realm string
}

// Claims are what a verified access token says about its bearer.
type Claims struct {
	Issuer        string
	Audience      []string
	Subject       string // the user's ID
	SessionID     string // sid: the session the token belongs to
	Tier          string // anonymous, free or member
	EmailVerified bool
	// AMR lists how the session was authenticated (RFC 8176): "pwd",
	// "otp", "recovery"; empty for an anonymous user.
	AMR []string
	// AAL is the assurance level: "aal2" after a password and a second
	// factor, "aal1" otherwise (a token from before Gatehouse had aal
	// carries none, which is aal1 too).
	AAL       string
	IssuedAt  time.Time
	ExpiresAt time.Time
	ID        string // jti
}

// tiers ranks Gatehouse's tiers, lowest first.
var tiers = map[string]int{"anonymous": 1, "free": 2, "member": 3}

// AtLeast reports whether c's tier is tier or above it, in the order
// anonymous, free, member. An unknown tier, in c or as tier, is below
// every other.
func (c *Claims) AtLeast(tier string) bool {
	want, ok := tiers[tier]
	return ok && tiers[c.Tier] >= want
}

// tokenClaims is the JSON of an access token's claims.
type tokenClaims struct {
	jwt.RegisteredClaims
	SessionID     string   `json:"sid"`
	Tier          string   `json:"tier"`
	EmailVerified bool     `json:"email_verified"`
	AMR           []string `json:"amr"`
	AAL           string   `json:"aal"`
}

// Verifier checks access tokens. Its methods are safe for concurrent use.
type Verifier struct {
	parser *jwt.Parser
	keys   *keySet
	realm  string
}

// New returns a Verifier for cfg. It fetches nothing yet: the first
// Verify does. It returns an error for a Config it cannot work with.
func New(cfg Config) (*Verifier, error) {
	switch {
	case cfg.JWKSURL == "":
		return nil, errors.New("verifier: JWKSURL is empty")
	case cfg.Issuer == "":
		return nil, errors.New("verifier: Issuer is empty")
	case cfg.RefetchInterval < 0:
		return nil, errors.New("verifier: RefetchInterval must not be negative")
	}
	if cfg.Audience == "" {
		cfg.Audience = DefaultAudience
	}
	switch {
	case cfg.Leeway == 0:
		cfg.Leeway = DefaultLeeway
	case cfg.Leeway < 0:
		cfg.Leeway = 0
	}
	if cfg.RefetchInterval == 0 {
		cfg.RefetchInterval = DefaultRefetchInterval
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Realm == "" {
		cfg.Realm = cfg.Audience
	}
	return &Verifier{
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodES256.Alg()}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(cfg.Now),
			jwt.WithStrictDecoding(),
		),
		keys:  &keySet{url: cfg.JWKSURL, client: cfg.HTTPClient, now: cfg.Now, interval: cfg.RefetchInterval},
		realm: cfg.Realm,
	}, nil
}

// Verify checks token and returns its claims. Its errors wrap
// ErrInvalidToken, ErrTokenExpired or ErrKeysUnavailable.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	var keysErr error
	var tc tokenClaims
	_, err := v.parser.ParseWithClaims(token, &tc, func(t *jwt.Token) (any, error) {
		// RFC 9068 section 4: a token of another type (an ID token, say)
		// signed by the same keys is not an access token.
		if typ, _ := t.Header["typ"].(string); strings.TrimPrefix(strings.ToLower(typ), "application/") != "at+jwt" {
			return nil, errors.New("not an access token (typ at+jwt)")
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no key ID")
		}
		key, err := v.keys.key(ctx, kid)
		if errors.Is(err, ErrKeysUnavailable) {
			keysErr = err
		}
		return key, err
	})
	switch {
	case keysErr != nil:
		return nil, keysErr
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, fmt.Errorf("%w: %v", ErrTokenExpired, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	case tc.Subject == "":
		return nil, fmt.Errorf("%w: no subject", ErrInvalidToken)
	}
	c := &Claims{
		Issuer: tc.Issuer, Audience: tc.Audience, Subject: tc.Subject, SessionID: tc.SessionID,
		Tier: tc.Tier, EmailVerified: tc.EmailVerified, AMR: tc.AMR, AAL: tc.AAL, ID: tc.ID,
	}
	if c.AAL == "" {
		c.AAL = "aal1"
	}
	if tc.IssuedAt != nil {
		c.IssuedAt = tc.IssuedAt.UTC()
	}
	c.ExpiresAt = tc.ExpiresAt.UTC() // required by the parser
	return c, nil
}
