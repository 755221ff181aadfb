package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Bounds on a run, so that no invocation can load a machine for long.
const (
	maxDuration     = 10 * time.Minute
	maxWarmup       = time.Minute
	maxConcurrency  = 1024
	maxUsers        = 10000
	maxRequestsCap  = 20_000_000 // a latency is 8 bytes: 160 MB at most
	maxTimeout      = 2 * time.Minute
	maxSetupTimeout = 10 * time.Minute
)

// scenarios are the workloads -scenario names.
var scenarios = []string{"register", "login", "refresh", "me", "mixed"}

// config is one invocation's settings.
type config struct {
	URL          string // base URL, no trailing slash
	Scenario     string
	Concurrency  int
	Duration     time.Duration
	Warmup       time.Duration
	Users        int
	MaxRequests  int64
	Timeout      time.Duration // per request
	SetupTimeout time.Duration
	Password     string
	Prefix       string // local parts of the emails start with it
	PID          int    // 0: no memory sampling
	Sample       time.Duration

	WaitReady    bool
	Since        int64 // unix nanoseconds; 0: now
	ReadyTimeout time.Duration
}

// parseFlags reads and validates args. Help and usage errors go to stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("gatehouse-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.URL, "url", "http://127.0.0.1:8080", "base URL of the Gatehouse under test (loopback only)")
	fs.StringVar(&c.Scenario, "scenario", "me", "workload: "+strings.Join(scenarios, ", "))
	fs.IntVar(&c.Concurrency, "c", 16, "concurrent workers, each with its own connection and session")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, fmt.Sprintf("length of the timed window (at most %s)", maxDuration))
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, fmt.Sprintf("load run and discarded before the timed window (at most %s)", maxWarmup))
	fs.IntVar(&c.Users, "users", 100, "accounts the login, refresh, me and mixed scenarios share (made during setup)")
	fs.Int64Var(&c.MaxRequests, "max-requests", 5_000_000, fmt.Sprintf("stop after this many requests, warm-up included (at most %d)", maxRequestsCap))
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "limit on one request")
	fs.DurationVar(&c.SetupTimeout, "setup-timeout", 3*time.Minute, "limit on setup: accounts and first logins")
	fs.StringVar(&c.Password, "password", "load test passphrase: 7Qz, long enough", "password of every account the tool makes")
	fs.StringVar(&c.Prefix, "prefix", "bench", "start of every email's local part; accounts are reused across runs with the same prefix")
	fs.IntVar(&c.PID, "pid", 0, "process whose resident memory (/proc/PID/status) is sampled during the timed window")
	fs.DurationVar(&c.Sample, "sample", 0, "with -pid: also report memory, requests and 5xx per interval of this length")
	fs.BoolVar(&c.WaitReady, "wait-ready", false, "instead of a load: wait for GET /readyz to answer 200 and report the time since -since")
	fs.Int64Var(&c.Since, "since", 0, "with -wait-ready: process start in unix nanoseconds (date +%s%N); default now")
	fs.DurationVar(&c.ReadyTimeout, "ready-timeout", 60*time.Second, "with -wait-ready: give up after this long")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, c.validate()
}

// validate checks every bound; the error lists every problem.
func (c *config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	base, err := loopbackURL(c.URL)
	if err != nil {
		bad("-url: %v", err)
	}
	c.URL = base
	if c.WaitReady {
		if c.ReadyTimeout <= 0 || c.ReadyTimeout > maxDuration {
			bad("-ready-timeout: must be above 0 and at most %s", maxDuration)
		}
		if c.Since < 0 {
			bad("-since: must be unix nanoseconds")
		}
		return errors.Join(errs...)
	}

	known := false
	for _, s := range scenarios {
		known = known || s == c.Scenario
	}
	if !known {
		bad("-scenario: %q is not one of %s", c.Scenario, strings.Join(scenarios, ", "))
	}
	if c.Concurrency < 1 || c.Concurrency > maxConcurrency {
		bad("-c: must be 1 to %d", maxConcurrency)
	}
	if c.Duration <= 0 || c.Duration > maxDuration {
		bad("-duration: must be above 0 and at most %s", maxDuration)
	}
	if c.Warmup < 0 || c.Warmup > maxWarmup {
		bad("-warmup: must be 0 to %s", maxWarmup)
	}
	if c.Users < 1 || c.Users > maxUsers {
		bad("-users: must be 1 to %d", maxUsers)
	}
	if c.MaxRequests < 1 || c.MaxRequests > maxRequestsCap {
		bad("-max-requests: must be 1 to %d", maxRequestsCap)
	}
	if c.Timeout <= 0 || c.Timeout > maxTimeout {
		bad("-timeout: must be above 0 and at most %s", maxTimeout)
	}
	if c.SetupTimeout <= 0 || c.SetupTimeout > maxSetupTimeout {
		bad("-setup-timeout: must be above 0 and at most %s", maxSetupTimeout)
	}
	if n := len([]rune(c.Password)); n < 8 || n > 256 {
		bad("-password: must be 8 to 256 characters, as the API requires")
	}
	if c.Prefix == "" || len(c.Prefix) > 32 || strings.ContainsAny(c.Prefix, "@ \t\r\n\"\\") {
		bad("-prefix: must be 1 to 32 characters, without @, quotes or spaces")
	}
	if c.PID < 0 {
		bad("-pid: must be a process id")
	}
	if c.Sample < 0 || (c.Sample > 0 && c.PID == 0) {
		bad("-sample: needs -pid and a positive interval")
	}
	return errors.Join(errs...)
}

// loopbackURL checks that raw is an http(s) URL whose host is a loopback
// address (127.0.0.0/8, ::1) or localhost, with no path beyond "/", and
// returns it without the trailing slash. Names other than localhost are
// refused without being resolved; the dialer checks every address it
// connects to as well (see newClient).
func loopbackURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%q is not a URL", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q: scheme must be http or https", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("%q: must be scheme://host[:port] only", raw)
	}
	if !loopbackHost(u.Hostname()) {
		return "", fmt.Errorf("%q: host must be loopback (127.0.0.0/8, ::1 or localhost); this tool loads only the local machine", raw)
	}
	return strings.TrimSuffix(u.Scheme+"://"+u.Host, "/"), nil
}

// loopbackHost reports whether host (no port, no brackets) is localhost or
// a loopback IP address, IPv4-mapped IPv6 included.
func loopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	if err != nil || addr.Zone() != "" {
		return false
	}
	return addr.Unmap().IsLoopback()
}
