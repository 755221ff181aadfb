package accesstoken

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// tokenClaims is the JSON payload of an access token. Pointers tell a
// missing claim from a zero one.
type tokenClaims struct {
	Issuer        string       `json:"iss"`
	Audience      string       `json:"aud"`
	Subject       string       `json:"sub"`
	SessionID     string       `json:"sid"`
	Tier          string       `json:"tier"`
	EmailVerified *bool        `json:"email_verified"`
	Methods       []string     `json:"amr"`
	AAL           string       `json:"aal,omitempty"`
	IssuedAt      *numericDate `json:"iat"`
	ExpiresAt     *numericDate `json:"exp"`
	ID            string       `json:"jti"`
}

// The jwt.Claims methods; Verify checks the claims itself, against its now.
func (c *tokenClaims) GetExpirationTime() (*jwt.NumericDate, error) { return c.ExpiresAt.jwt(), nil }
func (c *tokenClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return c.IssuedAt.jwt(), nil }
func (c *tokenClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (c *tokenClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *tokenClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *tokenClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings{c.Audience}, nil
}

// numericDate is a JWT NumericDate in whole seconds. Unlike jwt.NumericDate
// it reads only a JSON integer, not a string or a fraction: Gatehouse
// writes nothing else.
type numericDate struct{ time.Time }

// maxNumericDate is the end of the year 9999, beyond which time.Unix
// arithmetic is not to be trusted.
const maxNumericDate = 253402300799

func newNumericDate(t time.Time) *numericDate {
	return &numericDate{time.Unix(t.Unix(), 0).UTC()}
}

func (d numericDate) MarshalJSON() ([]byte, error) {
	return strconv.AppendInt(nil, d.Unix(), 10), nil
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < 0 || n > maxNumericDate {
		return errors.New("accesstoken: date is not a whole number of seconds within range")
	}
	d.Time = time.Unix(n, 0).UTC()
	return nil
}

func (d *numericDate) jwt() *jwt.NumericDate {
	if d == nil {
		return nil
	}
	return &jwt.NumericDate{Time: d.Time}
}

// Issue signs c with the key that signs now (the newest active key; see
// the package doc), adding the issuer, the audience and the key ID. c must
// name a subject, a session, a valid tier, an assurance level and a jti,
// and expire after it
// was issued but no later than TTL from now: a longer-lived token could
// outlive its key's place in the JWKS.
func (i *Issuer) Issue(ctx context.Context, c domain.Claims) (string, error) {
	now := i.cfg.Clock.Now()
	switch {
	case c.ID == "":
		return "", errors.New("accesstoken: issue: claims lack an id")
	case c.Subject == "":
		return "", errors.New("accesstoken: issue: claims lack a subject")
	case c.SessionID == "":
		return "", errors.New("accesstoken: issue: claims lack a session")
	case !c.Tier.Valid():
		return "", fmt.Errorf("accesstoken: issue: %w", domain.ErrInvalidTier)
	case c.AAL != domain.AAL1 && c.AAL != domain.AAL2:
		return "", errors.New("accesstoken: issue: claims lack an assurance level")
	case c.IssuedAt.IsZero() || !c.ExpiresAt.After(c.IssuedAt):
		return "", errors.New("accesstoken: issue: claims must expire after they are issued")
	case c.ExpiresAt.After(now.Add(i.cfg.TTL + Leeway)):
		return "", errors.New("accesstoken: issue: claims expire later than the token lifetime allows")
	}
	key := i.current(ctx).signerAt(now)
	if prev := i.signing.Load(); prev.id != key.id && i.signing.CompareAndSwap(prev, key) {
		i.log.InfoContext(ctx, "access-token signing key changed", "kid", key.id, "previous", prev.id)
	}
	verified := c.EmailVerified
	methods := make([]string, len(c.Methods)) // [] rather than null for none
	for i, m := range c.Methods {
		methods[i] = m.String()
	}
	t := jwt.NewWithClaims(jwt.SigningMethodES256, &tokenClaims{
		Issuer:        i.cfg.Issuer,
		Audience:      i.cfg.Audience,
		Subject:       string(c.Subject),
		SessionID:     string(c.SessionID),
		Tier:          c.Tier.String(),
		EmailVerified: &verified,
		Methods:       methods,
		AAL:           string(c.AAL),
		IssuedAt:      newNumericDate(c.IssuedAt),
		ExpiresAt:     newNumericDate(c.ExpiresAt),
		ID:            c.ID,
	})
	t.Header = map[string]any{"alg": algorithm, "typ": tokenType, "kid": key.id}
	s, err := t.SignedString(key.private)
	if err != nil {
		return "", fmt.Errorf("accesstoken: sign: %w", err)
	}
	return s, nil
}

// Verify checks token's signature, algorithm, header, key, issuer,
// audience and claims at now, and returns its claims. Only ES256 with a
// key in the JWKS at now is accepted. It returns ErrAccessTokenExpired for
// a token that is valid but expired at now, ErrInvalidAccessToken for
// anything else wrong with the token, and an error without a sentinel when
// the key set has to be read again for an unknown key ID and cannot be. No
// error's text contains the token.
//
// A token that verified before is not verified again while its key still
// verifies (see verifiedCache); its times are checked at now all the same.
func (i *Issuer) Verify(ctx context.Context, token string, now time.Time) (domain.Claims, error) {
	if len(token) > maxTokenLength {
		return domain.Claims{}, invalid("too long")
	}
	digest := sha256.Sum256([]byte(token))
	if v, ok := i.verified.get(digest); ok {
		if k, ok := i.current(ctx).byID[v.kid]; ok && k.publishedAt(now) {
			return v.claims, checkTimes(v.claims, now)
		}
		// The key retired since: the full check below says so.
	}
	var (
		c        tokenClaims
		signedBy *key
		keyErr   error
	)
	t, err := i.parser.ParseWithClaims(token, &c, func(t *jwt.Token) (any, error) {
		signedBy, keyErr = i.keyFor(ctx, t, now)
		if keyErr != nil {
			return nil, keyErr
		}
		return signedBy.public, nil
	})
	switch {
	case keyErr != nil:
		return domain.Claims{}, keyErr
	case err == nil:
	case t == nil || errors.Is(err, jwt.ErrTokenMalformed):
		return domain.Claims{}, invalid("malformed")
	case t.Method == nil || t.Method.Alg() != algorithm:
		return domain.Claims{}, invalid("algorithm not accepted")
	default:
		return domain.Claims{}, invalid("bad signature")
	}
	claims, err := i.claims(&c)
	if err != nil {
		return domain.Claims{}, err
	}
	if err := checkTimes(claims, now); err != nil {
		return domain.Claims{}, err
	}
	// The key set's own copy of the ID, so that remembered tokens share it.
	i.verified.put(digest, verifiedToken{claims: claims, kid: signedBy.id}, now)
	return claims, nil
}

// keyFor returns the key that must have signed t, after checking t's
// header: ES256, typ at+jwt, a kid, and no other parameter.
func (i *Issuer) keyFor(ctx context.Context, t *jwt.Token, now time.Time) (*key, error) {
	if t.Method != jwt.SigningMethodES256 {
		return nil, invalid("algorithm not accepted")
	}
	for name := range t.Header {
		if name != "alg" && name != "typ" && name != "kid" {
			return nil, invalid("unexpected header parameter")
		}
	}
	if typ, _ := t.Header["typ"].(string); typ != tokenType {
		return nil, invalid("wrong type")
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, invalid("no key id")
	}
	k, err := i.lookup(ctx, kid)
	if err != nil {
		return nil, err
	}
	if !k.publishedAt(now) {
		return nil, invalid("retired key")
	}
	return k, nil
}

// claims checks a verified token's claims, but for its times, and
// converts them.
func (i *Issuer) claims(c *tokenClaims) (domain.Claims, error) {
	switch {
	case c.Issuer != i.cfg.Issuer:
		return domain.Claims{}, invalid("wrong issuer")
	case c.Audience != i.cfg.Audience:
		return domain.Claims{}, invalid("wrong audience")
	case c.Subject == "" || c.SessionID == "" || c.ID == "" || c.EmailVerified == nil:
		return domain.Claims{}, invalid("missing claim")
	case c.IssuedAt == nil || c.ExpiresAt == nil:
		return domain.Claims{}, invalid("missing time")
	}
	tier, err := domain.ParseTier(c.Tier)
	if err != nil {
		return domain.Claims{}, invalid("invalid tier")
	}
	aal := domain.AAL1 // a token from before aal existed
	switch c.AAL {
	case "", string(domain.AAL1):
	case string(domain.AAL2):
		aal = domain.AAL2
	default:
		return domain.Claims{}, invalid("invalid assurance level")
	}
	return domain.Claims{
		ID:            c.ID,
		Subject:       domain.UserID(c.Subject),
		SessionID:     domain.SessionID(c.SessionID),
		Tier:          tier,
		EmailVerified: *c.EmailVerified,
		Methods:       methodsOf(c.Methods),
		AAL:           aal,
		IssuedAt:      c.IssuedAt.Time,
		ExpiresAt:     c.ExpiresAt.Time,
	}, nil
}

// methodsOf returns the methods amr names, nil for none. A name this
// version does not know is left out rather than refused: a newer replica
// may sign a method that an older one, during a rolling upgrade, does not
// know yet, and aal, not amr, is what access is decided on.
func methodsOf(amr []string) []domain.AuthMethod {
	var methods []domain.AuthMethod
	for _, name := range amr {
		if m, err := domain.ParseAuthMethod(name); err == nil {
			methods = append(methods, m)
		}
	}
	return methods
}

// checkTimes checks a verified token's times at now: issued no later than
// Leeway from now, and not yet expired.
func checkTimes(c domain.Claims, now time.Time) error {
	if c.IssuedAt.After(now.Add(Leeway)) {
		return invalid("issued in the future")
	}
	if !now.Before(c.ExpiresAt) {
		return fmt.Errorf("accesstoken: %w", domain.ErrAccessTokenExpired)
	}
	return nil
}

// invalid returns ErrInvalidAccessToken with why, which never quotes the
// token.
func invalid(why string) error {
	return fmt.Errorf("accesstoken: %w: %s", domain.ErrInvalidAccessToken, why)
}
