package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// ErrAlreadyRegistered means a registration came with the access token of a
// user who is not anonymous, so there is nothing to upgrade.
var ErrAlreadyRegistered = errors.New("app: user is already registered")

// RegisterInput is a registration request. Bearer holds the verified claims
// of the caller's access token, if it sent one: registering with an
// anonymous user's token upgrades that user in place. RedirectTo goes into
// the verification email as domain.Email.RedirectTo; the caller has
// checked it.
type RegisterInput struct {
	Email      string
	Password   string
	Client     Client
	Bearer     *domain.Claims
	RedirectTo string
}

// Register creates a user of tier free with the email and password, or
// upgrades the anonymous bearer to one, keeping its ID, starts a new session
// and mails a link to verify the address. It returns a
// *domain.ValidationError for a malformed email or a password the policy
// rejects, domain.ErrEmailTaken when another user has the email,
// ErrAlreadyRegistered when the bearer is not anonymous, and a
// *domain.RateLimitedError when the client IP registered too often.
func (a *Auth) Register(ctx context.Context, in RegisterInput) (Tokens, error) {
	if err := a.limits.hit(ctx, a.clock.Now(), limitRegisterIP.on(in.Client.IP)); err != nil {
		return Tokens{}, err
	}
	email := domain.NormalizeEmail(in.Email)
	password := a.hasher.normalize(in.Password)
	problems := &domain.ValidationError{}
	checkEmail(problems, email)
	if err := domain.CheckPassword(password, email); err != nil {
		var v *domain.ValidationError
		if !errors.As(err, &v) {
			return Tokens{}, err
		}
		problems.Problems = append(problems.Problems, v.Problems...)
	}
	if err := problems.Err(); err != nil {
		return Tokens{}, err
	}
	hash, err := a.hasher.Hash(ctx, password)
	if err != nil {
		return Tokens{}, fmt.Errorf("app: register: %w", err)
	}

	now := a.clock.Now()
	var (
		g            grant
		verification domain.Email
	)
	err = a.tx.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		var user domain.User
		var err error
		if in.Bearer != nil {
			user, err = upgrade(ctx, tx, *in.Bearer, email, hash, now)
		} else {
			user, err = tx.Users.Create(ctx, domain.User{
				Email: email, PasswordHash: hash, Tier: domain.TierFree, CreatedAt: now, UpdatedAt: now,
			})
		}
		if err != nil {
			return err
		}
		if g, err = a.kernel.start(ctx, tx, signIn{user: user, methods: []domain.AuthMethod{domain.AuthPassword}, client: in.Client}, now); err != nil {
			return err
		}
		verification, err = a.mails.create(ctx, tx, user, domain.TokenEmailVerification, in.RedirectTo, now)
		return err
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("app: register: %w", err)
	}
	a.mails.send(ctx, verification)
	return a.kernel.issue(ctx, g, now)
}

// upgrade turns the anonymous user the bearer claims name into a free user
// with email and password, and ends the anonymous session: the client gets a
// new one.
func upgrade(ctx context.Context, tx domain.Stores, bearer domain.Claims, email, hash string, now time.Time) (domain.User, error) {
	user, err := tx.Users.ByID(ctx, bearer.Subject)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, domain.ErrInvalidAccessToken // deleted since the token was issued
	}
	if err != nil {
		return domain.User{}, err
	}
	if user.Email != "" {
		return domain.User{}, ErrAlreadyRegistered
	}
	user.Email, user.PasswordHash, user.Tier, user.UpdatedAt = email, hash, domain.TierFree, now
	if user, err = tx.Users.Update(ctx, user); err != nil {
		return domain.User{}, err
	}
	if err := tx.Sessions.Revoke(ctx, bearer.SessionID, now); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return domain.User{}, err
	}
	return user, nil
}
