package main

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// mix is the mixed scenario's share of each op, in percent; it adds up
// to 100.
var mix = []struct {
	op      op
	percent int
}{{opMe, 70}, {opRefresh, 25}, {opLogin, 5}}

// mixedOp maps n in [0, 100) to an op so that a uniform n gives mix's
// shares.
func mixedOp(n int) op {
	for _, m := range mix {
		if n < m.percent {
			return m.op
		}
		n -= m.percent
	}
	return mix[len(mix)-1].op
}

// bench is one run: its settings and the state its workers share.
type bench struct {
	cfg   config
	api   *api
	runID string // makes the register scenario's emails unique across runs
	next  func(*worker) op

	issued   atomic.Int64 // requests sent, warm-up included, for -max-requests
	capped   atomic.Bool
	relogins atomic.Int64
	live     liveCounters
}

// worker is one goroutine of the load: it holds its own session and
// sends one request at a time.
type worker struct {
	id    int
	user  string // the account it logs in as
	sess  session
	stale bool // the session failed: log in again before the next request
	n     int  // accounts it registered
	rng   *rand.Rand
	rec   recorder
}

// benchmark sets up cfg.Scenario, runs the warm-up and the timed window
// and sums the window up.
func benchmark(ctx context.Context, cfg config) (summary, error) {
	hc := newClient(cfg.Concurrency, cfg.Timeout)
	defer hc.CloseIdleConnections()
	b := &bench{
		cfg:   cfg,
		api:   &api{base: cfg.URL, hc: hc},
		runID: strings.ToLower(crand.Text()[:10]),
	}
	switch cfg.Scenario {
	case "register":
		b.next = func(*worker) op { return opRegister }
	case "login":
		b.next = func(*worker) op { return opLogin }
	case "refresh":
		b.next = func(*worker) op { return opRefresh }
	case "me":
		b.next = func(*worker) op { return opMe }
	case "mixed":
		b.next = func(w *worker) op { return mixedOp(w.rng.IntN(100)) }
	default:
		return summary{}, fmt.Errorf("unknown scenario %q", cfg.Scenario)
	}

	setupStart := time.Now()
	workers, err := b.setup(ctx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return summary{}, fmt.Errorf("setup: not done within -setup-timeout (%s)", cfg.SetupTimeout)
	}
	if err != nil {
		return summary{}, fmt.Errorf("setup: %w", err)
	}
	setup := time.Since(setupStart)

	start := time.Now()
	windowStart := start.Add(cfg.Warmup)
	windowEnd := windowStart.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, windowEnd.Add(cfg.Timeout+5*time.Second))
	defer cancel()

	stopSampling := make(chan struct{})
	sampled := make(chan *rssSummary, 1)
	if cfg.PID > 0 {
		go func() { sampled <- sampleRSS(cfg.PID, windowStart, windowEnd, cfg.Sample, &b.live, stopSampling) }()
	}
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { b.loop(runCtx, w, windowStart, windowEnd) })
	}
	wg.Wait()
	finished := time.Now()
	close(stopSampling)
	if err := ctx.Err(); err != nil {
		return summary{}, fmt.Errorf("interrupted: %w", err)
	}

	elapsed := windowEnd.Sub(windowStart)
	if finished.Before(windowEnd) { // capped
		elapsed = finished.Sub(windowStart)
	}
	if elapsed <= 0 {
		return summary{}, errors.New("-max-requests was reached during the warm-up: raise it or shorten -warmup")
	}
	var all recorder
	for _, w := range workers {
		all.merge(&w.rec)
	}
	s := summary{
		Scenario:    cfg.Scenario,
		Target:      cfg.URL,
		Concurrency: cfg.Concurrency,
		Users:       cfg.Users,
		DurationS:   round3(elapsed.Seconds()),
		WarmupS:     round3(cfg.Warmup.Seconds()),
		SetupS:      round3(setup.Seconds()),
		Relogins:    b.relogins.Load(),
		Capped:      b.capped.Load(),
	}
	s.opSummary = summarize(all.total(), elapsed)
	if cfg.Scenario == "mixed" {
		s.Ops = map[string]opSummary{}
		for o := range numOps {
			if rec := &all.ops[o]; len(rec.latencies) > 0 || rec.transport > 0 {
				s.Ops[opNames[o]] = summarize(rec, elapsed)
			}
		}
	}
	if cfg.PID > 0 {
		s.RSS = <-sampled
	}
	return s, nil
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// loop sends requests until windowEnd or the request cap, recording those
// answered inside [windowStart, windowEnd).
func (b *bench) loop(ctx context.Context, w *worker, windowStart, windowEnd time.Time) {
	for ctx.Err() == nil && !b.capped.Load() && time.Now().Before(windowEnd) {
		if b.issued.Add(1) > b.cfg.MaxRequests {
			b.capped.Store(true)
			return
		}
		o := b.next(w)
		t0 := time.Now()
		res := w.do(ctx, b, o)
		t1 := time.Now()
		if !t1.Before(windowStart) && t1.Before(windowEnd) {
			w.rec.add(o, res, t1.Sub(t0))
			b.live.requests.Add(1)
			if res.status != opWant[o] || res.err != nil {
				b.live.errors.Add(1)
			}
			if res.status >= 500 {
				b.live.status5xx.Add(1)
			}
		}
		if w.stale {
			b.relogin(ctx, w)
		}
	}
}

// do sends one request of kind o, keeping the worker's session current.
func (w *worker) do(ctx context.Context, b *bench, o op) result {
	switch o {
	case opRegister:
		w.n++
		email := fmt.Sprintf("%s-%s-w%d-%d@example.com", b.cfg.Prefix, b.runID, w.id, w.n)
		_, res := b.api.register(ctx, email, b.cfg.Password)
		return res
	case opLogin:
		sess, res := b.api.login(ctx, w.user, b.cfg.Password)
		if res.status == http.StatusOK && res.err == nil {
			w.sess = sess // the mixed scenario goes on with the newest session
		}
		return res
	case opRefresh:
		sess, res := b.api.refreshSession(ctx, w.sess.refresh)
		if res.status == http.StatusOK && res.err == nil {
			w.sess = sess
		} else {
			// Rejected, or lost on the way: whether the server rotated the
			// token is unknown, so the session is given up.
			w.stale = true
		}
		return res
	default:
		res := b.api.me(ctx, w.sess.access)
		if res.status == http.StatusUnauthorized {
			w.stale = true // token_expired, or a session lost with a refresh
		}
		return res
	}
}

// relogin gives w a new session after a failure; these logins are counted
// apart, not as requests of the scenario. A failed one waits a little so
// that a down server is not hammered.
func (b *bench) relogin(ctx context.Context, w *worker) {
	b.relogins.Add(1)
	sess, res := b.api.login(ctx, w.user, b.cfg.Password)
	if res.status == http.StatusOK && res.err == nil {
		w.sess, w.stale = sess, false
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(50 * time.Millisecond):
	}
}

// userEmail is the email of the i-th shared account.
func (b *bench) userEmail(i int) string {
	return fmt.Sprintf("%s-user-%d@example.com", b.cfg.Prefix, i)
}

// setup makes the shared accounts (keeping those an earlier run with the
// same -prefix made) and, for the scenarios that need one, a session per
// worker, all before the clock starts.
func (b *bench) setup(ctx context.Context) ([]*worker, error) {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.SetupTimeout)
	defer cancel()
	workers := make([]*worker, b.cfg.Concurrency)
	seed := time.Now().UnixNano()
	for i := range workers {
		workers[i] = &worker{
			id:   i,
			user: b.userEmail(i % b.cfg.Users),
			rng:  rand.New(rand.NewPCG(uint64(seed), uint64(i))),
		}
	}
	if b.cfg.Scenario == "register" {
		return workers, nil
	}
	users := make([]int, b.cfg.Users)
	for i := range users {
		users[i] = i
	}
	err := parallel(ctx, b.cfg.Concurrency, users, func(ctx context.Context, i int) error {
		_, res := b.api.register(ctx, b.userEmail(i), b.cfg.Password)
		if res.status == http.StatusCreated || res.status == http.StatusConflict {
			return nil // new, or made by an earlier run
		}
		return fmt.Errorf("register account %d: %s", i, describe(res))
	})
	if err != nil {
		return nil, err
	}
	if b.cfg.Scenario == "login" {
		return workers, nil
	}
	err = parallel(ctx, b.cfg.Concurrency, workers, func(ctx context.Context, w *worker) error {
		sess, res := b.api.login(ctx, w.user, b.cfg.Password)
		if res.status != http.StatusOK || res.err != nil {
			hint := ""
			if res.status == http.StatusUnauthorized {
				hint = " (accounts with this -prefix may exist with another -password)"
			}
			return fmt.Errorf("log worker %d in: %s%s", w.id, describe(res), hint)
		}
		w.sess = sess
		return nil
	})
	return workers, err
}

// describe says what went wrong with a request.
func describe(res result) string {
	switch {
	case res.status == 0:
		return res.err.Error()
	case res.status == http.StatusTooManyRequests:
		return "429 rate_limited: start Gatehouse with GATEHOUSE_RATE_LIMITS=off"
	case res.err != nil:
		return fmt.Sprintf("%d: %v", res.status, res.err)
	}
	return fmt.Sprintf("status %d", res.status)
}

// parallel calls fn for every item, at most n at a time, and returns the
// first error; after one, the items not yet started are skipped.
func parallel[T any](ctx context.Context, n int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for _, item := range items {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, item); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
