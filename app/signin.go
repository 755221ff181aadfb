package app

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Client describes where a request comes from; sessions remember it so a
// user can tell their sessions apart.
type Client struct {
	IP        string
	UserAgent string
	// Device is the device token the client holds from an earlier
	// sign-in (Tokens.Device), if any: Login lets a valid one for the
	// account past the account-wide limit.
	Device string
}

// Tokens are what a successful sign-in or refresh hands a client.
type Tokens struct {
	AccessToken  string
	ExpiresIn    time.Duration // the access token's lifetime
	RefreshToken string
	// RefreshExpiresIn is how long RefreshToken works unless it is used:
	// until the session expires. A client that keeps the token where it
	// must say how long (a cookie) needs it.
	RefreshExpiresIn time.Duration
	// Device is a new device token for the client, valid DeviceTTL, which
	// it presents on later logins (Client.Device); "" for an anonymous
	// user, a refresh, or when device tokens are off.
	Device string
	User   domain.User
}

// signIn is a proven sign-in: the user, how they proved who they are (no
// methods for an anonymous user) and the client they did it from.
type signIn struct {
	user    domain.User
	methods []domain.AuthMethod
	client  Client
}

// kernel is where every sign-in ends and every refresh continues. Each
// way to sign in (password, registration, anonymous, a second factor, and
// every one added later) proves who the user is in its own flow, then
// calls start in its unit of work, and returns what issue makes of the
// grant once that unit of work has committed. So what a sign-in yields is
// decided here once: the session it creates, what the session records of
// how the user authenticated, and whether it must first pass the second
// factor (the MFA gate): a user with a verified second factor whose
// sign-in has not reached aal2 gets a challenge instead of a session,
// which FinishSignIn completes with a code, through start again.
type kernel struct {
	accessTokens domain.AccessTokens
	accessTTL    time.Duration
	refreshTTL   time.Duration
	maxAge       time.Duration // 0: sessions have no absolute lifetime
	retryGrace   time.Duration // 0: a rotation keeps no retry secret
	challengeTTL time.Duration // how long an MFA challenge lives
	devices      *devices
}

// grant is what start hands back: a session created in a unit of work that
// has not committed yet, or the challenge that stands in its place. Its
// tokens are issued only after it has (see issue), so a client never holds
// tokens to a session that was rolled back.
type grant struct {
	user    domain.User
	session domain.Session
	refresh string // the secret of the session's current refresh token
	device  string // a device token for the client, for a sign-in
	// challenge, when not empty, is the secret of the MFA challenge that
	// start recorded instead of a session, and factors the kinds of second
	// factor that can answer it.
	challenge string
	factors   []domain.FactorKind
}

// start passes the sign-in in through the MFA gate and then creates its
// session, in the caller's unit of work tx, recording how the user
// authenticated, with the hash of a new refresh token, and returns its
// grant. A user with a verified second factor whose methods do not reach
// aal2 yet gets a grant with a challenge instead: a single-use token,
// recording those methods, that FinishSignIn takes with a code.
func (k *kernel) start(ctx context.Context, tx domain.Stores, in signIn, now time.Time) (grant, error) {
	if domain.AssuranceOf(in.methods) != domain.AAL2 {
		factors, err := verifiedFactors(ctx, tx, in.user.ID)
		if err != nil {
			return grant{}, err
		}
		if len(factors) > 0 {
			return k.challenge(ctx, tx, in, factors, now)
		}
	}
	secret, hash := domain.NewOpaqueToken()
	session, err := tx.Sessions.Create(ctx, domain.Session{
		UserID:     in.user.ID,
		TokenHash:  hash,
		UserAgent:  in.client.UserAgent,
		IP:         in.client.IP,
		Methods:    in.methods,
		CreatedAt:  now,
		LastUsedAt: now,
		ExpiresAt:  now.Add(k.firstLifetime()),
	})
	if err != nil {
		return grant{}, err
	}
	g := grant{user: in.user, session: session, refresh: secret}
	if len(in.methods) > 0 { // the user proved who they are
		g.device = k.devices.issue(in.user.ID, now)
	}
	return g, nil
}

// challenge records the MFA challenge of the sign-in in, which factors can
// answer, and returns its grant.
func (k *kernel) challenge(ctx context.Context, tx domain.Stores, in signIn, factors []domain.FactorKind, now time.Time) (grant, error) {
	secret, hash := domain.NewOpaqueToken()
	_, err := tx.Tokens.Create(ctx, domain.Token{
		UserID: in.user.ID, Kind: domain.TokenMFAChallenge, Hash: hash, Methods: in.methods,
		ExpiresAt: now.Add(k.challengeTTL), CreatedAt: now,
	})
	if err != nil {
		return grant{}, err
	}
	return grant{user: in.user, challenge: secret, factors: factors}, nil
}

// verifiedFactors returns the kinds of the user's verified second
// factors: those of the factor store, and passkeys when the user has one
// (a passkey is verified by its registration).
func verifiedFactors(ctx context.Context, tx domain.Stores, id domain.UserID) ([]domain.FactorKind, error) {
	all, err := tx.Factors.ByUser(ctx, id)
	if err != nil {
		return nil, err
	}
	var kinds []domain.FactorKind
	for _, f := range all {
		if f.Verified() {
			kinds = append(kinds, f.Kind)
		}
	}
	passkeys, err := tx.Passkeys.ByUser(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(passkeys) > 0 {
		kinds = append(kinds, domain.FactorPasskey)
	}
	return kinds, nil
}

// issue signs an access token for the grant's user and session, valid from
// now, and bundles it with the refresh token's secret. For a grant that is
// a challenge it returns an *MFARequiredError with it instead. Call it once
// the unit of work that started or rotated the session has committed.
func (k *kernel) issue(ctx context.Context, g grant, now time.Time) (Tokens, error) {
	if g.challenge != "" {
		return Tokens{}, &MFARequiredError{Challenge: g.challenge, Factors: g.factors}
	}
	jti, _ := domain.NewOpaqueToken()
	// An access token never outlives its session (which a session's
	// absolute lifetime may end sooner than the access-token TTL).
	expires := now.Add(k.accessTTL)
	if g.session.ExpiresAt.Before(expires) {
		expires = g.session.ExpiresAt
	}
	access, err := k.accessTokens.Issue(ctx, domain.Claims{
		ID:            jti,
		Subject:       g.user.ID,
		SessionID:     g.session.ID,
		Tier:          g.user.Tier,
		EmailVerified: g.user.EmailVerified,
		Methods:       g.session.Methods,
		AAL:           domain.AssuranceOf(g.session.Methods),
		IssuedAt:      now,
		ExpiresAt:     expires,
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("app: issue access token: %w", err)
	}
	return Tokens{
		AccessToken: access, ExpiresIn: expires.Sub(now),
		RefreshToken: g.refresh, RefreshExpiresIn: g.session.ExpiresAt.Sub(now),
		Device: g.device, User: g.user,
	}, nil
}

// firstLifetime is how long a new session lives before its first
// refresh: its idle lifetime, unless its absolute one is shorter.
func (k *kernel) firstLifetime() time.Duration {
	if k.maxAge > 0 && k.maxAge < k.refreshTTL {
		return k.maxAge
	}
	return k.refreshTTL
}

// rotation is the rotation that refreshing with refreshToken (whose hash
// is presented) asks of the session store at now, with the secret of the
// token that replaces it. Within the reuse grace it keeps that token
// sealed under refreshToken, for a retry.
func (k *kernel) rotation(refreshToken, presented string, now time.Time) (domain.Rotation, string) {
	next, nextHash := domain.NewOpaqueToken()
	r := domain.Rotation{
		PresentedHash: presented, NextHash: nextHash, Now: now,
		ExpiresAt: now.Add(k.refreshTTL), MaxAge: k.maxAge,
	}
	if k.retryGrace > 0 {
		r.Retry, r.RetryUntil = domain.SealRetry(refreshToken, next), now.Add(k.retryGrace)
	}
	return r, next
}
