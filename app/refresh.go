package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Refresh rotates the session whose current refresh token is refreshToken:
// the token is spent, and the client gets a new one with a fresh access
// token carrying the user's current tier. A client that lost the answer
// may present the spent token again within Config.RefreshReuseGrace, as
// long as its successor has not been used: it gets the same successor
// again, however often it retries. Presenting a token that was rotated
// away otherwise (older, or after the grace, or after its successor was
// used) revokes its whole session and returns domain.ErrRefreshTokenReused;
// an unknown, expired or revoked one returns domain.ErrInvalidRefreshToken.
// A rotation whose outcome the store could not tell
// (domain.ErrOutcomeUnknown) is settled before Refresh answers (see
// settle): it returns the new tokens if the rotation committed, and
// domain.ErrUnavailable when it did not, or when the database still cannot
// say (domain.ErrOutcomeUnknown).
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	if !domain.WellFormedOpaqueToken(refreshToken) {
		return Tokens{}, domain.ErrInvalidRefreshToken
	}
	presented := domain.HashToken(refreshToken)
	now := a.clock.Now()

	// A rotation is atomic by itself (SessionStore.Rotate), and it is all
	// a refresh needs from the database, so it runs outside a unit of work.
	rotation, next := a.kernel.rotation(refreshToken, presented, now)
	session, user, err := a.sessions.Rotate(ctx, rotation)
	if errors.Is(err, domain.ErrOutcomeUnknown) {
		// The rotation may have committed although its answer was lost
		// (a deadline, a broken connection), and the request's context
		// may have run out: settle it on a context of its own, and carry
		// on with that. A plain domain.ErrUnavailable had no effect: the
		// token is not spent, and the 503 it answers is safe.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), a.settleTimeout)
		defer cancel()
		session, user, err = a.settle(ctx, rotation, err)
	}
	if errors.Is(err, domain.ErrNotFound) && rotation.Retry != nil {
		// Of concurrent refreshes with one token, the losers get here once
		// the winner has committed, and so find its retry secret.
		session, user, next, err = a.retried(ctx, refreshToken, presented, now)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return Tokens{}, a.refuseRefresh(ctx, presented, now)
	}
	if err != nil {
		return Tokens{}, fmt.Errorf("app: refresh: %w", err)
	}
	return a.kernel.issue(ctx, grant{user: user, session: session, refresh: next}, now)
}

// DefaultSettleTimeout is Config.RefreshSettleTimeout when it is zero.
const DefaultSettleTimeout = 3 * time.Second

// settle decides the outcome of rotation r, whose Rotate failed with
// cause, a domain.ErrOutcomeUnknown: r may or may not have committed, and returns what Rotate would have returned had its answer
// not been lost. It runs r again: a rotation to the same NextHash is
// idempotent, since of the two only the first to find PresentedHash
// current rotates, and either leaves the session at NextHash. So when
// that run rotates, the session is at NextHash now, and if the first run
// was still pending in the database it will find nothing to rotate. When
// it finds nothing, the first run committed if the session's current hash
// is NextHash; otherwise PresentedHash was spent or refused by something
// else, and settle returns domain.ErrNotFound as Rotate does. When the
// database cannot answer, settle returns an error wrapping cause: the
// outcome stays unknown (a run that could not even reach the database
// says nothing of the first, which may still be pending there), and the
// client's retry with the same token is what Config.RefreshReuseGrace
// covers.
func (a *Auth) settle(ctx context.Context, r domain.Rotation, cause error) (domain.Session, domain.User, error) {
	session, user, err := a.sessions.Rotate(ctx, r)
	if err == nil {
		return session, user, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return domain.Session{}, domain.User{}, settleError(err, cause)
	}
	session, err = a.sessions.ByTokenHash(ctx, r.NextHash)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Session{}, domain.User{}, err
	}
	if err != nil {
		return domain.Session{}, domain.User{}, settleError(err, cause)
	}
	if !session.Active(r.Now) {
		// Rotated, then revoked before this answer: nothing to hand out.
		return domain.Session{}, domain.User{}, domain.ErrInvalidRefreshToken
	}
	user, err = a.users.ByID(ctx, session.UserID)
	if err != nil {
		return domain.Session{}, domain.User{}, settleError(err, cause)
	}
	a.log.InfoContext(ctx, "refresh settled: the rotation had committed", "session_id", session.ID)
	return session, user, nil
}

// settleError is the error of a settle that failed with err, after the
// rotation's own failure cause, which wraps domain.ErrOutcomeUnknown: the
// outcome is still unknown.
func settleError(err, cause error) error {
	return fmt.Errorf("%w (and settling the rotation: %v)", cause, err)
}

// retried returns the session, user and refresh token that the rotation
// which spent refreshToken (whose hash is presented) issued, while its
// retry secret lives, or domain.ErrNotFound.
func (a *Auth) retried(ctx context.Context, refreshToken, presented string, now time.Time) (domain.Session, domain.User, string, error) {
	session, user, sealed, err := a.sessions.Retry(ctx, presented, now)
	if err != nil {
		return domain.Session{}, domain.User{}, "", err
	}
	next, err := domain.OpenRetry(refreshToken, sealed)
	if err != nil {
		return domain.Session{}, domain.User{}, "", fmt.Errorf("retry secret of session %s: %w", session.ID, err)
	}
	return session, user, next, nil
}

// refuseRefresh returns why the refresh token with hash presented could
// not rotate: domain.ErrRefreshTokenReused, after revoking its session,
// when that session once rotated it away, else
// domain.ErrInvalidRefreshToken (unknown, expired or revoked).
func (a *Auth) refuseRefresh(ctx context.Context, presented string, now time.Time) error {
	var revoked domain.SessionID
	err := a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var err error
		revoked, err = revokeReused(ctx, tx, presented, now)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("app: refresh: %w", err)
	case revoked == "":
		return domain.ErrInvalidRefreshToken
	}
	a.log.WarnContext(ctx, "refresh token reused; session revoked", "session_id", revoked)
	return domain.ErrRefreshTokenReused
}

// revokeReused revokes the session that once rotated away the token with
// hash and returns its ID, or "" when no session ever had that token.
func revokeReused(ctx context.Context, tx domain.Stores, hash string, now time.Time) (domain.SessionID, error) {
	family, err := tx.Sessions.ByRotatedHash(ctx, hash)
	if errors.Is(err, domain.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return family.ID, tx.Sessions.Revoke(ctx, family.ID, now)
}
