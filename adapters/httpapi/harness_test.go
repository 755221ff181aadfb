package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/memstore"
	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
	"github.com/gatehouse-auth/gatehouse/test/apptest"
	"github.com/gatehouse-auth/gatehouse/test/fake"
)

// panicPassword makes panickyHasher panic, with panicMessage, so tests can
// check what a panic leaks.
const (
	panicPassword = "please-panic-now"
	panicMessage  = "fakeHasher exploded: secret-internal-detail"
)

// panickyHasher is a fake.Hasher that panics on panicPassword.
type panickyHasher struct{ *fake.Hasher }

func (h panickyHasher) Hash(ctx context.Context, password string) (string, error) {
	if password == panicPassword {
		panic(panicMessage)
	}
	return h.Hasher.Hash(ctx, password)
}

func (h panickyHasher) Verify(ctx context.Context, encoded, password string) (bool, bool, error) {
	if password == panicPassword {
		panic(panicMessage)
	}
	return h.Hasher.Verify(ctx, encoded, password)
}

// fakeKeySet serves a fixed key set, or fails with err.
type fakeKeySet struct {
	set []byte
	err error
}

func (k fakeKeySet) JWKS(context.Context) ([]byte, error) { return k.set, k.err }
func (fakeKeySet) MaxAge() time.Duration                  { return time.Minute }

const testJWKS = `{"keys":[{"kty":"EC","kid":"k1","alg":"ES256","use":"sig","crv":"P-256",` +
	`"x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}`

// logBuffer collects the server's JSON log lines; the server writes from
// many goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns every log record.
func (b *logBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out
}

// requestLine returns the one "request" log record with the request ID.
func (b *logBuffer) requestLine(t *testing.T, id string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, rec := range b.lines(t) {
		if rec["msg"] == "request" && rec["request_id"] == id {
			found = append(found, rec)
		}
	}
	require.Len(t, found, 1, "one log line for request %s", id)
	return found[0]
}

const (
	accessTTL  = 15 * time.Minute
	refreshTTL = 720 * time.Hour
	password   = "correct horse battery staple"
	userAgent  = "httpapi-test/1.0"
	// publicURL is where users reach the server, as behind a proxy: the
	// links in emails point there, and the pages take forms from its origin.
	publicURL    = "https://auth.example.com"
	publicOrigin = publicURL
)

// start is when every test begins: in another zone and with a fraction of
// a second, which the API must write as 2026-11-26T09:00:00Z.
var start = time.Date(2026, 11, 26, 10, 0, 0, 987654321, time.FixedZone("CET", 3600))

// harness is a real HTTP server on the handler New returns, with the use
// cases of apptest on memstore and its fakes. Every response it receives
// is checked against openapi.json and the rules every response obeys.
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	app    *apptest.Env
	store  *memstore.Store
	tokens *fake.AccessTokens
	mailer *fake.Mailer
	clock  *fake.Clock
	logs   *logBuffer
}

func newHarness(t *testing.T, configure ...func(*httpapi.Config)) *harness {
	t.Helper()
	return newHarnessWith(t, nil, configure...)
}

// newHarnessWith is newHarness with the use cases' ports changed by ports
// first, if it is not nil.
func newHarnessWith(t *testing.T, ports func(*app.Ports), configure ...func(*httpapi.Config)) *harness {
	t.Helper()
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	env := newEnv(t, logger, ports)
	h := &harness{t: t, app: env, store: env.Store, tokens: env.Tokens, mailer: env.Mailer, clock: env.Clock, logs: logs}
	cfg := handlerConfig(env, logger)
	for _, f := range configure {
		f(&cfg)
	}
	h.srv = httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(h.srv.Close)
	return h
}

// newEnv builds the use cases the handler runs on, logging to logger, with
// a hasher that panics on panicPassword, and with their ports changed by
// ports, if it is not nil.
func newEnv(tb testing.TB, logger *slog.Logger, ports func(*app.Ports)) *apptest.Env {
	tb.Helper()
	return apptest.New(tb, start, apptest.WithLogger(logger), apptest.WithPorts(func(p *app.Ports) {
		p.Hasher = panickyHasher{p.Hasher.(*fake.Hasher)}
		if ports != nil {
			ports(p)
		}
	}))
}

// handlerConfig is the handler's configuration over env's use cases, with
// appURL as the one URL a redirect_to may name.
func handlerConfig(env *apptest.Env, logger *slog.Logger) httpapi.Config {
	return httpapi.Config{
		Auth: env.Auth, Account: env.Account, Admin: env.Admin,
		KeySet: fakeKeySet{set: []byte(testJWKS)}, Logger: logger, PublicURL: publicURL,
		RedirectURLs: []string{appURL},
	}
}

// request builds a request to path; a non-nil body goes as application/json.
func (h *harness) request(method, path string, body io.Reader) *http.Request {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, body)
	require.NoError(h.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", userAgent)
	return req
}

// post sends body as JSON.
func (h *harness) post(path, body string) response {
	h.t.Helper()
	return h.send(h.request(http.MethodPost, path, strings.NewReader(body)))
}

// get sends a GET with the access token, if any.
func (h *harness) get(path, accessToken string) response {
	h.t.Helper()
	return h.call(http.MethodGet, path, accessToken, "")
}

// call sends a request with the access token, if any, and the body, if
// any, as JSON.
func (h *harness) call(method, path, accessToken, body string) response {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := h.request(method, path, r)
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return h.send(req)
}

// postForm sends form as a browser submits it, with the headers given
// ("Origin", "Sec-Fetch-Site"...), none by default.
func (h *harness) postForm(path string, form url.Values, header ...string) response {
	h.t.Helper()
	require.Zero(h.t, len(header)%2, "header names and values")
	req := h.request(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	return h.send(req)
}

// linkToken returns the single-use token of the newest email of purpose
// sent to address.
func (h *harness) linkToken(address string, purpose domain.EmailPurpose) string {
	h.t.Helper()
	mails := h.mailer.To(address, purpose)
	require.NotEmpty(h.t, mails, "no %s email to %s", purpose, address)
	token := mails[len(mails)-1].Secret
	require.NotEmpty(h.t, token)
	return token
}

// response is a received response, its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// send sends req and checks the response against the rules that hold for
// every response: the security headers, a request ID, a problem body for
// every error, and conformance to openapi.json.
func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	res, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	r := response{status: res.StatusCode, header: res.Header, body: body}

	checkSecurityHeaders(h.t, r)
	assert.Regexp(h.t, `^[A-Za-z0-9._-]{1,128}$`, r.header.Get("X-Request-ID"))
	if r.status >= 400 && !r.isPage() {
		p := r.problem(h.t)
		assert.Equal(h.t, r.status, p.Status, "problem status is the HTTP status")
		assert.Equal(h.t, "urn:gatehouse:problem:"+p.Code, p.Type)
		assert.NotEmpty(h.t, p.Title)
		assert.NotEmpty(h.t, p.Detail)
	}
	checkAgainstDocument(h.t, req, r)
	return r
}

// checkSecurityHeaders fails unless r has the headers every response has,
// and those of an API response or of a page, whichever it is.
func checkSecurityHeaders(t *testing.T, r response) {
	t.Helper()
	assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	assert.Equal(t, "no-referrer", r.header.Get("Referrer-Policy"))
	assert.Equal(t, "DENY", r.header.Get("X-Frame-Options"))
	if r.isPage() {
		checkPageHeaders(t, r)
		return
	}
	assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", r.header.Get("Content-Security-Policy"))
}

// pageCSP is the policy of every page, with the hash of its style as $1.
var pageCSP = regexp.MustCompile(`^default-src 'none'; style-src 'sha256-([A-Za-z0-9+/]+=*)'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$`)

// styleElement finds a page's one inline style.
var styleElement = regexp.MustCompile(`(?s)<style>(.*?)</style>`)

// checkPageHeaders fails unless r has the headers of a page, and its CSP
// allows exactly its inline style and no script.
func checkPageHeaders(t *testing.T, r response) {
	t.Helper()
	assert.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	csp := pageCSP.FindStringSubmatch(r.header.Get("Content-Security-Policy"))
	if !assert.NotNil(t, csp, "page CSP: %s", r.header.Get("Content-Security-Policy")) {
		return
	}
	styles := styleElement.FindAllStringSubmatch(string(r.body), -1)
	if assert.Len(t, styles, 1, "one inline style") {
		sum := sha256.Sum256([]byte(styles[0][1]))
		assert.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), csp[1], "the CSP allows the page's style by its hash")
	}
	assert.NotContains(t, strings.ToLower(string(r.body)), "<script", "pages run no script")
}

// isPage reports whether r is an HTML page rather than JSON.
func (r response) isPage() bool {
	return strings.HasPrefix(r.header.Get("Content-Type"), "text/html")
}

// problemBody is an RFC 9457 problem as the API sends it.
type problemBody struct {
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

// problem decodes r as a problem, failing unless it is one.
func (r response) problem(t *testing.T) problemBody {
	t.Helper()
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "body: %s", r.body)
	var p problemBody
	require.NoError(t, json.Unmarshal(r.body, &p), "body: %s", r.body)
	return p
}

// requireProblem fails unless r is a problem with status and code.
func (r response) requireProblem(t *testing.T, status int, code string) problemBody {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	p := r.problem(t)
	require.Equal(t, code, p.Code)
	return p
}

// fieldErrors returns a validation problem's errors as "field:code".
func (p problemBody) fieldErrors() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

// tokenBody is the token response.
type tokenBody struct {
	AccessToken  string   `json:"access_token"`
	TokenType    string   `json:"token_type"`
	ExpiresIn    int      `json:"expires_in"`
	RefreshToken string   `json:"refresh_token"`
	User         userBody `json:"user"`
}

// userBody is the user object.
type userBody struct {
	ID            string  `json:"id"`
	Email         *string `json:"email"`
	EmailVerified bool    `json:"email_verified"`
	Tier          string  `json:"tier"`
	CreatedAt     string  `json:"created_at"`
}

// tokens decodes a token response with status, checking the headers every
// token response has.
func (r response) tokens(t *testing.T, status int) tokenBody {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, "no-cache", r.header.Get("Pragma"))
	var tb tokenBody
	require.NoError(t, json.Unmarshal(r.body, &tb))
	return tb
}

// user decodes a user object.
func (r response) user(t *testing.T) userBody {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var u userBody
	require.NoError(t, json.Unmarshal(r.body, &u))
	return u
}

// register registers email and returns the token response.
func (h *harness) register(email string) tokenBody {
	h.t.Helper()
	return h.post("/v1/auth/register", `{"email":"`+email+`","password":"`+password+`"}`).tokens(h.t, http.StatusCreated)
}

// session returns the one active session of the user.
func (h *harness) session(user string) domain.Session {
	h.t.Helper()
	sessions, err := h.store.Stores().Sessions.ListActive(context.Background(), domain.UserID(user), h.clock.Now())
	require.NoError(h.t, err)
	require.Len(h.t, sessions, 1)
	return sessions[0]
}

// apiDoc is openapi.json, loaded with kin-openapi, and a router over it.
var apiDoc = sync.OnceValues(func() (*apiDocument, error) {
	data, err := os.ReadFile("openapi.json")
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, err
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	return &apiDocument{doc: doc, router: router}, nil
})

type apiDocument struct {
	doc    *openapi3.T
	router routers.Router
}

func loadDocument(t *testing.T) *apiDocument {
	t.Helper()
	d, err := apiDoc()
	require.NoError(t, err)
	return d
}

// validateResponse checks r, the answer to req, against the document: its
// status must be documented for the operation, its headers and body must
// match.
func (d *apiDocument) validateResponse(req *http.Request, r response) error {
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		return err
	}
	if strings.HasSuffix(req.URL.Path, "/") != strings.HasSuffix(route.Path, "/") {
		// The router ignores a trailing slash; the server does not.
		return &routers.RouteError{Reason: routers.ErrPathNotFound.Error()}
	}
	return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true},
	})
}

// validateProblem checks body against the document's Problem schema.
func (d *apiDocument) validateProblem(body []byte) error {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return d.doc.Components.Schemas["Problem"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
}

// checkAgainstDocument fails unless r, the answer to req, conforms to
// openapi.json. Requests the document has no operation for (an unknown
// path, an unsupported method, the admin API when it is off) must get a 404
// or 405 problem that matches the Problem schema.
func checkAgainstDocument(t *testing.T, req *http.Request, r response) {
	t.Helper()
	d := loadDocument(t)
	err := d.validateResponse(req, r)
	var routeErr *routers.RouteError
	if errors.As(err, &routeErr) {
		assert.Contains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, r.status,
			"%s %s is not in openapi.json but answered %d", req.Method, req.URL.Path, r.status)
		assert.NoError(t, d.validateProblem(r.body), "problem body %s", r.body)
		return
	}
	assert.NoError(t, err, "%s %s: %d %s", req.Method, req.URL.Path, r.status, r.body)
}

// noLeak fails if s contains any of the secrets.
func noLeak(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, secret := range secrets {
		require.NotEmpty(t, secret)
		assert.NotContains(t, s, secret)
	}
}

var rfc3339UTC = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
