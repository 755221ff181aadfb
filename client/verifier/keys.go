package verifier

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

const (
	// defaultMaxAge is how long a JWKS is kept whose response announces
	// no max-age: Gatehouse's own, which always does.
	defaultMaxAge = 60 * time.Second
	// maxMaxAge bounds a max-age, so that a misconfigured proxy cannot
	// pin a key set for days.
	maxMaxAge = 24 * time.Hour
	// maxJWKSBytes bounds the JWKS read; Gatehouse's holds a few keys.
	maxJWKSBytes = 1 << 20
)

// keySet is the cached JWKS: the ES256 public keys by key ID.
type keySet struct {
	url      string
	client   *http.Client
	now      func() time.Time
	interval time.Duration

	// mu makes fetches single-flight and guards the fields below.
	mu        sync.Mutex
	keys      map[string]*ecdsa.PublicKey // nil until a fetch succeeds
	expires   time.Time                   // when keys is due for a fetch
	lastFetch time.Time                   // when a fetch was last tried
}

// key returns the public key with ID kid. It fetches the JWKS first when
// none is cached or the cached one has expired, and when kid is not in
// it; never twice within the refetch interval. A failed fetch keeps the
// copy it has. It returns an error wrapping ErrKeysUnavailable when it has
// no copy at all, and another error for a kid the JWKS lacks.
func (s *keySet) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var fetchErr error
	if s.keys == nil || !now.Before(s.expires) {
		fetchErr = s.refetch(ctx, now)
	}
	if k, ok := s.keys[kid]; ok {
		return k, nil
	}
	if fetchErr == nil {
		fetchErr = s.refetch(ctx, now)
		if k, ok := s.keys[kid]; ok {
			return k, nil
		}
	}
	if s.keys == nil {
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, fetchErr)
	}
	return nil, errors.New("unknown key ID")
}

// errTooSoon is what refetch returns within the interval of the last try.
var errTooSoon = errors.New("fetched within the refetch interval")

// refetch fetches the JWKS unless it was tried within the interval, and
// keeps it when it parses.
func (s *keySet) refetch(ctx context.Context, now time.Time) error {
	if !s.lastFetch.IsZero() && now.Sub(s.lastFetch) < s.interval && !now.Before(s.lastFetch) {
		return errTooSoon
	}
	s.lastFetch = now
	keys, maxAge, err := s.fetch(ctx)
	if err != nil {
		return err
	}
	s.keys, s.expires = keys, now.Add(maxAge)
	return nil
}

// fetch gets and parses the JWKS, and returns how long it may be cached.
func (s *keySet) fetch(ctx context.Context) (map[string]*ecdsa.PublicKey, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("verifier: JWKS request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("verifier: fetch JWKS: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("verifier: fetch JWKS: status %d", res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxJWKSBytes))
	if err != nil {
		return nil, 0, fmt.Errorf("verifier: read JWKS: %w", err)
	}
	keys, err := parseJWKS(body)
	if err != nil {
		return nil, 0, err
	}
	return keys, maxAge(res.Header.Get("Cache-Control")), nil
}

// parseJWKS returns the P-256 signing keys of a JWKS by key ID. Keys of
// other types, curves, algorithms or uses are skipped rather than refused,
// so that a key Gatehouse may add one day does not break the others.
func parseJWKS(body []byte) (map[string]*ecdsa.PublicKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("verifier: parse JWKS: %w", err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || k.KeyID == "" || !k.IsPublic() {
			continue
		}
		if (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != "ES256") {
			continue
		}
		if pub, ok := k.Key.(*ecdsa.PublicKey); ok && pub.Curve == elliptic.P256() {
			keys[k.KeyID] = pub
		}
	}
	return keys, nil
}

// maxAge returns the max-age of a Cache-Control header, within
// [0, maxMaxAge], or defaultMaxAge when it has none; no-store and no-cache
// mean 0.
func maxAge(cacheControl string) time.Duration {
	age, found := defaultMaxAge, false
	for _, d := range strings.Split(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0
		case "max-age":
			if found {
				continue
			}
			found = true
			n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			switch {
			case err != nil || n < 0:
				age = 0
			case n > int64(maxMaxAge/time.Second):
				age = maxMaxAge
			default:
				age = time.Duration(n) * time.Second
			}
		}
	}
	return age
}
