package domain

import "time"

// SessionID identifies a session. It is opaque outside the store that
// assigns it.
type SessionID string

// Session is one login: the family of refresh tokens that descend from it by
// rotation. Only the current refresh token's hash is live; every hash rotated
// away stays known to the store, so that presenting one again can be detected
// as reuse and revoke the whole family.
type Session struct {
	ID        SessionID
	UserID    UserID
	TokenHash string // HashToken of the current refresh token
	UserAgent string
	IP        string
	// Methods are how the user authenticated when the session started, in
	// the order they were used; empty for an anonymous session.
	Methods    []AuthMethod
	CreatedAt  time.Time
	LastUsedAt time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time // zero while not revoked
}

// MaxUserAgent is the most characters (runes) of a user agent a session
// keeps: enough to tell a user's sessions apart, bounded so that a client
// cannot make its session row large. SessionStore.Create cuts a longer one
// with ClipUserAgent.
const MaxUserAgent = 512

// ClipUserAgent returns ua cut to at most MaxUserAgent runes, without
// splitting one.
func ClipUserAgent(ua string) string {
	n := MaxUserAgent
	for i := range ua {
		if n == 0 {
			return ua[:i]
		}
		n--
	}
	return ua
}

// Active reports whether the session can still be refreshed at now.
func (s Session) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// Rotation asks a SessionStore to replace a session's current refresh token.
type Rotation struct {
	PresentedHash string    // hash of the refresh token the client presented
	NextHash      string    // hash of the refresh token that replaces it
	Now           time.Time // becomes LastUsedAt; the session must be active at Now
	ExpiresAt     time.Time // the session's new expiry
	// MaxAge, unless zero, is the session's absolute lifetime: the new
	// expiry is cut to the session's CreatedAt plus MaxAge, so refreshes
	// never extend a session past it.
	MaxAge time.Duration
	// Retry, unless nil, is the next token sealed under the presented one
	// (SealRetry), kept with the session until RetryUntil so that a client
	// that lost the answer can present its token again and get the same
	// next token (SessionStore.Retry). Nil keeps no retry secret: a rotation
	// always replaces the one the previous rotation kept.
	Retry      []byte
	RetryUntil time.Time
}

// Expiry returns the expiry that r gives a session created at created:
// r.ExpiresAt, cut to created plus r.MaxAge when that is set. ok is false
// when the session is already past its absolute lifetime at r.Now and must
// not rotate. Stores that rotate in code call it; one that rotates in SQL
// says the same there.
func (r Rotation) Expiry(created time.Time) (expires time.Time, ok bool) {
	if r.MaxAge == 0 {
		return r.ExpiresAt, true
	}
	end := created.Add(r.MaxAge)
	if end.Before(r.ExpiresAt) {
		return end, end.After(r.Now)
	}
	return r.ExpiresAt, end.After(r.Now)
}
