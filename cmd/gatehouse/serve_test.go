package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

const testPassword = "correct horse battery staple"

// client is the tests' HTTP client. Its timeout only keeps a test that
// would hang from hanging: no test measures time with it.
var client = &http.Client{Timeout: time.Minute}

// reply is a response, its body read.
type reply struct {
	status int
	header http.Header
	body   string
}

// call sends a request to the server at addr; a non-empty body goes as
// JSON, with the bearer token if one is given.
func call(t *testing.T, method, addr, path, body, bearer string) reply {
	t.Helper()
	r, err := send(method, addr, path, body, bearer)
	require.NoError(t, err, "%s %s", method, path)
	return r
}

// send is call for any goroutine: it returns its error.
func send(method, addr, path, body, bearer string) (reply, error) {
	return sendWith(client, method, addr, path, body, bearer)
}

// sendWith is send through c.
func sendWith(c *http.Client, method, addr, path, body, bearer string) (reply, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, r)
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: string(b)}, err
}

// tokens is the part of a token response the tests use.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// tokensOf decodes r, failing unless it is a token response with status.
func tokensOf(t *testing.T, r reply, status int) tokens {
	t.Helper()
	require.Equal(t, status, r.status, r.body)
	var tk tokens
	require.NoError(t, json.Unmarshal([]byte(r.body), &tk))
	require.NotEmpty(t, tk.RefreshToken)
	return tk
}

// requireProblem fails unless r is a problem with status and code.
func requireProblem(t *testing.T, r reply, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.status, r.body)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	var p struct{ Code string }
	require.NoError(t, json.Unmarshal([]byte(r.body), &p))
	require.Equal(t, code, p.Code)
}

func credentials(email, password string) string {
	return `{"email":"` + email + `","password":"` + password + `"}`
}

// heldHasher holds the first password check after arm until release, so
// that a login is in flight for as long as a test needs.
type heldHasher struct {
	domain.PasswordHasher
	armed   atomic.Bool
	entered chan struct{} // closed when the held check begins
	release chan struct{} // closed by the test to let it go on
}

func newHeldHasher() *heldHasher {
	return &heldHasher{entered: make(chan struct{}), release: make(chan struct{})}
}

func (h *heldHasher) wrap(next domain.PasswordHasher) domain.PasswordHasher {
	h.PasswordHasher = next
	return h
}

func (h *heldHasher) Verify(ctx context.Context, encoded, password string) (bool, bool, error) {
	if h.armed.CompareAndSwap(true, false) {
		close(h.entered)
		<-h.release
	}
	return h.PasswordHasher.Verify(ctx, encoded, password)
}

// TestServeDrainsOnStop follows a stop (SIGTERM in main) while a login is
// in flight: readiness fails at once while the server serves on for the
// delay; then the listener closes, and the login still completes with its
// tokens before serve returns without an error.
func TestServeDrainsOnStop(t *testing.T) {
	held := newHeldHasher()
	delays := make(chan time.Duration, 1)
	delayOver := make(chan time.Time)
	addr, log, stop := startServeWith(t, map[string]string{
		"GATEHOUSE_DATABASE_URL":   "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db"),
		"GATEHOUSE_SHUTDOWN_DELAY": "3s",
		"GATEHOUSE_SHUTDOWN_GRACE": "1m",
	}, &serveHooks{
		hasher: held.wrap,
		delay:  func(d time.Duration) <-chan time.Time { delays <- d; return delayOver },
	})
	tokensOf(t, call(t, "POST", addr, "/v1/auth/register", credentials("ada@example.com", testPassword), ""), http.StatusCreated)
	require.Equal(t, http.StatusOK, call(t, "GET", addr, "/readyz", "", "").status)

	held.armed.Store(true)
	type answer struct {
		reply
		err error
	}
	login := make(chan answer, 1)
	go func() {
		r, err := send("POST", addr, "/v1/auth/login", credentials("ada@example.com", testPassword), "")
		login <- answer{r, err}
	}()
	<-held.entered // the login is in flight

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case d := <-delays:
		assert.Equal(t, 3*time.Second, d, "serve waits out GATEHOUSE_SHUTDOWN_DELAY")
	case err := <-stopped:
		t.Fatalf("serve returned before its shutdown delay: %v", err)
	}
	require.Eventually(t, func() bool { return strings.Contains(log.String(), `"msg":"shutting down"`) },
		10*time.Second, 5*time.Millisecond, "the log says so (within its flush interval)")

	// During the delay: not ready, but serving.
	requireProblem(t, call(t, "GET", addr, "/readyz", "", ""), http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, http.StatusOK, call(t, "GET", addr, "/healthz", "", "").status)
	assert.Equal(t, http.StatusOK, call(t, "GET", addr, "/.well-known/jwks.json", "", "").status)

	close(delayOver)
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			_ = conn.Close()
		}
		return err != nil
	}, 30*time.Second, 10*time.Millisecond, "the listener closes once the delay is over")
	select {
	case r := <-login:
		t.Fatalf("the held login answered before it was let go: %d %s %v", r.status, r.body, r.err)
	case err := <-stopped:
		t.Fatalf("serve returned with a request in flight: %v", err)
	default:
	}

	close(held.release)
	answered := <-login
	require.NoError(t, answered.err)
	tokensOf(t, answered.reply, http.StatusOK)
	require.NoError(t, <-stopped, "a drained serve returns nil, so the process exits 0")

	out := log.String()
	shutting, stoppedAt := strings.Index(out, `"msg":"shutting down"`), strings.Index(out, `"msg":"stopped"`)
	loginLine := strings.Index(out, `"route":"/v1/auth/login"`)
	require.True(t, shutting >= 0 && loginLine >= 0 && stoppedAt >= 0, out)
	assert.Less(t, shutting, loginLine, "the login was answered after shutdown began")
	assert.Less(t, loginLine, stoppedAt, "and before serve stopped")
}

// stalledHasher never finishes a password check: it waits for the
// request's deadline.
type stalledHasher struct{ domain.PasswordHasher }

func (stalledHasher) Verify(ctx context.Context, _, _ string) (bool, bool, error) {
	<-ctx.Done()
	return false, false, ctx.Err()
}

// TestServeRequestTimeout: a login stuck behind its password check answers
// 503 unavailable once GATEHOUSE_REQUEST_TIMEOUT has passed, well within a
// client's patience that is shorter than the 10 s default.
func TestServeRequestTimeout(t *testing.T) {
	addr, _, _ := startServeWith(t, map[string]string{
		"GATEHOUSE_DATABASE_URL":    "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db"),
		"GATEHOUSE_REQUEST_TIMEOUT": "200ms",
	}, &serveHooks{
		hasher: func(next domain.PasswordHasher) domain.PasswordHasher { return stalledHasher{next} },
	})
	// No account is needed to reach the password check (an unknown email
	// checks a dummy hash), and registering one would have to hash within
	// the short timeout on a busy machine.
	impatient := &http.Client{Timeout: 5 * time.Second}
	r, err := sendWith(impatient, "POST", addr, "/v1/auth/login", credentials("nobody@example.com", testPassword), "")
	require.NoError(t, err, "the login answers before the client gives up")
	requireProblem(t, r, http.StatusServiceUnavailable, "unavailable")
	assert.Equal(t, "1", r.header.Get("Retry-After"))
}

// TestServeMetrics checks that GET /metrics carries what the wiring adds to
// the HTTP edge's own metrics.
func TestServeMetrics(t *testing.T) {
	smtp := smtptest.Start(t)
	addr, _, _ := startServe(t, map[string]string{
		"GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db"),
		"GATEHOUSE_SMTP_URL":     smtp.URL(),
	})
	tokensOf(t, call(t, "POST", addr, "/v1/auth/register", credentials("ada@example.com", testPassword), ""), http.StatusCreated)
	tokensOf(t, call(t, "POST", addr, "/v1/auth/login", credentials("ada@example.com", testPassword), ""), http.StatusOK)

	var metrics string
	require.Eventually(t, func() bool {
		r := call(t, "GET", addr, "/metrics", "", "")
		metrics = r.body
		return r.status == http.StatusOK && strings.Contains(metrics, "gatehouse_mail_sent_total 1\n")
	}, 30*time.Second, 20*time.Millisecond, "the verification email is counted once delivered")

	for _, want := range []string{
		`gatehouse_http_requests_total{method="POST",route="/v1/auth/login",status="200"} 1`,
		`gatehouse_auth_events_total{event="login",outcome="success"} 1`,
		`gatehouse_password_hash_duration_seconds_count{op="verify"} 1`,
		`gatehouse_password_hash_duration_seconds_count{op="hash"} 2`, // the dummy hash at start-up and ada's
		"gatehouse_password_hash_waiting 0",
		"gatehouse_mail_failed_total 0",
		"gatehouse_mail_queued 0",
		`go_sql_max_open_connections{db_name="gatehouse"} 1`, // SQLite's one connection
		`gatehouse_build_info{commit="unknown",version="dev"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		assert.Contains(t, metrics, want)
	}
}

func TestServeMetricsWithoutSMTPHaveNoMailCounters(t *testing.T) {
	addr, _, _ := startServe(t, map[string]string{
		"GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db"),
	})
	r := call(t, "GET", addr, "/metrics", "", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, "gatehouse_password_hash_waiting")
	assert.NotContains(t, r.body, "gatehouse_mail_", "the log mailer counts nothing")
}

// TestServeAllowsTheRedirectURLs: GATEHOUSE_REDIRECT_URLS reaches the
// HTTP edge, which allows a redirect_to it lists and refuses another.
func TestServeAllowsTheRedirectURLs(t *testing.T) {
	addr, _, _ := startServe(t, map[string]string{
		"GATEHOUSE_DATABASE_URL":  "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db"),
		"GATEHOUSE_REDIRECT_URLS": "https://app.example.com/app/",
	})
	register := func(email, redirect string) reply {
		return call(t, "POST", addr, "/v1/auth/register",
			`{"email":"`+email+`","password":"`+testPassword+`","redirect_to":"`+redirect+`"}`, "")
	}

	requireProblem(t, register("ada@example.com", "https://evil.example/app/"), http.StatusBadRequest, "invalid_redirect")
	tokensOf(t, register("ada@example.com", "https://app.example.com/app/welcome"), http.StatusCreated)
}

// TestServePprof checks that GATEHOUSE_PPROF_ADDR serves the profiles on a
// listener of their own, and that the API's listener does not.
func TestServePprof(t *testing.T) {
	addr, log, _ := startServe(t, map[string]string{
		"GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db"),
		"GATEHOUSE_PPROF_ADDR":   "127.0.0.1:0",
	})
	var pprofAddr string
	for _, line := range strings.Split(log.String(), "\n") {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "profiling" {
			pprofAddr = entry.Addr
		}
	}
	require.NotEmpty(t, pprofAddr, "serve logs where the profiles are:\n%s", log)

	r := call(t, "GET", pprofAddr, "/debug/pprof/cmdline", "", "")
	assert.Equal(t, http.StatusOK, r.status)
	r = call(t, "GET", pprofAddr, "/debug/pprof/", "", "")
	assert.Equal(t, http.StatusOK, r.status)
	assert.Contains(t, r.body, "goroutine")
	r = call(t, "GET", addr, "/debug/pprof/cmdline", "", "")
	assert.Equal(t, http.StatusNotFound, r.status, "the API listener serves no profiles")
}

func TestWaitContextGivesUpWhenTheGraceEnds(t *testing.T) {
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, waitContext(ctx, func() { <-release }), context.Canceled, "work that outlives the grace is left behind")
	close(release)

	assert.NoError(t, waitContext(context.Background(), func() {}), "work that ends is waited for")
}
