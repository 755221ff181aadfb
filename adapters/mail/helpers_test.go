package mail_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

const (
	testFrom      = "Gatehouse <no-reply@gatehouse.example>"
	testRecipient = "ada@example.com"
	// testToken is what the domain makes: base64url, 43 characters.
	testToken = "q7Xh2mZ9_pL0-aVbC3dE4fG5hI6jK7lM8nO9pQ0rS1t"
	// waitLimit bounds how long a test waits for something that should
	// happen at once, so that a bug fails the test instead of hanging it.
	waitLimit = 30 * time.Second
)

// testPages are the pages testLinks links to, by purpose.
var testPages = map[domain.EmailPurpose]string{
	domain.EmailVerifyAddress: "/verify-email",
	domain.EmailResetPassword: "/reset-password",
}

// testLinks is the tests' Links: the page of the email's purpose with its
// secret as the token. Its links are long and full of '=' and '&', which
// quoted-printable must encode and break across lines without changing.
func testLinks(e domain.Email) string {
	return "https://gatehouse.example" + testPages[e.Purpose] + "?token=" + e.Secret +
		"&next=%2Fwelcome%3Fa%3Db&utm_source=email&utm_campaign=a=b=c" + strings.Repeat("&pad=x=y", 6)
}

// testLink is the link testLinks builds for verifyEmail().
var testLink = testLinks(verifyEmail())

// fixedLink returns Links that give every email link, good or bad.
func fixedLink(link string) mail.Links {
	return func(domain.Email) string { return link }
}

// t0 is the fixed time of the tests' clock, a whole second.
var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// verifyEmail returns a verification email to testRecipient with
// testToken, expiring 24 hours after t0.
func verifyEmail() domain.Email {
	return domain.Email{
		To:        testRecipient,
		Purpose:   domain.EmailVerifyAddress,
		Secret:    testToken,
		ExpiresAt: t0.Add(24 * time.Hour),
	}
}

// newSender returns an SMTPSender for srv with testLinks, configured from
// srv.URL() as the service would be, trusting srv's certificate.
func newSender(t testing.TB, srv *smtptest.Server, opts ...mail.SMTPOption) *mail.SMTPSender {
	t.Helper()
	return newSenderLinks(t, srv, testLinks, opts...)
}

// newSenderLinks is newSender with links instead of testLinks.
func newSenderLinks(t testing.TB, srv *smtptest.Server, links mail.Links, opts ...mail.SMTPOption) *mail.SMTPSender {
	t.Helper()
	cfg, err := mail.ParseSMTPURL(srv.URL())
	require.NoError(t, err)
	opts = append([]mail.SMTPOption{mail.WithClock(fixedClock{t0}), mail.WithRootCAs(srv.RootCAs())}, opts...)
	s, err := mail.NewSMTPSender(cfg, testFrom, links, opts...)
	require.NoError(t, err)
	return s
}

// waitCtx returns a context that bounds a wait for something that should
// happen promptly.
func waitCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// logRecorder is a slog handler that keeps every record, renders them as
// text and lets a test await one.
type logRecorder struct {
	mu      sync.Mutex
	text    bytes.Buffer
	records []slog.Record
	changed chan struct{}
}

type recordingHandler struct {
	rec  *logRecorder
	text slog.Handler
}

// newLogger returns a logger at every level and what it records.
func newLogger() (*slog.Logger, *logRecorder) {
	rec := &logRecorder{changed: make(chan struct{})}
	text := slog.NewTextHandler(&rec.text, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(recordingHandler{rec: rec, text: text}), rec
}

func (h recordingHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h recordingHandler) Handle(ctx context.Context, r slog.Record) error {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	h.rec.records = append(h.rec.records, r.Clone())
	close(h.rec.changed)
	h.rec.changed = make(chan struct{})
	return nil
}

func (h recordingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return recordingHandler{rec: h.rec, text: h.text.WithAttrs(as)}
}

func (h recordingHandler) WithGroup(name string) slog.Handler {
	return recordingHandler{rec: h.rec, text: h.text.WithGroup(name)}
}

// String returns everything logged, as text lines.
func (l *logRecorder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// Records returns the records so far.
func (l *logRecorder) Records() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]slog.Record(nil), l.records...)
}

// wait returns the first record, logged before or after the call, for
// which match is true, failing t if none comes.
func (l *logRecorder) wait(t testing.TB, match func(slog.Record) bool) slog.Record {
	t.Helper()
	ctx := waitCtx(t)
	seen := 0
	for {
		l.mu.Lock()
		recs := l.records[seen:]
		changed := l.changed
		l.mu.Unlock()
		for _, r := range recs {
			if match(r) {
				return r
			}
		}
		seen += len(recs)
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatalf("no matching log record; logged so far:\n%s", l.String())
		}
	}
}

// at matches records of a level whose message contains msg.
func at(level slog.Level, msg string) func(slog.Record) bool {
	return func(r slog.Record) bool { return r.Level == level && strings.Contains(r.Message, msg) }
}

// attr returns the value of r's attribute key, as text, or "".
func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// count returns how many records match.
func (l *logRecorder) count(match func(slog.Record) bool) int {
	n := 0
	for _, r := range l.Records() {
		if match(r) {
			n++
		}
	}
	return n
}

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
