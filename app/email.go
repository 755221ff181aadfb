package app

import (
	"net/mail"
	"strings"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// maxEmailLength is the longest email address SMTP can carry (RFC 5321).
const maxEmailLength = 254

// checkEmail records a problem when email (already normalised) is not a
// plain address such as ada@example.com.
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
	_, domainPart, _ := strings.Cut(email, "@")
	if err != nil || addr.Address != email || addr.Name != "" || !strings.Contains(domainPart, ".") {
		problems.Add("email", "invalid_email", "Enter an email address such as ada@example.com.")
	}
}
