package memstore

import (
	"context"
	"sync"

	"github.com/gatehouse-auth/gatehouse/domain"
)

var _ domain.Locker = (*locker)(nil)

// locker is the domain.Locker: names held by this Store. A Store lives in
// one process, so a set of names under a mutex holds "across every process
// sharing the database". Like keys, locks belong to no unit of work.
type locker struct {
	outside outside
	mu      sync.Mutex
	held    map[string]bool
}

func newLocker(o outside) *locker {
	return &locker{outside: o, held: map[string]bool{}}
}

// TryLock takes name if no one holds it; see domain.Locker.
func (l *locker) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if err := l.outside.check(ctx, "try lock"); err != nil {
		return func() {}, false, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return func() {}, false, nil
	}
	l.held[name] = true
	// Once, so that a late second release cannot free a hold taken after
	// the first.
	return sync.OnceFunc(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, name)
	}), true, nil
}
