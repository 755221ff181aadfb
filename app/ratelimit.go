package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// limit is one rate limit: at most max events per key within window. Keys
// are the limit's name and a subject (an email, an IP, a user id); the store
// keeps only their hash.
type limit struct {
	name   string
	max    int
	window time.Duration
}

// The rate limits. README.md lists them; keep the two in step.
var (
	// Failed logins of one account from one client, and from anywhere. Every
	// attempt counts before the password is checked, so parallel guesses
	// cannot slip past; a success resets both.
	limitLoginClient  = limit{"login:account+ip", 10, 15 * time.Minute}
	limitLoginAccount = limit{"login:account", 100, time.Hour}
	// Login attempts of one client, whatever the email, known or not, and
	// whatever the outcome, so that one address can neither spray
	// guesses across many accounts nor spend everyone's hashing on
	// unknown emails. Nothing resets it: it counts work, not failures.
	limitLoginIP = limit{"login:ip", 100, 15 * time.Minute}
	// Login attempts with one device token (see devices), which counts
	// in place of limitLoginAccount for the account the token is for: so
	// a stolen token, tried from many addresses, still gets few guesses.
	limitLoginDevice = limit{"login:device", 10, 15 * time.Minute}
	// Password checks of a signed-in user (change password, delete account),
	// so a stolen access token cannot be used to guess the password; a
	// success resets it.
	limitPasswordCheck = limit{"password-check:user", 10, 15 * time.Minute}
	// Account creation per client IP.
	limitRegisterIP  = limit{"register:ip", 20, time.Hour}
	limitAnonymousIP = limit{"anonymous:ip", 20, time.Hour}
	// Reset mails per client IP and per address, verification mails per user.
	limitForgotIP      = limit{"forgot:ip", 10, time.Hour}
	limitForgotAccount = limit{"forgot:account", 5, time.Hour}
	limitResendAccount = limit{"resend:account", 5, time.Hour}
	// One-time and recovery codes: per MFA challenge, and per user across
	// challenges (a password alone makes new challenges at will) and the
	// codes that verify or step up; a success resets the user's.
	limitMFAChallenge = limit{"mfa:challenge", 5, 5 * time.Minute}
	limitMFAUser      = limit{"mfa:user", 10, 15 * time.Minute}
	// Passwordless passkey sign-ins begun per client IP: each stores a
	// ceremony, and each ceremony takes one answer.
	limitPasskeyIP = limit{"passkey:ip", 60, 15 * time.Minute}
)

// limiter applies the rate limits on the standalone rate-limit store, so
// that a count stands whatever the unit of work of its request does; it is
// never called inside one.
type limiter struct {
	store domain.RateLimitStore
	off   bool // every limit disabled (GATEHOUSE_RATE_LIMITS=off)
	log   *slog.Logger
}

// hit counts one event against each limit (paired with its subject) and
// returns a *domain.RateLimitedError when any of them is exceeded. The wait
// it reports is at most the limit's window: a window ends one window after
// the hit that opened it, and a hit that read its clock before that one
// (a concurrent request, or a replica whose clock is behind) would
// otherwise be told to wait longer than the limit allows.
func (l *limiter) hit(ctx context.Context, now time.Time, checks ...check) error {
	if l.off {
		return nil
	}
	var wait time.Duration
	for _, c := range checks {
		count, ends, err := l.store.Hit(ctx, c.key(), c.limit.window, now)
		if err != nil {
			return fmt.Errorf("rate limit %s: %w", c.limit.name, err)
		}
		if count > c.limit.max {
			wait = max(wait, min(ends.Sub(now), c.limit.window))
		}
	}
	if wait > 0 {
		return &domain.RateLimitedError{RetryAfter: wait}
	}
	return nil
}

// reset forgets the counts of the checks. A failure only leaves a count
// standing until its window ends, so it is logged, not returned.
func (l *limiter) reset(ctx context.Context, checks ...check) {
	if l.off {
		return
	}
	for _, c := range checks {
		if err := l.store.Reset(ctx, c.key()); err != nil {
			l.log.WarnContext(ctx, "rate limit reset failed", "limit", c.limit.name, "error", err)
		}
	}
}

// check is a limit applied to one subject.
type check struct {
	limit   limit
	subject string
}

func (l limit) on(subject string) check { return check{limit: l, subject: subject} }

func (c check) key() string { return c.limit.name + "|" + c.subject }
