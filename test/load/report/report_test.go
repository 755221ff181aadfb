package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benchInput is what bench.sh would write for a run at c=16 in which the
// me scenario failed and pgbench -S did not run.
const benchInput = `
{"kind":"meta","section":"run","key":"date","value":"2026-11-26T09:00:00Z"}
{"kind":"meta","section":"settings","key":"BENCH_DURATION","value":"5s"}
{"kind":"meta","section":"settings","key":"BENCH_CONCURRENCY","value":"16"}
{"kind":"meta","section":"settings","key":"BENCH_BURST_CONCURRENCY","value":"200"}
{"kind":"meta","section":"machine","key":"CPUs (nproc)","value":"2"}
{"kind":"command","phase":"refresh c=16","cmd":"bin/gatehouse-bench -scenario refresh -c 16"}
{"kind":"argon2","ns_per_op":25000000,"procs":2}
{"kind":"startup","label":"restart","ready":{"ready_ms":120.5,"via":"readyz","attempts":40}}
{"kind":"idle","rss_kib":20480,"hwm_kib":22528}
{"kind":"pgbench","mode":"N","clients":16,"tps":1000,"latency_ms":16,"failed":0}
{"kind":"scenario","phase":"refresh c=16","result":{"scenario":"refresh","concurrency":16,"duration_s":5,"requests":3500,"ok":3500,"errors":0,"errors_by_status":{},"rps":700,"ok_rps":700,"latency_ms":{"p50":2,"p90":4,"p99":30,"max":50},"relogins":0,"rss":{"start_kib":25600,"peak_kib":30720,"end_kib":28672}}}
{"kind":"scenario","phase":"login c=16","result":{"scenario":"login","concurrency":16,"duration_s":5,"requests":180,"ok":178,"errors":2,"errors_by_status":{"500":2},"rps":36,"ok_rps":35.6,"latency_ms":{"p50":400,"p90":500,"p99":600,"max":700},"rss":{"start_kib":40960,"peak_kib":61440,"end_kib":51200}}}
{"kind":"failure","phase":"me c=16","error":"setup: log worker 3 in: status 500"}
{"kind":"scenario","phase":"mixed c=16","result":{"scenario":"mixed","concurrency":16,"duration_s":5,"requests":1000,"ok":1000,"ok_rps":200,"latency_ms":{"p50":2,"p90":4,"p99":8,"max":9},"ops":{"me":{"requests":700,"ok":700,"ok_rps":140,"latency_ms":{"p50":1,"p90":2,"p99":3,"max":4}},"refresh":{"requests":250,"ok":250,"ok_rps":50,"latency_ms":{"p50":3,"p90":4,"p99":5,"max":6}},"login":{"requests":50,"ok":50,"ok_rps":10,"latency_ms":{"p50":300,"p90":400,"p99":500,"max":600}}}}}
{"kind":"burst","phase":"burst","result":{"scenario":"login","concurrency":200,"duration_s":5,"requests":150,"ok":150,"errors":0,"errors_by_status":{},"ok_rps":30,"latency_ms":{"p50":3000,"p90":4000,"p99":4500,"max":4600},"rss":{"start_kib":40960,"peak_kib":450560,"end_kib":102400}}}
`

func render(t *testing.T, mode, input string) string {
	t.Helper()
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "out.md")
	require.NoError(t, os.WriteFile(in, []byte(input), 0o600))
	require.NoError(t, run([]string{"-mode", mode, "-in", in, "-out", out}))
	doc, err := os.ReadFile(out)
	require.NoError(t, err)
	return string(doc)
}

func TestBenchComputesRatiosFromMeasuredNumbers(t *testing.T) {
	doc := render(t, "bench", benchInput)

	assert.Contains(t, doc, "| refresh c=16 ≥ 0.6× pgbench -N c=16 | 0.70× (700 / 1000) | yes |")
	assert.Contains(t, doc, "| refresh c=16 p99 < 10× p50 | 15.0× (30.0 ms / 2.00 ms) | **no** |")
	assert.Contains(t, doc, "| refresh c=16 without errors | 0 | yes |")
	// argon2: 25 ms per verification is 40/s
	assert.Contains(t, doc, "| login c=16 ≥ 0.85× argon2id parallel verify | 0.89× (35.6 / 40.0) | yes |")
	assert.Contains(t, doc, "| login | 16 | 180 | 35.6 | 400 ms | 500 ms | 600 ms | 700 ms | 2 (500: 2) | 40.0 MiB → 60.0 MiB (50.0 MiB) | argon2id parallel verify 40.0/s | 0.89× |")
	assert.Contains(t, doc, "peak RSS through a burst of 200 concurrent logins < 400 MiB | 440.0 MiB | **no** |")
	assert.Contains(t, doc, "| idle RSS after start < 30 MiB | 20.0 MiB | yes |")
	assert.Contains(t, doc, "| start-up to ready < 300 ms (restart) | 120 ms (readyz) | yes |")
	assert.Contains(t, doc, "| mixed | 16 | 1000 | 200 | 2.00 ms | 4.00 ms | 8.00 ms | 9.00 ms | 0 | n/a | — | — |")
	assert.Contains(t, doc, "| ↳ me (70%) | 16 | 700 | 140 | 1.00 ms |")
	assert.Contains(t, doc, "| ↳ login (5%) | 16 | 50 | 10.0 | 300 ms |")
	assert.Contains(t, doc, "- **date:** 2026-11-26T09:00:00Z")
	assert.Contains(t, doc, "`BENCH_DURATION=5s`")
	assert.Contains(t, doc, "bin/gatehouse-bench -scenario refresh -c 16")
}

func TestBenchSaysWhatFailedAndWhatDidNotRun(t *testing.T) {
	doc := render(t, "bench", benchInput)

	assert.Contains(t, doc, "## Failures")
	assert.Contains(t, doc, "- **me c=16:** setup: log worker 3 in: status 500")
	assert.Contains(t, doc, "| me | 16 | failed (see Failures) |")
	assert.Contains(t, doc, "| register | 16 | not run |")
	assert.Contains(t, doc, "| pgbench -S | 16 | not run |")
	assert.Contains(t, doc, "peak RSS under load (refresh, c=64) ≤ 50 MiB | not run |")
	assert.NotContains(t, doc, "NaN")
	assert.NotContains(t, doc, "Inf")
}

func TestBenchWithoutFailuresHasNoFailureSection(t *testing.T) {
	var lines []string
	for line := range strings.Lines(benchInput) {
		if !strings.Contains(line, `"kind":"failure"`) {
			lines = append(lines, line)
		}
	}
	doc := render(t, "bench", strings.Join(lines, ""))
	assert.NotContains(t, doc, "## Failures")
	assert.Contains(t, doc, "| me | 16 | not run |")
}

func TestSoakJudgesFlatMemoryAnd5xx(t *testing.T) {
	samples := `[{"t_s":10,"rss_kib":30720,"requests":1000,"errors":0,"status_5xx":0},` +
		`{"t_s":20,"rss_kib":30720,"requests":1000,"errors":1,"status_5xx":1},` +
		`{"t_s":30,"rss_kib":31744,"requests":1000,"errors":0,"status_5xx":0}]`
	input := `{"kind":"meta","section":"settings","key":"SOAK_DURATION","value":"30s"}
{"kind":"soak","phase":"soak","result":{"scenario":"mixed","concurrency":64,"duration_s":30,"requests":3000,"ok":2999,"errors":1,"errors_by_status":{"503":1},"ok_rps":99.97,"latency_ms":{"p50":1,"p90":2,"p99":3,"max":4},"rss":{"start_kib":30000,"peak_kib":32000,"end_kib":31744,"samples":` + samples + `}}}
`
	doc := render(t, "soak", input)
	assert.Contains(t, doc, "| 5xx answers | 1 |")
	assert.Contains(t, doc, "| no 5xx | 1 | **no** |")
	assert.Contains(t, doc, "30.0 MiB → 31.0 MiB (+3.3%) | yes |")
	assert.Contains(t, doc, "| 20 s | 30.0 MiB | 1000 | 100 | 1 | 1 |")
	assert.Contains(t, doc, "`SOAK_DURATION=30s`")
}

func TestSoakThatFailedSaysSo(t *testing.T) {
	doc := render(t, "soak", `{"kind":"failure","phase":"postgres","error":"no image"}`+"\n")
	assert.Contains(t, doc, "- **postgres:** no image")
	assert.Contains(t, doc, "The soak did not run.")
}

func TestRunRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.jsonl")
	require.NoError(t, os.WriteFile(in, []byte("{not json\n"), 0o600))
	assert.ErrorContains(t, run([]string{"-in", in, "-out", filepath.Join(dir, "out.md")}), "line 1")
	assert.Error(t, run([]string{"-mode", "other", "-in", in, "-out", "x"}))
	assert.Error(t, run(nil))
}

func TestNumbersAreFormattedForPeople(t *testing.T) {
	var b bytes.Buffer
	writeMethod(&b)
	assert.Contains(t, b.String(), "nearest-rank")
	assert.Equal(t, "1234", num(1234.4))
	assert.Equal(t, "12.3", num(12.34))
	assert.Equal(t, "0.25 ms", msec(0.254))
	assert.Equal(t, "12.5 ms", msec(12.54))
	assert.Equal(t, "150 ms", msec(150.4))
}

func TestBenchIncludesTheNotesAfterTheTables(t *testing.T) {
	dir := t.TempDir()
	in, notes, out := filepath.Join(dir, "in.jsonl"), filepath.Join(dir, "notes.md"), filepath.Join(dir, "out.md")
	require.NoError(t, os.WriteFile(in, []byte(benchInput), 0o600))
	require.NoError(t, os.WriteFile(notes, []byte("## Profiles\n\nVerification took 45%.\n\n"), 0o600))
	require.NoError(t, run([]string{"-mode", "bench", "-in", in, "-out", out, "-notes", notes}))
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	doc := string(raw)
	at := strings.Index(doc, "## Profiles\n\nVerification took 45%.\n")
	require.GreaterOrEqual(t, at, 0, doc)
	assert.Less(t, strings.Index(doc, "## Memory and start-up"), at)
	assert.Less(t, at, strings.Index(doc, "## Commands"))

	require.Error(t, run([]string{"-mode", "bench", "-in", in, "-out", out, "-notes", filepath.Join(dir, "missing.md")}))
}
