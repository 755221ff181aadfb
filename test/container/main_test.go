package container_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// buildTimeout bounds `make image`: a cold Go build of the binary and a
// docker build that only copies files.
const buildTimeout = 5 * time.Minute

// repo is the repository of the images this package builds. Each test
// binary tags its image run-<random>, so that parallel runs (several
// developers' make test on one Docker Engine) do not use or remove each
// other's, and removes that tag when it ends. The tag "last" stays on the
// image built last: its parents are the steps of the Dockerfile, which the
// next build finds in Docker's build cache instead of spending a second on
// each; `make image` removes the image it leaves without a tag.
const repo = "gatehouse-test/gatehouse"

// built is the image this test binary built, set up by TestMain.
var built struct {
	// unavailable says why there is no Docker Engine; tests skip with it.
	unavailable string
	// err says why the image could not be built although Docker runs;
	// tests fail with it and output.
	err    error
	output string

	ref  string        // the image's reference, repo:run-<random>
	done chan struct{} // closed when the build has finished
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	built.done = make(chan struct{})
	if built.unavailable = pgtest.DockerUnavailable(ctx); built.unavailable != "" {
		close(built.done)
		return m.Run()
	}
	tag := "run-" + randomHex(6)
	built.ref = repo + ":" + tag
	// The build overlaps with the start of the tests' Postgres.
	go func() {
		defer close(built.done)
		built.output, built.err = makeImage(ctx, "IMAGE_REPO="+repo, "IMAGE_TAGS=last "+tag)
	}()
	code := m.Run()
	<-built.done
	if built.err == nil {
		removeTag(built.ref)
	}
	return code
}

// requireDocker skips t when there is no Docker Engine, or fails it under
// GATEHOUSE_REQUIRE_DOCKER=1.
func requireDocker(t *testing.T) {
	t.Helper()
	if built.unavailable != "" {
		pgtest.SkipWithoutDocker(t, built.unavailable)
	}
}

// image returns the reference of the image under test once it is built. It
// calls requireDocker first.
func image(t *testing.T) string {
	t.Helper()
	requireDocker(t)
	<-built.done
	if built.err != nil {
		t.Fatalf("container: %v\n%s", built.err, built.output)
	}
	return built.ref
}

// makeImage runs `make image` with vars at the module's root and returns
// its output.
func makeImage(ctx context.Context, vars ...string) (string, error) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "Dockerfile")); err != nil {
		return "", fmt.Errorf("the module's root with its Dockerfile is not at %s: %w", root, err)
	}
	args := append([]string{"--no-print-directory", "-C", root, "image"}, vars...)
	cmd := exec.CommandContext(ctx, "make", args...)
	// Not the flags of a make that may have started `go test`: its jobserver
	// is not inherited, and -n or -q would make this build do nothing.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return name == "MAKEFLAGS" || name == "MFLAGS" || name == "MAKELEVEL"
	})
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("make %s: %w", strings.Join(args, " "), err)
	}
	return string(out), nil
}

// removeTag removes ref; Docker removes the image with its last tag.
func removeTag(ref string) {
	if _, err := docker("image", "rm", ref); err != nil {
		fmt.Fprintf(os.Stderr, "container: remove image: %v\n", err)
	}
}

// docker runs the docker CLI and returns its standard output, trimmed.
func docker(args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// withRyukHint adds pgtest's explanation of the usual cause of a start
// failure on a machine that reaches no container registry.
func withRyukHint(err error) error {
	if hint := pgtest.RyukHint(); err != nil && hint != "" {
		return fmt.Errorf("%w%s", err, hint)
	}
	return err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
