package httpapi

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// Cookie mode keeps a browser app's refresh token where no script can
// read it. The endpoints that hand out or take back refresh tokens
// (register, anonymous, login, refresh, logout) answer in cookie mode when
// called with ?mode=cookie: the refresh token goes into an HttpOnly cookie
// instead of the body, and refresh and logout take it from that cookie
// instead of the body. The cookie is sent by the browser on its own, so
// every request in cookie mode must prove that the app's own page sent it
// (cross-site request forgery):
//
//   - its Origin, or Sec-Fetch-Site, says it comes from Gatehouse's own
//     origin or from one of GATEHOUSE_CORS_ORIGINS (the standard library's
//     http.CrossOriginProtection decides);
//   - it carries the header X-Gatehouse-CSRF, which a page of another
//     origin can only send after a CORS preflight that Gatehouse refuses,
//     and which no form can send at all.
//
// JSON mode, the default, is unchanged: the cookie is never read there.

// The query parameter that picks the mode, and its values.
const (
	paramMode  = "mode"
	modeJSON   = "json"
	modeCookie = "cookie"
)

// headerCSRF is the header every request in cookie mode must carry, with
// any value ("1" will do).
const headerCSRF = "X-Gatehouse-CSRF"

// The names of the refresh token's cookie. The __Host- prefix makes a
// browser keep the cookie only when it is Secure, for the host alone and
// for every path, so neither another subdomain nor plain HTTP can set or
// shadow it. A development server on plain-HTTP loopback cannot set a
// Secure cookie, and uses the other name.
const (
	refreshCookieName         = "__Host-gatehouse-refresh"
	refreshCookieLoopbackName = "gatehouse-refresh"
)

// The names of the device token's cookie (see app.Tokens.Device), on the
// same terms as the refresh token's.
const (
	deviceCookieName         = "__Host-gatehouse-device"
	deviceCookieLoopbackName = "gatehouse-device"
)

// hostCookie is how this server writes one of its cookies.
type hostCookie struct {
	name   string
	secure bool
}

// newRefreshCookie returns the cookie for a server reached at publicURL:
// the __Host- cookie, unless publicURL is plain HTTP on a loopback host
// (local development). publicURL "" (no public URL) gets the __Host-
// cookie.
func newRefreshCookie(publicURL *url.URL) hostCookie {
	return newHostCookie(publicURL, refreshCookieName, refreshCookieLoopbackName)
}

// newDeviceCookie returns the device token's cookie for a server reached
// at publicURL, named as newRefreshCookie names the refresh token's.
//
// It is set on every sign-in that ends in a session, in either token
// mode, and read only by login, where a valid one for the account lets
// the client past the account-wide limit. Like the refresh cookie it is
// HttpOnly (no script needs it) and SameSite=Strict: a page of another
// site cannot make the browser send it, so it cannot use the victim's
// browser to guess past the account-wide limit.
func newDeviceCookie(publicURL *url.URL) hostCookie {
	return newHostCookie(publicURL, deviceCookieName, deviceCookieLoopbackName)
}

// newHostCookie returns the cookie named name, or loopback on a server
// reached over plain HTTP on a loopback host (local development), which
// cannot set a Secure cookie.
func newHostCookie(publicURL *url.URL, name, loopback string) hostCookie {
	if publicURL != nil && publicURL.Scheme == "http" && isLoopbackHost(publicURL.Hostname()) {
		return hostCookie{name: loopback}
	}
	return hostCookie{name: name, secure: true}
}

// isLoopbackHost reports whether host names this machine: localhost (and
// its subdomains, RFC 6761) or a loopback address.
func isLoopbackHost(host string) bool {
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// holding is the cookie that hands the browser token for lifetime,
// rounded up to whole seconds so that the cookie lasts as long as the
// token does.
func (rc hostCookie) holding(token string, lifetime time.Duration) *http.Cookie {
	c := rc.base()
	c.Value = token
	c.MaxAge = max(1, int((lifetime+time.Second-1)/time.Second))
	return c
}

// cleared is the cookie that makes the browser forget its token.
func (rc hostCookie) cleared() *http.Cookie {
	c := rc.base()
	c.MaxAge = -1 // Max-Age=0
	return c
}

func (rc hostCookie) base() *http.Cookie {
	return &http.Cookie{Name: rc.name, Path: "/", HttpOnly: true, Secure: rc.secure, SameSite: http.SameSiteStrictMode}
}

// tokenMode is the middleware of the routes that hand out or take back
// refresh tokens. It reads the mode the request asks for and, for cookie
// mode, checks that the request comes from an allowed page before the
// handler does anything; the handler then answers in that mode (see
// writeTokens, presentedRefreshToken).
func (s *server) tokenMode(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		modes := c.QueryParams()[paramMode]
		switch {
		case len(modes) == 0 || len(modes) == 1 && modes[0] == modeJSON:
		case len(modes) == 1 && modes[0] == modeCookie:
			if err := s.checkCookieRequest(c.Request()); err != nil {
				return err
			}
			c.Set(keyCookieMode, true)
		default:
			return errUnknownMode
		}
		return next(c)
	}
}

// checkCookieRequest returns errCookieCrossOrigin or errCSRFHeaderMissing
// unless r, a request in cookie mode, comes from Gatehouse's own origin or
// an allowed one and carries headerCSRF.
func (s *server) checkCookieRequest(r *http.Request) error {
	if s.crossOrigin.Check(r) != nil {
		return errCookieCrossOrigin
	}
	if r.Header.Get(headerCSRF) == "" {
		return errCSRFHeaderMissing
	}
	return nil
}

// inCookieMode reports whether tokenMode put the request in cookie mode.
func inCookieMode(c echo.Context) bool {
	on, _ := c.Get(keyCookieMode).(bool)
	return on
}

// presentedRefreshToken returns the refresh token a refresh or logout
// presents: the cookie's in cookie mode (whose body may be empty or any
// JSON object), the body's refresh_token member otherwise. A missing
// cookie is the empty token, which no session has.
func (s *server) presentedRefreshToken(c echo.Context) (string, error) {
	if !inCookieMode(c) {
		var req refreshTokenDTO
		if err := bindJSON(c, req.fields()...); err != nil {
			return "", err
		}
		return req.RefreshToken, nil
	}
	if _, err := readJSONObject(c.Request(), true); err != nil {
		return "", err
	}
	cookie, err := c.Cookie(s.cookie.name)
	if err != nil {
		return "", nil
	}
	return cookie.Value, nil
}

// forgetRefreshCookie makes a browser in cookie mode drop its refresh
// token, whose session is over: logged out, or refused on refresh.
func (s *server) forgetRefreshCookie(c echo.Context) {
	if inCookieMode(c) {
		c.SetCookie(s.cookie.cleared())
	}
}

// writeTokens sends a token response, which no cache may keep (RFC 6749
// section 5.1). In cookie mode the refresh token goes into its cookie and
// stays out of the body. A sign-in's device token goes into its cookie in
// either mode: it is no credential, so a client without cookies loses
// only its exemption from the account-wide login limit.
func (s *server) writeTokens(c echo.Context, status int, t app.Tokens) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	body := toTokenDTO(t)
	if inCookieMode(c) {
		c.SetCookie(s.cookie.holding(t.RefreshToken, t.RefreshExpiresIn))
		body.RefreshToken = ""
	}
	if t.Device != "" {
		c.SetCookie(s.deviceCookie.holding(t.Device, app.DeviceTTL))
	}
	return writeJSON(c, status, body)
}

// refusedRefresh reports whether err ends the session a refresh presented.
func refusedRefresh(err error) bool {
	return errors.Is(err, domain.ErrInvalidRefreshToken) || errors.Is(err, domain.ErrRefreshTokenReused)
}
