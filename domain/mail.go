package domain

import (
	"context"
	"time"
)

// EmailPurpose says what an account email is for; the Mailer renders each
// purpose from its own templates. Its zero value is invalid.
type EmailPurpose struct{ name string }

// The purposes of account emails.
var (
	EmailVerifyAddress = EmailPurpose{"verify_email"}
	EmailResetPassword = EmailPurpose{"reset_password"}
)

// String returns the purpose's name.
func (p EmailPurpose) String() string { return p.name }

// Email is a message about a user's account: what it is for, the
// single-use secret it hands to the user, when that secret stops working
// and where the browser goes once it is spent. It holds no link: the link that carries the secret to one of
// Gatehouse's pages is the HTTP edge's to build, since the edge owns the
// routes, and the Mailer asks it for one. The secret stands on its own so
// that a Mailer can keep it out of its logs and errors without taking a
// link apart.
type Email struct {
	To        string
	Purpose   EmailPurpose
	Secret    string    // the single-use token; never logged
	ExpiresAt time.Time // when Secret stops working
	// RedirectTo is where the page the link opens sends the browser on to
	// afterwards: a URL of the client app that asked for the email,
	// checked by the edge against its allow-list; "" for none.
	RedirectTo string
}

// Mailer sends account emails. Send may hand the message to a queue and
// return before delivery; delivery failures are the Mailer's to retry and
// log, so a request never fails because a mail server is down. It returns an
// error only when the message cannot even be accepted (for example, the
// queue is full or closed).
type Mailer interface {
	Send(ctx context.Context, e Email) error
}
