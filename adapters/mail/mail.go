// Package mail sends Gatehouse's account emails: it is Gatehouse's
// domain.Mailer.
//
// Three pieces fit together:
//
//   - [SMTPSender] delivers one email through one SMTP conversation and
//     reports whether the server took it. It is a [Sender], not a
//     domain.Mailer: a request must never wait for a mail server.
//   - [Queue] is the domain.Mailer of a configured server. Send validates
//     the email and puts it in a bounded in-memory queue; workers deliver
//     it through a Sender, retrying temporary failures with exponential
//     backoff, and log what they could not deliver.
//   - [LogMailer] is the domain.Mailer when GATEHOUSE_SMTP_URL is empty, for
//     development: it writes each email, link and token included, to the
//     log.
//
// # Links
//
// A domain.Email carries its purpose, its single-use secret and when that
// secret expires, but no link: the pages a link opens are routes of the
// HTTP edge, so the edge alone knows how to build one. SMTPSender and
// LogMailer therefore take a [Links] function that builds each email's
// link (cmd/gatehouse passes httpapi.EmailLinks), and check what it built
// before they use it.
//
// # Messages
//
// Each domain.EmailPurpose has a pair of templates embedded in the package,
// templates/<purpose>.txt and templates/<purpose>.html, which render the
// built link; the text template also defines the subject. A message is
// multipart/alternative with a text/plain and a text/html part, both UTF-8
// and quoted-printable, so the link survives line-length limits intact.
// The link's expiry is rendered at delivery time from Email.ExpiresAt
// twice: relative ("in 24 hours", rounded to the nearest hour or minute)
// and as an absolute UTC time. An email whose link has already expired is
// not sent at all ([ErrExpired]).
//
// # Privacy of logs and errors
//
// The link carries a single-use token that is as good as a password for the
// account, and the recipient's address is personal data. Neither ever
// appears in an error string of this package nor in a log line of the
// Queue: a log line names the email's purpose, the recipient's domain only
// ("recipient_domain=example.com") and a random mail_id that ties the
// attempts at one email together. Replies of the SMTP server are quoted in
// errors with the recipient, the link and the token blanked out, since
// servers often echo the recipient ("450 <ada@example.com>: greylisted");
// the Queue, which never sees a link, blanks the recipient and the token
// again in whatever its Sender returns.
// The LogMailer is the one exception, by design.
package mail

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Errors of this package. Wrapped errors carry the detail; none of them
// contains a recipient, a link or a token.
var (
	// ErrInvalidEmail means an email cannot be sent as it is: an unknown
	// purpose, a recipient that is not one address or holds a line break
	// (header injection), no expiry, or a built link that is not an
	// absolute http(s) URL. Retrying cannot help.
	ErrInvalidEmail = errors.New("mail: invalid email")
	// ErrExpired means the email's link had expired when it was to be sent.
	ErrExpired = errors.New("mail: the link has expired")
	// ErrCleartextAuth means the SMTP server offered no STARTTLS on a
	// connection to a host other than loopback, and the sender refused to
	// send the configured credentials in clear text.
	ErrCleartextAuth = errors.New("mail: refusing to send SMTP credentials over an unencrypted connection")
	// ErrQueueFull means Queue.Send found no room for the email.
	ErrQueueFull = errors.New("mail: queue is full")
	// ErrQueueClosed means Queue.Send was called after Close.
	ErrQueueClosed = errors.New("mail: queue is closed")
)

// Links builds the link of an account email: an absolute http(s) URL of the
// page for e.Purpose that carries e.Secret. cmd/gatehouse passes
// httpapi.EmailLinks, since the HTTP edge owns the pages' routes. An email
// it has no link for gets "", which makes the email invalid.
type Links func(e domain.Email) string

// Sender delivers one email at a time, synchronously. Queue drives it.
type Sender interface {
	// Deliver sends e and returns nil once a server has accepted it. It
	// returns ErrInvalidEmail or ErrExpired for an email it will never
	// send, and another error when delivery failed; its error strings
	// never contain e.To, e.Secret or the link it built. It returns
	// promptly once ctx is done.
	Deliver(ctx context.Context, e domain.Email) error
	// Check returns ErrInvalidEmail, as Deliver would, for an email that
	// can never be sent, and nil otherwise, without sending anything or
	// looking at the clock. Queue.Send calls it, so that such an email is
	// refused before it is queued.
	Check(e domain.Email) error
}

// CheckEmail returns ErrInvalidEmail for an email whose own fields cannot
// be sent (an unknown purpose, a recipient that is not one address, no
// expiry), and nil otherwise. It does not judge a link, which only a
// Sender builds: a Sender's Check does both.
func CheckEmail(e domain.Email) error {
	_, err := checkEmail(e)
	return err
}

// checked is a validated email and the link built for it.
type checked struct {
	domain.Email
	link string
	to   *mail.Address
	tmpl *purposeTemplates
}

// check validates e for sending and builds its link with links.
func check(e domain.Email, links Links) (checked, error) {
	c, err := checkEmail(e)
	if err != nil {
		return checked{}, err
	}
	c.link = links(e)
	if hasControl(c.link) {
		return checked{}, fmt.Errorf("%w: the link contains a control character", ErrInvalidEmail)
	}
	u, err := url.Parse(c.link)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return checked{}, fmt.Errorf("%w: the link is not an absolute http(s) URL", ErrInvalidEmail)
	}
	return c, nil
}

// checkEmail validates what e itself holds, everything but the link.
func checkEmail(e domain.Email) (checked, error) {
	tmpl, ok := templates[e.Purpose.String()]
	switch {
	case !ok:
		return checked{}, fmt.Errorf("%w: unknown purpose %q", ErrInvalidEmail, e.Purpose.String())
	case strings.ContainsAny(e.To, "\r\n"):
		return checked{}, fmt.Errorf("%w: the recipient contains a line break", ErrInvalidEmail)
	case hasControl(e.To):
		return checked{}, fmt.Errorf("%w: the recipient contains a control character", ErrInvalidEmail)
	case e.ExpiresAt.IsZero():
		return checked{}, fmt.Errorf("%w: no expiry", ErrInvalidEmail)
	}
	to, err := mail.ParseAddress(e.To)
	if err != nil || strings.ContainsAny(to.Address, " <>") || hasControl(to.Name) {
		return checked{}, fmt.Errorf("%w: the recipient is not an email address", ErrInvalidEmail)
	}
	return checked{Email: e, to: to, tmpl: tmpl}, nil
}

// hasControl reports whether s holds an ASCII control character.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// recipientDomain returns the part of an address that logs may show: its
// domain, lower-cased.
func recipientDomain(to string) string {
	if a, err := mail.ParseAddress(to); err == nil {
		to = a.Address
	}
	at := strings.LastIndexByte(to, '@')
	if at < 0 || hasControl(to) {
		return "(invalid)"
	}
	return strings.ToLower(to[at+1:])
}

// permanent reports whether retrying err cannot help: the email itself is
// at fault, or the server answered with a permanent (5yz) reply.
func permanent(err error) bool {
	if errors.Is(err, ErrInvalidEmail) || errors.Is(err, ErrExpired) || errors.Is(err, ErrCleartextAuth) {
		return true
	}
	var reply *textproto.Error
	return errors.As(err, &reply) && reply.Code >= 500 && reply.Code < 600
}

// redactedError is an error whose message has secrets blanked out. It
// still unwraps to the original, so that errors.Is and errors.As work.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact returns err with every occurrence of e's recipient address and
// secret, and of link, the link built for e ("" when the caller has none),
// in its message replaced, case-insensitively. The secret is the one e
// carries, not one dug out of the link: where the link puts it is the
// pages' business.
func redact(err error, e domain.Email, link string) error {
	if err == nil {
		return nil
	}
	secrets := []string{link, e.Secret, e.To}
	if a, perr := mail.ParseAddress(e.To); perr == nil {
		secrets = append(secrets, a.Address)
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if len(s) < 4 { // nothing to hide, and short strings match innocent text
			continue
		}
		re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(s))
		if re.MatchString(msg) {
			msg = re.ReplaceAllLiteralString(msg, "[redacted]")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}
