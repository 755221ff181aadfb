package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPercentileIsNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	assert.Equal(t, 50*time.Millisecond, percentile(hundred, 50))
	assert.Equal(t, 90*time.Millisecond, percentile(hundred, 90))
	assert.Equal(t, 99*time.Millisecond, percentile(hundred, 99))
	assert.Equal(t, 100*time.Millisecond, percentile(hundred, 100))
	assert.Equal(t, 1*time.Millisecond, percentile(hundred, 0.001))

	three := []time.Duration{1, 2, 30}
	assert.Equal(t, time.Duration(2), percentile(three, 50))
	assert.Equal(t, time.Duration(30), percentile(three, 90), "with 3 values, p90 is the largest")
	assert.Equal(t, time.Duration(7), percentile([]time.Duration{7}, 99))
	assert.Zero(t, percentile(nil, 50))
}

func TestSummarizeCountsEveryOutcome(t *testing.T) {
	var r recorder
	for i := range 10 {
		r.add(opRefresh, result{status: 200}, time.Duration(i+1)*time.Millisecond)
	}
	r.add(opRefresh, result{status: 401}, 20*time.Millisecond)
	r.add(opRefresh, result{status: 500}, 30*time.Millisecond)
	r.add(opRefresh, result{status: 500}, 40*time.Millisecond)
	r.add(opRefresh, result{status: 200, err: errBadResponse}, time.Millisecond)
	r.add(opRefresh, result{err: errors.New("connection reset")}, time.Hour)
	r.add(opRegister, result{status: 201}, time.Millisecond)

	s := summarize(&r.ops[opRefresh], 2*time.Second)
	assert.Equal(t, int64(15), s.Requests)
	assert.Equal(t, int64(10), s.OK)
	assert.Equal(t, int64(5), s.Errors)
	assert.Equal(t, map[string]int64{"401": 1, "500": 2}, s.ErrorsByStatus)
	assert.Equal(t, int64(1), s.TransportErrors)
	assert.Equal(t, int64(1), s.InvalidResponses)
	assert.InDelta(t, 7.5, s.RPS, 1e-9)
	assert.InDelta(t, 5, s.OKRPS, 1e-9)
	assert.Equal(t, 40.0, s.LatencyMS.Max, "a transport error has no latency")
	assert.Equal(t, 6.0, s.LatencyMS.P50, "14 answered (1, 1, 2, …, 10, 20, 30, 40): the 7th smallest")
	assert.Equal(t, "401: 1, 500: 2, transport: 1, invalid response: 1", formatErrors(s))

	reg := summarize(&r.ops[opRegister], time.Second)
	assert.Equal(t, int64(1), reg.OK, "201 is register's success")
	assert.Equal(t, "none", formatErrors(reg))
}

func TestMergeAddsUp(t *testing.T) {
	var a, b recorder
	a.add(opMe, result{status: 200}, 1)
	a.add(opMe, result{status: 503}, 2)
	b.add(opMe, result{status: 503}, 3)
	b.add(opMe, result{err: errors.New("eof")}, 4)
	a.merge(&b)
	assert.Len(t, a.ops[opMe].latencies, 3)
	assert.Equal(t, map[int]int64{503: 2}, a.ops[opMe].byStatus)
	assert.Equal(t, int64(1), a.ops[opMe].transport)
}

func TestFormatErrorsSortsStatusesNumerically(t *testing.T) {
	assert.Equal(t, "99: 1, 401: 2, 1000: 3", formatErrors(opSummary{ErrorsByStatus: map[string]int64{"1000": 3, "401": 2, "99": 1}}))
}

func TestMixedOpShares(t *testing.T) {
	counts := map[op]int{}
	for n := range 100 {
		counts[mixedOp(n)]++
	}
	assert.Equal(t, map[op]int{opMe: 70, opRefresh: 25, opLogin: 5}, counts)
	total := 0
	for _, m := range mix {
		total += m.percent
	}
	assert.Equal(t, 100, total)
}

func TestWriteReportEndsWithOneJSONLine(t *testing.T) {
	s := summary{Scenario: "refresh", Concurrency: 16, opSummary: opSummary{Requests: 3, OK: 2, Errors: 1,
		ErrorsByStatus: map[string]int64{"500": 1}}, RSS: &rssSummary{StartKiB: 1024, PeakKiB: 2048, EndKiB: 1536}}
	var buf bytes.Buffer
	require.NoError(t, writeReport(&buf, s))
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	assert.Contains(t, buf.String(), "errors       500: 1\n")
	assert.Contains(t, buf.String(), "peak 2.0 MiB")
	var back summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &back))
	assert.Equal(t, s, back)
}
