package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatus(t *testing.T) {
	rss, hwm, err := parseStatus([]byte("Name:\tgatehouse\nVmPeak:\t 1265 kB\nVmHWM:\t   25000 kB\nVmRSS:\t   21000 kB\nThreads:\t7\n"))
	require.NoError(t, err)
	assert.Equal(t, int64(21000), rss)
	assert.Equal(t, int64(25000), hwm)

	_, _, err = parseStatus([]byte("Name:\tkthreadd\nThreads:\t1\n"))
	assert.Error(t, err, "a kernel thread has no memory lines")
	_, _, err = parseStatus([]byte("VmHWM:\t1 MB\nVmRSS:\t1 kB\n"))
	assert.Error(t, err, "another unit")
}
