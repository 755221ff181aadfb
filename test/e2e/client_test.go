package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// client talks to one server and holds every response it gets to the
// OpenAPI document that server serves.
type client struct {
	srv    *server
	http   *http.Client
	doc    *openapi3.T
	router routers.Router
	// validating serialises kin-openapi's validation, which does not
	// promise to be safe for concurrent use.
	validating sync.Mutex
}

// newClient fetches the server's /openapi.json, loads and validates it
// with kin-openapi, and returns a client that checks every response
// against it.
func newClient(t *testing.T, srv *server) *client {
	t.Helper()
	// Longer than the servers' request timeout, so a request that waits
	// too long gets the server's 503, not a timeout of the client's.
	c := &client{srv: srv, http: &http.Client{Timeout: 2 * requestTimeout}}
	req := c.newRequest(t, http.MethodGet, "/openapi.json", "")
	res, err := c.http.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, "GET /openapi.json: %s", body)

	loader := openapi3.NewLoader()
	c.doc, err = loader.LoadFromData(body)
	require.NoError(t, err, "the served OpenAPI document loads")
	require.NoError(t, c.doc.Validate(loader.Context), "the served OpenAPI document is valid")
	c.router, err = legacy.NewRouter(c.doc)
	require.NoError(t, err)
	// The document's own response conforms to it too.
	require.NoError(t, c.check(req, response{status: res.StatusCode, header: res.Header, body: body}))
	return c
}

// response is a received response, its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// newRequest returns a request for path on the client's server; a
// non-empty body goes as application/json.
func (c *client) newRequest(t testing.TB, method, path, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.srv.baseURL+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "gatehouse-e2e/1.0")
	return req
}

// withBearer sets req's Authorization header to the access token.
func withBearer(req *http.Request, accessToken string) *http.Request {
	req.Header.Set("Authorization", "Bearer "+accessToken)
	return req
}

// do sends req and returns the response. It fails t unless the response
// conforms to the served document (see check).
func (c *client) do(t testing.TB, req *http.Request) response {
	t.Helper()
	r, err := c.send(req)
	if r.status == 0 {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	assert.NoError(t, err)
	return r
}

// post sends body as JSON to path.
func (c *client) post(t testing.TB, path, body string) response {
	t.Helper()
	return c.do(t, c.newRequest(t, http.MethodPost, path, body))
}

// get sends a GET to path, with the access token unless it is empty.
func (c *client) get(t testing.TB, path, accessToken string) response {
	t.Helper()
	req := c.newRequest(t, http.MethodGet, path, "")
	if accessToken != "" {
		withBearer(req, accessToken)
	}
	return c.do(t, req)
}

// send sends req, remembers every password and token that went out or
// came back, and returns the response together with every way in which it
// breaks the served document or the API's conventions. It never touches a
// testing.T, so goroutines may call it; a response whose status is 0 was
// not received at all.
func (c *client) send(req *http.Request) (response, error) {
	recordRequestSecrets(req)
	res, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", req.Method, req.URL.Path, err)
	}
	r := response{status: res.StatusCode, header: res.Header, body: body}
	recordResponseSecrets(r)
	if err := c.check(req, r); err != nil {
		return r, fmt.Errorf("%s %s answered %d %s: %w", req.Method, req.URL.Path, r.status, r.body, err)
	}
	return r, nil
}

// check returns why r, the answer to req, breaks the served document or
// the API's conventions: its status, headers and body must be those the
// document gives the operation (an undocumented status is a failure); a
// request for which the document has no operation must get a 404 or 405
// problem; every error is a consistent problem; and no request in these
// tests may make the server fail.
func (c *client) check(req *http.Request, r response) error {
	var errs []error
	if err := c.validate(req, r); err != nil {
		errs = append(errs, err)
	}
	if r.status >= 500 {
		errs = append(errs, fmt.Errorf("the server failed with %d", r.status))
	}
	if r.status >= 400 {
		var p problem
		switch {
		case r.header.Get("Content-Type") != "application/problem+json":
			errs = append(errs, fmt.Errorf("error with Content-Type %q", r.header.Get("Content-Type")))
		case json.Unmarshal(r.body, &p) != nil:
			errs = append(errs, errors.New("error body is not JSON"))
		case p.Status != r.status:
			errs = append(errs, fmt.Errorf("problem status %d on a %d response", p.Status, r.status))
		case p.Type != "urn:gatehouse:problem:"+p.Code:
			errs = append(errs, fmt.Errorf("problem type %q does not name code %q", p.Type, p.Code))
		}
	}
	return errors.Join(errs...)
}

// validate checks r against the served document.
func (c *client) validate(req *http.Request, r response) error {
	c.validating.Lock()
	defer c.validating.Unlock()
	route, params, err := c.router.FindRoute(req)
	if err == nil && strings.HasSuffix(req.URL.Path, "/") != strings.HasSuffix(route.Path, "/") {
		// The router ignores a trailing slash; the server does not.
		err = &routers.RouteError{Reason: routers.ErrPathNotFound.Error()}
	}
	if _, ok := errors.AsType[*routers.RouteError](err); ok {
		if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			return fmt.Errorf("%s %s has no operation in the document but answered %d", req.Method, req.URL.Path, r.status)
		}
		var v any
		if err := json.Unmarshal(r.body, &v); err != nil {
			return fmt.Errorf("problem body is not JSON: %w", err)
		}
		return c.doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
	}
	if err != nil {
		return err
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

// problem is an RFC 9457 problem as the API sends it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

// fieldErrors returns a validation problem's errors as "field:code".
func (p problem) fieldErrors() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

// codeOf returns the code of r's problem body, or "".
func (r response) codeOf() string {
	var p problem
	_ = json.Unmarshal(r.body, &p)
	return p.Code
}

// problem fails t unless r is a problem with status and code, and returns it.
func (r response) problem(t testing.TB, status int, code string) problem {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	var p problem
	require.NoError(t, json.Unmarshal(r.body, &p), "body: %s", r.body)
	require.Equal(t, code, p.Code, "body: %s", r.body)
	return p
}

// bearerProblem fails t unless r is a 401 with code and a Bearer challenge
// that names the invalid_token error (RFC 6750).
func (r response) bearerProblem(t testing.TB, code string) {
	t.Helper()
	r.problem(t, http.StatusUnauthorized, code)
	challenge := r.header.Get("WWW-Authenticate")
	assert.True(t, strings.HasPrefix(challenge, "Bearer "), "WWW-Authenticate: %q", challenge)
	assert.Contains(t, challenge, `error="invalid_token"`)
}

// tokenResponse is the token response.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	User         user   `json:"user"`
}

// user is the user object.
type user struct {
	ID            string  `json:"id"`
	Email         *string `json:"email"`
	EmailVerified bool    `json:"email_verified"`
	Tier          string  `json:"tier"`
	CreatedAt     string  `json:"created_at"`
}

// tokens fails t unless r is a token response with status, and returns it.
func (r response) tokens(t testing.TB, status int) tokenResponse {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	var tr tokenResponse
	require.NoError(t, json.Unmarshal(r.body, &tr))
	require.NotEmpty(t, tr.AccessToken)
	require.NotEmpty(t, tr.RefreshToken)
	return tr
}

// user fails t unless r is a 200 user object, and returns it.
func (r response) user(t testing.TB) user {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var u user
	require.NoError(t, json.Unmarshal(r.body, &u))
	return u
}

// credentials is the body of register and login.
func credentials(email, password string) string {
	b, _ := json.Marshal(map[string]string{"email": email, "password": password})
	return string(b)
}

// refreshBody is the body of refresh and logout.
func refreshBody(refreshToken string) string {
	b, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	return string(b)
}

// register registers a new account and returns the token response.
func (c *client) register(t testing.TB, email, password string) tokenResponse {
	t.Helper()
	return c.post(t, "/v1/auth/register", credentials(email, password)).tokens(t, http.StatusCreated)
}

// login logs in and returns the token response.
func (c *client) login(t testing.TB, email, password string) tokenResponse {
	t.Helper()
	return c.post(t, "/v1/auth/login", credentials(email, password)).tokens(t, http.StatusOK)
}

// refresh presents a refresh token.
func (c *client) refresh(t testing.TB, refreshToken string) response {
	t.Helper()
	return c.post(t, "/v1/auth/refresh", refreshBody(refreshToken))
}

// me asks for the bearer's user.
func (c *client) me(t testing.TB, accessToken string) response {
	t.Helper()
	return c.get(t, "/v1/me", accessToken)
}

// newEmail returns an address no other test uses, starting with name.
func newEmail(name string) string {
	return name + "-" + strings.ToLower(rand.Text()[:12]) + "@example.com"
}

// newPassword returns a strong password no other test uses.
func newPassword() string {
	return "pw-" + rand.Text()
}

// secretSet is every password and token the tests have sent or received.
type secretSet struct {
	mu  sync.Mutex
	set map[string]struct{}
}

// usedSecrets is where the client records secrets; no process's output may
// contain any of them.
var usedSecrets = &secretSet{set: map[string]struct{}{testSecret: {}}}

// minSecretLength is the shortest string recorded as a secret: no valid
// password is shorter, and anything shorter may occur in a log by chance.
const minSecretLength = 8

func (s *secretSet) add(v string) {
	if len(v) < minSecretLength {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set[v] = struct{}{}
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.set))
	for v := range s.set {
		out = append(out, v)
	}
	return out
}

// secretMembers are the JSON members of request and response bodies that
// carry passwords or tokens.
var secretMembers = []string{"password", "current_password", "new_password", "refresh_token", "access_token", "token"}

// recordRequestSecrets records the bearer token, an access_token in the
// query string and the secret members of a JSON body.
func recordRequestSecrets(req *http.Request) {
	if scheme, token, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		usedSecrets.add(strings.TrimSpace(token))
	}
	if q, err := url.ParseQuery(req.URL.RawQuery); err == nil {
		usedSecrets.add(q.Get("access_token"))
	}
	if req.GetBody == nil {
		return
	}
	body, err := req.GetBody()
	if err != nil {
		return
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err == nil {
		recordMembers(b)
	}
}

// recordResponseSecrets records the tokens of a token response.
func recordResponseSecrets(r response) {
	recordMembers(r.body)
}

func recordMembers(body []byte) {
	var obj map[string]any
	if json.Unmarshal(body, &obj) != nil {
		return
	}
	for _, name := range secretMembers {
		if v, ok := obj[name].(string); ok {
			usedSecrets.add(v)
		}
	}
}
