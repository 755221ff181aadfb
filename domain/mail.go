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

// Email is a message about a user's account. It carries a link to one of
// Gatehouse's pages, whose query string holds a single-use token, and that
// token as Secret, so that a Mailer can keep it out of its logs and errors
// without taking the link apart.
type Email struct {
	To        string
	Purpose   EmailPurpose
	Link      string    // absolute URL under GATEHOUSE_PUBLIC_URL
	Secret    string    // the single-use token the link carries; never logged
	ExpiresAt time.Time // when the link's token stops working
}

// Mailer sends account emails. Send may hand the message to a queue and
// return before delivery; delivery failures are the Mailer's to retry and
// log, so a request never fails because a mail server is down. It returns an
// error only when the message cannot even be accepted (for example, the
// queue is full or closed).
type Mailer interface {
	Send(ctx context.Context, e Email) error
}
