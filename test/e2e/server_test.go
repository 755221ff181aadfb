package e2e_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// testSecret is the GATEHOUSE_SECRET of every server on Postgres, new for
// every run. No log may ever contain it.
var testSecret = "e2e-secret-" + rand.Text() + rand.Text()

// Bounds on how long a process may take to start listening, to stop after
// SIGTERM (the server's own shutdown grace is 10s) and to run a command.
const (
	startTimeout   = 60 * time.Second
	stopTimeout    = 20 * time.Second
	commandTimeout = 60 * time.Second
)

// requestTimeout is the servers' GATEHOUSE_REQUEST_TIMEOUT. Many
// race-built servers hash passwords on the same few cores at once, beside
// other packages' tests: a request may queue for a hash slot longer than
// the 10 s default. These tests assert what the answers are, not how soon
// they come.
const requestTimeout = 30 * time.Second

// backend is a database Gatehouse runs on.
type backend struct {
	name string
	// database returns the environment of a server on a new, empty
	// database; servers started with that environment share the database.
	database func(t *testing.T) map[string]string
	// concurrent reports whether several servers may serve the database at
	// once. The embedded SQLite file is for a single instance, so scenarios
	// with two servers stop the first before they start the second.
	concurrent bool
}

// backends are the databases every scenario runs against.
func backends() []backend {
	return []backend{
		{name: "Postgres", concurrent: true, database: func(t *testing.T) map[string]string {
			return map[string]string{"GATEHOUSE_DATABASE_URL": pgtest.Database(t), "GATEHOUSE_SECRET": testSecret}
		}},
		// No GATEHOUSE_SECRET: the server keeps a local one beside the file.
		{name: "SQLite", database: func(t *testing.T) map[string]string {
			return map[string]string{"GATEHOUSE_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "gatehouse.db")}
		}},
	}
}

// with returns a copy of env with the variables of more added.
func with(env map[string]string, more map[string]string) map[string]string {
	out := maps.Clone(env)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, more)
	return out
}

// server is a running `gatehouse serve` process.
type server struct {
	baseURL string
	env     map[string]string
	log     *logBuffer // everything the process wrote, stdout and stderr

	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error         // how it exited; read after exited is closed
	drained chan struct{} // closed when all of its output is in log

	stopOnce sync.Once
}

// startServer runs `gatehouse serve` with env, listening on a free port of
// the loopback interface, and returns once it logs that it listens. When t
// ends the server gets SIGTERM and must exit with status 0, and its log
// must not contain any secret the tests used.
func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	s, listening := launch(t, env)
	select {
	case addr := <-listening:
		s.baseURL = "http://" + addr
	case <-s.drained:
		<-s.exited
		t.Fatalf("gatehouse serve exited before it listened (%v); output:\n%s", s.waitErr, s.log)
	case <-time.After(startTimeout):
		s.kill()
		t.Fatalf("gatehouse serve did not listen within %s; output:\n%s", startTimeout, s.log)
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// launch starts `gatehouse serve` with env and returns at once, with a
// channel that receives the address the server logs it listens on.
func launch(t *testing.T, env map[string]string) (*server, <-chan string) {
	t.Helper()
	vars := with(map[string]string{
		// The most verbose level gives secrets the most chances to leak.
		"GATEHOUSE_LOG_LEVEL": "debug",
		// The tests send many requests from one address; limits are not
		// what they test.
		"GATEHOUSE_RATE_LIMITS": "off",
		"GATEHOUSE_HTTP_ADDR":   "127.0.0.1:0",
		// No load balancer needs time to notice a test server draining.
		"GATEHOUSE_SHUTDOWN_DELAY":  "0s",
		"GATEHOUSE_REQUEST_TIMEOUT": requestTimeout.String(),
	}, env)

	s := &server{
		env:     vars,
		log:     &logBuffer{},
		exited:  make(chan struct{}),
		drained: make(chan struct{}),
	}
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	s.cmd = exec.Command(gatehouseBinary(t), "serve")
	s.cmd.Env = environ(vars)
	s.cmd.Stdout, s.cmd.Stderr = pw, pw
	dieWithParent(s.cmd)
	err = s.cmd.Start()
	_ = pw.Close() // the child has its own copy
	if err != nil {
		_ = pr.Close()
		t.Fatalf("start gatehouse serve: %v", err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	listening := make(chan string, 1)
	go s.drain(pr, listening)
	return s, listening
}

// kill ends the process at once and waits for all of its output.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
	<-s.drained
}

// drain copies the process's output, line by line, into s.log until the
// process and every copy of its output end, and sends the address of the
// "listening" line to addr.
func (s *server) drain(r io.ReadCloser, addr chan<- string) {
	defer close(s.drained)
	defer r.Close()
	lines := bufio.NewReader(r)
	announced := false
	for {
		line, err := lines.ReadBytes('\n')
		if len(line) > 0 {
			_, _ = s.log.Write(line)
			var rec struct{ Msg, Addr string }
			if !announced && json.Unmarshal(line, &rec) == nil && rec.Msg == "listening" && rec.Addr != "" {
				announced = true
				addr <- rec.Addr
			}
		}
		if err != nil {
			return
		}
	}
}

// stop sends SIGTERM, waits for the process to exit, and checks that it
// exited cleanly and that its log kept every secret out. Only the first
// call does anything; the cleanup startServer registers calls it too.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.stopOnce.Do(func() {
		// A process that has exited already is reported by its exit status.
		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("send SIGTERM to gatehouse serve: %v", err)
		}
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
			t.Errorf("gatehouse serve did not exit within %s of SIGTERM", stopTimeout)
		}
		<-s.drained
		log := s.log.String()
		if t.Failed() {
			t.Logf("the output of gatehouse serve (%s), for the failure above:\n%s", s.baseURL, lastLines(log, failureLogLines))
		}
		assert.NotContains(t, log, "DATA RACE", "the race detector found a race in the server")
		assert.NoError(t, s.waitErr, "gatehouse serve must exit with status 0 after SIGTERM; output:\n%s", log)
		assert.Contains(t, log, `"msg":"shutting down"`, "the server logs its shutdown")
		checkLog(t, "gatehouse serve", log, localSecret(t, s.env))
	})
}

// failureLogLines is how much of a server's output a failed test shows.
const failureLogLines = 200

// lastLines returns the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "")
}

// localSecret returns the secret that a process on SQLite without
// GATEHOUSE_SECRET keeps beside the database file, or "".
func localSecret(t *testing.T, env map[string]string) string {
	t.Helper()
	path, ok := strings.CutPrefix(env["GATEHOUSE_DATABASE_URL"], "sqlite://")
	if !ok || env["GATEHOUSE_SECRET"] != "" {
		return ""
	}
	b, err := os.ReadFile(path + ".secret")
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// checkLog fails unless every line of a server's output is a JSON log
// record and the output keeps every secret out (see checkNoSecrets).
func checkLog(t *testing.T, what, log string, extra ...string) {
	t.Helper()
	for line := range strings.Lines(log) {
		var rec map[string]any
		if !assert.NoError(t, json.Unmarshal([]byte(line), &rec), "%s wrote a line that is not JSON: %q", what, line) {
			continue
		}
		assert.Contains(t, rec, "msg", "%s log line without msg: %q", what, line)
		assert.Contains(t, rec, "level", "%s log line without level: %q", what, line)
	}
	checkNoSecrets(t, what, log, extra...)
}

// checkNoSecrets fails if a process's output contains any of the secrets
// the tests have used so far, or any of the extra ones.
func checkNoSecrets(t *testing.T, what, output string, extra ...string) {
	t.Helper()
	for _, secret := range append(usedSecrets.list(), extra...) {
		if secret != "" && strings.Contains(output, secret) {
			t.Errorf("the output of %s contains a secret the tests used: %q", what, secret)
		}
	}
}

// runGatehouse runs the binary with args and env (and nothing else in its
// environment) to its end, checks that its output keeps every secret out,
// and returns the output (stdout and stderr) and the exit code.
func runGatehouse(t *testing.T, env map[string]string, args ...string) (output string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, gatehouseBinary(t), args...)
	cmd.Env = environ(env)
	dieWithParent(cmd)
	out, err := cmd.CombinedOutput()
	require.NoError(t, ctx.Err(), "gatehouse %s did not finish within %s; output:\n%s", strings.Join(args, " "), commandTimeout, out)
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run gatehouse %s: %v", strings.Join(args, " "), err)
	}
	checkNoSecrets(t, "gatehouse "+strings.Join(args, " "), string(out), localSecret(t, env))
	return string(out), cmd.ProcessState.ExitCode()
}

// environ turns vars into a process environment. The process gets these
// variables only, so nothing in the test runner's environment (a
// GATEHOUSE_SECRET, say) can change what is tested.
func environ(vars map[string]string) []string {
	env := make([]string, 0, len(vars))
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// logBuffer collects a process's output while tests read it.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
