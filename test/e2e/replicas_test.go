package e2e_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/ent/migrate/migrations"
	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// reloadWait bounds the wait for a replica to read the key set again by
// itself: its reload interval (30s, not configurable) with margin.
const reloadWait = 40 * time.Second

// fleet is three `gatehouse serve` processes, A, B and C, on one Postgres
// database, with the rate limits on, and a connection of the test's own to
// that database.
type fleet struct {
	env     map[string]string
	servers []*server
	clients []*client // A, B, C
	db      *sql.DB
}

// replicaNames are the replicas' names, by index, for messages.
var replicaNames = []string{"A", "B", "C", "D"}

// TestReplicas: three replicas serve one Postgres database as one service.
// Two start at once on an empty database and both come up, having applied
// each migration exactly once between them; a token, a logout, a reuse
// detection, a refresh retry and a rate-limit count made on one hold on
// all; the JWKS is
// the same everywhere; and a key rotated in while they run reaches every
// one of them without a restart.
func TestReplicas(t *testing.T) {
	t.Parallel()
	gatehouseBinary(t) // fail, rather than skip, when the build failed
	url := pgtest.EmptyDatabase(t)
	f := &fleet{env: map[string]string{
		"GATEHOUSE_DATABASE_URL": url,
		"GATEHOUSE_SECRET":       testSecret,
		"GATEHOUSE_PUBLIC_URL":   publicURL,
		"GATEHOUSE_RATE_LIMITS":  "on", // the harness turns them off by default
	}}
	var err error
	f.db, err = sql.Open("pgx", url)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, f.db.Close()) })

	// The replicas belong to the whole test, not to a subtest, whose end
	// would stop them.
	var goose sql.NullString
	require.NoError(t, f.db.QueryRowContext(context.Background(), "SELECT to_regclass('goose_db_version')::text").Scan(&goose))
	require.False(t, goose.Valid, "the database is empty before the replicas start")
	f.servers = startTogether(t, f.env, 2)
	f.servers = append(f.servers, startServer(t, f.env))
	for _, s := range f.servers {
		f.clients = append(f.clients, newClient(t, s))
		require.NotContains(t, s.log.String(), "every rate limit is disabled")
	}

	t.Run("migrations applied once", func(t *testing.T) { testReplicasMigrations(t, f) })
	// Before the rotation, which changes the key set.
	t.Run("same JWKS everywhere", func(t *testing.T) { testReplicasJWKS(t, f) })

	// The rotation spends most of its time waiting for a replica's own
	// key reload; the rest run meanwhile, one after another, so that their
	// password hashes do not pile up on the replicas' few hashing slots.
	var wg sync.WaitGroup
	wg.Go(func() {
		t.Run("key rotation reaches every replica", func(t *testing.T) { testReplicasRotation(t, f) })
	})
	t.Run("tokens verify everywhere", func(t *testing.T) { testReplicasTokens(t, f) })
	t.Run("logout holds everywhere", func(t *testing.T) { testReplicasLogout(t, f) })
	t.Run("reuse detection holds everywhere", func(t *testing.T) { testReplicasReuse(t, f) })
	t.Run("refresh retries agree across replicas", func(t *testing.T) { testReplicasRetry(t, f) })
	t.Run("rate limits count across replicas", func(t *testing.T) { testReplicasRateLimit(t, f) })
	wg.Wait()
}

// testReplicasMigrations: after A and B started at the same moment on an
// empty database, and C once they listened, goose's version table and
// `gatehouse migrate status` show every migration applied exactly once.
func testReplicasMigrations(t *testing.T, f *fleet) {
	ctx := context.Background()
	for i, s := range f.servers {
		assert.Contains(t, s.log.String(), `"msg":"database migrated"`, "replica %s migrated, or found nothing pending", replicaNames[i])
	}

	files := migrationFiles(t)
	versions := make([]int64, len(files))
	for i, name := range files {
		v, _, ok := strings.Cut(name, "_")
		require.True(t, ok, "migration file %s", name)
		var err error
		versions[i], err = strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "migration file %s", name)
	}

	rows, err := f.db.QueryContext(ctx,
		"SELECT version_id, count(*) FROM goose_db_version WHERE version_id > 0 GROUP BY version_id ORDER BY version_id")
	require.NoError(t, err)
	defer rows.Close()
	var applied []int64
	for rows.Next() {
		var version, n int64
		require.NoError(t, rows.Scan(&version, &n))
		assert.EqualValues(t, 1, n, "migration %d is recorded exactly once", version)
		applied = append(applied, version)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, versions, applied, "goose's version table records every migration")

	out, code := runGatehouse(t, f.env, "migrate", "status")
	require.Zero(t, code, "gatehouse migrate status: %s", out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.NotEmpty(t, lines)
	assert.Equal(t, []string{"VERSION", "NAME", "APPLIED"}, strings.Fields(lines[0]))
	var (
		listed         []string
		listedVersions []int64
	)
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		require.Len(t, fields, 3, "migrate status line %q", line)
		listed = append(listed, fields[1])
		v, err := strconv.ParseInt(fields[0], 10, 64)
		assert.NoError(t, err, "line %q", line)
		listedVersions = append(listedVersions, v)
		_, err = time.Parse(time.RFC3339, fields[2])
		assert.NoError(t, err, "migration %s is applied, with a time: %q", fields[1], line)
	}
	assert.Equal(t, files, listed, "migrate status lists every migration, once each")
	assert.Equal(t, versions, listedVersions, "with its version")
}

// testReplicasJWKS: in the steady state the three replicas serve the same
// JWKS, to the byte, and it holds exactly the stored keys.
func testReplicasJWKS(t *testing.T, f *fleet) {
	stored := storedKids(t, f.db)
	require.NotEmpty(t, stored)
	if len(stored) > 1 {
		// A and B may each have made a first key, when neither saw the
		// other's (accesstoken.New allows for that). The one that read
		// the store first lacks the other's until its next reload; that
		// is the steady state to wait for.
		t.Logf("the replicas that started together made %d first keys; waiting for their next reload", len(stored))
		require.Eventually(t, func() bool {
			bodies := f.rawJWKS()
			return bodies[0] != "" && bodies[0] == bodies[1] && bodies[1] == bodies[2]
		}, reloadWait, 250*time.Millisecond, "the replicas' JWKS converge")
	}
	a := string(f.clients[0].get(t, "/.well-known/jwks.json", "").body)
	for i, c := range f.clients[1:] {
		assert.Equal(t, a, string(c.get(t, "/.well-known/jwks.json", "").body), "the JWKS of %s is A's", replicaNames[i+1])
	}
	for i, c := range f.clients {
		set, _ := c.jwks(t)
		assert.ElementsMatch(t, stored, kids(set), "the JWKS of %s holds exactly the stored keys", replicaNames[i])
	}
}

// testReplicasTokens: a token issued by any replica verifies on every
// replica, and all of them sign with the same key.
func testReplicasTokens(t *testing.T, f *fleet) {
	email, password := newEmail("replicas"), newPassword()
	reg := f.clients[0].register(t, email, password)
	issued := []string{reg.AccessToken}
	for _, c := range f.clients[1:] {
		issued = append(issued, c.login(t, email, password).AccessToken)
	}
	for i, token := range issued {
		assert.Equal(t, kidOf(t, issued[0]), kidOf(t, token), "%s signs with A's key", replicaNames[i])
		for j, c := range f.clients {
			u := c.me(t, token).user(t)
			assert.Equal(t, reg.User.ID, u.ID, "a token issued by %s verifies on %s", replicaNames[i], replicaNames[j])
		}
	}
}

// testReplicasLogout: a session refreshed on every replica in turn and
// then logged out on one can no longer be refreshed on any; the user's
// other session lives on everywhere.
func testReplicasLogout(t *testing.T, f *fleet) {
	a, b, c := f.clients[0], f.clients[1], f.clients[2]
	email, password := newEmail("replicas-logout"), newPassword()
	reg := a.register(t, email, password)
	refresh := reg.RefreshToken
	for _, cl := range []*client{b, c, a} {
		refresh = cl.refresh(t, refresh).tokens(t, http.StatusOK).RefreshToken
	}
	other := c.login(t, email, password)

	b.post(t, "/v1/auth/logout", refreshBody(refresh)).noContent(t)
	for i, cl := range f.clients {
		cl.refresh(t, refresh).problem(t, http.StatusUnauthorized, "invalid_refresh_token")
		assert.NotContains(t, cl.sessions(t, other.AccessToken), sid(t, reg.AccessToken), "the session is gone on %s", replicaNames[i])
	}
	refresh = other.RefreshToken
	for i, cl := range f.clients {
		next := cl.refresh(t, refresh).tokens(t, http.StatusOK)
		assert.Equal(t, reg.User.ID, next.User.ID, "the user's other session refreshes on %s", replicaNames[i])
		refresh = next.RefreshToken
	}
}

// testReplicasRetry: concurrent refreshes of one token, spread over A, B
// and C (a client retrying through a load balancer), all get the same
// successor, since the replicas settle the race in the one database; the
// successor refreshes on any replica, and then the token they shared is
// reuse on every one.
func testReplicasRetry(t *testing.T, f *fleet) {
	a, b, c := f.clients[0], f.clients[1], f.clients[2]
	reg := a.register(t, newEmail("replicas-retry"), newPassword())
	successor := refreshAtOnce(t, f.clients, reg)
	b.refresh(t, successor).tokens(t, http.StatusOK)
	c.refresh(t, reg.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")
}

// testReplicasReuse: a token that B rotated away, presented to A, is reuse;
// A revokes the session, and its newest token, issued by C, fails on B and
// C. The user's other session is untouched.
func testReplicasReuse(t *testing.T, f *fleet) {
	a, b, c := f.clients[0], f.clients[1], f.clients[2]
	email, password := newEmail("replicas-reuse"), newPassword()
	a.register(t, email, password)
	first := a.login(t, email, password)
	second := b.refresh(t, first.RefreshToken).tokens(t, http.StatusOK)
	newest := c.refresh(t, second.RefreshToken).tokens(t, http.StatusOK)
	other := b.login(t, email, password)

	a.refresh(t, first.RefreshToken).problem(t, http.StatusUnauthorized, "refresh_token_reused")
	b.refresh(t, newest.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")
	c.refresh(t, newest.RefreshToken).problem(t, http.StatusUnauthorized, "invalid_refresh_token")

	refresh := other.RefreshToken
	for i, cl := range f.clients {
		next := cl.refresh(t, refresh).tokens(t, http.StatusOK)
		assert.Equal(t, first.User.ID, next.User.ID, "the user's other session refreshes on %s", replicaNames[i])
		refresh = next.RefreshToken
	}
}

// testReplicasRateLimit: ten failed logins for one account from one client,
// spread over A, B and C, use up its allowance on all three: the eleventh
// attempt is refused on any of them, the right password included. Another
// account from the same client is unaffected.
func testReplicasRateLimit(t *testing.T, f *fleet) {
	email, password := newEmail("replicas-locked"), newPassword()
	f.clients[0].register(t, email, password)
	bystander, bystanderPassword := newEmail("replicas-bystander"), newPassword()
	f.clients[1].register(t, bystander, bystanderPassword)

	wrong := credentials(email, password+"-wrong")
	for i := range 10 {
		f.clients[i%3].post(t, "/v1/auth/login", wrong).problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	for _, c := range f.clients {
		c.post(t, "/v1/auth/login", wrong).rateLimited(t, loginWindow)
	}
	f.clients[2].post(t, "/v1/auth/login", credentials(email, password)).rateLimited(t, loginWindow)

	for _, c := range f.clients {
		c.post(t, "/v1/auth/login", credentials(bystander, bystanderPassword+"-wrong")).
			problem(t, http.StatusUnauthorized, "invalid_credentials")
	}
	f.clients[0].login(t, bystander, bystanderPassword)
}

// testReplicasRotation: `gatehouse keys rotate`, run while A, B and C
// serve, reaches each of them without a restart.
//
// No replica signs with the new key before its activation delay (95s), so
// the test signs a token with it itself: it holds GATEHOUSE_SECRET, as a
// replica does, and opens the key's private half from the database the
// way accesstoken documents. That token stands for one from a replica
// whose clock runs ahead. Its unknown kid makes A and B read the key set
// at once, and their JWKS then publishes the new key. C is left to reload
// by itself, which it does within its reload interval: that is awaited.
// D, started after the rotation as a restarted replica would be,
// publishes both keys at once and still signs with the old one, and the
// others verify its tokens.
func testReplicasRotation(t *testing.T, f *fleet) {
	a := f.clients[0]
	email, password := newEmail("replicas-rotate"), newPassword()
	before := a.register(t, email, password)
	oldKid := kidOf(t, before.AccessToken)
	cached, _ := a.jwks(t) // a verifier's copy, fetched before the rotation
	oldKids := kids(cached)
	require.Contains(t, oldKids, oldKid)

	rotatedAt := time.Now()
	out, code := runGatehouse(t, f.env, "keys", "rotate")
	require.Zero(t, code, "gatehouse keys rotate: %s", out)
	m := newKeyLine.FindStringSubmatch(out)
	require.NotNil(t, m, "gatehouse keys rotate prints the new kid: %s", out)
	newKid := m[1]
	require.NotContains(t, oldKids, newKid)
	require.ElementsMatch(t, append(slices.Clone(oldKids), newKid), storedKids(t, f.db), "the new key is stored beside the old")

	// Which replicas have not read the key set since the rotation: for
	// those the checks below show the reload, not an earlier one.
	for i, c := range f.clients {
		set, _ := c.jwks(t)
		if slices.Contains(kids(set), newKid) {
			t.Logf("%s had read the key set again by itself before the checks began", replicaNames[i])
		}
	}

	newKey := openSigningKey(t, f.db, newKid)
	claims := withMembers(jwtClaims(t, before.AccessToken), map[string]any{
		"jti": "e2e-" + rand.Text(),
		"iat": time.Now().Unix(),
		"exp": time.Now().Add(10 * time.Minute).Unix(),
	})
	header := map[string]any{"alg": "ES256", "typ": "at+jwt", "kid": newKid}
	signedByNew := forge(t, header, claims, jwt.SigningMethodES256, newKey)

	// A and B: the new kid verifies at once, and the reload it caused
	// publishes the key.
	for i, c := range f.clients[:2] {
		assert.Equal(t, before.User.ID, c.me(t, signedByNew).user(t).ID, "a token of the new key verifies on %s at once", replicaNames[i])
		set, _ := c.jwks(t)
		require.NotEmpty(t, set.Keys)
		assert.Equal(t, newKid, kids(set)[0], "%s publishes the new key first once it has read it", replicaNames[i])
		assert.ElementsMatch(t, append(slices.Clone(oldKids), newKid), kids(set), "%s publishes old and new keys", replicaNames[i])
	}

	// D, started after the rotation, publishes both keys at once and still
	// signs with the old one, which every other replica, and a verifier
	// holding the JWKS of before the rotation, verifies.
	srvD := startServer(t, f.env)
	d := newClient(t, srvD)
	setD, _ := d.jwks(t)
	assert.ElementsMatch(t, append(slices.Clone(oldKids), newKid), kids(setD), "D publishes both keys from its start")
	fromD := d.login(t, email, password).AccessToken
	require.Less(t, time.Since(rotatedAt), activationDelay, "the scenario must log in before the new key may sign")
	assert.Equal(t, oldKid, kidOf(t, fromD), "D signs with the old key until the new one activates")
	verifyWithJWKS(t, cached, fromD)
	for i, c := range f.clients {
		assert.Equal(t, before.User.ID, c.me(t, fromD).user(t).ID, "%s verifies D's token", replicaNames[i])
	}
	fromA := a.login(t, email, password).AccessToken
	require.Less(t, time.Since(rotatedAt), activationDelay, "the scenario must log in before the new key may sign")
	assert.Equal(t, oldKid, kidOf(t, fromA), "A, which has read the new key, still signs with the old one")
	d.me(t, fromA).user(t)
	jwksD := string(d.get(t, "/.well-known/jwks.json", "").body)
	for i, c := range f.clients[:2] {
		assert.Equal(t, jwksD, string(c.get(t, "/.well-known/jwks.json", "").body), "%s's JWKS is D's, to the byte", replicaNames[i])
	}

	// C reads the key set again by itself within its reload interval.
	// This waits for that reload (up to 30s), an event, not a set time.
	waitStart := time.Now()
	require.Eventually(t, func() bool {
		return f.rawJWKS()[2] == jwksD
	}, reloadWait, 250*time.Millisecond, "C's JWKS becomes D's once C has reloaded by itself")
	t.Logf("C published the new key %s after the rotation (waited %s)", time.Since(rotatedAt).Round(time.Millisecond), time.Since(waitStart).Round(time.Millisecond))
	for i, c := range append(slices.Clone(f.clients[2:]), d) {
		assert.Equal(t, before.User.ID, c.me(t, signedByNew).user(t).ID, "a token of the new key verifies on %s", replicaNames[i+2])
	}

	// The control: the new kid on a signature of another key is refused
	// everywhere, so the acceptances above were the key's.
	stranger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	forged := forge(t, header, claims, jwt.SigningMethodES256, stranger)
	for i, c := range append(slices.Clone(f.clients), d) {
		c.me(t, forged).bearerProblem(t, "invalid_token")
		// The old key keeps verifying its tokens.
		assert.Equal(t, before.User.ID, c.me(t, before.AccessToken).user(t).ID, "the old key still verifies on %s", replicaNames[i])
	}
}

// startTogether launches n servers with env at the same moment and returns
// once all of them listen. Each is stopped when t ends; one that does not
// come up fails t.
func startTogether(t *testing.T, env map[string]string, n int) []*server {
	t.Helper()
	servers := make([]*server, n)
	addrs := make([]<-chan string, n)
	for i := range servers {
		s, listening := launch(t, env)
		servers[i], addrs[i] = s, listening
		t.Cleanup(func() {
			if s.baseURL != "" {
				s.stop(t)
				return
			}
			// It never listened: it has been killed, or is being, below.
			s.kill()
			checkNoSecrets(t, "gatehouse serve", s.log.String())
		})
	}
	deadline := time.After(startTimeout)
	for i, s := range servers {
		select {
		case addr := <-addrs[i]:
			s.baseURL = "http://" + addr
		case <-s.drained:
			<-s.exited
			t.Fatalf("replica %s exited before it listened (%v); output:\n%s", replicaNames[i], s.waitErr, s.log)
		case <-deadline:
			t.Fatalf("replica %s did not listen within %s; output:\n%s", replicaNames[i], startTimeout, s.log)
		}
	}
	return servers
}

// rawJWKS returns the JWKS document of A, B and C as they serve it, ""
// for one that could not be fetched or broke the API's conventions. It
// never touches a testing.T, so Eventually's goroutine may call it.
func (f *fleet) rawJWKS() []string {
	out := make([]string, len(f.clients))
	for i, c := range f.clients {
		req, err := http.NewRequest(http.MethodGet, c.srv.baseURL+"/.well-known/jwks.json", nil)
		if err != nil {
			continue
		}
		r, err := c.send(req)
		if err == nil && r.status == http.StatusOK {
			out[i] = string(r.body)
		}
	}
	return out
}

// migrationFiles returns the names of the Postgres migrations the binary
// embeds, in version order.
func migrationFiles(t *testing.T) []string {
	t.Helper()
	fsys, err := migrations.FS("postgres")
	require.NoError(t, err)
	files, err := fs.Glob(fsys, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	slices.Sort(files)
	return files
}

// storedKids returns the IDs of the signing keys in the database.
func storedKids(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), "SELECT id FROM signing_keys")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		out = append(out, id)
	}
	require.NoError(t, rows.Err())
	return out
}

// openSigningKey reads the key kid from the database and opens its private
// half with testSecret, as accesstoken's package doc describes the format:
// nonce || AES-256-GCM(PKCS #8 DER) with the key ID as additional data,
// under HKDF-SHA256(secret, no salt, "gatehouse signing key v1"). It fails
// t unless the private half belongs to the stored public key.
func openSigningKey(t *testing.T, db *sql.DB, kid string) *ecdsa.PrivateKey {
	t.Helper()
	var public, sealed []byte
	require.NoError(t, db.QueryRowContext(context.Background(),
		"SELECT public_key, encrypted_private_key FROM signing_keys WHERE id = $1", kid).Scan(&public, &sealed))
	key, err := hkdf.Key(sha256.New, []byte(testSecret), nil, "gatehouse signing key v1", 32)
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	aead, err := cipher.NewGCM(block)
	require.NoError(t, err)
	require.Greater(t, len(sealed), aead.NonceSize())
	der, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(kid))
	require.NoError(t, err, "GATEHOUSE_SECRET opens key %s", kid)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	require.NoError(t, err)
	private, ok := parsed.(*ecdsa.PrivateKey)
	require.True(t, ok, "key %s is %T", kid, parsed)
	pub, err := x509.ParsePKIXPublicKey(public)
	require.NoError(t, err)
	require.True(t, private.PublicKey.Equal(pub), "key %s: the private half matches the public key", kid)
	return private
}
