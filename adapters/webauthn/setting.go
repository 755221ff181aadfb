package webauthn

import (
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// The variables ReadSettings reads.
const (
	rpIDVar    = "GATEHOUSE_WEBAUTHN_RP_ID"
	originsVar = "GATEHOUSE_WEBAUTHN_ORIGINS"
	rpNameVar  = "GATEHOUSE_WEBAUTHN_RP_NAME"
)

// DefaultRPName is GATEHOUSE_WEBAUTHN_RP_NAME when it is unset.
const DefaultRPName = "Gatehouse"

// Settings are the relying party's settings. With no RPID passkeys are
// off.
type Settings struct {
	// RPID is GATEHOUSE_WEBAUTHN_RP_ID: the domain passkeys are bound to,
	// such as example.com; "" when passkeys are off.
	RPID string
	// Origins is GATEHOUSE_WEBAUTHN_ORIGINS: the exact origins of the
	// pages that may run the ceremonies.
	Origins []string
	// RPName is GATEHOUSE_WEBAUTHN_RP_NAME, what authenticators show.
	RPName string
}

// Enabled reports whether passkeys are configured.
func (s Settings) Enabled() bool { return s.RPID != "" }

// ReadSettings reads GATEHOUSE_WEBAUTHN_RP_ID (a domain, unset: passkeys
// off), GATEHOUSE_WEBAUTHN_ORIGINS (origins separated by commas or
// spaces; default the origin of publicURL, GATEHOUSE_PUBLIC_URL) and
// GATEHOUSE_WEBAUTHN_RP_NAME (default DefaultRPName) through r, which
// records each problem naming its variable. Every origin must be on the
// RP ID's domain (the RP ID or a subdomain of it), as browsers insist,
// and be https, but for localhost, which browsers let passkeys use over
// plain http.
func ReadSettings(r *setting.Reader, publicURL string) Settings {
	s := Settings{RPID: strings.ToLower(r.String(rpIDVar, "")), RPName: r.String(rpNameVar, DefaultRPName)}
	raw := r.String(originsVar, "")
	if s.RPID == "" {
		if raw != "" {
			r.Fail(originsVar, "needs %s: without it passkeys are off", rpIDVar)
		}
		return s
	}
	if err := protocol.ValidateRPID(s.RPID); err != nil || strings.ContainsAny(s.RPID, ":/") {
		r.Fail(rpIDVar, "%q is not a domain such as example.com (no scheme, port or path)", s.RPID)
		return s
	}
	if s.RPName == "" {
		r.Fail(rpNameVar, "must not be empty")
	}
	fields := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' })
	name := originsVar
	if raw == "" {
		fields, name = []string{publicURL}, "GATEHOUSE_PUBLIC_URL (the default of "+originsVar+")"
	}
	for _, field := range fields {
		origin, ok := originOn(field, s.RPID, raw == "")
		if !ok {
			r.Fail(name, "%q is not an https origin (http for localhost) on the domain %s of %s", field, s.RPID, rpIDVar)
			continue
		}
		s.Origins = append(s.Origins, origin)
	}
	return s
}

// originOn returns s as a browser writes its origin, when s is an origin
// (or, when withPath, a URL whose origin is taken) whose host is rpID or a
// subdomain of it, over https or, on localhost, http.
func originOn(s, rpID string, withPath bool) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(!withPath && u.Path != "" && u.Path != "/") {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	if host != rpID && !strings.HasSuffix(host, "."+rpID) {
		return "", false
	}
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	if u.Scheme != "https" && (u.Scheme != "http" || !local) {
		return "", false
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), true
}
