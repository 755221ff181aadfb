package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bench runs the tool with args against url and returns its JSON line.
func benchRun(t *testing.T, url string, args ...string) summary {
	t.Helper()
	out := runTool(t, append([]string{"-url", url, "-warmup", "30ms", "-duration", "250ms", "-users", "3"}, args...)...)
	var s summary
	require.NoError(t, json.Unmarshal(lastLine(t, out), &s), out)
	return s
}

func runTool(t *testing.T, args ...string) string {
	t.Helper()
	var stdout bytes.Buffer
	require.NoError(t, run(context.Background(), args, &stdout, io.Discard))
	return stdout.String()
}

func lastLine(t *testing.T, out string) []byte {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(last, "{"), "the last line is JSON: %q", last)
	return []byte(last)
}

func TestRefreshAlwaysPresentsTheNewestToken(t *testing.T) {
	t.Parallel()
	f, url := newFake(t, nil)
	s := benchRun(t, url, "-scenario", "refresh", "-c", "4")

	assert.Zero(t, f.reused, "no spent refresh token came back")
	assert.Zero(t, s.Errors)
	assert.Positive(t, s.OK)
	assert.Equal(t, s.OK, s.Requests)
	assert.Zero(t, s.Relogins)
	assert.Equal(t, 4, f.count("POST /v1/auth/login"), "one login per worker, in setup")
	assert.GreaterOrEqual(t, int64(f.count("POST /v1/auth/refresh")), s.Requests, "the window is part of what was sent")
	assert.Greater(t, s.LatencyMS.Max, 0.0)
	assert.LessOrEqual(t, s.LatencyMS.P50, s.LatencyMS.P99)
	assert.InDelta(t, 0.25, s.DurationS, 0.05)
	assert.InDelta(t, float64(s.Requests)/s.DurationS, s.RPS, 1)
}

func TestRegisterUsesANewEmailEveryTimeAcrossRuns(t *testing.T) {
	t.Parallel()
	f, url := newFake(t, nil)
	first := benchRun(t, url, "-scenario", "register", "-c", "3")
	second := benchRun(t, url, "-scenario", "register", "-c", "3")

	for _, s := range []summary{first, second} {
		assert.Zero(t, s.Errors, "no 409 email_taken: %v", s.ErrorsByStatus)
		assert.Positive(t, s.OK)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, f.requests["POST /v1/auth/register"], len(f.users), "every registration made an account")
}

func TestLoginReusesTheAccountsOfAnEarlierRun(t *testing.T) {
	t.Parallel()
	f, url := newFake(t, nil)
	benchRun(t, url, "-scenario", "login", "-c", "2")
	s := benchRun(t, url, "-scenario", "login", "-c", "2")

	assert.Zero(t, s.Errors)
	assert.Positive(t, s.OK)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Len(t, f.users, 3, "-users accounts, made once")
}

func TestMixedSendsTheConfiguredShares(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, nil)
	// Ended by a count, not by the clock: a busy machine may send few
	// requests in a short window, and the shares need many.
	s := benchRun(t, url, "-scenario", "mixed", "-c", "4", "-warmup", "0s", "-duration", "10m", "-max-requests", "1000")

	require.True(t, s.Capped, "the count ended the run")
	require.Greater(t, s.Requests, int64(900), "enough requests to judge the shares")
	assert.Zero(t, s.Errors)
	var sum int64
	for name, want := range map[string]float64{"me": 0.70, "refresh": 0.25, "login": 0.05} {
		got := float64(s.Ops[name].Requests) / float64(s.Requests)
		// five standard deviations of a share of s.Requests draws
		assert.InDelta(t, want, got, 5*math.Sqrt(want*(1-want)/float64(s.Requests)), "share of %s in %d", name, s.Requests)
		sum += s.Ops[name].Requests
	}
	assert.Equal(t, s.Requests, sum, "the ops add up to the total")
	assert.NotContains(t, s.Ops, "register")
}

func TestErrorsAreCountedByStatus(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, func(f *fake) { f.failMeEvery = 10 })
	s := benchRun(t, url, "-scenario", "me", "-c", "2")

	require.Positive(t, s.Requests)
	assert.Equal(t, map[string]int64{"503": s.Errors}, s.ErrorsByStatus)
	assert.InDelta(t, 0.1, float64(s.Errors)/float64(s.Requests), 0.02)
	assert.Equal(t, s.Requests, s.OK+s.Errors)
	assert.Zero(t, s.TransportErrors)
	assert.Zero(t, s.Relogins, "a 503 keeps the token")
}

func TestTransportErrorsAreCountedApart(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, func(f *fake) { f.dropMeEvery = 7 })
	s := benchRun(t, url, "-scenario", "me", "-c", "2")

	assert.Positive(t, s.TransportErrors)
	assert.Empty(t, s.ErrorsByStatus)
	assert.Equal(t, s.TransportErrors, s.Errors)
	assert.Positive(t, s.OK)
}

func TestTheRequestCapEndsTheRun(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, nil)
	s := benchRun(t, url, "-scenario", "me", "-c", "2", "-warmup", "0s", "-max-requests", "40")

	assert.True(t, s.Capped)
	assert.LessOrEqual(t, s.Requests, int64(40))
	assert.Positive(t, s.Requests)
	assert.Less(t, s.DurationS, 0.25, "the window ends when the cap is reached")
}

func TestTheCapReachedInWarmUpIsAnError(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, nil)
	err := run(context.Background(), []string{"-url", url, "-scenario", "me", "-c", "1", "-users", "1",
		"-warmup", "1s", "-max-requests", "5"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "during the warm-up")
}

func TestSetupSaysWhenRateLimitsAreOn(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, func(f *fake) { f.limited = true })
	err := run(context.Background(), []string{"-url", url, "-scenario", "login", "-users", "2"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "GATEHOUSE_RATE_LIMITS=off")
}

func TestMemoryOfAProcessIsSampled(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: memory sampling works on Linux only")
	}
	_, url := newFake(t, nil)
	s := benchRun(t, url, "-scenario", "me", "-c", "2", "-pid", strconv.Itoa(os.Getpid()), "-sample", "100ms")

	require.NotNil(t, s.RSS)
	assert.Empty(t, s.RSS.Error)
	assert.Positive(t, s.RSS.StartKiB)
	assert.GreaterOrEqual(t, s.RSS.PeakKiB, max(s.RSS.StartKiB, s.RSS.EndKiB))
	require.GreaterOrEqual(t, len(s.RSS.Samples), 2)
	var inSamples int64
	for _, p := range s.RSS.Samples {
		assert.Positive(t, p.RSSKiB)
		inSamples += p.Requests
	}
	assert.Positive(t, inSamples)
	assert.LessOrEqual(t, inSamples, s.Requests)
}

func TestWaitReadyReportsTheFirstReadyAnswer(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, func(f *fake) { f.readyAfter = 3 })
	var r readiness
	require.NoError(t, json.Unmarshal(lastLine(t, runTool(t, "-wait-ready", "-url", url)), &r))
	assert.Equal(t, "readyz", r.Via)
	assert.Equal(t, 4, r.Attempts, "three 503s, then 200")
	assert.Positive(t, r.ReadyMS)
}

func TestWaitReadyWithoutReadyzTakesTheFirstAnswer(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, func(f *fake) { f.noReadyz = true })
	var r readiness
	require.NoError(t, json.Unmarshal(lastLine(t, runTool(t, "-wait-ready", "-url", url)), &r))
	assert.Equal(t, "first answer", r.Via)
	assert.Equal(t, 1, r.Attempts)
}

func TestWaitReadyGivesUp(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, func(f *fake) { f.readyAfter = 1 << 30 })
	err := run(context.Background(), []string{"-wait-ready", "-url", url, "-ready-timeout", "50ms"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "answered 503")
}

func TestTheClientRefusesToDialBeyondLoopback(t *testing.T) {
	t.Parallel()
	a := &api{base: "http://192.0.2.1:9", hc: newClient(1, 0)}
	res := a.me(context.Background(), "x")
	require.Error(t, res.err)
	assert.Contains(t, res.err.Error(), "not a loopback address")
}
