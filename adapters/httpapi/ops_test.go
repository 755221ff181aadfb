package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// dbDown is what the stores return while the database cannot be reached.
var dbDown = fmt.Errorf("entstore: begin transaction: database unavailable: dial tcp 10.0.0.5:5432: connect: connection refused: %w", domain.ErrUnavailable)

// readyCheck is a Config.Ready that counts its calls and fails with err.
type readyCheck struct {
	calls    atomic.Int32
	err      atomic.Pointer[error]
	deadline atomic.Pointer[time.Duration] // how far off the context's deadline was at the last call
}

func (r *readyCheck) fail(err error) { r.err.Store(&err) }

func (r *readyCheck) check(ctx context.Context) error {
	r.calls.Add(1)
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		r.deadline.Store(&left)
	}
	if err := r.err.Load(); err != nil {
		return *err
	}
	return nil
}

func TestHealthzAnswersWithoutTheDatabase(t *testing.T) {
	t.Parallel()
	ready := &readyCheck{}
	ready.fail(dbDown)
	h := newHarness(t, func(c *httpapi.Config) { c.Ready = ready.check })

	req := h.request(http.MethodGet, "/healthz", nil)
	req.Header.Set("X-Request-ID", "live-1")
	res := h.send(req)

	require.Equal(t, http.StatusOK, res.status)
	assert.JSONEq(t, `{"status":"ok"}`, string(res.body))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	assert.Zero(t, ready.calls.Load(), "liveness never asks the database")
	assert.NotContains(t, h.logs.String(), "live-1", "a probe that succeeds is logged at DEBUG only")
}

func TestReadyzAsksTheDatabase(t *testing.T) {
	t.Parallel()
	ready := &readyCheck{}
	h := newHarness(t, func(c *httpapi.Config) { c.Ready = ready.check })

	res := h.get("/readyz", "")
	require.Equal(t, http.StatusOK, res.status)
	assert.JSONEq(t, `{"status":"ready"}`, string(res.body))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	assert.EqualValues(t, 1, ready.calls.Load())
	left := ready.deadline.Load()
	require.NotNil(t, left, "the check runs under a deadline")
	assert.LessOrEqual(t, *left, 2*time.Second)

	ready.fail(dbDown)
	req := h.request(http.MethodGet, "/readyz", nil)
	req.Header.Set("X-Request-ID", "ready-down")
	res = h.send(req)
	res.requireProblem(t, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "1", res.header.Get("Retry-After"))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	noLeak(t, string(res.body), "10.0.0.5", "connection refused", "entstore")
	line := h.logs.requestLine(t, "ready-down")
	assert.Equal(t, "ERROR", line["level"], "a database that does not answer is an operator's concern")
	assert.Contains(t, line["error"], "connection refused", "the log says why")

	ready.fail(errors.New("some other failure"))
	h.get("/readyz", "").requireProblem(t, http.StatusServiceUnavailable, "unavailable")
}

func TestReadyzAnswers503OnceDraining(t *testing.T) {
	t.Parallel()
	ready := &readyCheck{}
	draining := make(chan struct{})
	h := newHarness(t, func(c *httpapi.Config) { c.Ready, c.Draining = ready.check, draining })
	require.Equal(t, http.StatusOK, h.get("/readyz", "").status)

	close(draining)
	req := h.request(http.MethodGet, "/readyz", nil)
	req.Header.Set("X-Request-ID", "ready-drain")
	res := h.send(req)

	res.requireProblem(t, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "1", res.header.Get("Retry-After"))
	assert.EqualValues(t, 1, ready.calls.Load(), "a draining instance does not ask the database")
	assert.Equal(t, "INFO", h.logs.requestLine(t, "ready-drain")["level"], "a drain is no failure")
	h.register("ada@example.com") // and the rest of the API goes on serving
}

// downRateLimits fails every hit as a database that is down does.
type downRateLimits struct{ domain.RateLimitStore }

func (downRateLimits) Hit(context.Context, string, time.Duration, time.Time) (int, time.Time, error) {
	return 0, time.Time{}, dbDown
}

// downTransactor fails every unit of work before it starts.
type downTransactor struct{}

func (downTransactor) InTx(context.Context, func(context.Context, domain.Stores) error) error {
	return dbDown
}

// downUsers fails every lookup of a user.
type downUsers struct{ domain.UserStore }

func (downUsers) ByID(context.Context, domain.UserID) (domain.User, error) {
	return domain.User{}, dbDown
}

func TestADatabaseOutageAnswers503(t *testing.T) {
	t.Parallel()
	var down atomic.Bool
	h := newHarnessWith(t, func(p *app.Ports) {
		stores, tx, limits := p.Stores, p.Transactor, p.Standalone.RateLimits
		p.Stores.Users = switchUsers{&down, stores.Users}
		p.Stores.Sessions = switchSessions{&down, stores.Sessions}
		p.Transactor = switchTx{&down, tx}
		p.Standalone.RateLimits = switchLimits{&down, limits}
	})
	ada := h.register("ada@example.com")
	down.Store(true)

	req := h.request(http.MethodPost, "/v1/auth/login", strings.NewReader(`{"email":"ada@example.com","password":"`+password+`"}`))
	req.Header.Set("X-Request-ID", "login-down")
	res := h.send(req)
	p := res.requireProblem(t, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "1", res.header.Get("Retry-After"))
	noLeak(t, string(res.body), "10.0.0.5", "connection refused", "entstore")
	assert.NotContains(t, p.Detail, "database", "the answer says nothing of the service's insides")
	line := h.logs.requestLine(t, "login-down")
	assert.Equal(t, "ERROR", line["level"])
	assert.Equal(t, "unavailable", line["code"])
	assert.Contains(t, line["error"], "connection refused")

	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).requireProblem(t, http.StatusServiceUnavailable, "unavailable")
	h.get("/v1/me", ada.AccessToken).requireProblem(t, http.StatusServiceUnavailable, "unavailable")

	page := h.postForm("/verify-email", map[string][]string{"token": {strings.Repeat("A", 43)}}, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusServiceUnavailable, page.status)
	assert.True(t, page.isPage())
	assert.Equal(t, "1", page.header.Get("Retry-After"))
	assert.Contains(t, string(page.body), "briefly unavailable")

	down.Store(false)
	next := h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)
	assert.NotEqual(t, ada.RefreshToken, next.RefreshToken, "the refresh token the outage refused was not spent")
}

// The switch* ports fail like a database that is down while down is set.
type (
	switchUsers struct {
		down *atomic.Bool
		domain.UserStore
	}
	switchSessions struct {
		down *atomic.Bool
		domain.SessionStore
	}
	switchTx struct {
		down *atomic.Bool
		tx   domain.Transactor
	}
	switchLimits struct {
		down *atomic.Bool
		domain.RateLimitStore
	}
)

func (s switchUsers) ByID(ctx context.Context, id domain.UserID) (domain.User, error) {
	if s.down.Load() {
		return downUsers{}.ByID(ctx, id)
	}
	return s.UserStore.ByID(ctx, id)
}

func (s switchSessions) Rotate(ctx context.Context, r domain.Rotation) (domain.Session, domain.User, error) {
	if s.down.Load() {
		return domain.Session{}, domain.User{}, dbDown
	}
	return s.SessionStore.Rotate(ctx, r)
}

func (s switchTx) InTx(ctx context.Context, fn func(context.Context, domain.Stores) error) error {
	if s.down.Load() {
		return downTransactor{}.InTx(ctx, fn)
	}
	return s.tx.InTx(ctx, fn)
}

func (s switchLimits) Hit(ctx context.Context, key string, window time.Duration, now time.Time) (int, time.Time, error) {
	if s.down.Load() {
		return downRateLimits{}.Hit(ctx, key, window, now)
	}
	return s.RateLimitStore.Hit(ctx, key, window, now)
}

// stuckHasher verifies nothing: it waits for its caller to give up, as a
// hasher whose slots are all taken for long does.
type stuckHasher struct{ domain.PasswordHasher }

func (stuckHasher) Verify(ctx context.Context, _, _ string) (bool, bool, error) {
	<-ctx.Done()
	return false, false, ctx.Err()
}

func TestARequestThatRunsOutOfTimeAnswers503(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(p *app.Ports) { p.Hasher = stuckHasher{p.Hasher} },
		func(c *httpapi.Config) { c.RequestTimeout = 50 * time.Millisecond })

	res := h.post("/v1/auth/login", `{"email":"nobody@example.com","password":"`+password+`"}`)

	res.requireProblem(t, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "1", res.header.Get("Retry-After"))
}

func TestMetricsCountRequestsByRouteAndAuthOutcomes(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := newHarness(t, func(c *httpapi.Config) { c.Metrics = reg })

	ada := h.register("ada@example.com")
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"`+password+`"}`).tokens(t, http.StatusOK)
	h.post("/v1/auth/login", `{"email":"ada@example.com","password":"wrong password"}`).requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	h.post("/v1/auth/login", `{"email":"ada@example.com"}`).requireProblem(t, http.StatusBadRequest, "validation_failed")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).tokens(t, http.StatusOK)
	h.post("/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`).requireProblem(t, http.StatusUnauthorized, "refresh_token_reused")
	h.post("/v1/auth/refresh", `{"refresh_token":"`+strings.Repeat("B", 43)+`"}`).requireProblem(t, http.StatusUnauthorized, "invalid_refresh_token")
	for i := range 20 { // a scanner
		h.get(fmt.Sprintf("/wp-admin/%d/setup.php", i), "").requireProblem(t, http.StatusNotFound, "not_found")
	}
	h.send(h.request("PROPFIND", "/v1/me", nil))
	h.call(http.MethodDelete, "/v1/me/sessions/"+string(h.session(ada.User.ID).ID), ada.AccessToken, "")

	res := h.get("/metrics", "")
	require.Equal(t, http.StatusOK, res.status)
	assert.True(t, strings.HasPrefix(res.header.Get("Content-Type"), "text/plain"), res.header.Get("Content-Type"))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.body))
	require.NoError(t, err, "the body is in the Prometheus text format")

	requests := families["gatehouse_http_requests_total"]
	require.NotNil(t, requests)
	assert.Equal(t, 1.0, counter(t, requests, "route", "/v1/auth/login", "method", "POST", "status", "200"))
	assert.Equal(t, 1.0, counter(t, requests, "route", "/v1/auth/login", "method", "POST", "status", "401"))
	assert.Equal(t, 1.0, counter(t, requests, "route", "/v1/auth/login", "method", "POST", "status", "400"))
	assert.Equal(t, 1.0, counter(t, requests, "route", "/v1/me/sessions/:id", "method", "DELETE", "status", "204"),
		"the route is the pattern, not the path")
	assert.Equal(t, 20.0, counter(t, requests, "route", "unmatched", "method", "GET", "status", "404"))
	assert.Equal(t, 1.0, counter(t, requests, "route", "/v1/me", "method", "other", "status", "405"))
	for _, m := range requests.GetMetric() {
		for _, l := range m.GetLabel() {
			assert.NotContains(t, l.GetValue(), "wp-admin", "no raw path is a label")
			assert.NotEqual(t, "PROPFIND", l.GetValue(), "no made-up method is a label")
		}
	}

	duration := families["gatehouse_http_request_duration_seconds"]
	require.NotNil(t, duration)
	assert.Equal(t, dto.MetricType_HISTOGRAM, duration.GetType())
	assert.EqualValues(t, 3, histogramCount(t, duration, "route", "/v1/auth/login", "method", "POST"))

	auth := families["gatehouse_auth_events_total"]
	require.NotNil(t, auth)
	for _, tt := range []struct {
		event, outcome string
		want           float64
	}{
		{"login", "success", 1}, {"login", "failure", 1}, {"login", "rate_limited", 0}, {"login", "mfa_required", 0},
		{"refresh", "success", 1}, {"refresh", "reused", 1}, {"refresh", "failure", 1},
		{"mfa", "success", 0}, {"mfa", "failure", 0}, {"mfa", "invalid_token", 0}, {"mfa", "rate_limited", 0},
		{"passkey", "success", 0}, {"passkey", "failure", 0}, {"passkey", "invalid_token", 0}, {"passkey", "rate_limited", 0},
	} {
		assert.Equal(t, tt.want, counter(t, auth, "event", tt.event, "outcome", tt.outcome), "%s %s", tt.event, tt.outcome)
	}
	assert.Len(t, auth.GetMetric(), 15, "a failed validation is no authentication event")

	assert.NotNil(t, families["gatehouse_http_requests_in_flight"])
}

func TestMetricsServesTheGivenRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wired_elsewhere_total", Help: "A metric of the wiring."},
		func() float64 { return 42 }))
	h := newHarness(t, func(c *httpapi.Config) { c.Metrics = reg })

	res := h.get("/metrics", "")

	require.Equal(t, http.StatusOK, res.status)
	assert.Contains(t, string(res.body), "wired_elsewhere_total 42")
	assert.Contains(t, string(res.body), "gatehouse_http_requests_in_flight 1", "the HTTP metrics, with this very scrape")
}

// counter returns the value of the counter in f with the label pairs,
// failing unless exactly one series has them.
func counter(t *testing.T, f *dto.MetricFamily, labels ...string) float64 {
	t.Helper()
	return series(t, f, labels...).GetCounter().GetValue()
}

// histogramCount returns the observation count of the histogram series in f
// with the label pairs.
func histogramCount(t *testing.T, f *dto.MetricFamily, labels ...string) uint64 {
	t.Helper()
	return series(t, f, labels...).GetHistogram().GetSampleCount()
}

func series(t *testing.T, f *dto.MetricFamily, labels ...string) *dto.Metric {
	t.Helper()
	var found []*dto.Metric
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		match := true
		for i := 0; i < len(labels); i += 2 {
			if got[labels[i]] != labels[i+1] {
				match = false
			}
		}
		if match {
			found = append(found, m)
		}
	}
	require.Len(t, found, 1, "%s%v", f.GetName(), labels)
	return found[0]
}
