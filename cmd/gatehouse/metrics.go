package main

import (
	"context"
	"database/sql"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/adapters/password"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// The metrics GET /metrics serves, apart from the HTTP edge's own, are
// collected here, where every adapter is known: the adapters stay free of
// Prometheus, and each exposes the plain numbers (a queue's length, a
// pool's stats) that these collectors read when scraped. The README lists
// every metric.

// newRegistry returns a registry, of the process's own rather than
// Prometheus's global default, with what every serving process has: the Go
// runtime's and the process's metrics, the build, and the database pool's
// statistics.
func newRegistry(db *sql.DB) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "gatehouse"),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "gatehouse_build_info",
			Help:        "Always 1; its labels name the running build.",
			ConstLabels: prometheus.Labels{"version": version, "commit": commit},
		}, func() float64 { return 1 }),
	)
	return reg
}

// meterHasher registers the metrics of h on reg and returns h timed: the
// length of its queue, read from h when scraped, and the time of every
// call. The timing wraps h from outside, so it covers the wait for a slot
// as well as the hashing; the queue's length tells the two apart.
func meterHasher(reg prometheus.Registerer, h *password.Hasher) domain.PasswordHasher {
	seconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gatehouse_password_hash_duration_seconds",
		Help:    "Time a password hash (op=hash) or check (op=verify) took, waiting for a free slot included.",
		Buckets: prometheus.DefBuckets,
	}, []string{"op"})
	reg.MustRegister(seconds, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "gatehouse_password_hash_waiting",
		Help: "Password hashes and checks waiting for a free slot right now.",
	}, func() float64 { return float64(h.Waiting()) }))
	return timedHasher{next: h, hash: seconds.WithLabelValues("hash"), verify: seconds.WithLabelValues("verify")}
}

// timedHasher observes how long each call to next takes.
type timedHasher struct {
	next         domain.PasswordHasher
	hash, verify prometheus.Observer
}

func (t timedHasher) Hash(ctx context.Context, password string) (string, error) {
	defer observeSince(t.hash, time.Now())
	return t.next.Hash(ctx, password)
}

func (t timedHasher) Verify(ctx context.Context, encoded, password string) (match, rehash bool, err error) {
	defer observeSince(t.verify, time.Now())
	return t.next.Verify(ctx, encoded, password)
}

func observeSince(o prometheus.Observer, start time.Time) { o.Observe(time.Since(start).Seconds()) }

// meterMailQueue registers the metrics of q on reg, read from q when
// scraped.
func meterMailQueue(reg prometheus.Registerer, q *mail.Queue) {
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_mail_sent_total",
			Help: "Account emails the SMTP server accepted.",
		}, func() float64 { sent, _ := q.Stats(); return float64(sent) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gatehouse_mail_failed_total",
			Help: "Account emails given up on: refused for good, out of attempts, or still queued at shutdown.",
		}, func() float64 { _, failed := q.Stats(); return float64(failed) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gatehouse_mail_queued",
			Help: "Account emails waiting for a worker right now.",
		}, func() float64 { return float64(q.Queued()) }),
	)
}
