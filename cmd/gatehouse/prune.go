package main

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/gatehouse-auth/gatehouse/app"
)

// pruneEvery runs m.Prune about every interval until ctx ends: first
// after a random part of an interval, so that replicas started together
// spread out, then every interval give or take a tenth. Prune logs every
// run itself, and a failed run is simply tried again at the next one.
func pruneEvery(ctx context.Context, m *app.Maintenance, interval time.Duration) {
	wait := rand.N(interval)
	for {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		_, _ = m.Prune(ctx) // logged by Prune
		wait = interval - interval/10 + rand.N(interval/5+1)
	}
}
