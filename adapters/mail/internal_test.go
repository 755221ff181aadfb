package mail

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

// TestMayAuthenticate is the policy for credentials: over TLS, or to
// loopback, and nowhere else.
func TestMayAuthenticate(t *testing.T) {
	cases := []struct {
		host      string
		encrypted bool
		want      bool
	}{
		{"smtp.example.com", true, true},
		{"smtp.example.com", false, false},
		{"203.0.113.7", false, false},
		{"10.0.0.1", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"localhost.evil.example", false, false},
		{"127.0.0.1.nip.io", false, false},
		{"localhost", false, true},
		{"LocalHost", false, true},
		{"127.0.0.1", false, true},
		{"127.3.2.1", false, true},
		{"::1", false, true},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, mayAuthenticate(c.host, c.encrypted), "%s, encrypted %v", c.host, c.encrypted)
	}
}

// TestCredentialsNeverInClearText talks to a server under a name that is
// not loopback (the dial goes to smtptest regardless) that offers AUTH but
// no STARTTLS: the sender must stop before AUTH.
func TestCredentialsNeverInClearText(t *testing.T) {
	srv := smtptest.Start(t, smtptest.RequireAuth("gatehouse", "secret"))
	sender := func(host string) *SMTPSender {
		s, err := NewSMTPSender(SMTPConfig{Host: host, Port: 587, Username: "gatehouse", Password: "secret"}, "",
			func(e domain.Email) string { return "https://gatehouse.example/verify-email?token=" + e.Secret },
			WithClock(fixed(time.Now())))
		require.NoError(t, err)
		s.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, srv.Addr())
		}
		return s
	}
	e := domain.Email{To: "ada@example.com", Purpose: domain.EmailVerifyAddress, Secret: "abc", ExpiresAt: time.Now().Add(time.Hour)}

	err := sender("smtp.example.com").Deliver(t.Context(), e)
	require.ErrorIs(t, err, ErrCleartextAuth)
	assert.True(t, permanent(err))
	assert.Equal(t, []string{"EHLO"}, srv.Commands(), "the conversation stopped before AUTH")

	// The control: the same server, called localhost, gets the credentials.
	require.NoError(t, sender("localhost").Deliver(t.Context(), e))
	m, err := srv.WaitForMessage(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "gatehouse", m.AuthUser)
}

type fixed time.Time

func (f fixed) Now() time.Time { return time.Time(f) }

func TestHumanDuration(t *testing.T) {
	cases := map[time.Duration]string{
		-time.Minute:                     "less than a minute",
		20 * time.Second:                 "less than a minute",
		40 * time.Second:                 "1 minute",
		45 * time.Minute:                 "45 minutes",
		59*time.Minute + 59*time.Second:  "1 hour",
		time.Hour:                        "1 hour",
		3*time.Hour + 20*time.Minute:     "3 hours",
		24*time.Hour - time.Millisecond:  "24 hours",
		24 * time.Hour:                   "24 hours",
		47*time.Hour + 20*time.Minute:    "47 hours",
		36 * time.Hour:                   "36 hours",
		72*time.Hour - 5*time.Minute:     "3 days",
		7 * 24 * time.Hour:               "7 days",
		47*time.Hour + 59*time.Minute:    "2 days",
		90*time.Minute - time.Nanosecond: "1 hour",
	}
	for d, want := range cases {
		assert.Equal(t, want, humanDuration(d), "%s", d)
	}
}

func TestRedact(t *testing.T) {
	e := domain.Email{To: "Ada@Example.com", Secret: "SECRETTOKEN123"}
	link := "https://g.example/verify-email?token=SECRETTOKEN123"
	reply := &textproto.Error{Code: 450, Msg: "4.2.0 <ada@example.com>: greylisted; body had token=SECRETTOKEN123"}
	err := redact(reply, e, link)
	assert.Contains(t, err.Error(), "450")
	assert.Contains(t, err.Error(), "<[redacted]>: greylisted; body had token=[redacted]")
	assert.NotContains(t, err.Error(), "SECRETTOKEN123")
	var got *textproto.Error
	require.ErrorAs(t, err, &got)
	assert.Same(t, reply, got)

	// The whole link goes, not only the secret in it.
	err = redact(errors.New("550 no such page "+link), e, link)
	assert.EqualError(t, err, "550 no such page [redacted]")

	plain := errors.New("dial tcp 127.0.0.1:25: connection refused")
	assert.Same(t, plain, redact(plain, e, link), "nothing to hide, nothing changed")
	assert.NoError(t, redact(nil, e, link))

	// The secret is hidden wherever the link carries it, and when the
	// caller (the Queue) has no link at all: redact takes it from the
	// email, not from the link's query.
	inPath := "https://g.example/v/SECRETTOKEN123"
	err = redact(errors.New("554 rejected: SECRETTOKEN123 looks like spam"), e, inPath)
	assert.EqualError(t, err, "554 rejected: [redacted] looks like spam")
	err = redact(errors.New("554 rejected: "+inPath+" looks like spam"), e, "")
	assert.EqualError(t, err, "554 rejected: https://g.example/v/[redacted] looks like spam")

	// A link that carries a client's redirect_to, ahead of the token as
	// httpapi.EmailLinks encodes it: the link goes whole, and the token
	// still goes from a reply that quotes the link otherwise.
	withRedirect := "https://g.example/verify-email?redirect_to=https%3A%2F%2Fapp.example.com%2Fapp%2F&token=SECRETTOKEN123"
	err = redact(errors.New("550 no such page "+withRedirect), e, withRedirect)
	assert.EqualError(t, err, "550 no such page [redacted]")
	err = redact(errors.New("554 rejected: ?redirect_to=https://app.example.com/app/&token=SECRETTOKEN123"), e, withRedirect)
	assert.EqualError(t, err, "554 rejected: ?redirect_to=https://app.example.com/app/&token=[redacted]")
}

func TestPermanent(t *testing.T) {
	assert.True(t, permanent(&textproto.Error{Code: 550}))
	assert.True(t, permanent(redact(&textproto.Error{Code: 554, Msg: "x@example.com"}, domain.Email{To: "x@example.com"}, "")))
	assert.True(t, permanent(ErrInvalidEmail))
	assert.True(t, permanent(ErrExpired))
	assert.False(t, permanent(&textproto.Error{Code: 451}))
	assert.False(t, permanent(errors.New("connection refused")))
	assert.False(t, permanent(context.DeadlineExceeded))
}

func TestRecipientDomain(t *testing.T) {
	assert.Equal(t, "example.com", recipientDomain("ada@Example.COM"))
	assert.Equal(t, "example.com", recipientDomain("Ada <ada@example.com>"))
	assert.Equal(t, "(invalid)", recipientDomain("nobody"))
}

// TestEveryPurposeHasTemplates: a purpose the domain adds without
// templates would make every such email invalid.
func TestEveryPurposeHasTemplates(t *testing.T) {
	for _, p := range []domain.EmailPurpose{domain.EmailVerifyAddress, domain.EmailResetPassword} {
		tm, ok := templates[p.String()]
		require.True(t, ok, p.String())
		assert.NotNil(t, tm.text.Lookup("subject"))
	}
}
