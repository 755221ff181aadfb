package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// emailPurposes are what each kind of single-use token is mailed for.
var emailPurposes = map[domain.TokenKind]domain.EmailPurpose{
	domain.TokenEmailVerification: domain.EmailVerifyAddress,
	domain.TokenPasswordReset:     domain.EmailResetPassword,
}

// tokenMails issues the single-use tokens that emails carry, and sends the
// emails.
type tokenMails struct {
	mailer domain.Mailer
	log    *slog.Logger
}

// create replaces the user's tokens of kind with a new one and returns the
// email that carries it, and redirectTo, to send once tx has committed.
func (m *tokenMails) create(ctx context.Context, tx domain.Stores, user domain.User, kind domain.TokenKind, redirectTo string, now time.Time) (domain.Email, error) {
	if _, err := tx.Tokens.DeleteByUser(ctx, user.ID, kind); err != nil {
		return domain.Email{}, err
	}
	secret, hash := domain.NewOpaqueToken()
	t, err := tx.Tokens.Create(ctx, domain.Token{UserID: user.ID, Kind: kind, Hash: hash, ExpiresAt: now.Add(kind.TTL()), CreatedAt: now})
	if err != nil {
		return domain.Email{}, err
	}
	return domain.Email{To: user.Email, Purpose: emailPurposes[kind], Secret: secret, ExpiresAt: t.ExpiresAt, RedirectTo: redirectTo}, nil
}

// send hands e to the mailer. A mail that cannot even be queued is logged:
// the request that caused it has succeeded and stays so.
func (m *tokenMails) send(ctx context.Context, e domain.Email) {
	if err := m.mailer.Send(ctx, e); err != nil {
		m.log.ErrorContext(ctx, "email not queued", "purpose", e.Purpose.String(), "error", err)
	}
}
