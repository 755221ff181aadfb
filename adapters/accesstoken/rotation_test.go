package accesstoken_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestFirstKeySignsAtOnce(t *testing.T) {
	e := newEnv()
	a := e.replica(t)
	kid0 := e.keys.stored()[0].ID
	require.Equal(t, kid0, e.signingKid(t, a), "no JWKS was served before the first key existed")
	require.Equal(t, []string{kid0}, jwksKids(t, a))

	// A second key within the activation delay of the first, as when two
	// replicas start together on an empty database: the older signs, also
	// on a replica started after both exist, until the newer activates.
	kid1, err := a.Rotate(t.Context())
	require.NoError(t, err)
	b := e.replica(t)
	for _, iss := range []*accesstoken.Issuer{a, b} {
		require.Equal(t, kid0, e.signingKid(t, iss))
		require.Equal(t, []string{kid1, kid0}, jwksKids(t, iss))
	}
	e.clock.Set(e.createdAt(t, kid1).Add(testActivation))
	for _, iss := range []*accesstoken.Issuer{a, b} {
		require.Equal(t, kid1, e.signingKid(t, iss))
	}
}

func TestRotationPublishesBeforeSigning(t *testing.T) {
	e := newEnv()
	a := e.replica(t) // the process that rotates, like `gatehouse keys rotate`
	b := e.replica(t)
	kid0 := e.keys.stored()[0].ID

	rotatedAt := e.clock.Advance(10 * time.Second)
	kid1, err := a.Rotate(t.Context())
	require.NoError(t, err)
	require.NotEqual(t, kid0, kid1)
	require.Equal(t, rotatedAt, e.createdAt(t, kid1))
	activeAt := rotatedAt.Add(testActivation)

	require.Equal(t, []string{kid1, kid0}, jwksKids(t, a), "the rotating process publishes the new key at once")
	require.Equal(t, kid0, e.signingKid(t, a), "and goes on signing with the old one")
	require.Equal(t, []string{kid0}, jwksKids(t, b), "another replica has not read the store since")
	e.clock.Set(t0.Add(testReload))
	require.Equal(t, []string{kid1, kid0}, jwksKids(t, b), "it publishes the new key at its next reload")
	require.Equal(t, kid0, e.signingKid(t, b))
	c := e.replica(t)
	require.Equal(t, []string{kid1, kid0}, jwksKids(t, c), "a replica started after the rotation publishes both")
	require.Equal(t, kid0, e.signingKid(t, c), "and signs with the old key")

	replicas := []*accesstoken.Issuer{a, b, c}
	e.clock.Set(activeAt.Add(-time.Nanosecond))
	var tokens []string
	for _, iss := range replicas {
		tok := e.issue(t, iss)
		require.Equal(t, kid0, header(t, tok)["kid"], "not before the activation instant")
		tokens = append(tokens, tok)
	}
	lists := e.keys.listCount()
	e.clock.Set(activeAt)
	for _, iss := range replicas {
		tok := e.issue(t, iss)
		require.Equal(t, kid1, header(t, tok)["kid"], "from the activation instant")
		tokens = append(tokens, tok)
	}
	require.Equal(t, lists, e.keys.listCount(), "the signer changes without reading the store")

	for _, tok := range tokens {
		for _, iss := range replicas {
			_, err := iss.Verify(t.Context(), tok, activeAt)
			require.NoError(t, err)
		}
	}
}

func TestActivationNeedsNoStoreRead(t *testing.T) {
	e := newEnv()
	var logs logBuffer
	cfg := e.config()
	cfg.Logger = logs.logger()
	a, err := accesstoken.New(t.Context(), cfg)
	require.NoError(t, err)
	b := e.replica(t)
	kid0 := e.keys.stored()[0].ID
	kid1, err := a.Rotate(t.Context())
	require.NoError(t, err)
	require.Contains(t, logs.String(), `msg="access-token signing key published" kid=`+kid1)
	require.NotContains(t, logs.String(), "signing key changed")
	e.clock.Set(t0.Add(testReload))
	require.Equal(t, kid0, e.signingKid(t, b)) // b reads the new key

	e.keys.failLists(errStoreDown)
	e.clock.Set(e.createdAt(t, kid1).Add(testActivation))
	for _, iss := range []*accesstoken.Issuer{a, b} {
		require.Equal(t, kid1, e.signingKid(t, iss), "a replica that knows the key switches when it activates")
		require.Equal(t, []string{kid1, kid0}, jwksKids(t, iss))
	}
	require.Contains(t, logs.String(), `msg="access-token signing key changed" kid=`+kid1+" previous="+kid0)
}

func TestTwoRotationsInARow(t *testing.T) {
	e := newEnv()
	a := e.replica(t)
	b := e.replica(t)
	kid0 := e.keys.stored()[0].ID

	e.clock.Advance(testActivation) // the first key is active
	kid1, err := a.Rotate(t.Context())
	require.NoError(t, err)
	e.clock.Advance(10 * time.Second)
	kid2, err := b.Rotate(t.Context())
	require.NoError(t, err)
	active1 := e.createdAt(t, kid1).Add(testActivation)
	active2 := e.createdAt(t, kid2).Add(testActivation)

	for _, step := range []struct {
		at  time.Time
		kid string
	}{
		{active1.Add(-time.Nanosecond), kid0},
		{active1, kid1},
		{active2.Add(-time.Nanosecond), kid1},
		{active2, kid2},
	} {
		e.clock.Set(step.at)
		for _, iss := range []*accesstoken.Issuer{a, b} {
			require.Equal(t, step.kid, e.signingKid(t, iss), "at %s", step.at)
			require.Equal(t, []string{kid2, kid1, kid0}, jwksKids(t, iss))
		}
	}

	// Each key leaves the JWKS the retention after its successor activates.
	for _, step := range []struct {
		at   time.Time
		kids []string
	}{
		{active1.Add(testRetention - time.Nanosecond), []string{kid2, kid1, kid0}},
		{active1.Add(testRetention), []string{kid2, kid1}},
		{active2.Add(testRetention - time.Nanosecond), []string{kid2, kid1}},
		{active2.Add(testRetention), []string{kid2}},
	} {
		e.clock.Set(step.at)
		for _, iss := range []*accesstoken.Issuer{a, b} {
			require.Equal(t, step.kids, jwksKids(t, iss), "at %s", step.at)
		}
	}
}

func TestRotateDatesTheNewKeyNewest(t *testing.T) {
	e := newEnv()
	a := e.replica(t)

	// Within the same instant as the first key (a frozen clock).
	kid1, err := a.Rotate(t.Context())
	require.NoError(t, err)

	// From a host whose clock is an hour behind.
	e.clock.Set(t0.Add(-time.Hour))
	behind := e.replica(t)
	kid2, err := behind.Rotate(t.Context())
	require.NoError(t, err)

	stored := e.keys.stored()
	require.Len(t, stored, 3)
	require.Equal(t, []string{stored[0].ID, kid1, kid2}, e.keys.ids())
	require.True(t, stored[2].CreatedAt.After(stored[1].CreatedAt))
	require.True(t, stored[1].CreatedAt.After(stored[0].CreatedAt))

	// The newest key signs from the activation of the date it carries.
	active2 := stored[2].CreatedAt.Add(testActivation)
	e.clock.Set(active2.Add(-time.Nanosecond))
	require.Equal(t, kid1, e.signingKid(t, a))
	e.clock.Set(active2)
	for _, iss := range []*accesstoken.Issuer{a, behind} {
		require.Equal(t, kid2, e.signingKid(t, iss))
	}
}

func TestRetiredKeyLeavesJWKSAndStopsVerifying(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	other := e.replica(t)
	replicas := []*accesstoken.Issuer{iss, other}
	kid0 := e.keys.stored()[0].ID
	rotatedAt := e.clock.Advance(10 * time.Second)
	kid1, err := iss.Rotate(t.Context())
	require.NoError(t, err)
	activeAt := rotatedAt.Add(testActivation)
	retire := activeAt.Add(testRetention)

	// The last token of the old key: issued just before the new key
	// activates, with the longest lifetime Issue allows.
	e.clock.Set(activeAt.Add(-time.Second))
	c := e.claims()
	c.ExpiresAt = c.IssuedAt.Add(testTTL + accesstoken.Leeway)
	last, err := other.Issue(t.Context(), c)
	require.NoError(t, err)
	require.Equal(t, kid0, header(t, last)["kid"])
	for _, v := range replicas {
		_, err := v.Verify(t.Context(), last, c.ExpiresAt.Add(-time.Nanosecond))
		require.NoError(t, err, "the old key's last token verifies until it expires")
	}
	require.True(t, c.ExpiresAt.Before(retire))

	// A token of the old key that would still be live at retirement: no
	// replica makes one, but if one did, the JWKS decides.
	late := forge(t, validHeader(kid0), with(validClaims(retire.Add(-time.Minute)), nil), jwt.SigningMethodES256, e.privateKey(t, kid0))

	e.clock.Set(retire.Add(-time.Nanosecond))
	for _, v := range replicas {
		require.Equal(t, []string{kid1, kid0}, jwksKids(t, v))
		_, err = v.Verify(t.Context(), late, retire.Add(-time.Nanosecond))
		require.NoError(t, err)
	}

	e.clock.Set(retire)
	for _, v := range replicas {
		require.Equal(t, []string{kid1}, jwksKids(t, v))
		lists := e.keys.listCount()
		_, err = v.Verify(t.Context(), late, retire)
		requireInvalid(t, err, late)
		require.Equal(t, lists, e.keys.listCount(), "a retired kid is known: no reload")
	}
}

func TestFailedRotationPublishesNothing(t *testing.T) {
	e := newEnv()
	iss := e.replica(t)
	kid0 := e.keys.stored()[0].ID

	e.keys.failAdds(errStoreDown)
	kid, err := iss.Rotate(t.Context())
	require.ErrorIs(t, err, errStoreDown)
	require.Empty(t, kid)
	require.Equal(t, []string{kid0}, e.keys.ids())
	require.Equal(t, []string{kid0}, jwksKids(t, iss))
	e.clock.Advance(testActivation + testReload)
	require.Equal(t, kid0, e.signingKid(t, iss))
}

func TestReloadRefusesAKeyTheSecretCannotOpen(t *testing.T) {
	e := newEnv()
	var logs logBuffer
	cfg := e.config()
	cfg.Logger = logs.logger()
	iss, err := accesstoken.New(t.Context(), cfg)
	require.NoError(t, err)
	kid0 := e.keys.stored()[0].ID

	// A key added by a process with another secret.
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	require.NoError(t, err)
	id := make([]byte, 16)
	rand.Read(id)
	bad := domain.SigningKey{
		ID: b64(id), Algorithm: "ES256", PublicKey: pub, CreatedAt: e.clock.Now(),
		EncryptedPrivateKey: sealDocumented(t, []byte("another secret of thirty-two byt"), b64(id), priv),
	}
	require.NoError(t, e.keys.Add(t.Context(), bad))

	// Long before the key would sign, the reload that meets it fails
	// loudly, and the cached set, which cannot sign with it, goes on.
	e.clock.Advance(testReload)
	require.Equal(t, kid0, e.signingKid(t, iss))
	require.Equal(t, []string{kid0}, jwksKids(t, iss))
	require.Contains(t, logs.String(), "secret does not match the stored signing keys")
	require.Contains(t, logs.String(), bad.ID)

	_, err = accesstoken.New(t.Context(), e.config())
	require.ErrorIs(t, err, accesstoken.ErrWrongSecret, "a process that starts now refuses to")
}

// TestVerifiersNeverMissAKey replays two rotations in a row on three
// replicas whose clocks differ by up to Leeway, against a verifier that
// caches every JWKS it fetches for JWKSMaxAge. Every half second each
// replica serves its JWKS and issues a token. It checks the package's two
// promises: a token's key is in every JWKS a verifier may still hold, and
// a key stays in every JWKS while a token it signed is live. The rotations
// come from a process whose clock is behind, and just after a replica
// has read the store: the worst case for both.
func TestVerifiersNeverMissAKey(t *testing.T) {
	const (
		step = 500 * time.Millisecond
		ttl  = time.Minute // short, so that the old keys retire within the run
	)
	e := newEnv()
	half := accesstoken.Leeway / 2
	offsets := []time.Duration{half, 0, -half}
	process := func(offset time.Duration) *accesstoken.Issuer {
		cfg := e.config()
		cfg.TTL = ttl
		cfg.Clock = skewedClock{base: e.clock, offset: offset}
		iss, err := accesstoken.New(t.Context(), cfg)
		require.NoError(t, err)
		return iss
	}
	// Started at different moments, so that they read the store at
	// different moments; the first one's clock is ahead, so it signs with
	// a new key first.
	replicas := []*accesstoken.Issuer{process(offsets[0])}
	e.clock.Advance(7*time.Second + 250*time.Millisecond)
	replicas = append(replicas, process(offsets[1]))
	e.clock.Advance(11 * time.Second)
	replicas = append(replicas, process(offsets[2]))
	// The verifier caches for as long as the JWKS endpoint allows, which
	// is what the issuer says.
	maxAge := replicas[0].MaxAge()
	start := e.clock.Now()
	// Replica 1 reads the store at start + 19s, and every 30s after.
	rotations := map[time.Time]bool{start.Add(19 * time.Second): true, start.Add(49 * time.Second): true}

	type fetch struct {
		at  time.Time
		set jose.JSONWebKeySet
	}
	var (
		fetches     = make([][]fetch, len(replicas))
		lastMissing = map[string]time.Time{} // kid: the last fetch whose JWKS lacked it
		liveUntil   = map[string]time.Time{} // kid: the latest exp of a token it signed
		signed      = map[string]int{}
	)
	end := start.Add(49*time.Second + testActivation + testReload + ttl + accesstoken.Leeway + 15*time.Second)
	for now := start; now.Before(end); now = e.clock.Advance(step) {
		stored := e.keys.ids()
		for n, iss := range replicas {
			raw, err := iss.JWKS(t.Context())
			require.NoError(t, err)
			var set jose.JSONWebKeySet
			require.NoError(t, json.Unmarshal(raw, &set))
			published := kids(set)
			require.Subset(t, stored, published, "the JWKS lists only stored keys")
			for _, kid := range stored {
				if !slices.Contains(published, kid) {
					lastMissing[kid] = now
				}
			}
			for kid, exp := range liveUntil {
				require.True(t, !now.Before(exp) || slices.Contains(published, kid),
					"at %s replica %d dropped %s, whose token lives until %s", now, n, kid, exp)
			}
			fetches[n] = append(fetches[n], fetch{now, set})
			for now.Sub(fetches[n][0].at) > maxAge {
				fetches[n] = fetches[n][1:]
			}
		}
		for n, iss := range replicas {
			c := e.claims()
			c.IssuedAt = now.Add(offsets[n])
			c.ExpiresAt = c.IssuedAt.Add(ttl)
			tok, err := iss.Issue(t.Context(), c)
			require.NoError(t, err)
			kid := header(t, tok)["kid"].(string)
			signed[kid]++
			if missing, ok := lastMissing[kid]; ok {
				require.Greater(t, now.Sub(missing), maxAge,
					"at %s replica %d signed with %s, missing from a JWKS fetched at %s", now, n, kid, missing)
			}
			// The stalest JWKS a verifier may hold from each replica, read
			// by another JOSE implementation, and every replica verify it.
			jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
			require.NoError(t, err)
			for _, f := range fetches {
				keys := f[0].set.Key(kid)
				require.Len(t, keys, 1, "at %s: %s is in the JWKS fetched at %s", now, kid, f[0].at)
				_, err := jws.Verify(keys[0])
				require.NoError(t, err)
			}
			for m, v := range replicas {
				_, err := v.Verify(t.Context(), tok, now.Add(offsets[m]))
				require.NoError(t, err)
			}
			liveUntil[kid] = c.ExpiresAt.Truncate(time.Second)
		}
		if rotations[now] {
			_, err := process(-half).Rotate(t.Context())
			require.NoError(t, err)
		}
	}

	stored := e.keys.ids()
	require.Len(t, stored, 3)
	for _, kid := range stored {
		require.Positive(t, signed[kid], "every key signed: the run covers each activation")
	}
	for _, iss := range replicas {
		require.Equal(t, stored[2:], jwksKids(t, iss), "the run covers each retirement")
	}
}

// kids returns the key IDs of set.
func kids(set jose.JSONWebKeySet) []string {
	out := make([]string, 0, len(set.Keys))
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}
