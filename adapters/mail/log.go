package mail

import (
	"context"
	"log/slog"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// LogMailer is the domain.Mailer of development, used when
// GATEHOUSE_SMTP_URL is empty: it sends nothing and writes each email to
// the log at WARN instead, so that a developer can follow the link.
//
// The log line therefore holds the recipient's address and the link, and
// the link holds a live single-use token: whoever reads the log can verify
// that address or reset that account's password. Never run production
// without an SMTP server.
type LogMailer struct {
	log   *slog.Logger
	links Links
}

var _ domain.Mailer = (*LogMailer)(nil)

// NewLogMailer returns a LogMailer that writes to logger (nil means
// slog.Default()) the links that links builds. It panics if links is nil:
// a mailer without links is a wiring mistake, better found at start-up
// than at the first email.
func NewLogMailer(logger *slog.Logger, links Links) *LogMailer {
	if links == nil {
		panic("mail: NewLogMailer needs Links")
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &LogMailer{log: logger, links: links}
}

// Send logs e at WARN with its recipient, purpose, link and expiry. It
// returns ErrInvalidEmail, and logs nothing, for an email that no Mailer
// would send.
func (m *LogMailer) Send(ctx context.Context, e domain.Email) error {
	c, err := check(e, m.links)
	if err != nil {
		return err
	}
	m.log.LogAttrs(ctx, slog.LevelWarn,
		"no SMTP server is configured (GATEHOUSE_SMTP_URL is empty): the email is written to the log instead of sent",
		slog.String("to", e.To),
		slog.String("purpose", e.Purpose.String()),
		slog.String("link", c.link),
		slog.Time("expires_at", e.ExpiresAt.UTC()),
	)
	return nil
}
