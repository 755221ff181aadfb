// Package smtptest runs a small, real SMTP server inside a test, so that
// code which sends mail can be tested through a real SMTP conversation:
// EHLO, STARTTLS or implicit TLS, AUTH PLAIN, MAIL FROM, RCPT TO and DATA.
//
// The server listens on 127.0.0.1 on a free port, keeps every message it
// accepts, and parses it for the test: headers, the decoded text and HTML
// parts, and the link and token in the text. Tests await messages with
// [Server.WaitForMessage] or [Server.WaitFor] instead of sleeping.
//
// It is a test double, not a mail server: it relays nothing, holds
// everything in memory and trusts its clients.
package smtptest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// DefaultFailReply is the reply to a delivery that [FailFirst] fails,
// unless [FailReply] sets another. Like a greylisting server's, it names the
// recipient, so that clients can be tested not to log it.
const DefaultFailReply = "451 4.7.1 <%s>: greylisted, try again later"

// Option configures a Server.
type Option func(*options)

type options struct {
	startTLS    bool
	implicitTLS bool
	user, pass  string
	failFirst   int
	failReply   string
}

// StartTLS makes the server offer STARTTLS with a self-signed certificate
// for localhost and 127.0.0.1 (see [Server.RootCAs]). While the
// connection is unencrypted, AUTH is neither offered nor accepted.
func StartTLS() Option { return func(o *options) { o.startTLS = true } }

// ImplicitTLS makes the server speak TLS from the first byte (smtps), with
// the same self-signed certificate as [StartTLS].
func ImplicitTLS() Option { return func(o *options) { o.implicitTLS = true } }

// RequireAuth makes the server offer AUTH PLAIN and refuse MAIL FROM until
// a client has authenticated with user and pass.
func RequireAuth(user, pass string) Option {
	return func(o *options) { o.user, o.pass = user, pass }
}

// FailFirst makes the server answer the first n deliveries (the end of
// DATA) with a temporary failure, [DefaultFailReply], and keep nothing of
// them. [Server.Rejected] counts them.
func FailFirst(n int) Option { return func(o *options) { o.failFirst = n } }

// FailReply replaces [DefaultFailReply] for the deliveries [FailFirst]
// fails: a code and text such as "554 5.7.1 rejected". A %s in it is
// replaced by the first recipient.
func FailReply(reply string) Option { return func(o *options) { o.failReply = reply } }

// Server is a running SMTP server. Its methods are safe for concurrent use.
type Server struct {
	opts options
	ln   net.Listener
	tls  *tls.Config // nil without TLS
	cert *x509.Certificate
	pool *x509.CertPool

	wg sync.WaitGroup

	mu       sync.Mutex
	closed   bool
	conns    map[net.Conn]struct{}
	messages []Message
	cursor   int           // the next message WaitForMessage returns
	arrived  chan struct{} // closed and replaced when a message arrives
	failLeft int
	rejected int
	commands []string
}

// Start starts a server on 127.0.0.1 and stops it when t's test ends. It
// fails t if the server cannot start.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{conns: map[net.Conn]struct{}{}, arrived: make(chan struct{})}
	for _, o := range opts {
		o(&s.opts)
	}
	if s.opts.failReply == "" {
		s.opts.failReply = DefaultFailReply
	}
	s.failLeft = s.opts.failFirst
	if s.opts.startTLS && s.opts.implicitTLS {
		t.Fatal("smtptest: StartTLS and ImplicitTLS exclude each other")
	}
	if s.opts.startTLS || s.opts.implicitTLS {
		cert, leaf, err := selfSigned()
		if err != nil {
			t.Fatalf("smtptest: %v", err)
		}
		s.cert = leaf
		s.pool = x509.NewCertPool()
		s.pool.AddCert(leaf)
		s.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.ln = ln
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Addr returns the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns the server's address as GATEHOUSE_SMTP_URL expects it:
// smtps:// with ImplicitTLS, smtp:// otherwise, with the credentials of
// RequireAuth.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr()}
	if s.opts.implicitTLS {
		u.Scheme = "smtps"
	}
	if s.opts.user != "" || s.opts.pass != "" {
		u.User = url.UserPassword(s.opts.user, s.opts.pass)
	}
	return u.String()
}

// RootCAs returns a pool holding the server's certificate, for clients to
// trust; nil when the server speaks no TLS.
func (s *Server) RootCAs() *x509.CertPool { return s.pool }

// Certificate returns the server's self-signed certificate; nil when the
// server speaks no TLS.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.messages)
}

// Rejected returns how many deliveries FailFirst has failed so far.
func (s *Server) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// Commands returns the verb of every command received so far, upper-cased,
// over all connections, in order: "EHLO", "STARTTLS", "AUTH", "MAIL", ….
// It lets a test check what a client did (or did not) send without
// recording any credential.
func (s *Server) Commands() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.commands)
}

// WaitForMessage returns the oldest message that no earlier call returned,
// waiting for one to arrive. It returns ctx's error if ctx ends first.
func (s *Server) WaitForMessage(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		if s.cursor < len(s.messages) {
			m := s.messages[s.cursor]
			s.cursor++
			s.mu.Unlock()
			return m, nil
		}
		arrived := s.arrived
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("smtptest: wait for message: %w", context.Cause(ctx))
		}
	}
}

// WaitFor returns the oldest message, received before or after the call,
// for which match returns true, waiting for one to arrive. It does not move
// WaitForMessage's place. It returns ctx's error if ctx ends first.
func (s *Server) WaitFor(ctx context.Context, match func(Message) bool) (Message, error) {
	seen := 0
	for {
		s.mu.Lock()
		msgs := s.messages[seen:len(s.messages):len(s.messages)]
		arrived := s.arrived
		s.mu.Unlock()
		for _, m := range msgs {
			if match(m) {
				return m, nil
			}
		}
		seen += len(msgs)
		select {
		case <-arrived:
		case <-ctx.Done():
			return Message{}, fmt.Errorf("smtptest: wait for a matching message: %w", context.Cause(ctx))
		}
	}
}

// Close stops the server: it stops listening, closes every connection and
// waits for their goroutines. Start arranges for it to run when the test
// ends; calling it again does nothing.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer s.forget(conn)
			newSession(s, conn).serve()
		}()
	}
}

func (s *Server) forget(conn net.Conn) {
	_ = conn.Close()
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
}

func (s *Server) command(verb string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, verb)
}

// deliver decides the fate of a complete message and returns the reply.
func (s *Server) deliver(m Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failLeft > 0 {
		s.failLeft--
		s.rejected++
		rcpt := ""
		if len(m.To) > 0 {
			rcpt = m.To[0]
		}
		return strings.ReplaceAll(s.opts.failReply, "%s", rcpt)
	}
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return "250 2.0.0 OK queued as " + strconv.Itoa(len(s.messages))
}
