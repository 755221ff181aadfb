package httpapi_test

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
)

// loginBody is a well-formed login for an account that does not exist: it
// gets past the HTTP edge and fails in the use case with 401.
const loginBody = `{"email":"nobody@example.com","password":"` + password + `"}`

func TestJSONEndpointsRequireAJSONContentType(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	tests := []struct {
		contentType string
		want        int
	}{
		{"", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/xml", http.StatusUnsupportedMediaType},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"application/json", http.StatusUnauthorized},
		{"Application/JSON", http.StatusUnauthorized},
		{"application/json; charset=UTF-8", http.StatusUnauthorized},
		{"application/json;charset=utf-8", http.StatusUnauthorized},
		{"application/json;", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			req := h.request(http.MethodPost, "/v1/auth/login", strings.NewReader(loginBody))
			req.Header.Del("Content-Type")
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			res := h.send(req)
			require.Equal(t, tt.want, res.status, "body: %s", res.body)
			if tt.want == http.StatusUnsupportedMediaType {
				res.requireProblem(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
			}
		})
	}
}

// padded returns a login body of exactly n bytes, padded in a member the
// API ignores.
func padded(t *testing.T, n int) string {
	t.Helper()
	const head, tail = `{"email":"nobody@example.com","password":"` + password + `","pad":"`, `"}`
	require.Greater(t, n, len(head)+len(tail))
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// noLength hides a reader's length, so the client sends it chunked.
type noLength struct{ io.Reader }

func TestBodiesOver64KiBAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const limit = 64 << 10

	t.Run("with Content-Length", func(t *testing.T) {
		req := h.request(http.MethodPost, "/v1/auth/login", strings.NewReader(padded(t, limit+1)))
		require.Equal(t, int64(limit+1), req.ContentLength)
		h.send(req).requireProblem(t, http.StatusRequestEntityTooLarge, "request_too_large")
	})
	t.Run("chunked", func(t *testing.T) {
		req := h.request(http.MethodPost, "/v1/auth/login", noLength{strings.NewReader(padded(t, limit+1))})
		require.Equal(t, int64(0), req.ContentLength, "unknown length: sent chunked")
		h.send(req).requireProblem(t, http.StatusRequestEntityTooLarge, "request_too_large")
	})
	t.Run("chunked and much larger", func(t *testing.T) {
		req := h.request(http.MethodPost, "/v1/auth/login", noLength{strings.NewReader(padded(t, 2*limit))})
		h.send(req).requireProblem(t, http.StatusRequestEntityTooLarge, "request_too_large")
	})
	t.Run("exactly 64 KiB is fine", func(t *testing.T) {
		h.send(h.request(http.MethodPost, "/v1/auth/login", strings.NewReader(padded(t, limit)))).
			requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	})
	t.Run("exactly 64 KiB chunked is fine", func(t *testing.T) {
		h.send(h.request(http.MethodPost, "/v1/auth/login", noLength{strings.NewReader(padded(t, limit))})).
			requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
	})
}

func TestUnparseableBodiesAreMalformed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for _, body := range []string{``, `{`, `not json`, `null`, `[]`, `"ada"`, `42`, `{"email":"a"} {}`, `{"email":"a",}`} {
		t.Run(body, func(t *testing.T) {
			h.post("/v1/auth/login", body).requireProblem(t, http.StatusBadRequest, "malformed_request")
		})
	}
}

func TestMissingAndMistypedFieldsAreNamed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	tests := []struct {
		path, body string
		want       []string
	}{
		{"/v1/auth/login", `{}`, []string{"email:required", "password:required"}},
		{"/v1/auth/login", `{"email":42,"password":null}`, []string{"email:invalid_type", "password:required"}},
		{"/v1/auth/login", `{"email":"ada@example.com","password":true}`, []string{"password:invalid_type"}},
		{"/v1/auth/register", `{"email":{"a":1},"password":["x"]}`, []string{"email:invalid_type", "password:invalid_type"}},
		{"/v1/auth/refresh", `{"token":"x"}`, []string{"refresh_token:required"}},
		{"/v1/auth/refresh", `{"refresh_token":7}`, []string{"refresh_token:invalid_type"}},
		{"/v1/auth/logout", `{"refresh_token":false}`, []string{"refresh_token:invalid_type"}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.body, func(t *testing.T) {
			p := h.post(tt.path, tt.body).requireProblem(t, http.StatusBadRequest, "validation_failed")
			assert.ElementsMatch(t, tt.want, p.fieldErrors())
		})
	}
}

func TestUnknownRoutesAreNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	for i, path := range []string{"/", "/nope", "/v1", "/v1/me/", "/v1/auth/login/extra", "/V1/ME", "/v1/auth/"} {
		t.Run(path, func(t *testing.T) {
			req := h.request(http.MethodGet, path, nil)
			id := "nf-" + strconv.Itoa(i)
			req.Header.Set("X-Request-ID", id)
			h.send(req).requireProblem(t, http.StatusNotFound, "not_found")
			assert.Empty(t, h.logs.requestLine(t, id)["route"], "no route matched")
		})
	}
}

func TestWrongMethodsAreNotAllowed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	tests := []struct{ method, path, route, allowed string }{
		{http.MethodGet, "/v1/auth/login", "", http.MethodPost},
		{http.MethodPut, "/v1/auth/register", "", http.MethodPost},
		{http.MethodPut, "/v1/me", "", http.MethodDelete},
		{http.MethodGet, "/v1/me/sessions/x", "/v1/me/sessions/:id", http.MethodDelete},
		{http.MethodPut, "/verify-email", "", http.MethodPost},
		{http.MethodPost, "/.well-known/jwks.json", "", http.MethodGet},
		{http.MethodPatch, "/openapi.json", "", http.MethodGet},
	}
	for i, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req := h.request(tt.method, tt.path, nil)
			id := "na-" + strconv.Itoa(i)
			req.Header.Set("X-Request-ID", id)
			res := h.send(req)
			res.requireProblem(t, http.StatusMethodNotAllowed, "method_not_allowed")
			route := tt.route
			if route == "" {
				route = tt.path
			}
			assert.Equal(t, route, h.logs.requestLine(t, id)["route"])
			allow := strings.Split(res.header.Get("Allow"), ", ")
			assert.Contains(t, allow, tt.allowed)
			assert.NotContains(t, allow, tt.method)
		})
	}
}

func TestPanicsAnswerAGeneric500AndAreLogged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	req := h.request(http.MethodPost, "/v1/auth/login", strings.NewReader(`{"email":"nobody@example.com","password":"`+panicPassword+`"}`))
	req.Header.Set("X-Request-ID", "panic-1")
	res := h.send(req)

	res.requireProblem(t, http.StatusInternalServerError, "internal_error")
	noLeak(t, string(res.body), "exploded", "secret-internal-detail", "goroutine", ".go:", "panic", panicPassword)
	noLeak(t, strings.Join(headerValues(res.header), "\n"), "exploded", "goroutine")

	line := h.logs.requestLine(t, "panic-1")
	assert.Equal(t, "ERROR", line["level"])
	assert.Contains(t, line["error"], panicMessage)
	assert.Contains(t, line["stack"], "goroutine")
	assert.NotContains(t, h.logs.String(), panicPassword, "the body stays out of the log")

	h.post("/v1/auth/login", loginBody).requireProblem(t, http.StatusUnauthorized, "invalid_credentials")
}

func headerValues(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k+": "+strings.Join(vs, ", "))
	}
	return out
}

func TestOtherErrorsAnswerAGeneric500AndAreLogged(t *testing.T) {
	t.Parallel()
	const cause = "dial tcp 10.0.0.5:5432: password authentication failed for user gatehouse"
	h := newHarness(t, func(c *httpapi.Config) { c.KeySet = fakeKeySet{err: errors.New(cause)} })

	req := h.request(http.MethodGet, "/.well-known/jwks.json", nil)
	req.Header.Set("X-Request-ID", "fail-1")
	res := h.send(req)

	p := res.requireProblem(t, http.StatusInternalServerError, "internal_error")
	noLeak(t, string(res.body), "dial", "10.0.0.5", "password", "for user gatehouse")
	assert.NotContains(t, p.Detail, "5432")
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"), "an error is not cached as the key set")

	line := h.logs.requestLine(t, "fail-1")
	assert.Equal(t, "ERROR", line["level"])
	assert.Equal(t, cause, line["error"])
	assert.Equal(t, "internal_error", line["code"])
}

func TestEveryResponseCarriesTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *httpapi.Config) { c.KeySet = fakeKeySet{err: errors.New("down")} })

	responses := map[string]response{
		"200": h.get("/openapi.json", ""),
		"201": h.post("/v1/auth/anonymous", `{}`),
		"204": h.post("/v1/auth/logout", `{"refresh_token":"x"}`),
		"400": h.post("/v1/auth/login", `{`),
		"401": h.get("/v1/me", ""),
		"404": h.get("/nope", ""),
		"405": h.send(h.request(http.MethodGet, "/v1/auth/login", nil)),
		"413": h.post("/v1/auth/login", padded(t, 64<<10+1)),
		"500": h.get("/.well-known/jwks.json", ""),
	}
	for range 20 {
		h.post("/v1/auth/anonymous", `{}`)
	}
	responses["429"] = h.post("/v1/auth/anonymous", `{}`)
	for status, res := range responses {
		t.Run(status, func(t *testing.T) {
			assert.Equal(t, status, strconv.Itoa(res.status))
			checkSecurityHeaders(t, res)
		})
	}
}

func TestRequestIDsAreEchoedOrGenerated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	send := func(id string) string {
		req := h.request(http.MethodGet, "/openapi.json", nil)
		if id != "" {
			req.Header.Set("X-Request-ID", id)
		}
		res := h.send(req)
		require.Equal(t, http.StatusOK, res.status)
		return res.header.Get("X-Request-ID")
	}

	sane := "abc.DEF_123-" + strings.Repeat("z", 116)
	require.Len(t, sane, 128)
	assert.Equal(t, sane, send(sane))
	assert.Equal(t, "x", send("x"))

	for _, bad := range []string{sane + "z", "has space", "semi;colon", "<script>", "naïve", "a/b"} {
		got := send(bad)
		assert.NotEqual(t, bad, got)
		assert.NotEmpty(t, got)
	}
	a, b := send(""), send("")
	assert.NotEmpty(t, a)
	assert.NotEqual(t, a, b, "generated IDs are unique")

	h.logs.requestLine(t, sane) // exactly one log line carries it
}

func TestAccessTokensInTheQueryStringAreRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ada := h.register("ada@example.com")

	tests := []struct {
		name   string
		req    *http.Request
		header bool
	}{
		{"alone", h.request(http.MethodGet, "/v1/me?access_token="+ada.AccessToken, nil), false},
		{"beside a valid header", h.request(http.MethodGet, "/v1/me?access_token="+ada.AccessToken, nil), true},
		{"on an endpoint without auth", h.request(http.MethodPost, "/v1/auth/login?access_token=x", strings.NewReader(loginBody)), false},
		{"empty", h.request(http.MethodGet, "/v1/me?x=1&access_token=", nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.header {
				tt.req.Header.Set("Authorization", "Bearer "+ada.AccessToken)
			}
			res := h.send(tt.req)
			p := res.requireProblem(t, http.StatusUnauthorized, "invalid_token")
			assert.Contains(t, p.Detail, "Authorization header")
			assert.Contains(t, res.header.Get("WWW-Authenticate"), `error="invalid_token"`)
		})
	}
	assert.NotContains(t, h.logs.String(), ada.AccessToken)
}

func TestOneLogLinePerRequestWithoutSecrets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	req := h.request(http.MethodPost, "/v1/auth/register", strings.NewReader(`{"email":"ada@example.com","password":"`+password+`"}`))
	req.Header.Set("X-Request-ID", "reg-1")
	ada := h.send(req).tokens(t, http.StatusCreated)
	req = h.request(http.MethodPost, "/v1/auth/refresh", strings.NewReader(`{"refresh_token":"`+ada.RefreshToken+`"}`))
	req.Header.Set("X-Request-ID", "ref-1")
	next := h.send(req).tokens(t, http.StatusOK)
	req = h.request(http.MethodGet, "/v1/me?access_token="+next.AccessToken, nil)
	req.Header.Set("X-Request-ID", "me-1")
	h.send(req)

	line := h.logs.requestLine(t, "reg-1")
	assert.Equal(t, "INFO", line["level"])
	assert.Equal(t, "POST", line["method"])
	assert.Equal(t, "/v1/auth/register", line["route"])
	assert.EqualValues(t, 201, line["status"])
	assert.Equal(t, "127.0.0.1", line["client_ip"])
	require.IsType(t, float64(0), line["latency_ms"], "the latency is a number of milliseconds")
	assert.Greater(t, line["latency_ms"], 0.0, "registering takes some time")
	assert.Less(t, line["latency_ms"], 60000.0, "milliseconds, not nanoseconds")
	assert.NotContains(t, line, "latency", "the old field without its unit is gone")

	line = h.logs.requestLine(t, "me-1")
	assert.EqualValues(t, 401, line["status"])
	assert.Equal(t, "invalid_token", line["code"])

	all := h.logs.String()
	noLeak(t, all, password, ada.AccessToken, ada.RefreshToken, next.AccessToken, next.RefreshToken, "ada@example.com")
	requests := 0
	for _, rec := range h.logs.lines(t) {
		if rec["msg"] == "request" {
			requests++
		}
	}
	assert.Equal(t, 3, requests)
}

func TestClientIPTrustsOnlyConfiguredProxies(t *testing.T) {
	t.Parallel()
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	internal := netip.MustParsePrefix("10.0.0.0/8")

	tests := []struct {
		name    string
		trusted []netip.Prefix
		xff     []string
		want    string
	}{
		{"no proxies: the peer, whatever the header says", nil, []string{"203.0.113.7"}, "127.0.0.1"},
		{"peer not trusted: the peer", []netip.Prefix{internal}, []string{"203.0.113.7"}, "127.0.0.1"},
		{"trusted peer without a header: the peer", []netip.Prefix{loopback}, nil, "127.0.0.1"},
		{"trusted peer: the address it saw", []netip.Prefix{loopback}, []string{"203.0.113.7"}, "203.0.113.7"},
		{"a client's spoofed entries are skipped", []netip.Prefix{loopback}, []string{"6.6.6.6, 203.0.113.7"}, "203.0.113.7"},
		{"chained trusted proxies are skipped", []netip.Prefix{loopback, internal}, []string{"6.6.6.6, 203.0.113.7, 10.1.2.3"}, "203.0.113.7"},
		{"several header lines", []netip.Prefix{loopback, internal}, []string{"6.6.6.6", "203.0.113.7", "10.1.2.3"}, "203.0.113.7"},
		{"an untrusted proxy ends the walk", []netip.Prefix{loopback}, []string{"6.6.6.6, 10.1.2.3"}, "10.1.2.3"},
		{"only trusted proxies: the left-most", []netip.Prefix{loopback, internal}, []string{"10.9.9.9, 10.1.2.3"}, "10.9.9.9"},
		{"garbage: the last good address", []netip.Prefix{loopback, internal}, []string{"203.0.113.7, garbage, 10.1.2.3"}, "10.1.2.3"},
		{"garbage right away: the peer", []netip.Prefix{loopback}, []string{"203.0.113.7, garbage"}, "127.0.0.1"},
		{"IPv6 with brackets and port", []netip.Prefix{loopback}, []string{"[2001:db8::1]:4711"}, "2001:db8::1"},
		{"IPv4 with port", []netip.Prefix{loopback}, []string{"203.0.113.7:4711"}, "203.0.113.7"},
		{"mapped IPv4", []netip.Prefix{loopback}, []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *httpapi.Config) { c.TrustedProxies = tt.trusted })
			req := h.request(http.MethodPost, "/v1/auth/anonymous", nil)
			for _, v := range tt.xff {
				req.Header.Add("X-Forwarded-For", v)
			}
			req.Header.Set("X-Request-ID", "ip-1")
			tb := h.send(req).tokens(t, http.StatusCreated)

			assert.Equal(t, tt.want, h.logs.requestLine(t, "ip-1")["client_ip"])
			assert.Equal(t, tt.want, h.session(tb.User.ID).IP, "the session records the same address")
		})
	}
}

func TestStrictTransportSecurityFollowsThePublicURL(t *testing.T) {
	t.Parallel()
	for url, want := range map[string]string{
		"https://auth.example.com": "max-age=31536000",
		"http://127.0.0.1:8080":    "",
		"":                         "",
	} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *httpapi.Config) { c.PublicURL = url })
			for _, r := range []response{
				h.get("/healthz", ""),
				h.post("/v1/auth/anonymous", `{}`),
				h.post("/v1/auth/login", `{`),
				h.get("/v1/me", ""),
				h.get("/nope", ""),
				h.get("/verify-email?token=x", ""),
			} {
				assert.Equal(t, want, r.header.Get("Strict-Transport-Security"), "a %d", r.status)
			}
		})
	}
}
