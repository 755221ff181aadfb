package mail_test

import (
	"context"
	"crypto/tls"
	"html"
	"mime"
	"net"
	netmail "net/mail"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

// TestDeliverEveryMode sends through a real SMTP conversation in each way
// GATEHOUSE_SMTP_URL allows and checks what arrives.
func TestDeliverEveryMode(t *testing.T) {
	const user, pass = "gatehouse", "s3cret:p@ss/word%"
	cases := map[string]struct {
		opts     []smtptest.Option
		scheme   string
		tls      bool
		authUser string
		commands []string
	}{
		"smtp, STARTTLS and AUTH": {
			opts:     []smtptest.Option{smtptest.StartTLS(), smtptest.RequireAuth(user, pass)},
			scheme:   "smtp://",
			tls:      true,
			authUser: user,
			commands: []string{"EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"},
		},
		"smtp, STARTTLS without AUTH": {
			opts:     []smtptest.Option{smtptest.StartTLS()},
			scheme:   "smtp://",
			tls:      true,
			commands: []string{"EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"},
		},
		"smtp in clear text to loopback": {
			scheme:   "smtp://",
			commands: []string{"EHLO", "MAIL", "RCPT", "DATA", "QUIT"},
		},
		"smtp in clear text to loopback with AUTH": {
			opts:     []smtptest.Option{smtptest.RequireAuth(user, pass)},
			scheme:   "smtp://",
			authUser: user,
			commands: []string{"EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"},
		},
		"smtps, implicit TLS and AUTH": {
			opts:     []smtptest.Option{smtptest.ImplicitTLS(), smtptest.RequireAuth(user, pass)},
			scheme:   "smtps://",
			tls:      true,
			authUser: user,
			commands: []string{"EHLO", "AUTH", "MAIL", "RCPT", "DATA", "QUIT"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv := smtptest.Start(t, c.opts...)
			require.True(t, strings.HasPrefix(srv.URL(), c.scheme), srv.URL())
			e := verifyEmail()

			require.NoError(t, newSender(t, srv).Deliver(t.Context(), e))

			m, err := srv.WaitForMessage(waitCtx(t))
			require.NoError(t, err)
			assert.Equal(t, c.tls, m.TLS, "encrypted")
			assert.Equal(t, c.authUser, m.AuthUser)
			assert.Equal(t, c.commands, srv.Commands())
			requireMessage(t, m, e, "Confirm your email address")
			assert.Contains(t, m.Text, "expires in 24 hours (at 2026-11-27 09:00 UTC)")
			assert.Contains(t, m.HTML, "expires in 24 hours (at 2026-11-27 09:00 UTC)")
			assert.Len(t, srv.Messages(), 1)
		})
	}
}

// requireMessage checks the envelope, headers and parts of m, which should
// carry e from testFrom, with the link testLinks built for it.
func requireMessage(t *testing.T, m smtptest.Message, e domain.Email, subject string) {
	t.Helper()
	require.NoError(t, m.ParseErr)
	link := testLinks(e)

	// The envelope holds bare addresses.
	assert.Equal(t, "no-reply@gatehouse.example", m.From)
	assert.Equal(t, []string{e.To}, m.To)

	from, err := netmail.ParseAddress(m.Header.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, &netmail.Address{Name: "Gatehouse", Address: "no-reply@gatehouse.example"}, from)
	assert.Equal(t, e.To, m.Header.Get("To"))
	assert.Equal(t, subject, m.Subject())
	date, err := m.Header.Date()
	require.NoError(t, err)
	assert.True(t, date.Equal(t0), "Date %s", m.Header.Get("Date"))
	assert.Regexp(t, `^<[0-9a-f]{32}@gatehouse\.example>$`, m.Header.Get("Message-ID"))
	assert.Equal(t, "1.0", m.Header.Get("MIME-Version"))
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	require.NoError(t, err)
	assert.Equal(t, "multipart/alternative", mediaType)
	assert.Len(t, params["boundary"], 60, "multipart's random boundary")

	require.Len(t, m.Parts, 2)
	for i, want := range []string{"text/plain; charset=utf-8", "text/html; charset=utf-8"} {
		assert.Equal(t, want, m.Parts[i].Header.Get("Content-Type"))
		assert.Equal(t, "quoted-printable", m.Parts[i].Header.Get("Content-Transfer-Encoding"))
	}

	// The link arrives exactly as it left, though quoted-printable had to
	// encode every '=' and break its line: it is not in the raw data.
	assert.Equal(t, link, m.Link())
	assert.Equal(t, testToken, m.Token())
	assert.NotContains(t, string(m.Data), link)
	assert.Contains(t, string(m.Data), "=3D")
	assert.Regexp(t, regexp.MustCompile(`=\r\n`), string(m.Data), "a soft line break")
	_, body, ok := strings.Cut(string(m.Data), "\r\n\r\n")
	require.True(t, ok)
	for line := range strings.SplitSeq(body, "\r\n") {
		assert.LessOrEqual(t, len(line), 76, "line %q", line)
	}

	// html/template escaped the link in the attribute and the text.
	escaped := strings.ReplaceAll(link, "&", "&amp;")
	assert.Contains(t, m.HTML, `<a href="`+escaped+`">`)
	assert.Contains(t, html.UnescapeString(m.HTML), link)
}

// TestDeliverResetPassword checks the other purpose's templates.
func TestDeliverResetPassword(t *testing.T) {
	srv := smtptest.Start(t)
	e := domain.Email{
		To:        "grace@example.org",
		Purpose:   domain.EmailResetPassword,
		Secret:    testToken,
		ExpiresAt: t0.Add(time.Hour),
	}
	require.NoError(t, newSender(t, srv).Deliver(t.Context(), e))

	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "Reset your password", m.Subject())
	assert.Equal(t, testLinks(e), m.Link(), "the link built for this email")
	assert.Contains(t, m.Link(), "/reset-password?token=")
	assert.Equal(t, testToken, m.Token())
	for _, body := range []string{m.Text, m.HTML} {
		assert.Contains(t, body, "expires in 1 hour (at 2026-11-26 10:00 UTC)")
		assert.Contains(t, body, "If you did not ask for this, ignore this email")
	}
	assert.NotContains(t, m.Text, "Confirm")
}

// TestDeliverRendersExpiryAtSendTime shows the relative expiry is worked
// out when the email leaves, not when it was made.
func TestDeliverRendersExpiryAtSendTime(t *testing.T) {
	srv := smtptest.Start(t)
	later := fixedClock{t0.Add(20*time.Hour + 10*time.Minute)}
	require.NoError(t, newSender(t, srv, mail.WithClock(later)).Deliver(t.Context(), verifyEmail()))

	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.Contains(t, m.Text, "expires in 4 hours (at 2026-11-27 09:00 UTC)")
}

// TestDeliverEscapesLinkInHTML sends a link built to break out of the
// attribute; html/template must keep it inside.
func TestDeliverEscapesLinkInHTML(t *testing.T) {
	srv := smtptest.Start(t)
	link := `https://gatehouse.example/verify-email?token=x&a="><script>alert(1)</script>`
	e := verifyEmail()
	e.Secret = "x"
	require.NoError(t, newSenderLinks(t, srv, fixedLink(link)).Deliver(t.Context(), e))

	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.Contains(t, m.Text, link, "the text part is not HTML")
	assert.NotContains(t, m.HTML, "<script>")
	assert.NotContains(t, m.HTML, `"><`)
}

// TestDeliverRefusesInvalidEmails covers header injection through the
// recipient and the other emails no server should see, among them emails
// whose Links build a bad link. None of them opens a connection.
func TestDeliverRefusesInvalidEmails(t *testing.T) {
	srv := smtptest.Start(t)

	with := func(change func(*domain.Email)) domain.Email {
		e := verifyEmail()
		change(&e)
		return e
	}
	cases := map[string]struct {
		email domain.Email
		links mail.Links // nil means testLinks
	}{
		"CRLF and Bcc in To":     {email: with(func(e *domain.Email) { e.To = "ada@example.com\r\nBcc: eve@evil.example" })},
		"LF in To":               {email: with(func(e *domain.Email) { e.To = "ada@example.com\nBcc: eve@evil.example" })},
		"CR in To":               {email: with(func(e *domain.Email) { e.To = "ada@example.com\rBcc: eve@evil.example" })},
		"folded name in To":      {email: with(func(e *domain.Email) { e.To = "Ada\r\n <ada@example.com>" })},
		"NUL in To":              {email: with(func(e *domain.Email) { e.To = "ada@example.com\x00eve@evil.example" })},
		"two recipients":         {email: with(func(e *domain.Email) { e.To = "ada@example.com, eve@evil.example" })},
		"no address":             {email: with(func(e *domain.Email) { e.To = "eve.evil.example" })},
		"empty To":               {email: with(func(e *domain.Email) { e.To = "" })},
		"zero purpose":           {email: with(func(e *domain.Email) { e.Purpose = domain.EmailPurpose{} })},
		"no expiry":              {email: with(func(e *domain.Email) { e.ExpiresAt = time.Time{} })},
		"javascript link":        {email: verifyEmail(), links: fixedLink("javascript:alert(1)")},
		"relative link":          {email: verifyEmail(), links: fixedLink("/verify-email?token=" + testToken)},
		"line break in the link": {email: verifyEmail(), links: fixedLink(testLink + "\r\nBcc: eve@evil.example")},
		"no link":                {email: verifyEmail(), links: fixedLink("")},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			links := c.links
			if links == nil {
				links = testLinks
			}
			sender := newSenderLinks(t, srv, links)
			queue := mail.NewQueue(sender, mail.QueueConfig{Logger: slogDiscard()})
			for via, send := range map[string]func(context.Context, domain.Email) error{
				"SMTPSender.Check":   func(_ context.Context, e domain.Email) error { return sender.Check(e) },
				"SMTPSender.Deliver": sender.Deliver,
				"Queue.Send":         queue.Send,
				"LogMailer.Send":     mail.NewLogMailer(slogDiscard(), links).Send,
			} {
				err := send(t.Context(), c.email)
				require.ErrorIs(t, err, mail.ErrInvalidEmail, via)
				assert.NotContains(t, err.Error(), "eve@evil.example", via)
				assert.NotContains(t, err.Error(), testToken, via)
			}
			require.NoError(t, queue.Close(t.Context()))
			sent, failed := queue.Stats()
			assert.Zero(t, sent+failed, "nothing was queued")
		})
	}
	assert.Empty(t, srv.Commands(), "no connection was made")

	// The control: a sender for the same server delivers a valid email.
	sender := newSender(t, srv)
	require.NoError(t, sender.Check(verifyEmail()))
	require.NoError(t, sender.Deliver(t.Context(), verifyEmail()))
	assert.Contains(t, srv.Commands(), "DATA")
}

// TestQueueSendRefusesWhatItsSenderChecks: Send asks the Sender's Check,
// so an email the Sender would refuse never reaches it.
func TestQueueSendRefusesWhatItsSenderChecks(t *testing.T) {
	var (
		mu        sync.Mutex
		delivered []domain.Email
	)
	q := mail.NewQueue(senderFunc(func(_ context.Context, e domain.Email) error {
		mu.Lock()
		defer mu.Unlock()
		delivered = append(delivered, e)
		return nil
	}), mail.QueueConfig{Logger: slogDiscard()})
	bad := verifyEmail()
	bad.To = "ada@example.com\r\nBcc: eve@evil.example"
	require.ErrorIs(t, q.Send(t.Context(), bad), mail.ErrInvalidEmail)

	require.NoError(t, q.Send(t.Context(), verifyEmail()))
	require.NoError(t, q.Close(waitCtx(t)))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []domain.Email{verifyEmail()}, delivered, "only the valid email reached the Sender")
}

// TestDeliverRefusesExpiredLink: a link that no longer works is not sent.
func TestDeliverRefusesExpiredLink(t *testing.T) {
	srv := smtptest.Start(t)
	e := verifyEmail()
	e.ExpiresAt = t0
	require.ErrorIs(t, newSender(t, srv).Deliver(t.Context(), e), mail.ErrExpired)
	assert.Empty(t, srv.Commands())

	e.ExpiresAt = t0.Add(time.Second)
	require.NoError(t, newSender(t, srv).Deliver(t.Context(), e))
}

// TestDeliverRefusesUntrustedCertificate: the server certificate is
// verified for STARTTLS and implicit TLS alike, and a failure never falls
// back to clear text.
func TestDeliverRefusesUntrustedCertificate(t *testing.T) {
	for name, opt := range map[string]smtptest.Option{"STARTTLS": smtptest.StartTLS(), "smtps": smtptest.ImplicitTLS()} {
		t.Run(name, func(t *testing.T) {
			srv := smtptest.Start(t, opt, smtptest.RequireAuth("gatehouse", "secret"))
			untrusting := newSender(t, srv, mail.WithRootCAs(nil)) // the system roots

			err := untrusting.Deliver(t.Context(), verifyEmail())
			var verr *tls.CertificateVerificationError
			require.ErrorAs(t, err, &verr)
			assert.NotContains(t, srv.Commands(), "AUTH")
			assert.NotContains(t, srv.Commands(), "MAIL")
			assert.Empty(t, srv.Messages())

			// The control: trusting the certificate, it goes through.
			require.NoError(t, newSender(t, srv).Deliver(t.Context(), verifyEmail()))
			assert.Len(t, srv.Messages(), 1)
		})
	}
}

// TestDeliverWrongCredentials: a 535 is an error (and permanent).
func TestDeliverWrongCredentials(t *testing.T) {
	srv := smtptest.Start(t, smtptest.StartTLS(), smtptest.RequireAuth("gatehouse", "secret"))
	cfg, err := mail.ParseSMTPURL(srv.URL())
	require.NoError(t, err)
	cfg.Password = "not-the-secret"
	s, err := mail.NewSMTPSender(cfg, testFrom, testLinks, mail.WithRootCAs(srv.RootCAs()), mail.WithClock(fixedClock{t0}))
	require.NoError(t, err)

	err = s.Deliver(t.Context(), verifyEmail())
	var reply *textproto.Error
	require.ErrorAs(t, err, &reply)
	assert.Equal(t, 535, reply.Code)
	assert.NotContains(t, err.Error(), "not-the-secret")
	assert.Empty(t, srv.Messages())
}

// TestDeliverRedactsServerReplies: servers echo the recipient in replies;
// the error must not carry it.
func TestDeliverRedactsServerReplies(t *testing.T) {
	srv := smtptest.Start(t, smtptest.FailFirst(1))
	e := verifyEmail()
	e.To = "Ada.Lovelace@Example.com"

	err := newSender(t, srv).Deliver(t.Context(), e)
	var reply *textproto.Error
	require.ErrorAs(t, err, &reply, "the SMTP reply is still there for errors.As")
	assert.Equal(t, 451, reply.Code)
	assert.Contains(t, reply.Msg, e.To, "the server did echo the recipient")
	assert.Contains(t, err.Error(), "451")
	assert.Contains(t, err.Error(), "greylisted")
	assert.NotContains(t, strings.ToLower(err.Error()), "ada.lovelace@example.com")
}

// TestDeliverHonoursContext: a server that never answers cannot hold
// Deliver past its context.
func TestDeliverHonoursContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c // and never say a word
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		for c := range accepted {
			_ = c.Close()
		}
	})
	cfg, err := mail.ParseSMTPURL("smtp://" + ln.Addr().String())
	require.NoError(t, err)
	s, err := mail.NewSMTPSender(cfg, testFrom, testLinks, mail.WithClock(fixedClock{t0}))
	require.NoError(t, err)

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Deliver(ctx, verifyEmail()) }()
		select {
		case c := <-accepted:
			defer c.Close()
		case <-waitCtx(t).Done():
			t.Fatal("no connection")
		}
		cancel()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-waitCtx(t).Done():
			t.Fatal("Deliver ignored the cancelled context")
		}
	})
	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		err := s.Deliver(ctx, verifyEmail())
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
	t.Run("own timeout", func(t *testing.T) {
		short, err := mail.NewSMTPSender(cfg, testFrom, testLinks, mail.WithClock(fixedClock{t0}), mail.WithTimeout(50*time.Millisecond))
		require.NoError(t, err)
		err = short.Deliver(t.Context(), verifyEmail())
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

// TestNewSMTPSender checks the sender address and the configuration.
func TestNewSMTPSender(t *testing.T) {
	cfg := mail.SMTPConfig{Host: "smtp.example.com", Port: 587}
	for _, from := range []string{"", mail.DefaultFrom, "no-reply@example.com", "Gatehouse <no-reply@example.com>", `"Gate, house" <no-reply@example.com>`} {
		_, err := mail.NewSMTPSender(cfg, from, testLinks)
		assert.NoError(t, err, "from %q", from)
	}
	for _, from := range []string{"Gatehouse", "a@example.com, b@example.com", "Gatehouse <no-reply@example.com>\r\nBcc: eve@evil.example"} {
		_, err := mail.NewSMTPSender(cfg, from, testLinks)
		assert.Error(t, err, "from %q", from)
	}
	for name, bad := range map[string]mail.SMTPConfig{"no host": {Port: 25}, "no port": {Host: "smtp.example.com"}} {
		_, err := mail.NewSMTPSender(bad, "", testLinks)
		assert.Error(t, err, name)
	}
	_, err := mail.NewSMTPSender(cfg, "", testLinks, mail.WithHelloName("two words"))
	assert.Error(t, err)
	_, err = mail.NewSMTPSender(cfg, "", nil)
	assert.Error(t, err, "a sender needs Links")

	// The default sender, end to end: envelope and header.
	srv := smtptest.Start(t)
	scfg, err := mail.ParseSMTPURL(srv.URL())
	require.NoError(t, err)
	s, err := mail.NewSMTPSender(scfg, "", testLinks, mail.WithClock(fixedClock{t0}), mail.WithHelloName("gatehouse.example"))
	require.NoError(t, err)
	require.NoError(t, s.Deliver(t.Context(), verifyEmail()))
	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "no-reply@localhost", m.From)
	from, err := netmail.ParseAddress(m.Header.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, "Gatehouse", from.Name)
	assert.Regexp(t, `@localhost>$`, m.Header.Get("Message-ID"))
}

// TestDeliverNonASCIISender: a display name outside ASCII is RFC 2047
// encoded, so the header stays 7-bit.
func TestDeliverNonASCIISender(t *testing.T) {
	srv := smtptest.Start(t)
	cfg, err := mail.ParseSMTPURL(srv.URL())
	require.NoError(t, err)
	s, err := mail.NewSMTPSender(cfg, "Gärtnerei Ünd Söhne <no-reply@example.com>", testLinks, mail.WithClock(fixedClock{t0}))
	require.NoError(t, err)
	require.NoError(t, s.Deliver(t.Context(), verifyEmail()))
	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	raw := m.Header.Get("From")
	assert.True(t, isASCII(raw), raw)
	from, err := netmail.ParseAddress(raw) // decodes RFC 2047
	require.NoError(t, err)
	assert.Equal(t, "Gärtnerei Ünd Söhne", from.Name)
}

func isASCII(s string) bool {
	return !slices.ContainsFunc([]byte(s), func(b byte) bool { return b >= 0x80 })
}
