package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// DefaultFrom is the sender when GATEHOUSE_MAIL_FROM is empty.
const DefaultFrom = "Gatehouse <no-reply@localhost>"

// Defaults of an SMTPSender.
const (
	// DefaultTimeout bounds one whole SMTP conversation, from dialing to
	// QUIT, when the context allows longer.
	DefaultTimeout = 30 * time.Second
	// dialTimeout bounds connecting.
	dialTimeout = 10 * time.Second
)

// SMTPSender delivers emails through an SMTP server, one connection per
// email. It is a Sender; wrap it in a Queue to get a domain.Mailer. Its
// methods are safe for concurrent use.
//
// With smtp:// it connects in clear text and upgrades with STARTTLS when
// the server offers it. A server that does not offer it gets the email in
// clear text (opportunistic TLS, as SMTP relays do), but never the
// credentials, unless the host is loopback: then Deliver returns
// ErrCleartextAuth. With smtps:// the connection is TLS from the start. The
// server's certificate is always verified, against the system roots unless
// WithRootCAs says otherwise, and a certificate that does not verify fails
// the delivery.
type SMTPSender struct {
	cfg     SMTPConfig
	from    *mail.Address
	links   Links
	rootCAs *x509.CertPool
	clock   domain.Clock
	hello   string
	timeout time.Duration
	// dial connects to the server; tests replace it to reach a local
	// server under another host name.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

var _ Sender = (*SMTPSender)(nil)

// SMTPOption configures an SMTPSender.
type SMTPOption func(*SMTPSender)

// WithRootCAs makes the sender trust the certificate authorities in pool
// instead of the system's: for tests, and for a server with a private CA.
func WithRootCAs(pool *x509.CertPool) SMTPOption {
	return func(s *SMTPSender) { s.rootCAs = pool }
}

// WithClock sets the clock that dates messages and words their expiry. The
// default is the system clock.
func WithClock(c domain.Clock) SMTPOption {
	return func(s *SMTPSender) { s.clock = c }
}

// WithHelloName sets the name sent with EHLO. The default is the host name
// when it is a plausible domain name, else "localhost".
func WithHelloName(name string) SMTPOption {
	return func(s *SMTPSender) { s.hello = name }
}

// WithTimeout bounds one SMTP conversation; the default is DefaultTimeout.
// A shorter deadline of Deliver's context wins.
func WithTimeout(d time.Duration) SMTPOption {
	return func(s *SMTPSender) { s.timeout = d }
}

// NewSMTPSender returns a sender through the server cfg describes, with
// from (GATEHOUSE_MAIL_FROM, such as "Gatehouse <no-reply@example.com>";
// empty means DefaultFrom) as the sender, that puts in each email the link
// that links builds. The envelope sender is from's bare address. It returns
// an error for a config without host or port, a from that is not one email
// address, or nil links.
func NewSMTPSender(cfg SMTPConfig, from string, links Links, opts ...SMTPOption) (*SMTPSender, error) {
	if links == nil {
		return nil, errors.New("mail: SMTP sender needs Links")
	}
	if from == "" {
		from = DefaultFrom
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || hasControl(from) || strings.ContainsAny(addr.Address, " <>") {
		return nil, errors.New("mail: the sender is not one email address such as Gatehouse <no-reply@example.com>")
	}
	switch {
	case cfg.Host == "":
		return nil, errors.New("mail: SMTP host is empty")
	case cfg.Port < 1 || cfg.Port > 65535:
		return nil, errors.New("mail: SMTP port is outside 1 to 65535")
	}
	s := &SMTPSender{
		cfg:     cfg,
		from:    addr,
		links:   links,
		clock:   domain.SystemClock{},
		hello:   defaultHelloName(),
		timeout: DefaultTimeout,
		dial:    (&net.Dialer{Timeout: dialTimeout}).DialContext,
	}
	for _, o := range opts {
		o(s)
	}
	if s.hello == "" || hasControl(s.hello) || strings.ContainsAny(s.hello, " ") {
		return nil, errors.New("mail: EHLO name must be one word")
	}
	if s.timeout <= 0 {
		return nil, errors.New("mail: SMTP timeout must be positive")
	}
	return s, nil
}

// Check returns ErrInvalidEmail, as Deliver would, for an email that can
// never be sent, its link included (see Sender).
func (s *SMTPSender) Check(e domain.Email) error {
	_, err := check(e, s.links)
	return err
}

// Deliver sends e through one SMTP conversation and returns nil once the
// server has accepted it after DATA. It returns ErrInvalidEmail for an email
// it cannot send, ErrExpired when the link has expired, ErrCleartextAuth as
// described on SMTPSender, and otherwise an error naming the step that
// failed; an SMTP reply in it (a *textproto.Error underneath) has the
// recipient, link and token blanked out.
func (s *SMTPSender) Deliver(ctx context.Context, e domain.Email) error {
	c, err := check(e, s.links)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	if !now.Before(e.ExpiresAt) {
		return ErrExpired
	}
	msg, err := compose(c, s.from, now)
	if err != nil {
		return err
	}
	return redact(s.send(ctx, c.to.Address, msg), e, c.link)
}

// send runs one SMTP conversation that delivers msg to rcpt.
func (s *SMTPSender) send(ctx context.Context, rcpt string, msg []byte) (err error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	defer func() {
		// An interrupted read or write says "i/o timeout"; say why.
		if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
	}()

	raw, err := s.dial(ctx, "tcp", s.cfg.Addr())
	if err != nil {
		return fmt.Errorf("mail: smtp dial: %w", err)
	}
	// net/smtp knows no contexts: when ctx ends (its deadline included),
	// a deadline in the past interrupts whatever read or write is blocked.
	// By then ctx.Err() is set, so the error can say why.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	tlsConfig := &tls.Config{ServerName: s.cfg.Host, RootCAs: s.rootCAs, MinVersion: tls.VersionTLS12}
	conn := raw
	if s.cfg.ImplicitTLS {
		tc := tls.Client(raw, tlsConfig)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return fmt.Errorf("mail: smtp tls handshake: %w", err)
		}
		conn = tc
	}
	client, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("mail: smtp greeting: %w", err)
	}
	defer client.Close()
	if err := client.Hello(s.hello); err != nil {
		return fmt.Errorf("mail: smtp ehlo: %w", err)
	}
	if !s.cfg.ImplicitTLS {
		if ok, _ := client.Extension("STARTTLS"); ok {
			if err := client.StartTLS(tlsConfig); err != nil {
				return fmt.Errorf("mail: smtp starttls: %w", err)
			}
		}
	}
	if s.cfg.Username != "" {
		_, encrypted := client.TLSConnectionState()
		if !mayAuthenticate(s.cfg.Host, encrypted) {
			return ErrCleartextAuth
		}
		// PlainAuth makes the same check again, more strictly.
		if err := client.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("mail: smtp auth: %w", err)
		}
	}
	if err := client.Mail(s.from.Address); err != nil {
		return fmt.Errorf("mail: smtp mail from: %w", err)
	}
	if err := client.Rcpt(rcpt); err != nil {
		return fmt.Errorf("mail: smtp rcpt to: %w", err)
	}
	w, err := client.Data()
	if err != nil {
		return fmt.Errorf("mail: smtp data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("mail: smtp data: %w", err)
	}
	if err := w.Close(); err != nil { // the server's verdict on the message
		return fmt.Errorf("mail: smtp data: %w", err)
	}
	// The server has taken the message: a failed QUIT must not make the
	// queue send it twice.
	_ = client.Quit()
	return nil
}

// mayAuthenticate reports whether credentials may be sent to host over a
// connection that is encrypted or not: only over TLS, or to loopback, where
// nobody else is on the wire.
func mayAuthenticate(host string, encrypted bool) bool {
	if encrypted || strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultHelloName returns the host name when it looks like a domain name
// (servers may check it), else "localhost".
func defaultHelloName() string {
	name, err := os.Hostname()
	if err != nil || name == "" || len(name) > 253 {
		return "localhost"
	}
	for _, r := range name {
		if !(r == '-' || r == '.' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return "localhost"
		}
	}
	return name
}
