package domain

import "context"

// Locker hands out named locks that hold across every process sharing the
// database, so that a job every replica runs, such as pruning, runs on one
// replica at a time. The locks are advisory: they guard nothing by
// themselves, only callers that take the same name exclude each other.
//
// A lock guards against duplicate work, not against corruption: a holder
// whose process stops, or whose connection to the database breaks, loses its
// lock without being told, so another replica may take it while the first
// is still working. Work done under a lock must therefore be safe to run
// twice at once; its lock only makes that rare.
//
// It is a standalone store: every method called inside a unit of work
// returns an error wrapping ErrInsideUnitOfWork (see Standalone).
type Locker interface {
	// TryLock takes the lock called name without waiting for it. At most
	// one holder has a name at a time, in this process or any other; a
	// second TryLock of a held name is refused even from the process, or
	// the goroutine, that holds it. ok is false when the name is held. When
	// ok is true the caller holds the lock until it calls release, which
	// frees it before returning; release is also safe to call more than
	// once and from any goroutine, and a second call never frees a lock
	// taken since. The lock is freed without release too when the holder's
	// process dies or its connection to the database breaks. When ok is
	// false or err is not nil, release is a function that does nothing, so
	// deferring it at once is safe. TryLock returns an error, and no lock,
	// when ctx is done or the database cannot be asked: one wrapping
	// ErrUnavailable when the database cannot be reached.
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}
