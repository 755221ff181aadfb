package domain

import "time"

// Clock tells the time. Use cases read time only through it, so tests can
// move time forward instead of sleeping.
type Clock interface {
	Now() time.Time
}
