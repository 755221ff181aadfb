// Command report turns the measurements test/load/bench.sh collected (one
// JSON record a line) into docs/BENCHMARKS.md or docs/SOAK.md:
//
//	go run ./test/load/report -mode bench -in results.jsonl -out docs/BENCHMARKS.md
//
// It invents nothing: a phase without a record is "not run", one with a
// failure record "failed", and every ratio is computed from two measured
// numbers. The targets are the ones the load issue set.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	mode := fs.String("mode", "bench", "bench (docs/BENCHMARKS.md) or soak (docs/SOAK.md)")
	in := fs.String("in", "", "the JSON lines bench.sh wrote")
	out := fs.String("out", "", "the markdown file to write")
	notes := fs.String("notes", "", "bench: a hand-written markdown file (the profiles, and what each change did) to include after the measured tables")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" {
		return errors.New("-in and -out are required")
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	recs, err := readRecords(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	var doc bytes.Buffer
	switch *mode {
	case "bench":
		var text []byte
		if *notes != "" {
			if text, err = os.ReadFile(*notes); err != nil {
				return err
			}
		}
		renderBench(&doc, recs, text)
	case "soak":
		renderSoak(&doc, recs)
	default:
		return fmt.Errorf("-mode: %q is neither bench nor soak", *mode)
	}
	return os.WriteFile(*out, doc.Bytes(), 0o644)
}

// record is one line of bench.sh's output; Kind says which fields count.
type record struct {
	Kind string `json:"kind"`
	// meta: Section ("run", "machine" or "settings"), Key, Value
	Section string `json:"section,omitempty"`
	Key     string `json:"key,omitempty"`
	Value   string `json:"value,omitempty"`
	// command, failure: Phase names what ran; Cmd is the command line
	Phase string `json:"phase,omitempty"`
	Cmd   string `json:"cmd,omitempty"`
	Error string `json:"error,omitempty"`
	// scenario, burst, soak: the tool's JSON line
	Result *summary `json:"result,omitempty"`
	// startup: Label and the tool's -wait-ready line
	Label string     `json:"label,omitempty"`
	Ready *readiness `json:"ready,omitempty"`
	// pgbench: Mode "N" or "S"
	Mode      string  `json:"mode,omitempty"`
	Clients   int     `json:"clients,omitempty"`
	TPS       float64 `json:"tps,omitempty"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	Failed    int64   `json:"failed,omitempty"`
	// argon2
	NsPerOp float64 `json:"ns_per_op,omitempty"`
	Procs   int     `json:"procs,omitempty"`
	// idle
	RSSKiB int64 `json:"rss_kib,omitempty"`
	HWMKiB int64 `json:"hwm_kib,omitempty"`
}

// summary is the part of gatehouse-bench's JSON line the report uses.
type summary struct {
	Scenario        string           `json:"scenario"`
	Concurrency     int              `json:"concurrency"`
	DurationS       float64          `json:"duration_s"`
	Requests        int64            `json:"requests"`
	OK              int64            `json:"ok"`
	Errors          int64            `json:"errors"`
	ErrorsByStatus  map[string]int64 `json:"errors_by_status"`
	TransportErrors int64            `json:"transport_errors"`
	InvalidResp     int64            `json:"invalid_responses"`
	RPS             float64          `json:"rps"`
	OKRPS           float64          `json:"ok_rps"`
	LatencyMS       struct {
		P50, P90, P99, Max, Mean float64
	} `json:"latency_ms"`
	Ops      map[string]summary `json:"ops"`
	Relogins int64              `json:"relogins"`
	Capped   bool               `json:"capped"`
	RSS      *struct {
		StartKiB int64 `json:"start_kib"`
		PeakKiB  int64 `json:"peak_kib"`
		EndKiB   int64 `json:"end_kib"`
		Samples  []struct {
			AtS       float64 `json:"t_s"`
			RSSKiB    int64   `json:"rss_kib"`
			Requests  int64   `json:"requests"`
			Errors    int64   `json:"errors"`
			Status5xx int64   `json:"status_5xx"`
		} `json:"samples"`
		Error string `json:"error"`
	} `json:"rss"`
}

// readiness is gatehouse-bench -wait-ready's JSON line.
type readiness struct {
	ReadyMS float64 `json:"ready_ms"`
	Via     string  `json:"via"`
}

func readRecords(r io.Reader) ([]record, error) {
	var recs []record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}
