// Command gatehouse-bench drives a running Gatehouse over HTTP and reports
// its throughput and latency:
//
//	gatehouse-bench -url http://127.0.0.1:8080 -scenario refresh -c 64 -duration 20s
//
// Scenarios:
//
//	register  every request registers a new, unique account
//	login     every request logs one of -users accounts in
//	refresh   every worker holds its own session and rotates it, always
//	          presenting the newest refresh token
//	me        every worker holds an access token and reads GET /v1/me
//	mixed     per request: 70% me, 25% refresh, 5% login
//
// Accounts and first logins are made before the timed window, and a warm-up
// (-warmup) is run and discarded before it. The report gives requests,
// errors by status (transport errors apart), requests per second and the
// latency percentiles, and ends with one line of JSON for machines.
//
// With -pid, the resident memory of that process (Gatehouse's) is sampled
// from /proc during the timed window; -sample adds a time series.
//
//	gatehouse-bench -wait-ready -url http://127.0.0.1:8080 -since UNIX_NANOS
//
// waits until GET /readyz answers 200 (or the server answers at all, where
// it has no /readyz) and reports the time since -since: the start-up time.
//
// The tool only talks to loopback addresses (127.0.0.0/8, ::1, localhost),
// and every run is bounded in time and in requests.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gatehouse-bench:", err)
		os.Exit(1)
	}
}

// run parses args and runs the benchmark or the readiness wait they ask
// for, writing the report to stdout and flag help to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if cfg.WaitReady {
		return waitReady(ctx, cfg, stdout)
	}
	res, err := benchmark(ctx, cfg)
	if err != nil {
		return err
	}
	return writeReport(stdout, res)
}
