package contract

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunKeyStore runs the KeyStore suite against the key store of the
// subjects newSubject makes.
func RunKeyStore(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, k domain.KeyStore){
		"AddThenList":           keyAddThenList,
		"NewestFirst":           keyNewestFirst,
		"DuplicateIDRejected":   keyDuplicateIDRejected,
		"ListReturnsCopies":     keyListReturnsCopies,
		"AddCopiesItsInput":     keyAddCopiesItsInput,
		"EmptyStoreListsNone":   keyEmptyStoreListsNone,
		"ConcurrentAddsAllKept": keyConcurrentAddsAllKept,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Standalone.Keys)
		})
	}
}

// privateMarker starts every encrypted private key the suite stores, so
// that an error echoing one is easy to spot.
const privateMarker = "sealed-private-"

// newSigningKey returns a key with ID id created at created. Its key
// material derives from id and holds bytes that are not text (NUL, 0xff),
// so a store must keep it as binary, byte for byte.
func newSigningKey(id string, created time.Time) domain.SigningKey {
	return domain.SigningKey{
		ID:                  id,
		Algorithm:           "ES256",
		PublicKey:           append([]byte{0x30, 0x59, 0x30, 0x13, 0x00, 0xff, 0x80, 0x01}, id...),
		EncryptedPrivateKey: append(append([]byte(privateMarker), 0x00, 0xfe, 0x7f), id...),
		CreatedAt:           created,
	}
}

// addKey stores k.
func addKey(t *testing.T, ks domain.KeyStore, k domain.SigningKey) {
	t.Helper()
	require.NoError(t, ks.Add(context.Background(), k))
}

// listKeys returns every stored key.
func listKeys(t *testing.T, ks domain.KeyStore) []domain.SigningKey {
	t.Helper()
	keys, err := ks.List(context.Background())
	require.NoError(t, err)
	return keys
}

// requireSameKey fails unless got is want, field by field, byte for byte.
func requireSameKey(t *testing.T, want, got domain.SigningKey) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID, "ID")
	assert.Equal(t, want.Algorithm, got.Algorithm, "Algorithm")
	assert.Equal(t, want.PublicKey, got.PublicKey, "PublicKey of %s", want.ID)
	assert.Equal(t, want.EncryptedPrivateKey, got.EncryptedPrivateKey, "EncryptedPrivateKey of %s", want.ID)
	requireSameTime(t, want.CreatedAt, got.CreatedAt, "CreatedAt of "+want.ID)
}

// keyIDs returns the IDs of keys, in order.
func keyIDs(keys []domain.SigningKey) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

func keyAddThenList(t *testing.T, ks domain.KeyStore) {
	// Stored as the other stores store times: in UTC, to the microsecond.
	created := t0.Add(time.Microsecond + 500*time.Nanosecond).In(time.FixedZone("UTC+1", 3600))
	k := newSigningKey("kid-2026-11-26", created)
	addKey(t, ks, k)

	keys := listKeys(t, ks)
	require.Len(t, keys, 1)
	want := k
	want.CreatedAt = t0.Add(time.Microsecond)
	requireSameKey(t, want, keys[0])
	assert.Equal(t, time.UTC, keys[0].CreatedAt.Location(), "CreatedAt is in UTC")
}

func keyNewestFirst(t *testing.T, ks domain.KeyStore) {
	// Neither the order of adding nor that of the IDs is the order of age,
	// and two keys are a microsecond apart.
	added := map[string]domain.SigningKey{}
	for _, k := range []domain.SigningKey{
		newSigningKey("k1", t0.Add(time.Hour)),
		newSigningKey("k2", t0.Add(3*time.Hour)),
		newSigningKey("k3", t0),
		newSigningKey("k4", t0.Add(2*time.Hour)),
		newSigningKey("k0", t0.Add(time.Microsecond)),
	} {
		addKey(t, ks, k)
		added[k.ID] = k
	}

	keys := listKeys(t, ks)
	require.Equal(t, []string{"k2", "k4", "k1", "k0", "k3"}, keyIDs(keys))
	for _, k := range keys {
		requireSameKey(t, added[k.ID], k)
	}
}

func keyDuplicateIDRejected(t *testing.T, ks domain.KeyStore) {
	first := newSigningKey("kid-taken", t0)
	addKey(t, ks, first)

	second := newSigningKey("kid-taken", t0.Add(time.Hour))
	second.Algorithm = "EdDSA"
	second.PublicKey = []byte("another public key")
	second.EncryptedPrivateKey = []byte(privateMarker + "another private key")
	err := ks.Add(context.Background(), second)
	require.Error(t, err, "a stored key ID is stored again")
	for _, material := range [][]byte{first.EncryptedPrivateKey, second.EncryptedPrivateKey, second.PublicKey} {
		assert.NotContains(t, err.Error(), hex.EncodeToString(material), "the error echoes key material")
	}
	assert.NotContains(t, err.Error(), privateMarker, "the error echoes a private key")

	keys := listKeys(t, ks)
	require.Len(t, keys, 1)
	requireSameKey(t, first, keys[0])
}

func keyListReturnsCopies(t *testing.T, ks domain.KeyStore) {
	k := newSigningKey("kid-copied-out", t0)
	addKey(t, ks, k)

	got := listKeys(t, ks)
	require.Len(t, got, 1)
	got[0].PublicKey[0] ^= 0xff
	got[0].EncryptedPrivateKey[0] ^= 0xff

	again := listKeys(t, ks)
	require.Len(t, again, 1)
	requireSameKey(t, newSigningKey("kid-copied-out", t0), again[0])
}

func keyAddCopiesItsInput(t *testing.T, ks domain.KeyStore) {
	k := newSigningKey("kid-copied-in", t0)
	addKey(t, ks, k)
	k.PublicKey[0] ^= 0xff
	k.EncryptedPrivateKey[0] ^= 0xff

	keys := listKeys(t, ks)
	require.Len(t, keys, 1)
	requireSameKey(t, newSigningKey("kid-copied-in", t0), keys[0])
}

func keyEmptyStoreListsNone(t *testing.T, ks domain.KeyStore) {
	keys, err := ks.List(context.Background())
	require.NoError(t, err)
	assert.Empty(t, keys)
}

func keyConcurrentAddsAllKept(t *testing.T, ks domain.KeyStore) {
	added := make([]domain.SigningKey, concurrency)
	for i := range added {
		added[i] = newSigningKey(fmt.Sprintf("kid-%02d", i), t0.Add(time.Duration(i)*time.Second))
	}
	errs := race(concurrency, func(i int) error {
		return ks.Add(context.Background(), added[i])
	})
	for i, err := range errs {
		require.NoError(t, err, "goroutine %d", i)
	}

	keys := listKeys(t, ks)
	require.Len(t, keys, concurrency, "every key is kept")
	slices.Reverse(added) // the one numbered last is the newest
	for i, k := range keys {
		requireSameKey(t, added[i], k)
	}
}
