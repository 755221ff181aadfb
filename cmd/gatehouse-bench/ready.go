package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// readyPoll is the pause between two readiness probes, and so the
// resolution of the start-up time.
const readyPoll = 2 * time.Millisecond

// readiness is what -wait-ready reports.
type readiness struct {
	ReadyMS  float64 `json:"ready_ms"` // from -since to the first good answer
	Via      string  `json:"via"`      // "readyz", or "first answer" where there is no /readyz
	Attempts int     `json:"attempts"`
}

// waitReady probes GET /readyz until it answers 200, and reports the time
// from cfg.Since to that answer. A server without the route (404) counts
// as ready at its first answer: it answers once it listens.
func waitReady(ctx context.Context, cfg config, stdout io.Writer) error {
	since := time.Now()
	if cfg.Since > 0 {
		since = time.Unix(0, cfg.Since)
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.ReadyTimeout)
	defer cancel()
	hc := newClient(1, time.Second)
	defer hc.CloseIdleConnections()

	last := "none answered"
	for attempt := 1; ; attempt++ {
		status, err := probe(ctx, hc, cfg.URL+"/readyz")
		if err == nil && (status == http.StatusOK || status == http.StatusNotFound) {
			r := readiness{
				ReadyMS:  ms(time.Since(since)),
				Via:      cond(status == http.StatusOK, "readyz", "first answer"),
				Attempts: attempt,
			}
			line, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "ready in %.1f ms (%s, %d probes)\n%s\n", r.ReadyMS, r.Via, r.Attempts, line)
			return err
		}
		switch {
		case err != nil && ctx.Err() != nil:
			// cut off by the deadline: the probe before says more
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("GET /readyz answered %d", status)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not ready within -ready-timeout (%s); last probe: %s", cfg.ReadyTimeout, last)
		case <-time.After(readyPoll):
		}
	}
}

// probe sends one GET and returns the status.
func probe(ctx context.Context, hc *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
