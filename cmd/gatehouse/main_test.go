package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs `gatehouse serve` in-process with vars and returns the
// address it listens on, its log so far and a function that stops it (as
// SIGTERM does) and returns run's error. Unless vars say otherwise, it
// stops without a shutdown delay.
func startServe(t *testing.T, vars map[string]string) (addr string, log *syncBuffer, stop func() error) {
	t.Helper()
	return startServeWith(t, vars, nil)
}

// startServeWith is startServe with hooks into serve; nil runs serve
// through run, as main does.
func startServeWith(t *testing.T, vars map[string]string, hooks *serveHooks) (addr string, log *syncBuffer, stop func() error) {
	t.Helper()
	vars["GATEHOUSE_HTTP_ADDR"] = "127.0.0.1:0"
	if _, ok := vars["GATEHOUSE_SHUTDOWN_DELAY"]; !ok {
		vars["GATEHOUSE_SHUTDOWN_DELAY"] = "0s"
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		var err error
		if hooks == nil {
			err = run(ctx, []string{"serve"}, env(vars), pw)
		} else {
			err = serveWith(ctx, env(vars), pw, *hooks)
		}
		_ = pw.Close()
		done <- err
	}()

	log = &syncBuffer{}
	// One reader for both phases: what it has read past the "listening"
	// line is still in its buffer, and the copy below starts with that.
	lines := bufio.NewReader(pr)
	for addr == "" {
		line, err := lines.ReadBytes('\n')
		_, _ = log.Write(line)
		var entry struct{ Msg, Addr string }
		if json.Unmarshal(line, &entry) == nil && entry.Msg == "listening" {
			addr = entry.Addr
		}
		if err != nil {
			break
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("serve stopped before listening: %v\n%s", <-done, log)
	}
	// Keep draining, or logging blocks the server. The pipe hands a write
	// over once it is read, before the copy writes it to log, so stop
	// waits for the copy too: everything serve logged is in log by then.
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(log, lines); close(copied) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done; <-copied })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return addr, log, stop
}

func TestServeRunsOnTheEmbeddedDefaultWithoutConfiguration(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "gatehouse.db")
	addr, log, stop := startServe(t, map[string]string{"GATEHOUSE_DATABASE_URL": "sqlite://" + db})

	resp, err := http.Get("http://" + addr + "/.well-known/jwks.json")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `"kty":"EC"`, "a first signing key was created")

	require.NoError(t, stop(), "a cancelled serve drains and returns nil")
	info, err := os.Stat(db + ".secret")
	require.NoError(t, err, "a local secret was kept beside the database")
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	assert.Contains(t, log.String(), "GATEHOUSE_SECRET is not set")
	secret, err := os.ReadFile(db + ".secret")
	require.NoError(t, err)
	assert.NotContains(t, log.String(), strings.TrimSpace(string(secret)), "the secret never reaches the log")

	// A restart reuses the secret, so the stored keys still decrypt.
	addr, _, stop = startServe(t, map[string]string{"GATEHOUSE_DATABASE_URL": "sqlite://" + db})
	resp, err = http.Get("http://" + addr + "/.well-known/jwks.json")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, stop())
}

func TestServeRefusesABadConfiguration(t *testing.T) {
	err := run(context.Background(), []string{"serve"}, env(map[string]string{"GATEHOUSE_ACCESS_TOKEN_TTL": "soon"}), io.Discard)
	require.ErrorContains(t, err, "GATEHOUSE_ACCESS_TOKEN_TTL")
}

func TestMigrateAndRotateKeys(t *testing.T) {
	url := "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db")
	vars := env(map[string]string{"GATEHOUSE_DATABASE_URL": url})
	ctx := context.Background()

	var out bytes.Buffer
	require.NoError(t, run(ctx, []string{"migrate", "status"}, vars, &out))
	assert.Contains(t, out.String(), "00001_users.sql")
	assert.Contains(t, out.String(), "pending")

	out.Reset()
	require.NoError(t, run(ctx, []string{"migrate", "up"}, vars, &out))
	assert.NotContains(t, out.String(), "pending")

	out.Reset()
	require.NoError(t, run(ctx, []string{"keys", "rotate"}, vars, &out))
	assert.Contains(t, out.String(), "new signing key ")
}

func TestRunCommands(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"version"}, env(nil), &out))
	assert.Regexp(t, `^gatehouse dev \(commit unknown, built unknown\)\n$`, out.String())

	for _, args := range [][]string{nil, {"frobnicate"}, {"migrate", "sideways"}, {"keys"}, {"serve", "extra"}} {
		err := run(context.Background(), args, env(nil), io.Discard)
		require.Error(t, err, "%q", args)
		assert.Contains(t, err.Error(), "usage: gatehouse", "%q", args)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "\n## Configuration\n")
	require.True(t, ok, "README has a Configuration section")
	table, _, _ = strings.Cut(table, "\n## ")
	documented := regexp.MustCompile("(?m)^\\| `(GATEHOUSE_[A-Z_]+)` \\|").FindAllStringSubmatch(table, -1)
	require.NotEmpty(t, documented)

	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"--help"}, env(nil), &out))

	assert.Contains(t, out.String(), "usage: gatehouse")
	assert.Contains(t, out.String(), "README.md, section Configuration")
	listed := regexp.MustCompile(`(?m)^  (GATEHOUSE_[A-Z_]+)$`).FindAllStringSubmatch(out.String(), -1)
	var names, want []string
	for _, m := range listed {
		names = append(names, m[1])
	}
	for _, m := range documented {
		want = append(want, m[1])
	}
	assert.ElementsMatch(t, want, names, "help lists what README documents, no more and no less")
}
