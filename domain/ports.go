package domain

import (
	"context"
	"time"
)

// UserStore keeps users. Emails are normalised with NormalizeEmail by the
// store on every write and lookup, so uniqueness and lookup ignore case.
type UserStore interface {
	// Create stores u and returns it with its new ID. The caller sets
	// CreatedAt and UpdatedAt. It returns ErrEmailTaken when another user
	// has the email, and ErrInvalidTier when u.Tier is not valid.
	Create(ctx context.Context, u User) (User, error)
	// ByID returns the user with id, or ErrNotFound.
	ByID(ctx context.Context, id UserID) (User, error)
	// ByEmail returns the user with email (in any case), or ErrNotFound.
	ByEmail(ctx context.Context, email string) (User, error)
	// Update overwrites the email, password hash, verified flag, tier and
	// UpdatedAt of the user with u.ID and returns the stored user. It returns
	// ErrNotFound when there is no such user, ErrEmailTaken when another user
	// has the email, and ErrInvalidTier when u.Tier is not valid.
	Update(ctx context.Context, u User) (User, error)
	// Delete removes the user with id together with all its tokens,
	// sessions, factors and passkeys. It returns ErrNotFound when there is no such
	// user.
	Delete(ctx context.Context, id UserID) error
}

// TokenStore keeps single-use tokens by their hash.
type TokenStore interface {
	// Create stores t and returns it with its new ID. The caller sets
	// CreatedAt. An empty t.UserID stores a token of no user, which no
	// DeleteByUser and no user's deletion removes; it still expires. It
	// returns ErrNotFound when t.UserID is not empty and names no user,
	// ErrInvalidTokenKind when t.Kind is not valid, and ErrInvalidAuthMethod
	// when t.Methods holds the zero AuthMethod. Methods read back in their
	// order, and as nil when there are none; Data reads back as stored,
	// and as nil when empty. A hash that is already
	// stored is an error without a sentinel: hashes of 256 random bits do not
	// collide, so one that does is a bug.
	Create(ctx context.Context, t Token) (Token, error)
	// Find returns the token of kind with hash, provided it has not
	// expired at now, without consuming it. It returns ErrNotFound like
	// Consume.
	Find(ctx context.Context, kind TokenKind, hash string, now time.Time) (Token, error)
	// Consume deletes and returns the token of kind with hash, provided it
	// has not expired at now. Of any number of concurrent calls for one
	// token, exactly one succeeds. It returns ErrNotFound when no such
	// unexpired token exists: unknown, already consumed, expired, or of
	// another kind.
	Consume(ctx context.Context, kind TokenKind, hash string, now time.Time) (Token, error)
	// DeleteByUser deletes every token of kind held by the user, so that a
	// newly issued token supersedes older ones, and returns how many it
	// deleted.
	DeleteByUser(ctx context.Context, id UserID, kind TokenKind) (int, error)
	// DeleteExpired deletes at most limit tokens that expired at or before
	// now and returns how many it deleted; callers repeat until it returns
	// fewer than limit.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// SessionStore keeps sessions and the hashes of every refresh token each
// session has rotated away.
type SessionStore interface {
	// Create stores s and returns it with its new ID. The caller sets the
	// timestamps. A user agent longer than MaxUserAgent runes is kept cut
	// to that length (ClipUserAgent), not refused. It returns ErrNotFound when s.UserID names no user, and
	// ErrInvalidAuthMethod when s.Methods holds the zero AuthMethod. A hash
	// that is already stored is an error without a sentinel, as for tokens.
	// Methods read back in their order, and as nil when there are none.
	Create(ctx context.Context, s Session) (Session, error)
	// ByID returns the session with id, revoked and expired ones included,
	// or ErrNotFound.
	ByID(ctx context.Context, id SessionID) (Session, error)
	// ListActive returns the user's sessions that are active at now, most
	// recently used first.
	ListActive(ctx context.Context, id UserID, now time.Time) ([]Session, error)
	// Rotate replaces the current refresh-token hash of the session whose
	// current hash is r.PresentedHash, provided the session is active at
	// r.Now, and records the presented hash as rotated away. It sets
	// LastUsedAt to r.Now and ExpiresAt to r.ExpiresAt (cut to CreatedAt
	// plus r.MaxAge when that is set; a session already past it does not
	// rotate) and returns the
	// updated session with its user, as one atomic step whether or not it
	// runs in a unit of work: a refresh needs nothing else from the
	// database. Of any number of concurrent rotations of one hash, exactly
	// one succeeds. It returns ErrNotFound when no active session has
	// r.PresentedHash as its current hash.
	Rotate(ctx context.Context, r Rotation) (Session, User, error)
	// Retry returns the session whose last rotation spent the token with
	// hash and kept a retry secret (Rotation.Retry) that is live at now
	// (RetryUntil after now), with its user and that secret, provided the
	// session is active at now. Once the token that rotation issued is
	// rotated in turn, the secret is gone. It returns ErrNotFound when no
	// such session exists, and changes nothing.
	Retry(ctx context.Context, hash string, now time.Time) (Session, User, []byte, error)
	// ByRotatedHash returns the session that once had hash as its current
	// refresh-token hash and has since rotated it away, or ErrNotFound.
	ByRotatedHash(ctx context.Context, hash string) (Session, error)
	// ByTokenHash returns the session whose current refresh-token hash is
	// hash, revoked and expired ones included, or ErrNotFound.
	ByTokenHash(ctx context.Context, hash string) (Session, error)
	// AddMethod adds m to the methods of the unrevoked session with id
	// (see WithMethod): the user proved a second factor within it (step-up).
	// It returns ErrNotFound when there is no such session, and
	// ErrInvalidAuthMethod for the zero AuthMethod.
	AddMethod(ctx context.Context, id SessionID, m AuthMethod) error
	// Revoke revokes the session with id, and with it every refresh token
	// of its family, at now. Revoking a revoked session keeps its first
	// revocation time. It returns ErrNotFound when there is no such session.
	Revoke(ctx context.Context, id SessionID, now time.Time) error
	// RevokeAllForUser revokes, at now, every unrevoked session of the user,
	// expired ones included, except the one with id except (which may be
	// empty), and returns how many it revoked.
	RevokeAllForUser(ctx context.Context, id UserID, except SessionID, now time.Time) (int, error)
	// DeleteExpired deletes at most limit sessions that expired at or before
	// now, with their rotated-away hashes, and returns how many sessions it
	// deleted; callers repeat until it returns fewer than limit.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)
	// ForgetExpiredRetries deletes the retry secrets of at most limit
	// sessions whose RetryUntil is at or before now and returns how many
	// it deleted; callers repeat until it returns fewer than limit.
	ForgetExpiredRetries(ctx context.Context, now time.Time, limit int) (int, error)
}

// Stores are the stores that share one unit of work.
type Stores struct {
	Users    UserStore
	Tokens   TokenStore
	Sessions SessionStore
	Factors  FactorStore
	Passkeys PasskeyStore
}

// Standalone are the stores that live outside every unit of work: each of
// their calls is atomic on its own and commits at once, so that a rate-limit
// count or a lock outlives the request that made it, whatever that request's
// unit of work does. Calling one inside InTx's fn returns an error wrapping
// ErrInsideUnitOfWork: use them before or after a unit of work, never within.
// The refusal touches nothing, so it does not end the unit of work; fn
// should still return it, which rolls the unit of work back.
type Standalone struct {
	Keys       KeyStore
	RateLimits RateLimitStore
	Locker     Locker
}

// Transactor runs units of work. InTx runs fn atomically: if fn returns an
// error or panics, nothing that fn wrote through s is kept, and the error
// (or panic) is passed on to the caller. Stores handed to fn must not be
// used after fn returns. A write the store rejects inside fn (ErrEmailTaken,
// or ErrNotFound from a Create) ends the unit of work, as a failed statement
// ends a Postgres transaction: fn returns that error rather than carrying on.
// Lookups that find nothing do not end it.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context, s Stores) error) error
}
