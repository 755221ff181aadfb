package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// expiredRows is a deleteExpired over rows expired rows, which records the
// limit of every call and runs after, if set, once a call has deleted.
type expiredRows struct {
	rows   int
	limits []int
	after  func(call int)
}

func (r *expiredRows) deleteExpired(_ context.Context, _ time.Time, limit int) (int, error) {
	r.limits = append(r.limits, limit)
	n := min(r.rows, limit)
	r.rows -= n
	if r.after != nil {
		r.after(len(r.limits))
	}
	return n, nil
}

func TestPruneBatchesStopsAtTheBound(t *testing.T) {
	rows := &expiredRows{rows: 7}
	deleted, partial, err := pruneBatches(context.Background(), time.Time{}, rows.deleteExpired, 2, 3)
	require.NoError(t, err)
	assert.Equal(t, 6, deleted, "three batches of two")
	assert.True(t, partial, "rows are left for the next run")
	assert.Equal(t, []int{2, 2, 2}, rows.limits)

	deleted, partial, err = pruneBatches(context.Background(), time.Time{}, rows.deleteExpired, 2, 3)
	require.NoError(t, err)
	assert.Equal(t, 1, deleted, "the next run takes the rest")
	assert.False(t, partial, "a short batch ends the run before the bound")
	assert.Equal(t, []int{2, 2, 2, 2}, rows.limits)
}

func TestPruneBatchesStopsBetweenBatchesWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rows := &expiredRows{rows: 5, after: func(call int) {
		if call == 1 {
			cancel() // the first batch is done; the shutdown comes in now
		}
	}}
	deleted, partial, err := pruneBatches(ctx, time.Time{}, rows.deleteExpired, 2, 100)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, deleted, "what the finished batch deleted is reported")
	assert.False(t, partial)
	assert.Equal(t, []int{2}, rows.limits, "no batch after the context ended")
}

func TestPruneBatchesReportsProgressWithAFailure(t *testing.T) {
	errDown := errors.New("database is down")
	calls := 0
	deleted, _, err := pruneBatches(context.Background(), time.Time{}, func(context.Context, time.Time, int) (int, error) {
		calls++
		if calls == 2 {
			return 0, errDown
		}
		return 2, nil
	}, 2, 10)
	require.ErrorIs(t, err, errDown)
	assert.Equal(t, 2, deleted, "the batch before the failure counts")
}

func TestPruneBoundsARunAsREADMESays(t *testing.T) {
	assert.Equal(t, 100_000, pruneBatch*pruneMaxBatches, "README.md: at most 100,000 rows of each kind per run")
}
