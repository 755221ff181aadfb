package mail_test

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/mail"
)

// TestLogMailer: with no SMTP server, the email, link included, goes to
// the log at WARN.
func TestLogMailer(t *testing.T) {
	logger, log := newLogger()
	m := mail.NewLogMailer(logger, testLinks)
	e := verifyEmail()

	require.NoError(t, m.Send(t.Context(), e))

	recs := log.Records()
	require.Len(t, recs, 1)
	r := recs[0]
	assert.Equal(t, slog.LevelWarn, r.Level)
	assert.Contains(t, r.Message, "no SMTP server is configured")
	assert.Equal(t, testLink, attr(r, "link"), "the link that Links built")
	assert.Equal(t, e.To, attr(r, "to"))
	assert.Equal(t, "verify_email", attr(r, "purpose"))
	assert.Contains(t, log.String(), testToken)
	assert.Contains(t, log.String(), "level=WARN")

	e.To = "ada@example.com\r\nBcc: eve@evil.example"
	require.ErrorIs(t, m.Send(t.Context(), e), mail.ErrInvalidEmail)
	assert.Len(t, log.Records(), 1, "an invalid email is not logged")

	assert.Panics(t, func() { mail.NewLogMailer(logger, nil) }, "a LogMailer needs Links")
}
