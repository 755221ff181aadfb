package httpapi

import (
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// The variables ReadSettings reads.
const (
	publicURLVar      = "GATEHOUSE_PUBLIC_URL"
	trustedProxiesVar = "GATEHOUSE_TRUSTED_PROXIES"
	adminAPIKeyVar    = "GATEHOUSE_ADMIN_API_KEY"
	requestTimeoutVar = "GATEHOUSE_REQUEST_TIMEOUT"
)

// DefaultPublicURL is GATEHOUSE_PUBLIC_URL when it is unset: where a local
// run listens by default.
const DefaultPublicURL = "http://localhost:8080"

// minAdminKeyLength is the shortest GATEHOUSE_ADMIN_API_KEY accepted, so a
// key cannot be guessed.
const minAdminKeyLength = 32

// minRequestTimeout and maxRequestTimeout bound GATEHOUSE_REQUEST_TIMEOUT.
// Below the minimum even a healthy database's answer would come too late
// and every request would be a 503; a request held past the maximum holds
// a connection and its memory for a client unlikely to be waiting.
const (
	minRequestTimeout = 100 * time.Millisecond
	maxRequestTimeout = 5 * time.Minute
)

// Settings are the HTTP edge's settings, which Config takes in the fields
// of the same names.
type Settings struct {
	// PublicURL is GATEHOUSE_PUBLIC_URL without a trailing slash.
	PublicURL string
	// TrustedProxies is GATEHOUSE_TRUSTED_PROXIES; a single address is a
	// prefix of one address.
	TrustedProxies []netip.Prefix
	// CORSOrigins is GATEHOUSE_CORS_ORIGINS, each origin as a browser
	// writes it.
	CORSOrigins []string
	// AdminAPIKey is GATEHOUSE_ADMIN_API_KEY, exactly as set; "" when the
	// admin API is off.
	AdminAPIKey string
	// RequestTimeout is GATEHOUSE_REQUEST_TIMEOUT, DefaultRequestTimeout
	// when it is unset.
	RequestTimeout time.Duration
	// RedirectURLs is GATEHOUSE_REDIRECT_URLS, one URL an element; none
	// when it is unset.
	RedirectURLs []string
}

// ReadSettings reads GATEHOUSE_PUBLIC_URL (default DefaultPublicURL),
// GATEHOUSE_TRUSTED_PROXIES (CIDRs or addresses separated by commas or
// spaces), GATEHOUSE_CORS_ORIGINS (origins, likewise),
// GATEHOUSE_ADMIN_API_KEY (at least 32 characters when set),
// GATEHOUSE_REQUEST_TIMEOUT (from 100ms to 5m) and GATEHOUSE_REDIRECT_URLS
// (see readRedirectURLs) through r, which records each problem naming its
// variable and never quoting the admin key.
func ReadSettings(r *setting.Reader) Settings {
	s := Settings{PublicURL: readPublicURL(r), TrustedProxies: readTrustedProxies(r), CORSOrigins: readCORSOrigins(r)}
	if s.AdminAPIKey = r.Secret(adminAPIKeyVar); s.AdminAPIKey != "" && len(s.AdminAPIKey) < minAdminKeyLength {
		r.Fail(adminAPIKeyVar, "must be at least %d characters long", minAdminKeyLength)
	}
	s.RequestTimeout = r.PositiveDuration(requestTimeoutVar, DefaultRequestTimeout)
	if s.RequestTimeout != 0 && (s.RequestTimeout < minRequestTimeout || s.RequestTimeout > maxRequestTimeout) {
		r.Fail(requestTimeoutVar, "must be from %s to %s", minRequestTimeout, maxRequestTimeout)
	}
	s.RedirectURLs = readRedirectURLs(r)
	return s
}

// readPublicURL reads GATEHOUSE_PUBLIC_URL. Links are built by appending
// a path to it, so it takes neither a query nor a fragment.
func readPublicURL(r *setting.Reader) string {
	public := r.String(publicURLVar, DefaultPublicURL)
	if u, err := url.Parse(public); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		r.Fail(publicURLVar, "%q is not an absolute http(s) URL without query or fragment", public)
	}
	return strings.TrimRight(public, "/")
}

// readTrustedProxies reads GATEHOUSE_TRUSTED_PROXIES.
func readTrustedProxies(r *setting.Reader) []netip.Prefix {
	var proxies []netip.Prefix
	for _, field := range strings.FieldsFunc(r.String(trustedProxiesVar, ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		prefix, err := parsePrefix(field)
		if err != nil {
			r.Fail(trustedProxiesVar, "%q is not a CIDR such as 10.0.0.0/8 or an IP address", field)
			continue
		}
		proxies = append(proxies, prefix)
	}
	return proxies
}

// parsePrefix accepts a CIDR or a single address (a one-address prefix).
func parsePrefix(s string) (netip.Prefix, error) {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}
