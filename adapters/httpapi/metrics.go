package httpapi

import (
	"net/http"
	"strconv"
	"time"

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
			Help: "Outcomes of logins and refreshes: event is login or refresh; outcome is success, failure, rate_limited (login) or reused (refresh: a spent refresh token came back, and its session was revoked).",
		}, []string{"event", "outcome"}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight, m.auth)
	// Every outcome exists from the start, so that a rate over it is 0
	// rather than missing until the first one happens.
	for _, row := range authOutcomes {
		m.auth.WithLabelValues(row.event, row.outcome)
	}
	return m
}

// observe records one answered request.
func (m *httpMetrics) observe(route, method string, status int, code string, took time.Duration) {
	if route == "" {
		route = routeUnmatched
	}
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
	if event, outcome, ok := authEvent(route, status, code); ok {
		m.auth.WithLabelValues(event, outcome).Inc()
	}
}

// authOutcomes tell an authentication event from a request's route, its
// status and its problem code ("" for a success). The use cases know
// nothing of metrics: what they decided is in the answer.
var authOutcomes = []struct {
	route   string
	status  int
	code    string
	event   string
	outcome string
}{
	{"/v1/auth/login", http.StatusOK, "", "login", "success"},
	{"/v1/auth/login", http.StatusUnauthorized, "invalid_credentials", "login", "failure"},
	{"/v1/auth/login", http.StatusTooManyRequests, "rate_limited", "login", "rate_limited"},
	{"/v1/auth/refresh", http.StatusOK, "", "refresh", "success"},
	{"/v1/auth/refresh", http.StatusUnauthorized, "invalid_refresh_token", "refresh", "failure"},
	{"/v1/auth/refresh", http.StatusUnauthorized, "refresh_token_reused", "refresh", "reused"},
}

// authEvent returns the authentication event a request was, if any. Both
// routes answer POST only; any other method is a 405 and no event.
func authEvent(route string, status int, code string) (event, outcome string, ok bool) {
	for _, row := range authOutcomes {
		if row.route == route && row.status == status && row.code == code {
			return row.event, row.outcome, true
		}
	}
	return "", "", false
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
