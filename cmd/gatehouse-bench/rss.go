package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// rssPoll is how often VmRSS is read while a load runs.
const rssPoll = 50 * time.Millisecond

// rssSummary is the resident memory of the -pid process during the timed
// window. Setup and warm-up are left out: setup's password hashes leave
// memory behind that the Go runtime returns to the system only gradually,
// and the warm-up gives it the time to.
type rssSummary struct {
	StartKiB int64 `json:"start_kib"`
	PeakKiB  int64 `json:"peak_kib"`
	EndKiB   int64 `json:"end_kib"`
	// HWMReset says the peak also counts the kernel's VmHWM, reset when
	// the window began (echo 5 > /proc/PID/clear_refs), so that no spike
	// between two polls is missed.
	HWMReset bool        `json:"hwm_reset"`
	Samples  []rssSample `json:"samples,omitempty"`
	Error    string      `json:"error,omitempty"`
}

// rssSample is one interval of -sample: memory at its end, and the
// requests answered and failed within it.
type rssSample struct {
	AtS       float64 `json:"t_s"` // since the timed window began
	RSSKiB    int64   `json:"rss_kib"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	Status5xx int64   `json:"status_5xx"`
}

// liveCounters are the timed window's running totals, for -sample.
type liveCounters struct {
	requests, errors, status5xx atomic.Int64
}

// procStatus reads VmRSS and VmHWM (KiB) of pid from /proc.
func procStatus(pid int) (rss, hwm int64, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatus(data)
}

// parseStatus reads VmRSS and VmHWM out of a /proc/PID/status file.
func parseStatus(data []byte) (rss, hwm int64, err error) {
	found := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, value, ok := bytes.Cut(sc.Bytes(), []byte(":"))
		if !ok {
			continue
		}
		var dst *int64
		switch string(name) {
		case "VmRSS":
			dst = &rss
		case "VmHWM":
			dst = &hwm
		default:
			continue
		}
		fields := bytes.Fields(value)
		if len(fields) != 2 || string(fields[1]) != "kB" {
			return 0, 0, fmt.Errorf("unexpected %s line %q", name, sc.Bytes())
		}
		if *dst, err = strconv.ParseInt(string(fields[0]), 10, 64); err != nil {
			return 0, 0, err
		}
		found++
	}
	if found != 2 {
		return 0, 0, errors.New("no VmRSS and VmHWM lines (a kernel thread, or not Linux)")
	}
	return rss, hwm, nil
}

// sampleRSS polls pid's memory from windowStart until end or until stop
// closes. With interval > 0 it also records a sample of memory and of live
// at every interval.
func sampleRSS(pid int, windowStart, end time.Time, interval time.Duration, live *liveCounters, stop <-chan struct{}) *rssSummary {
	out := &rssSummary{}
	select {
	case <-stop:
	case <-time.After(time.Until(windowStart)):
	}
	rss, _, err := procStatus(pid)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	// Resetting the high-water mark needs the right to write the file;
	// where it is refused, polling alone gives the peak.
	out.HWMReset = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) == nil
	out.StartKiB, out.PeakKiB = rss, rss

	next := windowStart.Add(interval)
	var last struct{ requests, errors, status5xx int64 }
	tick := time.NewTicker(rssPoll)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		case now := <-tick.C:
			done = !now.Before(end)
		}
		rss, hwm, err := procStatus(pid)
		if err != nil {
			out.Error = "process gone: " + err.Error()
			return out
		}
		out.PeakKiB = max(out.PeakKiB, rss)
		if out.HWMReset {
			out.PeakKiB = max(out.PeakKiB, hwm)
		}
		out.EndKiB = rss
		if now := time.Now(); interval > 0 && !now.Before(next) && now.Before(end.Add(rssPoll)) {
			req, errs, s5 := live.requests.Load(), live.errors.Load(), live.status5xx.Load()
			out.Samples = append(out.Samples, rssSample{
				AtS:    math.Round(now.Sub(windowStart).Seconds()*10) / 10,
				RSSKiB: rss, Requests: req - last.requests, Errors: errs - last.errors, Status5xx: s5 - last.status5xx,
			})
			last.requests, last.errors, last.status5xx = req, errs, s5
			next = next.Add(interval)
		}
	}
	return out
}
