package container_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/gatehouse-auth/gatehouse/test/gatehousecontainer"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
	"github.com/gatehouse-auth/gatehouse/test/pgtest/pgimage"
)

// uid is the user the image runs as: the Makefile's IMAGE_UID.
const uid = "65532"

// startTimeout bounds how long a container may take to start: migrations
// on an empty database included.
const startTimeout = time.Minute

// labels mark every container, so that make test removes those a killed
// test binary left behind, and the network, so that it can be found too.
var labels = pgtest.Labels()

// TestServesOnPostgres comes first: it starts Postgres while the image is
// built, and go test runs only GOMAXPROCS parallel tests at once. It starts
// both through gatehousecontainer, the helper other services' tests use,
// so that the helper is proved with the image it is for.
func TestServesOnPostgres(t *testing.T) {
	t.Parallel()
	requireDocker(t)
	const publicURL = "https://auth.example.test"
	gh := gatehousecontainer.Run(t,
		gatehousecontainer.WithImage(image(t)),
		gatehousecontainer.WithPostgresImage(pgimage.Name()),
		gatehousecontainer.WithLabels(labels),
		gatehousecontainer.WithEnv(map[string]string{"GATEHOUSE_PUBLIC_URL": publicURL}),
	)

	assert.Equal(t, "postgres", listening(t, gh.Container)["database"], "GATEHOUSE_DATABASE_URL overrides the image's SQLite default")
	top, err := docker("top", gh.Container.GetContainerID(), "-o", "pid,uid")
	require.NoError(t, err)
	assert.Equal(t, []string{uid}, processUIDs(t, top), "gatehouse serve runs as UID %s", uid)

	exerciseAccount(t, gh.URL, publicURL)
	status, _, body := call(t, http.MethodGet, gh.URL+"/v1/admin/users/no-such-user", "not-the-admin-key", nil)
	assert.Equal(t, http.StatusUnauthorized, status, "the admin API is on: %s", body)
	status, _, body = call(t, http.MethodGet, gh.URL+"/v1/admin/users/no-such-user", gh.AdminKey, nil)
	assert.Equal(t, http.StatusNotFound, status, "and takes the helper's key: %s", body)
}

func TestVersionIsStampedAndUserIsNotRoot(t *testing.T) {
	t.Parallel()
	ref := image(t)
	ctx := context.Background()

	ctr, err := testcontainers.Run(ctx, ref,
		testcontainers.WithCmd("version"),
		testcontainers.WithLabels(labels),
		testcontainers.WithLogger(log.TestLogger(t)),
		testcontainers.WithWaitStrategy(wait.ForExit().WithExitTimeout(startTimeout)),
	)
	testcontainers.CleanupContainer(t, ctr)
	require.NoError(t, withRyukHint(err))
	info, err := ctr.Inspect(ctx)
	require.NoError(t, err)
	out := logs(t, ctr)
	require.Equal(t, 0, info.State.ExitCode, "gatehouse version: %s", out)

	m := regexp.MustCompile(`^gatehouse (\S+) \(commit (\S+), built (\S+)\)\n$`).FindStringSubmatch(out)
	require.NotNil(t, m, "gatehouse version printed %q", out)
	version, commit, date := m[1], m[2], m[3]
	_, err = time.Parse(time.RFC3339, date)
	assert.NoError(t, err, "the build stamps its date (an unstamped binary says unknown)")
	assert.Equal(t, version, info.Config.Labels["org.opencontainers.image.version"])
	assert.Equal(t, commit, info.Config.Labels["org.opencontainers.image.revision"])
	assert.Equal(t, date, info.Config.Labels["org.opencontainers.image.created"])

	assert.Equal(t, uid+":"+uid, info.Config.User, "the image's user is numeric and not root")
}

func TestServesOnSQLiteInData(t *testing.T) {
	t.Parallel()
	ref := image(t)

	// No configuration at all: the image's own defaults.
	ctr, base := startGatehouse(t, ref, nil)

	assert.Equal(t, "sqlite3", listening(t, ctr)["database"])
	// Without GATEHOUSE_SECRET the server writes one beside the database,
	// which only works if /data is writable by the image's user.
	var paths []string
	for _, rec := range records(t, ctr) {
		if p, ok := rec["path"].(string); ok {
			paths = append(paths, p)
		}
	}
	assert.Contains(t, paths, "/data/gatehouse.db.secret", "the local secret is kept in /data")

	exerciseAccount(t, base, "http://localhost:8080")
}

// startGatehouse runs `gatehouse serve` from ref with env and returns the
// container and its base URL once it logs that it listens.
func startGatehouse(t *testing.T, ref string, env map[string]string, opts ...testcontainers.ContainerCustomizer) (*testcontainers.DockerContainer, string) {
	t.Helper()
	ctx := context.Background()
	ctr, err := testcontainers.Run(ctx, ref, append([]testcontainers.ContainerCustomizer{
		testcontainers.WithExposedPorts("8080/tcp"),
		testcontainers.WithEnv(env),
		testcontainers.WithLabels(labels),
		testcontainers.WithLogger(log.TestLogger(t)),
		testcontainers.WithWaitStrategy(wait.ForLog(`"msg":"listening"`).WithStartupTimeout(startTimeout)),
	}, opts...)...)
	testcontainers.CleanupContainer(t, ctr)
	if err != nil {
		var out string
		if ctr != nil {
			out = logs(t, ctr)
		}
		t.Fatalf("start gatehouse serve from %s: %v\nits output:\n%s", ref, withRyukHint(err), out)
	}
	base, err := ctr.PortEndpoint(ctx, "8080/tcp", "http")
	require.NoError(t, err)
	return ctr, base
}

// exerciseAccount registers a new user, logs in, refreshes, asks who it is
// and replays a spent refresh token, checking every answer. issuer is the
// server's GATEHOUSE_PUBLIC_URL.
func exerciseAccount(t *testing.T, base, issuer string) {
	t.Helper()
	email := "ada-" + randomHex(4) + "@example.com"
	const password = "correct horse battery staple"

	reg := authenticate(t, base, "/v1/auth/register", map[string]string{"email": email, "password": password}, http.StatusCreated)
	checkTokens(t, reg, issuer)
	require.NotNil(t, reg.User.Email)
	assert.Equal(t, email, *reg.User.Email)
	assert.Equal(t, "free", reg.User.Tier)

	login := authenticate(t, base, "/v1/auth/login", map[string]string{"email": strings.ToUpper(email), "password": password}, http.StatusOK)
	checkTokens(t, login, issuer)
	assert.Equal(t, reg.User.ID, login.User.ID, "login finds the registered user")
	assert.NotEqual(t, reg.RefreshToken, login.RefreshToken, "a login is a new session")

	refreshed := authenticate(t, base, "/v1/auth/refresh", map[string]string{"refresh_token": login.RefreshToken}, http.StatusOK)
	checkTokens(t, refreshed, issuer)
	assert.Equal(t, reg.User.ID, refreshed.User.ID)
	assert.NotEqual(t, login.RefreshToken, refreshed.RefreshToken, "refresh rotates the token")

	status, _, body := call(t, http.MethodGet, base+"/v1/me", refreshed.AccessToken, nil)
	require.Equal(t, http.StatusOK, status, "GET /v1/me: %s", body)
	var me user
	require.NoError(t, json.Unmarshal(body, &me), "GET /v1/me: %s", body)
	assert.Equal(t, reg.User.ID, me.ID)
	require.NotNil(t, me.Email, "GET /v1/me: %s", body)
	assert.Equal(t, email, *me.Email)

	// The successor refreshes, and the token it replaced is then spent:
	// presenting it again is reuse, not a retry.
	authenticate(t, base, "/v1/auth/refresh", map[string]string{"refresh_token": refreshed.RefreshToken}, http.StatusOK)
	status, _, body = call(t, http.MethodPost, base+"/v1/auth/refresh", "", map[string]string{"refresh_token": login.RefreshToken})
	assert.Equal(t, http.StatusUnauthorized, status, "a spent refresh token: %s", body)
	var problem struct{ Code string }
	require.NoError(t, json.Unmarshal(body, &problem), "a spent refresh token: %s", body)
	assert.Equal(t, "refresh_token_reused", problem.Code)
}

// tokens is the answer of register, login and refresh.
type tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	User         user   `json:"user"`
}

// user is the user object.
type user struct {
	ID    string  `json:"id"`
	Email *string `json:"email"`
	Tier  string  `json:"tier"`
}

// authenticate posts body to path and returns the token answer, which must
// come with status want and must not be cached.
func authenticate(t *testing.T, base, path string, body map[string]string, want int) tokens {
	t.Helper()
	status, header, raw := call(t, http.MethodPost, base+path, "", body)
	require.Equal(t, want, status, "POST %s: %s", path, raw)
	assert.Equal(t, "no-store", header.Get("Cache-Control"), "POST %s", path)
	var tok tokens
	require.NoError(t, json.Unmarshal(raw, &tok), "POST %s: %s", path, raw)
	return tok
}

// checkTokens checks the shape of a token answer: an ES256 at+jwt access
// token for the answer's user from issuer, living the default 15 minutes,
// and a refresh token of 32 random bytes.
func checkTokens(t *testing.T, tok tokens, issuer string) {
	t.Helper()
	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, int64(15*60), tok.ExpiresIn)
	refresh, err := base64.RawURLEncoding.DecodeString(tok.RefreshToken)
	if assert.NoError(t, err, "the refresh token is base64url") {
		assert.Len(t, refresh, 32)
	}
	assert.NotEmpty(t, tok.User.ID)

	parts := strings.Split(tok.AccessToken, ".")
	require.Len(t, parts, 3, "the access token is a JWS in compact form")
	var header struct{ Alg, Typ, Kid string }
	decodeSegment(t, parts[0], &header)
	assert.Equal(t, "ES256", header.Alg)
	assert.Equal(t, "at+jwt", header.Typ)
	assert.NotEmpty(t, header.Kid)
	var claims struct {
		Iss, Aud, Sub string
		Iat, Exp      int64
	}
	decodeSegment(t, parts[1], &claims)
	assert.Equal(t, issuer, claims.Iss)
	assert.Equal(t, "gatehouse", claims.Aud)
	assert.Equal(t, tok.User.ID, claims.Sub)
	assert.Equal(t, tok.ExpiresIn, claims.Exp-claims.Iat)
}

func decodeSegment(t *testing.T, segment string, v any) {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(segment)
	require.NoError(t, err, "a JWS segment is base64url")
	require.NoError(t, json.Unmarshal(raw, v), "a JWS segment is JSON: %s", raw)
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call sends a request with an optional bearer token and JSON body and
// returns the answer.
func call(t *testing.T, method, url, bearer string, body any) (int, http.Header, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := httpClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, res.Header, raw
}

// logs returns everything the container wrote so far.
func logs(t *testing.T, ctr *testcontainers.DockerContainer) string {
	t.Helper()
	rc, err := ctr.Logs(context.Background())
	require.NoError(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(b)
}

// records returns the container's JSON log records.
func records(t *testing.T, ctr *testcontainers.DockerContainer) []map[string]any {
	t.Helper()
	var recs []map[string]any
	lines := bufio.NewScanner(strings.NewReader(logs(t, ctr)))
	lines.Buffer(nil, 1<<20)
	for lines.Scan() {
		var rec map[string]any
		if json.Unmarshal(lines.Bytes(), &rec) == nil {
			recs = append(recs, rec)
		}
	}
	require.NoError(t, lines.Err())
	return recs
}

// listening returns the server's "listening" log record.
func listening(t *testing.T, ctr *testcontainers.DockerContainer) map[string]any {
	t.Helper()
	for _, rec := range records(t, ctr) {
		if rec["msg"] == "listening" {
			return rec
		}
	}
	t.Fatalf("no listening record in the log:\n%s", logs(t, ctr))
	return nil
}

// processUIDs returns the UID column of `docker top … -o pid,uid`.
func processUIDs(t *testing.T, top string) []string {
	t.Helper()
	rows := strings.Split(top, "\n")
	require.GreaterOrEqual(t, len(rows), 2, "docker top: %q", top)
	require.Equal(t, []string{"PID", "UID"}, strings.Fields(rows[0]), "docker top: %q", top)
	var uids []string
	for _, row := range rows[1:] {
		fields := strings.Fields(row)
		require.Len(t, fields, 2, "docker top: %q", top)
		uids = append(uids, fields[1])
	}
	return uids
}
