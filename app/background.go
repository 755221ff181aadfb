package app

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// backgroundTimeout bounds work that runs after its request has answered.
const backgroundTimeout = 30 * time.Second

// background runs work that outlives the request that started it, and
// keeps count of it for App.Wait.
type background struct {
	wg  sync.WaitGroup
	log *slog.Logger
}

// run runs fn after the request that calls it has been answered, with the
// request's values but not its cancellation, and logs its failure.
func (b *background) run(ctx context.Context, name string, fn func(ctx context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), backgroundTimeout)
	b.wg.Go(func() {
		defer cancel()
		if err := fn(ctx); err != nil {
			b.log.ErrorContext(ctx, name+" failed", "error", err)
		}
	})
}
