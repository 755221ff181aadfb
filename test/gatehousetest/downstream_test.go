package gatehousetest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestADownstreamModuleTestsAgainstGatehouse builds testdata/downstream,
// a service of its own module, as a team behind Gatehouse would: a go.mod
// that requires Gatehouse (replaced by this checkout), a tier-protected
// handler on client/verifier, and a test on gatehousetest. It runs that
// module's tests with the go command, so what the README shows works from
// outside this repository.
func TestADownstreamModuleTestsAgainstGatehouse(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to build another module with")
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	dir := t.TempDir()
	for _, name := range []string{"reports.go", "reports_test.go"} {
		b, err := os.ReadFile(filepath.Join("testdata", "downstream", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	goMod := "module example.com/reports\n\ngo 1.26\n\n" +
		"require github.com/gatehouse-auth/gatehouse v0.0.0\n\n" +
		"replace github.com/gatehouse-auth/gatehouse => " + root + "\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644))
	// Gatehouse's own sums cover every module the build needs, so that
	// nothing is looked up that the module cache does not have.
	sums, err := os.ReadFile(filepath.Join(root, "go.sum"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), sums, 0o644))

	cmd := exec.Command(goTool, "test", "-count=1", "-v", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod "+os.Getenv("GOFLAGS"), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go test in the downstream module:\n%s", out)
	require.Contains(t, string(out), "--- PASS: TestOnlyMembersReadReports", "%s", out)
}

// TestREADMEShowsTheDownstreamModule keeps README's example the code that
// TestADownstreamModuleTestsAgainstGatehouse runs.
func TestREADMEShowsTheDownstreamModule(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, name := range []string{"reports.go", "reports_test.go"} {
		b, err := os.ReadFile(filepath.Join("testdata", "downstream", name))
		require.NoError(t, err)
		require.Contains(t, string(readme), "```go\n"+string(b)+"```\n", "README shows testdata/downstream/%s as it is", name)
	}
}
