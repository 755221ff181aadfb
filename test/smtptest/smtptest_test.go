package smtptest_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

const link = "https://gatehouse.example/verify-email?token=tok_EN-123&next=a=b&x=" +
	"0123456789012345678901234567890123456789"

// message is a multipart/alternative message with quoted-printable parts,
// as a mail client would write it by hand; its text part has a line that
// starts with a dot, which SMTP must stuff and unstuff.
var message = strings.ReplaceAll(`From: Gatehouse <no-reply@gatehouse.example>
To: ada@example.com
Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b0undary"

--b0undary
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Open this link:

https://gatehouse.example/verify-email?token=3Dtok_EN-123&next=3Da=3Db&x=3D=
0123456789012345678901234567890123456789

.a line that starts with a dot
--b0undary
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: quoted-printable

<p>Open <a href=3D"https://gatehouse.example/">this</a></p>
--b0undary--
`, "\n", "\r\n")

func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestStartTLSAndAuth runs a whole conversation through net/smtp.
func TestStartTLSAndAuth(t *testing.T) {
	srv := smtptest.Start(t, smtptest.StartTLS(), smtptest.RequireAuth("ada", "p@ss:word"))
	assert.Equal(t, "smtp://ada:p%40ss%3Aword@"+srv.Addr(), srv.URL())
	require.NotNil(t, srv.Certificate())

	c, err := smtp.Dial(srv.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Hello("client.example"))
	ok, _ := c.Extension("STARTTLS")
	assert.True(t, ok)
	ok, _ = c.Extension("AUTH")
	assert.False(t, ok, "no AUTH before TLS")
	require.NoError(t, c.StartTLS(&tls.Config{RootCAs: srv.RootCAs(), ServerName: "127.0.0.1"}))
	ok, mechs := c.Extension("AUTH")
	assert.True(t, ok)
	assert.Equal(t, "PLAIN", mechs)
	require.NoError(t, c.Auth(smtp.PlainAuth("", "ada", "p@ss:word", "127.0.0.1")))
	require.NoError(t, c.Mail("no-reply@gatehouse.example"))
	require.NoError(t, c.Rcpt("ada@example.com"))
	require.NoError(t, c.Rcpt("grace@example.org"))
	w, err := c.Data()
	require.NoError(t, err)
	_, err = w.Write([]byte(message))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, c.Quit())

	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	require.NoError(t, m.ParseErr)
	assert.Equal(t, "no-reply@gatehouse.example", m.From)
	assert.Equal(t, []string{"ada@example.com", "grace@example.org"}, m.To)
	assert.True(t, m.TLS)
	assert.Equal(t, "ada", m.AuthUser)
	assert.Equal(t, message, string(m.Data), "dot-unstuffed back to what was written")
	assert.Equal(t, "Grüße", m.Subject())
	assert.Equal(t, "ada@example.com", m.Header.Get("To"))
	require.Len(t, m.Parts, 2)
	assert.Equal(t, "quoted-printable", m.Parts[0].Header.Get("Content-Transfer-Encoding"))
	assert.Equal(t, "text/plain", m.Parts[0].MediaType)
	assert.Equal(t, "text/html", m.Parts[1].MediaType)
	assert.Contains(t, m.Text, "\n.a line that starts with a dot")
	assert.Equal(t, `<p>Open <a href="https://gatehouse.example/">this</a></p>`, m.HTML)
	assert.Equal(t, link, m.Link())
	assert.Equal(t, "tok_EN-123", m.Token())
	assert.Equal(t, []string{"EHLO", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"}, srv.Commands())
}

// TestImplicitTLS speaks TLS from the first byte.
func TestImplicitTLS(t *testing.T) {
	srv := smtptest.Start(t, smtptest.ImplicitTLS())
	assert.Equal(t, "smtps://"+srv.Addr(), srv.URL())

	_, err := tls.Dial("tcp", srv.Addr(), &tls.Config{ServerName: "localhost"})
	require.Error(t, err, "a client that does not trust the certificate fails")

	conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: srv.RootCAs(), ServerName: "localhost"})
	require.NoError(t, err)
	c, err := smtp.NewClient(conn, "localhost")
	require.NoError(t, err)
	defer c.Close()
	ok, _ := c.Extension("STARTTLS")
	assert.False(t, ok, "already encrypted")
	require.NoError(t, c.Mail("a@example.com"))
	require.NoError(t, c.Rcpt("b@example.com"))
	w, err := c.Data()
	require.NoError(t, err)
	_, err = w.Write([]byte("Subject: hi\r\n\r\nhttps://x.example/?token=t1\r\n"))
	require.NoError(t, err)
	require.NoError(t, w.Close())

	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.True(t, m.TLS)
	assert.Equal(t, "https://x.example/?token=t1\n", m.Text, "a single-part message is its own text part")
	assert.Equal(t, "t1", m.Token())
}

// TestFailFirst: the first n deliveries get a 4xx, naming the recipient.
func TestFailFirst(t *testing.T) {
	srv := smtptest.Start(t, smtptest.FailFirst(2))
	send := func() error {
		return smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nbody\r\n"))
	}
	for i := range 2 {
		err := send()
		var reply *textproto.Error
		require.ErrorAs(t, err, &reply, "delivery %d", i+1)
		assert.Equal(t, 451, reply.Code)
		assert.Contains(t, reply.Msg, "<b@example.com>")
		assert.Equal(t, i+1, srv.Rejected())
	}
	assert.Empty(t, srv.Messages())
	require.NoError(t, send())
	assert.Len(t, srv.Messages(), 1)
	assert.Equal(t, 2, srv.Rejected())
}

// TestFailReply replaces the failure.
func TestFailReply(t *testing.T) {
	srv := smtptest.Start(t, smtptest.FailFirst(1), smtptest.FailReply("554 5.7.1 no"))
	err := smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{"b@example.com"}, []byte("x\r\n"))
	var reply *textproto.Error
	require.ErrorAs(t, err, &reply)
	assert.Equal(t, 554, reply.Code)
	assert.Equal(t, "5.7.1 no", reply.Msg)
}

// raw is a hand-driven SMTP connection.
type raw struct {
	t *testing.T
	*textproto.Conn
}

func dialRaw(t *testing.T, addr string) *raw {
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	r := &raw{t: t, Conn: textproto.NewConn(conn)}
	t.Cleanup(func() { _ = r.Close() })
	r.expect(220)
	return r
}

// cmd sends a command and checks the reply's code.
func (r *raw) cmd(code int, format string, args ...any) string {
	r.t.Helper()
	id, err := r.Cmd(format, args...)
	require.NoError(r.t, err)
	r.StartResponse(id)
	defer r.EndResponse(id)
	return r.expect(code)
}

func (r *raw) expect(code int) string {
	r.t.Helper()
	got, msg, err := r.ReadResponse(0)
	require.NoError(r.t, err)
	require.Equal(r.t, code, got, msg)
	return msg
}

// TestRefusals drives the state machine by hand.
func TestRefusals(t *testing.T) {
	srv := smtptest.Start(t, smtptest.StartTLS(), smtptest.RequireAuth("ada", "secret"))
	r := dialRaw(t, srv.Addr())
	r.cmd(503, "MAIL FROM:<a@example.com>")
	r.cmd(501, "EHLO")
	ehlo := r.cmd(250, "EHLO client.example")
	assert.Contains(t, ehlo, "STARTTLS")
	assert.NotContains(t, ehlo, "AUTH")
	r.cmd(530, "AUTH PLAIN AGFkYQBzZWNyZXQ=") // \0ada\0secret, refused before TLS
	r.cmd(530, "MAIL FROM:<a@example.com>")   // authentication required
	r.cmd(503, "RCPT TO:<b@example.com>")
	r.cmd(503, "DATA")
	r.cmd(250, "NOOP")
	r.cmd(250, "RSET")
	r.cmd(502, "VRFY ada")
	r.cmd(221, "QUIT")

	// After STARTTLS: wrong credentials, then the right ones.
	conn, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	plain := &raw{t: t, Conn: textproto.NewConn(conn)}
	plain.expect(220)
	plain.cmd(250, "EHLO client.example")
	plain.cmd(220, "STARTTLS")
	tc := tls.Client(conn, &tls.Config{RootCAs: srv.RootCAs(), ServerName: "localhost"})
	r = &raw{t: t, Conn: textproto.NewConn(tc)}
	t.Cleanup(func() { _ = r.Close() })
	r.cmd(503, "AUTH PLAIN AGFkYQBzZWNyZXQ=") // EHLO again first
	assert.Contains(t, r.cmd(250, "EHLO client.example"), "AUTH PLAIN")
	r.cmd(504, "AUTH LOGIN")
	r.cmd(535, "AUTH PLAIN AGFkYQB3cm9uZw==") // \0ada\0wrong
	r.cmd(334, "AUTH PLAIN")
	r.cmd(235, "AGFkYQBzZWNyZXQ=")
	r.cmd(503, "AUTH PLAIN AGFkYQBzZWNyZXQ=")
	r.cmd(503, "STARTTLS")

	// A transaction, reset, then a real one with a stuffed dot.
	r.cmd(250, "MAIL FROM:<a@example.com>")
	r.cmd(503, "MAIL FROM:<a@example.com>")
	r.cmd(250, "RCPT TO:<b@example.com>")
	r.cmd(250, "RSET")
	r.cmd(503, "DATA")
	r.cmd(250, "MAIL FROM:<a@example.com> BODY=8BITMIME")
	r.cmd(501, "RCPT TO:b@example.com")
	r.cmd(250, "rcpt to:<b@example.com>")
	r.cmd(354, "DATA")
	r.cmd(250, "Subject: x\r\n\r\n..hidden\r\n.")
	r.cmd(221, "QUIT")

	m, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, "Subject: x\r\n\r\n.hidden\r\n", string(m.Data))
	assert.Equal(t, "ada", m.AuthUser)
	assert.Len(t, srv.Messages(), 1)
}

// TestWaiting: WaitForMessage moves through the messages; WaitFor finds
// one by content; both give up with their context.
func TestWaiting(t *testing.T) {
	srv := smtptest.Start(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := srv.WaitForMessage(ctx)
	require.ErrorIs(t, err, context.Canceled)

	got := make(chan smtptest.Message, 1)
	go func() {
		m, err := srv.WaitFor(waitCtx(t), func(m smtptest.Message) bool { return m.To[0] == "second@example.com" })
		assert.NoError(t, err)
		got <- m
	}()
	for _, to := range []string{"first@example.com", "second@example.com"} {
		require.NoError(t, smtp.SendMail(srv.Addr(), nil, "a@example.com", []string{to}, []byte("x\r\n")))
	}
	m := <-got
	assert.Equal(t, []string{"second@example.com"}, m.To)

	first, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"first@example.com"}, first.To)
	second, err := srv.WaitForMessage(waitCtx(t))
	require.NoError(t, err)
	assert.Equal(t, []string{"second@example.com"}, second.To)
	_, err = srv.WaitForMessage(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

// TestCloseEndsConnections: a test that leaves a connection open still
// ends.
func TestCloseEndsConnections(t *testing.T) {
	srv := smtptest.Start(t)
	c, err := smtp.Dial(srv.Addr())
	require.NoError(t, err)
	require.NoError(t, c.Hello("client.example"))
	srv.Close()
	require.Error(t, c.Noop())
	srv.Close() // again: nothing
}
