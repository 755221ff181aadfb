// Package fake has stand-ins for the domain ports that have no in-memory
// adapter of their own: a Clock that moves only when told to,
// AccessTokens that issues opaque tokens and remembers their claims, and a
// Mailer that records what it is asked to send. The tests of app, httpapi
// and accesstoken share them; for the stores, the
// stand-in is adapters/memstore. Every type is safe for concurrent use.
package fake

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Clock is a domain.Clock that moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d and returns the new time.
func (c *Clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// AccessTokens is a domain.AccessTokens whose tokens are "at-" and the
// claims' ID, and which remembers the claims of every token it issued.
type AccessTokens struct {
	mu     sync.Mutex
	claims map[string]domain.Claims
}

// NewAccessTokens returns AccessTokens that has issued nothing yet.
func NewAccessTokens() *AccessTokens {
	return &AccessTokens{claims: map[string]domain.Claims{}}
}

// Issue returns a token for c.
func (f *AccessTokens) Issue(_ context.Context, c domain.Claims) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	token := "at-" + c.ID
	f.claims[token] = c
	return token, nil
}

// Verify returns the claims token was issued with. It returns
// domain.ErrInvalidAccessToken for a token it did not issue and
// domain.ErrAccessTokenExpired for one expired at now.
func (f *AccessTokens) Verify(_ context.Context, token string, now time.Time) (domain.Claims, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.claims[token]
	switch {
	case !ok:
		return domain.Claims{}, domain.ErrInvalidAccessToken
	case !now.Before(c.ExpiresAt):
		return domain.Claims{}, domain.ErrAccessTokenExpired
	}
	return c, nil
}

// Mailer is a domain.Mailer that records the emails it is asked to send.
type Mailer struct {
	mu   sync.Mutex
	sent []domain.Email
}

// Send records e.
func (m *Mailer) Send(_ context.Context, e domain.Email) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, e)
	return nil
}

// To returns the emails sent to address, oldest first: those of any
// purpose, or only those of the purposes given.
func (m *Mailer) To(address string, purposes ...domain.EmailPurpose) []domain.Email {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []domain.Email
	for _, e := range m.sent {
		if e.To == address && (len(purposes) == 0 || slices.Contains(purposes, e.Purpose)) {
			out = append(out, e)
		}
	}
	return out
}
