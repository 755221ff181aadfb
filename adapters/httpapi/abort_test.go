package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// enteredHasher verifies nothing: it says when a check has begun, then
// waits for its caller to give up.
type enteredHasher struct {
	domain.PasswordHasher
	entered chan struct{}
	once    *sync.Once
}

func (h enteredHasher) Verify(ctx context.Context, _, _ string) (bool, bool, error) {
	h.once.Do(func() { close(h.entered) })
	<-ctx.Done()
	return false, false, ctx.Err()
}

func TestAClientThatGoesAwayMidRequestIsAnAbortNotAServerError(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	reg := prometheus.NewRegistry()
	h := newHarnessWith(t, func(p *app.Ports) { p.Hasher = enteredHasher{p.Hasher, entered, &sync.Once{}} },
		func(c *httpapi.Config) { c.Metrics = reg })
	const id = "client-goes-away"

	ctx, cancel := context.WithCancel(t.Context())
	req := h.request(http.MethodPost, "/v1/auth/login",
		strings.NewReader(`{"email":"nobody@example.com","password":"`+password+`"}`)).WithContext(ctx)
	req.Header.Set("X-Request-ID", id)
	done := make(chan error, 1)
	go func() {
		res, err := h.srv.Client().Do(req)
		if err == nil {
			_ = res.Body.Close()
		}
		done <- err
	}()
	<-entered // the server is inside the handler
	cancel()
	require.Error(t, <-done, "the client gave up before any answer")

	var line map[string]any
	require.Eventually(t, func() bool {
		for _, rec := range h.logs.lines(t) {
			if rec["msg"] == "request" && rec["request_id"] == id {
				line = rec
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "the request is logged once the handler has given up")
	assert.EqualValues(t, 499, line["status"])
	assert.Equal(t, "INFO", line["level"], "a client going away is no error of the server")
	assert.NotContains(t, line, "error")
	assert.NotContains(t, line, "code")

	res := h.get("/metrics", "")
	require.Equal(t, http.StatusOK, res.status)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(res.body))
	require.NoError(t, err)
	requests := families["gatehouse_http_requests_total"]
	require.NotNil(t, requests)
	assert.Equal(t, 1.0, counter(t, requests, "route", "/v1/auth/login", "method", "POST", "status", "499"))
	for _, m := range requests.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "status" {
				assert.NotEqual(t, "500", l.GetValue(), "an abort is never counted as a server error")
			}
		}
	}
	auth := families["gatehouse_auth_events_total"]
	require.NotNil(t, auth)
	assert.Equal(t, 0.0, counter(t, auth, "event", "login", "outcome", "failure"), "an abort decided nothing")
}

func TestAServerDeadlineIsStillA503NotAnAbort(t *testing.T) {
	t.Parallel()
	h := newHarnessWith(t, func(p *app.Ports) { p.Hasher = stuckHasher{p.Hasher} },
		func(c *httpapi.Config) { c.RequestTimeout = 50 * time.Millisecond })
	req := h.request(http.MethodPost, "/v1/auth/login",
		strings.NewReader(`{"email":"nobody@example.com","password":"`+password+`"}`))
	req.Header.Set("X-Request-ID", "server-deadline")

	h.send(req).requireProblem(t, http.StatusServiceUnavailable, "unavailable")

	line := h.logs.requestLine(t, "server-deadline")
	assert.EqualValues(t, 503, line["status"])
	assert.Equal(t, "ERROR", line["level"])
}
