package mail

import (
	"errors"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Default ports of the two schemes: submission with STARTTLS (RFC 6409) and
// submission over implicit TLS (RFC 8314).
const (
	DefaultSMTPPort  = 587
	DefaultSMTPSPort = 465
)

// SMTPConfig says how to reach an SMTP server: GATEHOUSE_SMTP_URL, parsed.
// Its String and LogValue methods hide the password.
type SMTPConfig struct {
	// Host is a host name or an IP address, without brackets.
	Host string
	Port int
	// Username and Password are sent with AUTH PLAIN when Username is not
	// empty.
	Username string
	Password string
	// ImplicitTLS means the connection is TLS from the first byte
	// (smtps://). Without it the connection starts in clear text and is
	// upgraded with STARTTLS when the server offers it.
	ImplicitTLS bool
}

// Addr returns host:port, for dialing.
func (c SMTPConfig) Addr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// String returns the configuration as a URL with the password replaced by
// "xxxxx".
func (c SMTPConfig) String() string {
	u := url.URL{Scheme: "smtp", Host: c.Addr()}
	if c.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if c.Username != "" {
		u.User = url.UserPassword(c.Username, "xxxxx")
	}
	return u.String()
}

// LogValue logs the configuration as String does, without the password.
func (c SMTPConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ParseSMTPURL parses GATEHOUSE_SMTP_URL:
//
//	smtp://[user:pass@]host[:port]   clear text, upgraded with STARTTLS when offered; port 587
//	smtps://[user:pass@]host[:port]  implicit TLS; port 465
//
// A user name and password are percent-decoded; a '@', ':', '/', '?', '#'
// or '%' in them must be percent-encoded. A user name needs a password and the
// other way round. Path, query and fragment must be empty. Its errors say
// what is wrong without quoting the URL, so that no part of the password
// can reach a log.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes what it could not parse, which may be the
		// password.
		return SMTPConfig{}, errors.New("mail: SMTP URL is malformed (percent-encode any '@', ':', '/', '?', '#' or '%' in the user name or password)")
	}
	var c SMTPConfig
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		c.Port = DefaultSMTPPort
	case "smtps":
		c.Port, c.ImplicitTLS = DefaultSMTPSPort, true
	default:
		return SMTPConfig{}, errors.New("mail: SMTP URL must start with smtp:// or smtps://")
	}
	switch {
	case u.Opaque != "":
		return SMTPConfig{}, errors.New("mail: SMTP URL must have the form smtp://host:port")
	case u.Path != "" && u.Path != "/":
		return SMTPConfig{}, errors.New("mail: SMTP URL must not have a path (percent-encode any '/' in the user name or password)")
	case u.RawQuery != "" || u.ForceQuery:
		return SMTPConfig{}, errors.New("mail: SMTP URL must not have a query (percent-encode any '?' in the user name or password)")
	case u.Fragment != "":
		return SMTPConfig{}, errors.New("mail: SMTP URL must not have a fragment (percent-encode any '#' in the user name or password)")
	case u.Hostname() == "":
		return SMTPConfig{}, errors.New("mail: SMTP URL has no host")
	}
	c.Host = u.Hostname()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return SMTPConfig{}, errors.New("mail: SMTP URL has a port outside 1 to 65535")
		}
		c.Port = n
	}
	if u.User != nil {
		pass, hasPass := u.User.Password()
		c.Username, c.Password = u.User.Username(), pass
		switch {
		case c.Username == "":
			return SMTPConfig{}, errors.New("mail: SMTP URL has a password but no user name")
		case !hasPass || pass == "":
			return SMTPConfig{}, errors.New("mail: SMTP URL has a user name but no password")
		}
	}
	return c, nil
}
