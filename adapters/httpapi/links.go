package httpapi

import (
	"net/url"
	"strings"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// The paths of the pages that the links in account emails open.
const (
	pathVerifyEmail   = "/verify-email"
	pathResetPassword = "/reset-password"
)

// emailPages are the page each purpose of account email links to.
var emailPages = map[domain.EmailPurpose]string{
	domain.EmailVerifyAddress: pathVerifyEmail,
	domain.EmailResetPassword: pathResetPassword,
}

// EmailLinks returns the function that builds the link of an account
// email: the page of its purpose under publicURL (GATEHOUSE_PUBLIC_URL),
// with the email's secret as the token parameter and its RedirectTo, if
// any, as redirect_to, which the page checks again before it uses it. The
// pages are routes of this package, so it alone knows their paths; the
// mailer asks it. An email of a purpose no page serves gets "".
func EmailLinks(publicURL string) func(domain.Email) string {
	base := strings.TrimRight(publicURL, "/")
	return func(e domain.Email) string {
		page, ok := emailPages[e.Purpose]
		if !ok {
			return ""
		}
		query := url.Values{"token": {e.Secret}}
		if e.RedirectTo != "" {
			query.Set("redirect_to", e.RedirectTo)
		}
		return base + page + "?" + query.Encode()
	}
}
