package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// op is one kind of request.
type op int

const (
	opRegister op = iota
	opLogin
	opRefresh
	opMe
	numOps
)

var (
	opNames = [numOps]string{"register", "login", "refresh", "me"}
	// opWant is the status of success for each op.
	opWant = [numOps]int{201, 200, 200, 200}
)

// recorder collects one worker's outcomes in the timed window. It belongs
// to one goroutine, so it needs no lock.
type recorder struct {
	ops [numOps]opRecord
}

// opRecord is what a recorder keeps for one op.
type opRecord struct {
	latencies []time.Duration // every answered request, errors included
	ok        int64
	byStatus  map[int]int64 // answers with another status than the success
	transport int64         // requests that got no answer
	invalid   int64         // success statuses whose body lacked the tokens
}

// add records one request of kind o that took d.
func (r *recorder) add(o op, res result, d time.Duration) {
	rec := &r.ops[o]
	switch {
	case res.status == 0:
		rec.transport++
		return
	case res.status != opWant[o]:
		if rec.byStatus == nil {
			rec.byStatus = map[int]int64{}
		}
		rec.byStatus[res.status]++
	case res.err != nil:
		rec.invalid++
	default:
		rec.ok++
	}
	rec.latencies = append(rec.latencies, d)
}

// merge adds other's records to r.
func (r *recorder) merge(other *recorder) {
	for o := range numOps {
		r.ops[o].merge(&other.ops[o])
	}
}

// total returns the records of every op together.
func (r *recorder) total() *opRecord {
	var t opRecord
	for o := range numOps {
		t.merge(&r.ops[o])
	}
	return &t
}

// merge adds src's records to rec.
func (rec *opRecord) merge(src *opRecord) {
	rec.latencies = append(rec.latencies, src.latencies...)
	rec.ok += src.ok
	rec.transport += src.transport
	rec.invalid += src.invalid
	for status, n := range src.byStatus {
		if rec.byStatus == nil {
			rec.byStatus = map[int]int64{}
		}
		rec.byStatus[status] += n
	}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of
// sorted, or 0 for none: the smallest value that at least p% of the values
// do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// latencyMS is a latency distribution in milliseconds.
type latencyMS struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// opSummary sums up requests of one kind, or of every kind.
type opSummary struct {
	Requests         int64            `json:"requests"` // answered or not
	OK               int64            `json:"ok"`
	Errors           int64            `json:"errors"`
	ErrorsByStatus   map[string]int64 `json:"errors_by_status"`
	TransportErrors  int64            `json:"transport_errors"`
	InvalidResponses int64            `json:"invalid_responses"`
	RPS              float64          `json:"rps"`    // requests per second
	OKRPS            float64          `json:"ok_rps"` // successes per second
	LatencyMS        latencyMS        `json:"latency_ms"`
}

// summarize sums rec up over a window of elapsed. It sorts rec's latencies.
func summarize(rec *opRecord, elapsed time.Duration) opSummary {
	s := opSummary{
		OK:               rec.ok,
		TransportErrors:  rec.transport,
		InvalidResponses: rec.invalid,
		ErrorsByStatus:   map[string]int64{},
	}
	for status, n := range rec.byStatus {
		s.ErrorsByStatus[strconv.Itoa(status)] = n
		s.Errors += n
	}
	s.Errors += rec.transport + rec.invalid
	s.Requests = s.OK + s.Errors
	if secs := elapsed.Seconds(); secs > 0 {
		s.RPS = float64(s.Requests) / secs
		s.OKRPS = float64(s.OK) / secs
	}
	lat := rec.latencies
	slices.Sort(lat)
	if len(lat) > 0 {
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		s.LatencyMS = latencyMS{
			P50:  ms(percentile(lat, 50)),
			P90:  ms(percentile(lat, 90)),
			P99:  ms(percentile(lat, 99)),
			Max:  ms(lat[len(lat)-1]),
			Mean: ms(sum / time.Duration(len(lat))),
		}
	}
	return s
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// summary is the result of one run, as the JSON line gives it.
type summary struct {
	Scenario    string  `json:"scenario"`
	Target      string  `json:"target"`
	Concurrency int     `json:"concurrency"`
	Users       int     `json:"users"`
	DurationS   float64 `json:"duration_s"` // the timed window as measured
	WarmupS     float64 `json:"warmup_s"`
	SetupS      float64 `json:"setup_s"`
	opSummary
	// Ops splits the totals by kind of request, for the mixed scenario.
	Ops      map[string]opSummary `json:"ops,omitempty"`
	Relogins int64                `json:"relogins"` // logins after a failed refresh or me, not counted above
	Capped   bool                 `json:"capped"`   // -max-requests ended the run early
	RSS      *rssSummary          `json:"rss,omitempty"`
}

// writeReport writes s for people, then as one line of JSON.
func writeReport(w io.Writer, s summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario     %s, concurrency %d, %d users, target %s\n", s.Scenario, s.Concurrency, s.Users, s.Target)
	fmt.Fprintf(&b, "setup        %.1fs; warm-up %.1fs; timed window %.2fs%s\n", s.SetupS, s.WarmupS, s.DurationS, cond(s.Capped, " (stopped by -max-requests)", ""))
	fmt.Fprintf(&b, "requests     %d: %d ok, %d errors\n", s.Requests, s.OK, s.Errors)
	fmt.Fprintf(&b, "rps          %.1f (ok %.1f)\n", s.RPS, s.OKRPS)
	fmt.Fprintf(&b, "latency      %s\n", formatLatency(s.LatencyMS))
	fmt.Fprintf(&b, "errors       %s\n", formatErrors(s.opSummary))
	if s.Relogins > 0 {
		fmt.Fprintf(&b, "relogins     %d (after a failed refresh or me; not counted above)\n", s.Relogins)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Ops)) {
		o := s.Ops[name]
		fmt.Fprintf(&b, "  %-9s  %d requests (%.1f%%), %.1f rps, %s, errors: %s\n", name, o.Requests,
			100*float64(o.Requests)/float64(max(s.Requests, 1)), o.RPS, formatLatency(o.LatencyMS), formatErrors(o))
	}
	if r := s.RSS; r != nil {
		if r.Error != "" {
			fmt.Fprintf(&b, "rss          not measured: %s\n", r.Error)
		} else {
			fmt.Fprintf(&b, "rss          start %s, peak %s, end %s (VmRSS of -pid in the timed window)\n", mib(r.StartKiB), mib(r.PeakKiB), mib(r.EndKiB))
		}
		for _, p := range r.Samples {
			fmt.Fprintf(&b, "  t=%6.1fs  rss %s  %d requests, %d errors, %d 5xx\n", p.AtS, mib(p.RSSKiB), p.Requests, p.Errors, p.Status5xx)
		}
	}
	line, err := json.Marshal(s)
	if err != nil {
		return err
	}
	b.Write(line)
	b.WriteByte('\n')
	_, err = io.WriteString(w, b.String())
	return err
}

func formatLatency(l latencyMS) string {
	return fmt.Sprintf("p50 %.2fms  p90 %.2fms  p99 %.2fms  max %.2fms", l.P50, l.P90, l.P99, l.Max)
}

// formatErrors lists errors by status, then transport errors and invalid
// answers, as "401: 3, 500: 1, transport: 2", or "none".
func formatErrors(s opSummary) string {
	var parts []string
	statuses := slices.SortedFunc(maps.Keys(s.ErrorsByStatus), func(a, b string) int {
		return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b))
	})
	for _, status := range statuses {
		parts = append(parts, fmt.Sprintf("%s: %d", status, s.ErrorsByStatus[status]))
	}
	if s.TransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("transport: %d", s.TransportErrors))
	}
	if s.InvalidResponses > 0 {
		parts = append(parts, fmt.Sprintf("invalid response: %d", s.InvalidResponses))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func cond[T any](c bool, yes, no T) T {
	if c {
		return yes
	}
	return no
}
