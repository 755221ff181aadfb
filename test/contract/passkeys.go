package contract

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunPasskeyStore runs the PasskeyStore suite against the stores
// newSubject makes.
func RunPasskeyStore(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, s domain.Stores){
		"CreateThenRead":                passkeyCreateThenRead,
		"CredentialIDUnique":            passkeyCredentialIDUnique,
		"UnknownUserRejected":           passkeyUnknownUserRejected,
		"ByUserOfNoPasskeys":            passkeyByUserOfNoPasskeys,
		"RecordUse":                     passkeyRecordUse,
		"RecordUseWithoutCounter":       passkeyRecordUseWithoutCounter,
		"RecordUseNotFound":             passkeyRecordUseNotFound,
		"RecordUseOnceUnderConcurrency": passkeyRecordUseOnceUnderConcurrency,
		"Delete":                        passkeyDelete,
		"DeleteByUser":                  passkeyDeleteByUser,
		"GoWithTheirUser":               passkeyGoWithTheirUser,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t).Stores)
		})
	}
}

// credentialSeq makes every generated credential ID distinct within a
// test binary.
var credentialSeq atomic.Int64

// newPasskey returns a passkey of user with a fresh credential ID and a
// sign count of count.
func newPasskey(user domain.UserID, count uint32) domain.Passkey {
	return domain.Passkey{
		UserID:         user,
		CredentialID:   fmt.Appendf(nil, "credential-%d", credentialSeq.Add(1)),
		PublicKey:      []byte{0xa5, 0x01, 0x02, 0x03, 0x26},
		SignCount:      count,
		AAGUID:         []byte("0123456789abcdef"),
		Transports:     []string{"internal", "hybrid"},
		BackupEligible: true,
		BackedUp:       true,
		Name:           "Laptop",
		CreatedAt:      t0,
	}
}

// createPasskey stores p, failing t unless it is stored.
func createPasskey(t *testing.T, s domain.Stores, p domain.Passkey) domain.Passkey {
	t.Helper()
	got, err := s.Passkeys.Create(context.Background(), p)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID)
	return got
}

// onlyPasskey returns the one passkey of user, failing t unless it has
// exactly one.
func onlyPasskey(t *testing.T, s domain.Stores, user domain.UserID) domain.Passkey {
	t.Helper()
	passkeys, err := s.Passkeys.ByUser(context.Background(), user)
	require.NoError(t, err)
	require.Len(t, passkeys, 1)
	return passkeys[0]
}

// requireSamePasskey fails unless got is want as stored.
func requireSamePasskey(t *testing.T, want, got domain.Passkey, msg string) {
	t.Helper()
	assert.Equal(t, want.ID, got.ID, msg)
	assert.Equal(t, want.UserID, got.UserID, msg)
	assert.Equal(t, want.CredentialID, got.CredentialID, msg)
	assert.Equal(t, want.PublicKey, got.PublicKey, msg)
	assert.Equal(t, want.SignCount, got.SignCount, msg)
	assert.Equal(t, want.AAGUID, got.AAGUID, msg)
	assert.Equal(t, want.Transports, got.Transports, msg)
	assert.Equal(t, want.BackupEligible, got.BackupEligible, msg)
	assert.Equal(t, want.BackedUp, got.BackedUp, msg)
	assert.Equal(t, want.Name, got.Name, msg)
	requireSameTime(t, want.CreatedAt, got.CreatedAt, msg+" CreatedAt")
	requireSameTime(t, want.LastUsedAt, got.LastUsedAt, msg+" LastUsedAt")
}

// passkeyCreateThenRead stores passkeys with and without the optional
// parts and reads each back as written, oldest first; the store keeps
// its own copies.
func passkeyCreateThenRead(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	full := newPasskey(u.ID, 7)
	full.SignCount = 1<<32 - 2 // the whole range of the counter survives
	bare := newPasskey(u.ID, 0)
	bare.Transports, bare.BackupEligible, bare.BackedUp, bare.Name = nil, false, false, ""
	bare.CreatedAt = t0.Add(time.Second)

	want := full
	want.CredentialID = slices.Clone(full.CredentialID)
	want.Transports = slices.Clone(full.Transports)
	first := createPasskey(t, s, full)
	full.CredentialID[0], full.Transports[0] = 'X', "usb"
	first.CredentialID[0] = 'Y'
	second := createPasskey(t, s, bare)

	got, err := s.Passkeys.ByUser(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, got, 2)
	want.ID, bare.ID = first.ID, second.ID
	requireSamePasskey(t, want, got[0], "full")
	requireSamePasskey(t, bare, got[1], "bare")
	got[0].PublicKey[0] = 0
	got, err = s.Passkeys.ByUser(ctx, u.ID)
	require.NoError(t, err)
	requireSamePasskey(t, want, got[0], "the store keeps and hands out copies")
}

func passkeyCredentialIDUnique(t *testing.T, s domain.Stores) {
	u := createUser(t, s)
	p := createPasskey(t, s, newPasskey(u.ID, 0))
	again := newPasskey(createUser(t, s).ID, 0)
	again.CredentialID = p.CredentialID
	_, err := s.Passkeys.Create(context.Background(), again)
	require.ErrorIs(t, err, domain.ErrPasskeyExists, "a credential ID belongs to one passkey, of any user")
}

func passkeyUnknownUserRejected(t *testing.T, s domain.Stores) {
	for _, id := range []domain.UserID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id"} {
		_, err := s.Passkeys.Create(context.Background(), newPasskey(id, 0))
		require.ErrorIs(t, err, domain.ErrNotFound, "Create for %q", id)
	}
}

func passkeyByUserOfNoPasskeys(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	createPasskey(t, s, newPasskey(createUser(t, s).ID, 0))
	for _, id := range []domain.UserID{createUser(t, s).ID, "0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id"} {
		got, err := s.Passkeys.ByUser(ctx, id)
		require.NoError(t, err, "ByUser(%q)", id)
		assert.Empty(t, got, "ByUser(%q)", id)
	}
}

// passkeyRecordUse: a count that goes up is recorded with the backup
// state and the time; one that stays or goes back is a clone and
// changes nothing.
func passkeyRecordUse(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	p := createPasskey(t, s, newPasskey(createUser(t, s).ID, 5))

	require.NoError(t, s.Passkeys.RecordUse(ctx, p.ID, 6, false, t0.Add(time.Minute)))
	want := p
	want.SignCount, want.BackedUp, want.LastUsedAt = 6, false, t0.Add(time.Minute)
	requireSamePasskey(t, want, onlyPasskey(t, s, p.UserID), "after a use")

	for _, count := range []uint32{6, 5, 0} {
		err := s.Passkeys.RecordUse(ctx, p.ID, count, true, t0.Add(time.Hour))
		require.ErrorIs(t, err, domain.ErrPasskeyCloned, "count %d after 6", count)
	}
	requireSamePasskey(t, want, onlyPasskey(t, s, p.UserID), "a refused use changes nothing")
}

// passkeyRecordUseWithoutCounter: an authenticator that keeps no counter
// reports 0 every time, which is no clone; once it has counted, 0 is.
func passkeyRecordUseWithoutCounter(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	p := createPasskey(t, s, newPasskey(createUser(t, s).ID, 0))
	require.NoError(t, s.Passkeys.RecordUse(ctx, p.ID, 0, true, t0.Add(time.Minute)))
	require.NoError(t, s.Passkeys.RecordUse(ctx, p.ID, 0, true, t0.Add(2*time.Minute)))
	requireSameTime(t, t0.Add(2*time.Minute), onlyPasskey(t, s, p.UserID).LastUsedAt, "LastUsedAt")
	require.NoError(t, s.Passkeys.RecordUse(ctx, p.ID, 1, true, t0.Add(3*time.Minute)))
	require.ErrorIs(t, s.Passkeys.RecordUse(ctx, p.ID, 0, true, t0.Add(4*time.Minute)), domain.ErrPasskeyCloned)
}

func passkeyRecordUseNotFound(t *testing.T, s domain.Stores) {
	for _, id := range []domain.PasskeyID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		err := s.Passkeys.RecordUse(context.Background(), id, 1, false, t0)
		require.ErrorIs(t, err, domain.ErrNotFound, "RecordUse(%q)", id)
	}
}

// passkeyRecordUseOnceUnderConcurrency presents one signature (one
// count) from many goroutines at once, as replicas sharing a cloned
// authenticator's signature would: exactly one is accepted.
func passkeyRecordUseOnceUnderConcurrency(t *testing.T, s domain.Stores) {
	p := createPasskey(t, s, newPasskey(createUser(t, s).ID, 3))
	errs := race(concurrency, func(i int) error {
		return s.Passkeys.RecordUse(context.Background(), p.ID, 4, false, t0.Add(time.Duration(i)*time.Second))
	})
	won := winners(t, errs, domain.ErrPasskeyCloned)
	require.Len(t, won, 1, "exactly one use wins")
	got := onlyPasskey(t, s, p.UserID)
	assert.Equal(t, uint32(4), got.SignCount)
	requireSameTime(t, t0.Add(time.Duration(won[0])*time.Second), got.LastUsedAt, "the winner's time")
}

func passkeyDelete(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	p := createPasskey(t, s, newPasskey(u.ID, 0))
	kept := createPasskey(t, s, newPasskey(createUser(t, s).ID, 0))

	require.NoError(t, s.Passkeys.Delete(ctx, p.ID))
	got, err := s.Passkeys.ByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, got)
	require.ErrorIs(t, s.Passkeys.Delete(ctx, p.ID), domain.ErrNotFound, "a second delete finds nothing")
	for _, id := range []domain.PasskeyID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id", ""} {
		require.ErrorIs(t, s.Passkeys.Delete(ctx, id), domain.ErrNotFound, "Delete(%q)", id)
	}
	again := p
	again.ID = ""
	createPasskey(t, s, again) // its credential ID is free again
	requireSamePasskey(t, kept, onlyPasskey(t, s, kept.UserID), "other users' passkeys survive")
}

func passkeyDeleteByUser(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	createPasskey(t, s, newPasskey(u.ID, 0))
	createPasskey(t, s, newPasskey(u.ID, 0))
	kept := createPasskey(t, s, newPasskey(createUser(t, s).ID, 0))

	n, err := s.Passkeys.DeleteByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	n, err = s.Passkeys.DeleteByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing is left to delete")
	for _, id := range []domain.UserID{"0190d6a4-8e2b-7c3d-9f00-000000000000", "not-an-id"} {
		n, err = s.Passkeys.DeleteByUser(ctx, id)
		require.NoError(t, err, "DeleteByUser(%q)", id)
		assert.Zero(t, n, "DeleteByUser(%q)", id)
	}
	requireSamePasskey(t, kept, onlyPasskey(t, s, kept.UserID), "other users' passkeys survive")
}

// passkeyGoWithTheirUser: deleting a user deletes their passkeys, and
// frees their credential IDs.
func passkeyGoWithTheirUser(t *testing.T, s domain.Stores) {
	ctx := context.Background()
	u := createUser(t, s)
	p := createPasskey(t, s, newPasskey(u.ID, 0))
	require.NoError(t, s.Users.Delete(ctx, u.ID))
	got, err := s.Passkeys.ByUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Empty(t, got)
	again := p
	again.UserID = createUser(t, s).ID
	createPasskey(t, s, again)
}
