// Package setting reads the settings of Gatehouse's adapters and of its
// command from GATEHOUSE_* variables, through a getenv function so that
// start-up is testable. Each adapter owns its variables, their defaults and
// their validation; a Reader only collects what goes wrong, so that one run
// reports every bad variable at once.
//
// A problem always names its variable and never quotes a value that may be
// secret (a password in a URL, a key): Reader's own messages quote only
// durations, and a caller of Fail must do the same. This package imports
// the standard library alone, which is why every adapter may import it.
package setting

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reader reads variables through getenv and records the problems it and
// its callers find. The zero Reader is not usable; see NewReader.
type Reader struct {
	getenv func(string) string
	errs   []error
}

// NewReader returns a Reader over getenv, os.Getenv in production.
func NewReader(getenv func(string) string) *Reader {
	return &Reader{getenv: getenv}
}

// String returns name's value without surrounding white space, or def when
// that leaves nothing: a variable set to blanks is taken as unset.
func (r *Reader) String(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

// Secret returns name's value exactly as set, "" when unset: every byte of
// a secret counts, so none is trimmed. A problem with it must never quote
// it.
func (r *Reader) Secret(name string) string {
	return r.getenv(name)
}

// PositiveDuration returns name's value as a Go duration above zero, or def
// when name is unset. It returns zero, and records the problem, when the
// value is no such duration.
func (r *Reader) PositiveDuration(name string, def time.Duration) time.Duration {
	d, err := ParsePositiveDuration(r.String(name, def.String()))
	if err != nil {
		r.Fail(name, "%v", err)
	}
	return d
}

// NonNegativeDuration returns name's value as a Go duration of zero or
// more, or def when name is unset. It returns zero, and records the
// problem, when the value is no such duration.
func (r *Reader) NonNegativeDuration(name string, def time.Duration) time.Duration {
	s := r.String(name, def.String())
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		r.Fail(name, "%q is not a Go duration such as 0s, 2s or 500ms", s)
		return 0
	case d < 0:
		r.Fail(name, "%q must not be negative", s)
		return 0
	}
	return d
}

// Fail records a problem with name: "NAME: " followed by format, formatted
// with args as fmt.Sprintf does. The message must not quote a value that
// may be secret.
func (r *Reader) Fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

// Err returns every problem recorded so far, joined (errors.Join), or nil
// when there is none.
func (r *Reader) Err() error {
	return errors.Join(r.errs...)
}

// ParsePositiveDuration parses s as a Go duration above zero. Its error
// quotes s, which is therefore never a secret, and reads well after a
// variable's name.
func ParsePositiveDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a Go duration such as 15m or 720h", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}
