package mail

import (
	netmail "net/mail"
	"strings"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// The variables ReadSettings reads.
const (
	smtpURLVar  = "GATEHOUSE_SMTP_URL"
	mailFromVar = "GATEHOUSE_MAIL_FROM"
)

// Settings are the mail adapter's settings.
type Settings struct {
	// SMTP is GATEHOUSE_SMTP_URL, parsed; nil when it is unset, and then
	// emails are written to the log (LogMailer).
	SMTP *SMTPConfig
	// From is GATEHOUSE_MAIL_FROM, the sender NewSMTPSender takes;
	// DefaultFrom when it is unset.
	From string
}

// ReadSettings reads GATEHOUSE_SMTP_URL and GATEHOUSE_MAIL_FROM through r,
// which records each problem naming its variable. An SMTP URL is checked as
// ParseSMTPURL does, whose errors never quote the URL and its password.
func ReadSettings(r *setting.Reader) Settings {
	var s Settings
	if raw := r.String(smtpURLVar, ""); raw != "" {
		cfg, err := ParseSMTPURL(raw)
		if err != nil {
			r.Fail(smtpURLVar, "%v", err)
		}
		s.SMTP = &cfg
	}
	s.From = r.String(mailFromVar, DefaultFrom)
	if addr, err := netmail.ParseAddress(s.From); err != nil || !strings.Contains(addr.Address, "@") {
		r.Fail(mailFromVar, "%q is not an address such as Gatehouse <no-reply@example.com>", s.From)
	}
	return s
}
