package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/pem"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

// mailTimeout bounds the wait for one email: a delivery that the SMTP
// server fails the first time is retried after the queue's first backoff
// (2s).
const mailTimeout = 60 * time.Second

// Pages the links in account emails open.
const (
	verifyPage = "/verify-email"
	resetPage  = "/reset-password"
)

// mailFrom is GATEHOUSE_MAIL_FROM of the servers that send mail over SMTP.
const (
	mailFrom        = "Gatehouse E2E <accounts@gatehouse-e2e.example>"
	mailFromAddress = "accounts@gatehouse-e2e.example"
)

// mailbox is an SMTP server that servers under test deliver account emails
// to, and that tests read them from.
type mailbox struct {
	*smtptest.Server
	user, pass string // the credentials of smtptest.RequireAuth, if any

	mu    sync.Mutex
	taken map[string]int // how many emails await has returned, by recipient and page
}

// mailboxOptions say how a mailbox's SMTP server behaves.
type mailboxOptions struct {
	startTLS, implicitTLS bool
	auth                  bool // require AUTH with fresh credentials
	failFirst             int
}

// startMailbox starts an SMTP server. Start it before the server that
// sends to it: cleanups run last-in first-out, so the server then stops,
// and delivers what it has queued, while the SMTP server still listens.
func startMailbox(t *testing.T, o mailboxOptions) *mailbox {
	t.Helper()
	mb := &mailbox{taken: map[string]int{}}
	var opts []smtptest.Option
	if o.startTLS {
		opts = append(opts, smtptest.StartTLS())
	}
	if o.implicitTLS {
		opts = append(opts, smtptest.ImplicitTLS())
	}
	if o.auth {
		mb.user, mb.pass = "gatehouse-e2e", "smtp-"+rand.Text()
		// No log may contain the SMTP password, whichever server's.
		usedSecrets.add(mb.pass)
		opts = append(opts, smtptest.RequireAuth(mb.user, mb.pass))
	}
	if o.failFirst > 0 {
		opts = append(opts, smtptest.FailFirst(o.failFirst))
	}
	mb.Server = smtptest.Start(t, opts...)
	return mb
}

// env returns the environment that makes a server send its mail here. With
// TLS it includes SSL_CERT_FILE naming a file with the SMTP server's
// self-signed certificate, which Go on Linux then adds to the system roots
// (crypto/x509 reads the file SSL_CERT_FILE names in place of the
// distribution's bundle).
func (mb *mailbox) env(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{
		"GATEHOUSE_SMTP_URL":  mb.URL(),
		"GATEHOUSE_MAIL_FROM": mailFrom,
	}
	if cert := mb.Certificate(); cert != nil {
		path := filepath.Join(t.TempDir(), "smtptest-ca.pem")
		require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600))
		env["SSL_CERT_FILE"] = path
	}
	return env
}

// await returns the next email to the address to whose link opens page,
// waiting for it: the first call for an address and page returns the
// first such email, the next call the second, and so on. It records the
// email's token as a secret that no log may contain.
func (mb *mailbox) await(t testing.TB, to, page string) smtptest.Message {
	t.Helper()
	key := to + " " + page
	mb.mu.Lock()
	mb.taken[key]++
	n := mb.taken[key]
	mb.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), mailTimeout)
	defer cancel()
	seen := 0
	m, err := mb.WaitFor(ctx, func(m smtptest.Message) bool {
		if addressedTo(m, to) && linkPath(m) == page {
			seen++
		}
		return seen == n
	})
	require.NoError(t, err, "email number %d to %s with a link to %s", n, to, page)
	require.NoError(t, m.ParseErr)
	require.NotEmpty(t, m.Token(), "the email's link carries a token: %s", m.Text)
	usedSecrets.add(m.Token())
	return m
}

// sentTo returns the emails accepted so far for the address.
func (mb *mailbox) sentTo(addr string) []smtptest.Message {
	var out []smtptest.Message
	for _, m := range mb.Messages() {
		if addressedTo(m, addr) {
			out = append(out, m)
		}
	}
	return out
}

// addressedTo reports whether addr is among m's envelope recipients.
func addressedTo(m smtptest.Message, addr string) bool {
	return slices.ContainsFunc(m.To, func(to string) bool { return strings.EqualFold(to, addr) })
}

// linkPath returns the path of m's link, or "".
func linkPath(m smtptest.Message) string {
	u, err := url.Parse(m.Link())
	if err != nil {
		return ""
	}
	return u.Path
}

// noShutdownDelay is the environment of a server with no load balancer in
// front, which need not go on serving after SIGTERM (README.md, on
// shutting down), so that stopping it takes no longer than its drain.
var noShutdownDelay = map[string]string{"GATEHOUSE_SHUTDOWN_DELAY": "0s"}

// maxPortAttempts bounds how often startLinkedServer tries a new port.
const maxPortAttempts = 5

// startLinkedServer starts a server whose GATEHOUSE_PUBLIC_URL is its own
// base URL, so that the links in its emails lead back to it, and without
// a shutdown delay unless env sets one.
//
// The URL must be known before the server starts, so the port is chosen
// first: a free one is found by listening on 127.0.0.1:0 and closing the
// listener, and the server is told to listen there. Another process may
// take the port in between; then the server exits at once saying so, and
// this tries another port (up to maxPortAttempts), so the race costs a
// retry, never a false failure. The server offers no way to inherit a
// listening socket, which would close the gap.
func startLinkedServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())

		base := "http://" + addr
		vars := with(noShutdownDelay, env)
		vars["GATEHOUSE_HTTP_ADDR"], vars["GATEHOUSE_PUBLIC_URL"] = addr, base
		s, listening := launch(t, vars)
		select {
		case got := <-listening:
			require.Equal(t, addr, got)
			s.baseURL = base
			t.Cleanup(func() { s.stop(t) })
			return s
		case <-s.drained:
			<-s.exited
			out := s.log.String()
			checkNoSecrets(t, "gatehouse serve", out, localSecret(t, s.env))
			if attempt < maxPortAttempts && strings.Contains(out, "address already in use") {
				t.Logf("port of %s was taken before the server listened; trying another", addr)
				continue
			}
			t.Fatalf("gatehouse serve exited before it listened (%v); output:\n%s", s.waitErr, out)
		case <-time.After(startTimeout):
			s.kill()
			t.Fatalf("gatehouse serve did not listen within %s; output:\n%s", startTimeout, s.log)
		}
	}
}

// newClientFrom returns a client of srv whose connections come from the
// loopback address ip (any of 127.0.0.0/8 on Linux), so that the server
// sees another client IP without any proxy in between.
func newClientFrom(t *testing.T, srv *server, ip string) *client {
	t.Helper()
	c := newClient(t, srv)
	local, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = (&net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}).DialContext
	c.http = &http.Client{Transport: transport, Timeout: c.http.Timeout}
	t.Cleanup(transport.CloseIdleConnections)
	return c
}
