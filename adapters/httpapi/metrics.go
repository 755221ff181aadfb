package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// The HTTP edge's Prometheus metrics. Labels take values from small fixed
// sets only, so that no client can make a series per request: a route is
// the pattern it was registered with (routeUnmatched for every path no
// route matches), a method one of those HTTP defines (or "other"), a status
// one the server sends. The README lists every metric.

// routeUnmatched is the route label of requests that match no route.
const routeUnmatched = "unmatched"

// httpMetrics are the metrics observe records.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	auth     *prometheus.CounterVec
}

// newHTTPMetrics registers the HTTP metrics on reg. It panics when reg has
// them already, a wiring mistake.
func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gatehouse_http_request_duration_seconds",
			Help:    "Time from receiving a request to answering it, by route pattern and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gatehouse_http_requests_in_flight",
			Help: "HTTP requests being handled right now.",
		}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gatehouse_auth_events_total",
			Help: "Outcomes of logins, refreshes and second-factor answers: event is login, refresh or mfa; outcome is success, failure, rate_limited (login, mfa), mfa_required (login: the password was right, a second factor is due), reused (refresh: a spent refresh token came back, and its session was revoked) or invalid_token (mfa: the challenge was unknown, used or expired).",
		}, []string{"event", "outcome"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.auth)
	// Every outcome exists from the start, so that a rate over it is 0
	// rather than missing until the first one happens.
	for event, outcomes := range authOutcomes {
		for _, outcome := range outcomes {
			m.auth.WithLabelValues(event, outcome)
		}
	}
	return m
}

// observe records one answered request; event is the authentication event
// its route is (see authEvent), or "".
func (m *httpMetrics) observe(route, method, event string, status int, code string, took time.Duration) {
	if route == "" {
		route = routeUnmatched
	}
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
	if outcome, ok := authOutcome(event, status, code); ok {
		m.auth.WithLabelValues(event, outcome).Inc()
	}
}

// The authentication events, as the event label names them. routes says
// which route is which, with authEvent.
const (
	eventLogin   = "login"
	eventRefresh = "refresh"
	eventMFA     = "mfa"
	eventPasskey = "passkey"
)

// authOutcomes are the outcomes of each authentication event, by the
// problem code the request ended with ("" for a success). The use cases
// know nothing of metrics: what they decided is in the answer.
var authOutcomes = map[string]map[string]string{
	eventLogin: {
		"":                     "success",
		codeInvalidCredentials: "failure",
		codeRateLimited:        "rate_limited",
		codeMFARequired:        "mfa_required",
	},
	eventMFA: {
		"":                  "success",
		codeInvalidMFACode:  "failure",
		codeInvalidMFAToken: "invalid_token",
		codeRateLimited:     "rate_limited",
	},
	eventPasskey: {
		"":                  "success",
		codeInvalidPasskey:  "failure",
		codeInvalidCeremony: "invalid_token",
		codeInvalidMFAToken: "invalid_token",
		codeRateLimited:     "rate_limited",
	},
	eventRefresh: {
		"":                      "success",
		codeInvalidRefreshToken: "failure",
		codeRefreshTokenReused:  "reused",
	},
}

// authEvent marks its route as the authentication event event, which
// observe counts by its outcome. It panics for an event authOutcomes does
// not know, a wiring mistake. Route middleware runs only for the methods
// the route was registered with: any other is a 405 and no event.
func authEvent(event string) echo.MiddlewareFunc {
	if _, ok := authOutcomes[event]; !ok {
		panic("httpapi: unknown authentication event " + event)
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(keyAuthEvent, event)
			return next(c)
		}
	}
}

// authOutcome returns the outcome of a request that was the
// authentication event event, if it is one the metric counts: a success is
// a 200, and a failure one of the problem codes authOutcomes lists.
func authOutcome(event string, status int, code string) (string, bool) {
	if event == "" || (code == "" && status != http.StatusOK) {
		return "", false
	}
	outcome, ok := authOutcomes[event][code]
	return outcome, ok
}

// methodLabel returns method if HTTP defines it and "other" if not: a
// client may send any token as a method.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}
