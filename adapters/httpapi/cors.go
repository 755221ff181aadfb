package httpapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// corsOriginsVar lists the origins of the browser apps that may call the
// API from another origin.
const corsOriginsVar = "GATEHOUSE_CORS_ORIGINS"

// corsMaxAge is how long, in seconds, a browser may cache a preflight's
// answer: two hours, the most Chromium honours.
const corsMaxAge = 7200

// readCORSOrigins reads GATEHOUSE_CORS_ORIGINS: exact origins
// (scheme://host[:port]) separated by commas or spaces, each returned as
// a browser writes it in an Origin header. A wildcard is refused, since
// the API answers with credentials (cookie mode), which CORS never allows
// for "*", and since any page of the web is not an app.
func readCORSOrigins(r *setting.Reader) []string {
	var origins []string
	for _, field := range strings.FieldsFunc(r.String(corsOriginsVar, ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		origin, ok := exactOrigin(field)
		if !ok {
			r.Fail(corsOriginsVar, "%q is not an origin such as https://app.example.com (scheme, host and port only, no wildcard)", field)
			continue
		}
		origins = append(origins, origin)
	}
	return origins
}

// exactOrigin returns s as an Origin header writes it, when s is an http(s)
// origin and nothing more: no path (but "/"), query, fragment, userinfo or
// wildcard.
func exactOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		strings.Contains(u.Host, "*") {
		return "", false
	}
	return originOf(u), true
}

// The headers a browser app may send cross-origin, and those it may read
// of the answers.
var (
	corsAllowHeaders  = []string{echo.HeaderAuthorization, echo.HeaderContentType, headerCSRF, headerRequestID}
	corsExposeHeaders = []string{echo.HeaderRetryAfter, echo.HeaderWWWAuthenticate, headerRequestID}
)

// cors answers preflights and marks the responses of the JSON API, for
// the browser apps of origins (exact, as readCORSOrigins returns them),
// with credentials allowed so that cookie mode works across origins. An
// origin not listed gets no CORS header at all, so the browser keeps its
// page from reading any answer. The admin API, the pages and the
// operators' endpoints are not for browser apps and get none either.
func cors(origins []string) echo.MiddlewareFunc {
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[o] = true
	}
	return middleware.CORSWithConfig(middleware.CORSConfig{
		Skipper:          func(c echo.Context) bool { return !forBrowserApps(c.Request().URL.Path) },
		AllowOriginFunc:  func(origin string) (bool, error) { return allowed[origin], nil },
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodDelete},
		AllowHeaders:     corsAllowHeaders,
		ExposeHeaders:    corsExposeHeaders,
		AllowCredentials: true,
		MaxAge:           corsMaxAge,
	})
}

// forBrowserApps reports whether the path is one that browser apps call:
// the authentication flows, the caller's own account, and the documents
// that describe and verify tokens.
func forBrowserApps(path string) bool {
	return strings.HasPrefix(path, "/v1/auth/") || path == "/v1/me" || strings.HasPrefix(path, "/v1/me/") ||
		path == "/.well-known/jwks.json" || path == "/openapi.json"
}
