package main

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoopbackURL(t *testing.T) {
	for raw, want := range map[string]string{
		"http://127.0.0.1:8080":       "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":      "http://127.0.0.1:8080",
		"http://127.255.3.4":          "http://127.255.3.4",
		"http://[::1]:8080":           "http://[::1]:8080",
		"http://[::ffff:127.0.0.1]:1": "http://[::ffff:127.0.0.1]:1",
		"http://localhost:8080":       "http://localhost:8080",
		"https://LocalHost.:8443":     "https://LocalHost.:8443",
	} {
		got, err := loopbackURL(raw)
		if assert.NoError(t, err, raw) {
			assert.Equal(t, want, got, raw)
		}
	}
	for _, raw := range []string{
		"http://10.0.0.1:8080",
		"http://128.0.0.1",
		"http://0.0.0.0:8080",
		"http://[::]:8080",
		"http://[::ffff:10.0.0.1]:8080",
		"http://[fe80::1%25lo]:8080",
		"http://example.com",
		"http://localhost.example.com",
		"http://127.0.0.1.nip.io",
		"http://gatehouse:8080",
		"ftp://127.0.0.1",
		"127.0.0.1:8080",
		"http://user:pw@127.0.0.1",
		"http://127.0.0.1/v1",
		"http://127.0.0.1/?x=1",
	} {
		_, err := loopbackURL(raw)
		assert.Error(t, err, raw)
	}
}

func TestParseFlagsDefaults(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080", c.URL)
	assert.Equal(t, "me", c.Scenario)
	assert.Equal(t, 16, c.Concurrency)
	assert.Equal(t, 20*time.Second, c.Duration)
	assert.Equal(t, 100, c.Users)
	assert.False(t, c.WaitReady)
}

func TestParseFlagsRefusesWhatIsOutOfBounds(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-url", "http://192.168.1.10:8080"}, "-url: "},
		{[]string{"-scenario", "logout"}, "-scenario: "},
		{[]string{"-c", "0"}, "-c: "},
		{[]string{"-c", "1025"}, "-c: "},
		{[]string{"-duration", "0s"}, "-duration: "},
		{[]string{"-duration", "10m1s"}, "-duration: "},
		{[]string{"-warmup", "-1s"}, "-warmup: "},
		{[]string{"-warmup", "2m"}, "-warmup: "},
		{[]string{"-users", "0"}, "-users: "},
		{[]string{"-users", "10001"}, "-users: "},
		{[]string{"-max-requests", "0"}, "-max-requests: "},
		{[]string{"-max-requests", "20000001"}, "-max-requests: "},
		{[]string{"-timeout", "0s"}, "-timeout: "},
		{[]string{"-timeout", "3m"}, "-timeout: "},
		{[]string{"-setup-timeout", "11m"}, "-setup-timeout: "},
		{[]string{"-password", "short"}, "-password: "},
		{[]string{"-prefix", "a@b"}, "-prefix: "},
		{[]string{"-prefix", ""}, "-prefix: "},
		{[]string{"-pid", "-3"}, "-pid: "},
		{[]string{"-sample", "1s"}, "-sample: "},
		{[]string{"-wait-ready", "-url", "http://example.com"}, "-url: "},
		{[]string{"-wait-ready", "-ready-timeout", "0s"}, "-ready-timeout: "},
		{[]string{"-nonsense"}, "not defined"},
		{[]string{"extra"}, "unexpected arguments"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		assert.ErrorContains(t, err, tc.want, "%q", tc.args)
	}
}

func TestParseFlagsListsEveryProblem(t *testing.T) {
	_, err := parseFlags([]string{"-c", "0", "-users", "0", "-url", "http://10.1.1.1"}, io.Discard)
	require.Error(t, err)
	for _, name := range []string{"-c: ", "-users: ", "-url: "} {
		assert.ErrorContains(t, err, name)
	}
}

func TestParseFlagsAcceptsTheLimits(t *testing.T) {
	c, err := parseFlags([]string{"-c", "1024", "-duration", "10m", "-warmup", "1m", "-users", "10000",
		"-max-requests", "20000000", "-pid", "1", "-sample", "10s", "-scenario", "mixed"}, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 1024, c.Concurrency)
	assert.Equal(t, 10*time.Minute, c.Duration)
}
