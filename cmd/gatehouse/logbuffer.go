package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logFlushInterval is the longest a log line serve writes waits in its
// buffer before it reaches standard output.
const logFlushInterval = 100 * time.Millisecond

// logBuffer gathers the log lines written to it and passes them on to
// the underlying writer at every interval, when 64 KiB have gathered, and
// on Close. Under load serve logs a line per request, and one write per
// line cost a measurable share of the throughput, spent in system calls
// (docs/BENCHMARKS.md, "GET /v1/me", change 4).
// The price is that a process that dies without stopping (killed outright,
// out of memory, a crash outside any handler) loses the lines of its last
// interval. It is safe for concurrent use; lines written by one Write stay
// whole and in order.
type logBuffer struct {
	mu   sync.Mutex
	out  io.Writer
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// newLogBuffer returns a logBuffer over w that flushes every interval
// until it is closed.
func newLogBuffer(w io.Writer, interval time.Duration) *logBuffer {
	b := &logBuffer{out: w, w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

// Write buffers p; a line longer than the buffer goes through at once.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.w.Write(p)
}

// Close stops the flushing and writes out whatever is buffered.
func (b *logBuffer) Close() error {
	close(b.stop)
	<-b.done
	return b.flush()
}

func (b *logBuffer) flushEvery(interval time.Duration) {
	defer close(b.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			_ = b.flush() // nowhere to report it; the next flush tries again
		case <-b.stop:
			return
		}
	}
}

// flush writes out the buffered lines. When the writer fails, those lines
// are dropped and the buffer starts afresh: a bufio.Writer keeps its first
// error for ever, and one failed write (a full disk, say) must not silence
// the log for the rest of the process's life.
func (b *logBuffer) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.w.Flush()
	if err != nil {
		b.w.Reset(b.out)
	}
	return err
}
