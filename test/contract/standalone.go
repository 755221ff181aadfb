package contract

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// RunStandalone runs the suite of the stores that belong to no unit of work
// (domain.Standalone) against the subjects newSubject makes: inside a unit
// of work they refuse every call, and the unit of work goes on as the
// Transactor suite says.
func RunStandalone(t *testing.T, newSubject NewSubject) {
	cases := map[string]func(t *testing.T, sub Subject){
		"RefusedInsideUnitOfWork":       standaloneRefusedInsideUnitOfWork,
		"RefusalReturnedRollsBack":      standaloneRefusalReturnedRollsBack,
		"RefusalLeavesUnitOfWorkUsable": standaloneRefusalLeavesUnitOfWorkUsable,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newSubject(t))
		})
	}
}

// standaloneDeadline bounds each unit of work of this suite. A store that
// waits instead of refusing (as SQLite's single connection would, for the
// unit of work holding it) then fails the case with the deadline's error
// instead of hanging the test binary; nothing here asserts on time.
const standaloneDeadline = 30 * time.Second

// standaloneKey is the rate-limit key and the lock name the suite uses.
const standaloneKey = "contract:standalone"

// callEveryStandalone calls every method of st with ctx and returns, by
// method, what each returned as its error. A TryLock that took the lock
// counts as an error too, since inside a unit of work none may.
func callEveryStandalone(ctx context.Context, st domain.Standalone) map[string]error {
	errs := map[string]error{}
	errs["Keys.Add"] = st.Keys.Add(ctx, newSigningKey("kid-inside", t0))
	_, errs["Keys.List"] = st.Keys.List(ctx)
	_, _, errs["RateLimits.Hit"] = st.RateLimits.Hit(ctx, standaloneKey, time.Minute, t0)
	errs["RateLimits.Reset"] = st.RateLimits.Reset(ctx, standaloneKey)
	_, errs["RateLimits.DeleteExpired"] = st.RateLimits.DeleteExpired(ctx, t0.Add(time.Hour), 10)
	release, ok, err := st.Locker.TryLock(ctx, standaloneKey)
	release() // a refused TryLock's release does nothing, so calling it is safe
	if err == nil && ok {
		err = errors.New("took the lock inside a unit of work")
	}
	errs["Locker.TryLock"] = err
	return errs
}

// requireRefusedEverywhere fails unless every call in errs was refused with
// domain.ErrInsideUnitOfWork.
func requireRefusedEverywhere(t *testing.T, errs map[string]error) {
	t.Helper()
	require.Len(t, errs, 6, "every standalone method was called")
	for method, err := range errs {
		assert.ErrorIs(t, err, domain.ErrInsideUnitOfWork, "%s inside a unit of work", method)
	}
}

// requireStandaloneUntouched checks, outside any unit of work, that the
// refused calls left nothing behind: no key added, no hit counted, no lock
// held.
func requireStandaloneUntouched(t *testing.T, st domain.Standalone) {
	t.Helper()
	ctx := context.Background()
	keys, err := st.Keys.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, keys, "the refused Add stored a key")
	count, _, err := st.RateLimits.Hit(ctx, standaloneKey, time.Minute, t0)
	require.NoError(t, err)
	assert.Equal(t, 1, count, "the refused Hit was counted")
	release, ok, err := st.Locker.TryLock(ctx, standaloneKey)
	require.NoError(t, err)
	defer release()
	assert.True(t, ok, "the refused TryLock holds the lock")
}

func standaloneRefusedInsideUnitOfWork(t *testing.T, sub Subject) {
	ctx, cancel := context.WithTimeout(context.Background(), standaloneDeadline)
	defer cancel()
	var errs map[string]error
	require.NoError(t, sub.Transactor.InTx(ctx, func(ctx context.Context, _ domain.Stores) error {
		errs = callEveryStandalone(ctx, sub.Standalone)
		return nil
	}))
	requireRefusedEverywhere(t, errs)
	requireStandaloneUntouched(t, sub.Standalone)
}

// standaloneRefusalReturnedRollsBack passes a refusal on from fn, as a
// caller should: InTx returns it, and the unit of work's writes are rolled
// back like those of any fn that fails.
func standaloneRefusalReturnedRollsBack(t *testing.T, sub Subject) {
	ctx, cancel := context.WithTimeout(context.Background(), standaloneDeadline)
	defer cancel()
	email := newEmail()
	err := sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		if err := writeAcrossStores(ctx, tx, email, "refused"); err != nil {
			return err
		}
		if _, _, err := sub.Standalone.RateLimits.Hit(ctx, standaloneKey, time.Minute, t0); err != nil {
			return fmt.Errorf("count the attempt: %w", err)
		}
		return errors.New("the refused hit was counted")
	})
	require.ErrorIs(t, err, domain.ErrInsideUnitOfWork, "InTx passes on fn's error")
	requireNothingFrom(t, sub.Stores, email, "refused")
	requireStandaloneUntouched(t, sub.Standalone)
}

// standaloneRefusalLeavesUnitOfWorkUsable checks that a refusal is not a
// rejected write: nothing reached the database, so the unit of work is not
// aborted, and one whose fn goes on and returns nil commits every write.
func standaloneRefusalLeavesUnitOfWorkUsable(t *testing.T, sub Subject) {
	ctx, cancel := context.WithTimeout(context.Background(), standaloneDeadline)
	defer cancel()
	email := newEmail()
	var errs map[string]error
	require.NoError(t, sub.Transactor.InTx(ctx, func(ctx context.Context, tx domain.Stores) error {
		errs = callEveryStandalone(ctx, sub.Standalone)
		return writeAcrossStores(ctx, tx, email, "after-refusal")
	}))
	requireRefusedEverywhere(t, errs)

	u, err := sub.Stores.Users.ByEmail(ctx, email)
	require.NoError(t, err, "the user written after the refusals was committed")
	sess, err := sub.Stores.Sessions.ByTokenHash(ctx, hashOf("after-refusal-refresh"))
	require.NoError(t, err, "so was the session")
	assert.Equal(t, u.ID, sess.UserID)
	requireStandaloneUntouched(t, sub.Standalone)
}
