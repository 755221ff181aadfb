package domain

import "time"

// Clock tells the time. Use cases read time only through it, so tests can
// move time forward instead of sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the Clock of a running service: the system's time.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
