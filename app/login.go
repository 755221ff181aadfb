package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Login checks the email and password and starts a new session. It returns
// domain.ErrInvalidCredentials alike for an unknown email and a wrong
// password, after the same amount of hashing work, so neither the answer nor
// its timing tells whether an account exists. A password stored in an older
// scheme is rehashed on success.
//
// Attempts are rate limited per account and client and per account (see
// limitLoginClient), counted before the password is checked and reset by a
// success, and per client IP whatever the email (limitLoginIP), which
// nothing resets; an unknown email is counted alike. A client that
// presents a valid device token for the account (Client.Device) is
// counted on its device (limitLoginDevice) instead of the account-wide
// limit, so that guesses from elsewhere cannot lock the owner out. Over a
// limit it returns a *domain.RateLimitedError without checking the
// password.
func (a *Auth) Login(ctx context.Context, email, password string, c Client) (Tokens, error) {
	email = domain.NormalizeEmail(email)
	now := a.clock.Now()
	limits := loginLimits(email, c)
	var (
		user           domain.User
		err            error
		looked, exempt bool
	)
	if d, ok := a.devices.open(c.Device, now); ok {
		// Only a client with a device token pays for the lookup before
		// its attempt is counted.
		user, err = a.users.ByEmail(ctx, email)
		looked = true
		if exempt = err == nil && user.ID == d.user; exempt {
			limits = []check{limits[0], limitLoginDevice.on(d.id)}
		}
	}
	if err := a.limits.hit(ctx, now, append(limits, limitLoginIP.on(c.IP))...); err != nil {
		return Tokens{}, err
	}
	if !looked {
		user, err = a.users.ByEmail(ctx, email)
	}
	switch {
	case errors.Is(err, domain.ErrNotFound):
		if _, _, err := a.hasher.Verify(ctx, a.dummyHash, password); err != nil {
			return Tokens{}, fmt.Errorf("app: login: %w", err)
		}
		return Tokens{}, domain.ErrInvalidCredentials
	case err != nil:
		return Tokens{}, fmt.Errorf("app: login: %w", err)
	}
	match, rehash, err := a.hasher.Verify(ctx, user.PasswordHash, password)
	if err != nil {
		return Tokens{}, fmt.Errorf("app: login: %w", err)
	}
	if !match {
		return Tokens{}, domain.ErrInvalidCredentials
	}
	// A success resets the account-wide count even for a device that
	// was not counted on it: the owner is in, as after any sign-in.
	reset := loginLimits(email, c)
	if exempt {
		reset = append(reset, limits[1])
	}
	a.limits.reset(ctx, reset...)
	if rehash {
		a.upgradeHash(ctx, user, password)
	}

	now = a.clock.Now()
	var g grant
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		g, err = a.kernel.start(ctx, tx, signIn{user: user, methods: []domain.AuthMethod{domain.AuthPassword}, client: c}, now)
		return err
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("app: login: %w", err)
	}
	return a.kernel.issue(ctx, g, now)
}

// loginLimits are the login limits of the account with email tried from
// client c. Login counts its attempts on them; a success, and every other
// way the owner proves who they are (a reset link, a second factor, a
// passkey), resets them, so that an owner locked out by someone else's
// guesses is let in again as soon as they prove themselves.
func loginLimits(email string, c Client) []check {
	email = domain.NormalizeEmail(email)
	return []check{limitLoginClient.on(email + "|" + c.IP), limitLoginAccount.on(email)}
}

// upgradeHash replaces user's password hash with one in the current scheme.
// A failure only postpones the upgrade to the next login, so it is logged
// and the login goes on.
func (a *Auth) upgradeHash(ctx context.Context, user domain.User, password string) {
	hash, err := a.hasher.Hash(ctx, password)
	if err == nil {
		user.PasswordHash, user.UpdatedAt = hash, a.clock.Now()
		_, err = a.users.Update(ctx, user)
	}
	if err != nil {
		a.log.WarnContext(ctx, "password hash upgrade failed", "user_id", user.ID, "error", err)
	}
}
