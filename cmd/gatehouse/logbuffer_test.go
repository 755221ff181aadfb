package main

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogBufferFlushesOnItsOwn(t *testing.T) {
	var out syncBuffer
	b := newLogBuffer(&out, time.Millisecond)
	defer b.Close()
	_, err := b.Write([]byte("one line\n"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return out.String() == "one line\n" }, 10*time.Second, time.Millisecond)
}

func TestLogBufferKeepsLinesWholeAndFlushesOnClose(t *testing.T) {
	var out syncBuffer
	b := newLogBuffer(&out, time.Hour)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range lines {
				_, err := fmt.Fprintf(b, "writer %d line %d %s\n", w, n, strings.Repeat("x", 100))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	require.NoError(t, b.Close())

	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, got, writers*lines, "every line, none lost at Close")
	next := make([]int, writers)
	for _, line := range got {
		var w, n int
		var rest string
		_, err := fmt.Sscanf(line, "writer %d line %d %s", &w, &n, &rest)
		require.NoError(t, err, "a whole line: %q", line)
		require.Equal(t, next[w], n, "writer %d's lines in order", w)
		require.Len(t, rest, 100)
		next[w]++
	}
}

// failOnce fails its first write and keeps the rest.
type failOnce struct {
	syncBuffer
	failed bool
}

func (f *failOnce) Write(p []byte) (int, error) {
	if !f.failed {
		f.failed = true
		return 0, errors.New("disk full")
	}
	return f.syncBuffer.Write(p)
}

func TestLogBufferGoesOnAfterAFailedWrite(t *testing.T) {
	out := &failOnce{}
	b := newLogBuffer(out, time.Hour)
	_, err := b.Write([]byte("lost\n"))
	require.NoError(t, err)
	require.Error(t, b.flush(), "the writer's failure is reported")
	_, err = b.Write([]byte("kept\n"))
	require.NoError(t, err, "a failed flush does not fail the writes after it")
	require.NoError(t, b.Close())
	assert.Equal(t, "kept\n", out.String())
}
