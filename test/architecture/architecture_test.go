// Package architecture_test checks the dependency rule against the real
// import graph, so layering is kept by a test and not by memory. The rule
// points inward: domain imports the standard library only, app the
// standard library and domain only; adapters never import each other;
// only adapters/httpapi imports Echo; only adapters/entstore, ent itself
// and the test harnesses import ent. client/, the code that services behind
// Gatehouse import, imports nothing of the service.
package architecture_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/gatehouse-auth/gatehouse"

// TestDependencyRule fails when any package of this module breaks a rule.
func TestDependencyRule(t *testing.T) {
	graph := importGraph(t, "../..")
	require.Contains(t, graph, module+"/domain", "the walk found the domain package")
	require.Contains(t, graph, module+"/adapters/memstore", "the walk found the adapters")
	for _, v := range violations(graph) {
		t.Error(v)
	}
}

// TestViolationsCatchesEveryRule proves each rule can fail, on a made-up
// graph that breaks all of them.
func TestViolationsCatchesEveryRule(t *testing.T) {
	graph := map[string][]string{
		module + "/domain":                       {"context", "github.com/google/uuid"},
		module + "/app":                          {module + "/domain", module + "/adapters/memstore"},
		module + "/adapters/memstore":            {module + "/domain", module + "/adapters/entstore"},
		module + "/adapters/entstore":            {module + "/ent", module + "/domain"},
		module + "/adapters/httpapi":             {"github.com/labstack/echo/v4", module + "/app"},
		module + "/adapters/mail":                {"github.com/labstack/echo/v4/middleware", module + "/ent/user", module + "/app"},
		module + "/test/contract":                {module + "/domain"},
		module + "/adapters/entstore/x":          {module + "/adapters/entstore"},
		module + "/adapters/password":            {module + "/adapters/setting"},
		module + "/adapters/setting":             {"strings", module + "/domain"},
		module + "/app/x":                        {module + "/adapters/setting"},
		module + "/client/verifier":              {"github.com/labstack/echo/v4", module + "/domain"},
		module + "/client/verifier/echoverifier": {"github.com/labstack/echo/v4", module + "/client/verifier"},
	}
	got := violations(graph)
	want := []string{
		module + "/domain imports github.com/google/uuid: domain imports the standard library only",
		module + "/app imports " + module + "/adapters/memstore: app imports the standard library and domain only",
		module + "/adapters/memstore imports " + module + "/adapters/entstore: adapters never import each other",
		module + "/adapters/setting imports " + module + "/domain: adapters/setting imports the standard library only",
		module + "/app/x imports " + module + "/adapters/setting: app imports the standard library and domain only",
		module + "/adapters/mail imports github.com/labstack/echo/v4/middleware: only adapters/httpapi imports Echo",
		module + "/adapters/mail imports " + module + "/ent/user: only adapters/entstore and test harnesses import ent",
		module + "/adapters/mail imports " + module + "/app: only adapters/httpapi, of the adapters, imports app",
		module + "/client/verifier imports github.com/labstack/echo/v4: only adapters/httpapi imports Echo",
		module + "/client/verifier imports " + module + "/domain: client imports nothing of the service",
	}
	assert.ElementsMatch(t, want, got)
}

// violations returns one line for every import that breaks the rule.
func violations(graph map[string][]string) []string {
	var out []string
	for pkg, imports := range graph {
		rel := strings.TrimPrefix(pkg, module+"/")
		for _, imp := range imports {
			if why := broken(rel, imp); why != "" {
				out = append(out, pkg+" imports "+imp+": "+why)
			}
		}
	}
	slices.Sort(out)
	return out
}

// broken says which rule importing imp from the package at rel (a path
// relative to the module) breaks, or "". adapters/setting is the one
// package every adapter may import: it reads settings from the
// environment, and since it imports the standard library alone, it can
// carry no adapter's code into another.
func broken(rel, imp string) string {
	own := strings.HasPrefix(imp, module+"/")
	impRel := strings.TrimPrefix(imp, module+"/")
	switch {
	case under(rel, "domain") && !standard(imp):
		return "domain imports the standard library only"
	case under(rel, "app") && !standard(imp) && !under(impRel, "domain"):
		return "app imports the standard library and domain only"
	case under(rel, "adapters/setting") && !standard(imp):
		return "adapters/setting imports the standard library only"
	case under(rel, "adapters") && own && under(impRel, "adapters") && adapter(impRel) != adapter(rel) && !under(impRel, "adapters/setting"):
		return "adapters never import each other"
	case under(rel, "adapters") && !under(rel, "adapters/httpapi") && under(impRel, "app") && own:
		return "only adapters/httpapi, of the adapters, imports app"
	case under(rel, "client") && own && !under(impRel, "client"):
		return "client imports nothing of the service"
	// client/verifier/echoverifier is the one exception: it exists to
	// adapt the verifier to services built on Echo, and it keeps Echo out
	// of client/verifier, which services on net/http import.
	case strings.HasPrefix(imp, "github.com/labstack/echo") && !under(rel, "adapters/httpapi") && rel != "client/verifier/echoverifier":
		return "only adapters/httpapi imports Echo"
	case own && under(impRel, "ent") && !under(rel, "ent") && !under(rel, "adapters/entstore") && !under(rel, "test"):
		return "only adapters/entstore and test harnesses import ent"
	}
	return ""
}

// under reports whether the slash path p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// adapter returns the adapter a path under adapters/ belongs to.
func adapter(rel string) string {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) < 2 {
		return rel
	}
	return parts[1]
}

// standard reports whether imp is a standard-library path: its first
// element has no dot.
func standard(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

// importGraph returns the non-test imports of every package under root,
// as the go tool would build them (build constraints applied).
func importGraph(t *testing.T, root string) map[string][]string {
	t.Helper()
	graph := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata") {
			return filepath.SkipDir
		}
		pkg, err := build.Default.ImportDir(path, 0)
		if err != nil {
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		graph[module+"/"+filepath.ToSlash(rel)] = pkg.Imports
		return nil
	})
	require.NoError(t, err)
	return graph
}
