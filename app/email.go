package app

import (
	"net/mail"
	"strings"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Bounds of RFC 5321 and RFC 1035: the longest email address SMTP can
// carry, and the longest host name and label of one.
const (
	maxEmailLength    = 254
	maxHostNameLength = 253
	maxLabelLength    = 63
)

// checkEmail records a problem when email (already normalised) is not a
// plain address such as ada@example.com: one mailbox, without a display
// name, whose domain is a host name (see isHostName).
func checkEmail(problems *domain.ValidationError, email string) {
	switch {
	case email == "":
		problems.Add("email", "required", "Enter an email address.")
		return
	case len(email) > maxEmailLength:
		problems.Add("email", "invalid_email", "An email address has at most 254 characters.")
		return
	}
	addr, err := mail.ParseAddress(email)
	at := strings.LastIndexByte(email, '@')
	if err != nil || addr.Address != email || addr.Name != "" || at < 0 || !isHostName(email[at+1:]) {
		problems.Add("email", "invalid_email", "Enter an email address such as ada@example.com.")
	}
}

// isHostName reports whether name is a fully qualified host name in ASCII:
// at least two dot-separated labels of letters, digits and hyphens, none
// empty, longer than 63 characters, or starting or ending with a hyphen,
// and a last label that is not all digits. That refuses address literals
// such as [192.0.2.1] and bare IPv4 addresses, which would send mail
// straight to a machine the client names, past every MX record, and
// domains in Unicode: an internationalised domain is accepted in its ASCII
// form (xn--bcher-kva.example), the one every mail server can route.
func isHostName(name string) bool {
	if len(name) > maxHostNameLength {
		return false
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLength || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return strings.Trim(labels[len(labels)-1], "0123456789") != ""
}
