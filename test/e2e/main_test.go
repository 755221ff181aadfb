package e2e_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// binaryVersion is stamped into the binary under test, so that `gatehouse
// version` can be checked for exactly it.
const binaryVersion = "e2e-build"

// build is the result of building the gatehouse binary once for the whole
// test binary. done is closed when the build has finished.
var build struct {
	done   chan struct{}
	path   string
	output string // the go tool's output when the build failed
	err    error
}

func TestMain(m *testing.M) {
	// Scenarios mostly wait on their servers, not on this process's CPU:
	// run more of them at once than the default of GOMAXPROCS. An explicit
	// -parallel flag still wins, since the flags are parsed after this.
	if f := flag.Lookup("test.parallel"); f != nil && f.Value.String() == strconv.Itoa(runtime.GOMAXPROCS(0)) {
		_ = f.Value.Set("8")
	}
	dir, err := os.MkdirTemp("", "gatehouse-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	// The build overlaps with the start of the Postgres container.
	build.done = make(chan struct{})
	go func() {
		defer close(build.done)
		build.path, build.output, build.err = buildGatehouse(dir)
	}()
	code := pgtest.Main(m)
	<-build.done
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildGatehouse builds ./cmd/gatehouse with the race detector into dir, so
// that every request the tests send also checks the server for data races.
func buildGatehouse(dir string) (path, output string, err error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", "", fmt.Errorf("go env GOMOD: %w", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	if root == "." || root == "" {
		return "", "", fmt.Errorf("go env GOMOD: not inside a module (%q)", gomod)
	}
	path = filepath.Join(dir, "gatehouse")
	cmd := exec.Command("go", "build", "-race",
		"-ldflags", "-X main.version="+binaryVersion,
		"-o", path, "./cmd/gatehouse")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", string(out), fmt.Errorf("go build -race ./cmd/gatehouse: %w", err)
	}
	return path, "", nil
}

// gatehouseBinary returns the path of the built binary, failing t with the
// build's output when the build failed.
func gatehouseBinary(t testing.TB) string {
	t.Helper()
	<-build.done
	if build.err != nil {
		t.Fatalf("%v\n%s", build.err, build.output)
	}
	return build.path
}
