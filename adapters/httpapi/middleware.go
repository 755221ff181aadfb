package httpapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
)

// Keys of the values middleware leaves on the echo.Context.
const (
	keyRequestID  = "gatehouse.request_id"
	keyClientIP   = "gatehouse.client_ip"
	keyClaims     = "gatehouse.claims"
	keyPage       = "gatehouse.page"
	keyAuthEvent  = "gatehouse.auth_event"
	keyCookieMode = "gatehouse.cookie_mode"
)

// headerRequestID carries a request's ID in both directions.
const headerRequestID = "X-Request-ID"

// maxRequestIDLength bounds an incoming request ID we adopt.
const maxRequestIDLength = 128

// identify gives the request its ID, adopting the caller's when it is sane
// so that a proxy's or a client's ID carries through, and works out the
// client's IP once.
func (s *server) identify(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if !saneRequestID(id) {
			id = rand.Text()
		}
		c.Set(keyRequestID, id)
		c.Response().Header().Set(headerRequestID, id)
		c.Set(keyClientIP, clientIP(c.Request(), s.proxies))
		return next(c)
	}
}

// saneRequestID reports whether id is 1 to 128 characters of
// [A-Za-z0-9._-], safe to echo in a header and to log.
func saneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch b := id[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', b == '.', b == '_', b == '-':
		default:
			return false
		}
	}
	return true
}

// requestID returns the ID identify gave the request.
func requestID(c echo.Context) string {
	id, _ := c.Get(keyRequestID).(string)
	return id
}

// hstsPolicy is the Strict-Transport-Security of a server whose public URL
// is https: a year, the least that preload lists and scanners take as
// meant. It leaves out includeSubDomains, which would bind every other
// host under the operator's domain, whether Gatehouse knows them or not,
// to HTTPS; and preload, which only the domain's owner can ask for.
const hstsPolicy = "max-age=31536000"

// securityHeaders returns the middleware that sets the headers every
// response carries, errors included. The API serves JSON only, so the CSP
// forbids everything; the pages replace it with their own (see page).
// Responses are not cached unless a handler says otherwise: most carry
// tokens or personal data. With hsts, which a public URL on https asks
// for, browsers are told to reach this host over HTTPS only; Gatehouse
// itself may well speak plain HTTP to the TLS terminator in front of it,
// so it is the public URL that decides, not the request.
func securityHeaders(hsts bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Cache-Control", "no-store")
			if hsts {
				h.Set("Strict-Transport-Security", hstsPolicy)
			}
			return next(c)
		}
	}
}

// observe renders a handler's error as a problem (as HTML on a page),
// writes the request's one log line and records its metrics. Only the route
// template is logged, never the raw URL, the headers or the body, so no
// token or password reaches the log. A 5xx line carries the cause, which
// the response never does. The probes and the metrics, which machines ask
// for every few seconds, are logged at DEBUG unless they fail. A request
// whose client went away before it was answered, and that then failed as
// a server error would, is a client abort (see clientAborted), not a
// failure of the server: it is recorded as 499 at INFO and gets no answer,
// since nobody would read it.
func (s *server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		// The client's context, before deadline bounds it: only the
		// client's going away (or the server closing) cancels it.
		client := c.Request().Context()
		err := next(c)
		var p problem
		aborted := false
		if err != nil {
			p = problemFor(err)
			aborted = clientAborted(client, p)
			if !aborted {
				writeError(c, p)
			}
		}

		req := c.Request()
		route := c.Path()
		if errors.Is(err, echo.ErrNotFound) {
			route = "" // no route matched: whatever node c.Path names is not the route
		}
		status := c.Response().Status
		if aborted {
			status, p.code = statusClientClosedRequest, ""
		}
		latency := time.Since(start)
		event, _ := c.Get(keyAuthEvent).(string)
		s.metrics.observe(route, req.Method, event, status, p.code, latency)
		attrs := []slog.Attr{
			slog.String("method", req.Method),
			slog.String("route", route),
			slog.Int("status", status),
			// Milliseconds, named so: a bare duration is an integer of
			// nanoseconds in JSON, which no reader guesses.
			slog.Float64("latency_ms", float64(latency)/float64(time.Millisecond)),
			slog.String("request_id", requestID(c)),
			slog.String("client_ip", clientIPOf(c)),
		}
		level := slog.LevelInfo
		if quietRoutes[route] && status < http.StatusInternalServerError {
			level = slog.LevelDebug
		}
		if p.code != "" {
			attrs = append(attrs, slog.String("code", p.code))
		}
		if status >= http.StatusInternalServerError && !errors.Is(err, errDraining) { // a drain is no failure
			level = slog.LevelError
			if err != nil {
				attrs = append(attrs, slog.String("error", err.Error()))
			}
			var pe *panicError
			if errors.As(err, &pe) {
				attrs = append(attrs, slog.String("stack", string(pe.stack)))
			}
		}
		s.log.LogAttrs(req.Context(), level, "request", attrs...)
		return nil
	}
}

// statusClientClosedRequest is the status observe records for a client
// abort; nginx's, never sent, as no client is left to receive it.
const statusClientClosedRequest = 499

// clientAborted reports whether a request that failed with p was a client
// abort: its client's context ended before the answer, and p is a server
// error (a context cancelled under a handler surfaces as one). A decided
// answer such as a 401 keeps its status, so an authentication event is
// still counted by what the use case decided.
func clientAborted(client context.Context, p problem) bool {
	return client.Err() != nil && p.status >= http.StatusInternalServerError
}

// quietRoutes are the routes that machines ask for every few seconds.
var quietRoutes = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// deadline bounds the request's context by the request timeout, so that
// whatever the request waits for (the database, a password hash slot), it
// waits no longer; it then fails with the context's error, which answers
// 503 unavailable.
func (s *server) deadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), s.timeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// panicError is a recovered panic, carried to observe to be logged.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("httpapi: panic: %v", e.value) }

// recoverPanics turns a panic in a handler into an error, so that the
// client gets a generic 500 problem and the panic value and stack go to the
// log only. http.ErrAbortHandler is passed on: it asks net/http to drop the
// connection.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err = &panicError{value: v, stack: debug.Stack()}
			}
		}()
		return next(c)
	}
}

// refuseQueryTokens rejects any request with an access_token query
// parameter, which RFC 6750 permits but which leaks the token into logs,
// histories and Referer headers. Refusing it outright, rather than ignoring
// it, tells the client's developer at once.
func refuseQueryTokens(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().URL.Query().Has("access_token") {
			return errTokenInQuery
		}
		return next(c)
	}
}
