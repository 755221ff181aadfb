package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
	"github.com/gatehouse-auth/gatehouse/test/fake"
)

// stack is the handler New returns on memstore with the harness's fakes,
// called through ServeHTTP without a server: for fuzz targets, which need
// a fresh one per input, and benchmarks, which must not measure a socket.
type stack struct {
	handler http.Handler
	app     *apptest.Env
}

// newStack builds a stack whose server logs to logger. Rate limits stay on,
// as in production.
func newStack(tb testing.TB, logger *slog.Logger) *stack {
	tb.Helper()
	env := newEnv(tb, logger, nil)
	return &stack{handler: httpapi.New(handlerConfig(env, logger)), app: env}
}

// serve sends req through the handler and returns the response.
func (s *stack) serve(req *http.Request) response {
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	return response{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// fuzzEndpoint is a route that reads a JSON body, and the bearer it is
// called with.
type fuzzEndpoint struct {
	method, path string
	bearer       string // "ada", "anonymous" or none
}

// fuzzEndpoints are every route with a JSON body; FuzzJSONRequest picks one
// by its first argument, modulo their number. Append only, so that the
// corpus keeps its meaning.
var fuzzEndpoints = []fuzzEndpoint{
	{http.MethodPost, "/v1/auth/register", ""},
	{http.MethodPost, "/v1/auth/login", ""},
	{http.MethodPost, "/v1/auth/refresh", ""},
	{http.MethodPost, "/v1/auth/logout", ""},
	{http.MethodPost, "/v1/auth/anonymous", ""},
	{http.MethodPost, "/v1/auth/verify-email", ""},
	{http.MethodPost, "/v1/auth/password/forgot", ""},
	{http.MethodPost, "/v1/auth/password/reset", ""},
	{http.MethodPost, "/v1/auth/password/change", "ada"},
	{http.MethodDelete, "/v1/me", "ada"},
	{http.MethodPost, "/v1/auth/verify-email/resend", "ada"},
	{http.MethodPost, "/v1/auth/register", "anonymous"}, // the upgrade of an anonymous user
}

// Placeholders in FuzzJSONRequest's body, replaced by live tokens of the
// iteration's users, so that the fuzzer reaches the success paths.
const (
	refreshPlaceholder = "{refresh}" // ada's refresh token
	verifyPlaceholder  = "{verify}"  // the token of ada's verification email
	resetPlaceholder   = "{reset}"   // the token of ada's password-reset email
)

// fuzzState is a fresh stack with a registered user, ada, and an anonymous
// one, and the tokens the placeholders stand for.
type fuzzState struct {
	*stack
	logs     *logBuffer
	access   map[string]string // bearer name to access token
	replacer *strings.Replacer
}

func newFuzzState(t *testing.T) *fuzzState {
	t.Helper()
	logs := &logBuffer{}
	st := &fuzzState{stack: newStack(t, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))), logs: logs}
	t.Cleanup(st.app.Wait)
	ctx := context.Background()
	c := app.Client{IP: "192.0.2.1", UserAgent: userAgent}
	ada, err := st.app.Auth.Register(ctx, app.RegisterInput{Email: "ada@example.com", Password: password, Client: c})
	require.NoError(t, err)
	anon, err := st.app.Auth.Anonymous(ctx, c)
	require.NoError(t, err)
	require.NoError(t, st.app.Account.ForgotPassword(ctx, app.ForgotPasswordInput{Email: "ada@example.com", Client: c}))
	st.app.Wait() // the reset email goes out in the background
	st.access = map[string]string{"ada": ada.AccessToken, "anonymous": anon.AccessToken}
	st.replacer = strings.NewReplacer(refreshPlaceholder, ada.RefreshToken,
		verifyPlaceholder, mailToken(t, st.app.Mailer, domain.EmailVerifyAddress),
		resetPlaceholder, mailToken(t, st.app.Mailer, domain.EmailResetPassword))
	return st
}

// mailToken returns the token of the newest email of purpose to ada.
func mailToken(t *testing.T, m *fake.Mailer, purpose domain.EmailPurpose) string {
	t.Helper()
	mails := m.To("ada@example.com", purpose)
	require.NotEmpty(t, mails, "no %s email", purpose)
	return mails[len(mails)-1].Secret
}

// FuzzJSONRequest posts arbitrary bytes as application/json to every route
// that reads a JSON body, through the whole handler on a fresh memstore
// each time, so that an input's outcome never depends on the inputs
// before it. Whatever the body, the answer is never a 5xx (a panic in a
// handler would be one), an error is an RFC 9457 problem, a success is a
// JSON object or, for 202 and 204, nothing, and the response conforms to
// openapi.json.
func FuzzJSONRequest(f *testing.F) {
	creds := `{"email":"ada@example.com","password":"` + password + `"}`
	for i, bodies := range [][]string{
		0:  {`{"email":"grace@example.com","password":"` + password + `"}`, creds, `{"email":"Grace@Example.COM ","password":"grace-hopper-1906"}`, `{"email":"grace@example.com","password":"short"}`, `{"email":"grace@example.com","password":"` + password + `","redirect_to":"HTTPS://APP.example.com:443/app/"}`, `{"email":"grace@example.com","password":"` + password + `","redirect_to":"https://app.example.com@evil.example/app/"}`},
		1:  {creds, `{"email":" ADA@example.com","password":"` + password + `"}`, `{"email":"ada@example.com","password":"wrong password!"}`},
		2:  {`{"refresh_token":"{refresh}"}`, `{"refresh_token":" {refresh}"}`, `{"refresh_token":"{verify}"}`},
		3:  {`{"refresh_token":"{refresh}"}`, `{"refresh_token":"x"}`},
		4:  {``, `{}`, ` `, `{"ignored":true}`},
		5:  {`{"token":"{verify}"}`, `{"token":"{reset}"}`},
		6:  {`{"email":"ada@example.com"}`, `{"email":"nobody@example.com"}`, `{"email":"ada"}`, `{"email":"ada@example.com","redirect_to":"https://app.example.com/app/x?y=1"}`, `{"email":"ada@example.com","redirect_to":"https://app.example.com/app/../x"}`},
		7:  {`{"token":"{reset}","password":"a brand new password"}`, `{"token":"{reset}","password":"short"}`, `{"token":"{verify}","password":"a brand new password"}`},
		8:  {`{"current_password":"` + password + `","new_password":"a brand new password"}`, `{"current_password":"wrong","new_password":"a brand new password"}`},
		9:  {`{"password":"` + password + `"}`, `{"password":"wrong"}`, ``, `{}`},
		10: {``, `{}`, `{"redirect_to":"https://app.example.com/app/"}`, `{"redirect_to":"//evil.example/app/"}`, `{"redirect_to":7}`},
		11: {`{"email":"grace@example.com","password":"` + password + `"}`, creds},
	} {
		for _, body := range bodies {
			f.Add(uint8(i), []byte(body))
		}
	}
	// Bodies no route accepts. The routes share their decoding, so each
	// goes to the three ways of reading a body (required members, no
	// members, optional members) and to one more route in turn.
	for i, body := range []string{
		`null`, `[]`, `"string"`, `1`, `true`, `{`, `}`, `{"email":}`, `{"a":1}{"b":2}`, `{} trailing`,
		`{"email":null,"password":null,"refresh_token":null,"token":null}`,
		`{"email":1,"password":{},"refresh_token":[],"token":true,"current_password":1.5e400,"new_password":-0}`,
		`{"email":"ada@example.com","email":"grace@example.com","password":"` + password + `"}`,
		`{"EMAIL":"ada@example.com","Password":"` + password + `"}`,
		"\xef\xbb\xbf" + creds, // a byte-order mark
		`{"email":"ada\u0000@example.com","password":"\ud800\udc00\ud800 lone surrogate"}`,
		"{\"email\":\"\xff\xfe@example.com\",\"password\":\"\xc3\x28invalid utf-8\"}",
		`{"refresh_token":"` + strings.Repeat("A", 43) + `"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		`{"a":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat("}", 5001),
		`{"email":"` + strings.Repeat("a", 64<<10) + `"}`, // over the size limit
	} {
		for _, ep := range []int{0, 4, 9, i % len(fuzzEndpoints)} {
			f.Add(uint8(ep), []byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, body []byte) {
		st := newFuzzState(t)
		ep := fuzzEndpoints[int(endpoint)%len(fuzzEndpoints)]
		body = []byte(st.replacer.Replace(string(body)))
		req := httptest.NewRequest(ep.method, ep.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", userAgent)
		if ep.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+st.access[ep.bearer])
		}
		r := st.serve(req)
		st.app.Wait()

		switch {
		case r.status >= 500 || r.status < 200 || (r.status >= 300 && r.status < 400):
			t.Fatalf("%s %s %q: %d %s\nlog: %s", ep.method, ep.path, body, r.status, r.body, st.logs.String())
		case r.status == http.StatusAccepted || r.status == http.StatusNoContent:
			if len(r.body) != 0 {
				t.Fatalf("%s %s %q: %d with a body %q", ep.method, ep.path, body, r.status, r.body)
			}
		case r.status < 300:
			var obj map[string]any
			if ct := r.header.Get("Content-Type"); ct != "application/json" || json.Unmarshal(r.body, &obj) != nil || obj == nil {
				t.Fatalf("%s %s %q: %d %s %q is not a JSON object", ep.method, ep.path, body, r.status, ct, r.body)
			}
		default:
			var p problemBody
			if ct := r.header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(r.body, &p) != nil {
				t.Fatalf("%s %s %q: %d %s %q is not a problem", ep.method, ep.path, body, r.status, ct, r.body)
			}
			if p.Status != r.status || p.Code == "" || p.Type != "urn:gatehouse:problem:"+p.Code {
				t.Fatalf("%s %s %q: %d with the problem %s", ep.method, ep.path, body, r.status, r.body)
			}
		}
		checkSecurityHeaders(t, r)
		if _, seen := documentChecked.LoadOrStore(responseShape(ep, r), true); !seen {
			checkAgainstDocument(t, req, r)
		}
	})
}

// documentChecked holds the shapes of the responses FuzzJSONRequest has
// checked against openapi.json in this process. That check costs twenty
// times the request itself, and responses of one shape differ only in
// values the document does not constrain (tokens, IDs, times).
var documentChecked sync.Map

// responseShape names what the document says about a response to ep: its
// status and, for a problem, its code and field problems.
func responseShape(ep fuzzEndpoint, r response) string {
	shape := fmt.Sprintf("%s %s %s %d", ep.method, ep.path, ep.bearer, r.status)
	var p problemBody
	if json.Unmarshal(r.body, &p) == nil {
		shape += " " + p.Code + " " + strings.Join(p.fieldErrors(), ",")
	}
	return shape
}
