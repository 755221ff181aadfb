package architecture_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHTTPAPIReachesNoPortPastTheUseCases fails when the HTTP edge could
// reach a store, the hasher or any other port without going through a use
// case: httpapi may not name a port, and no exported field or method of
// app may hand one out.
func TestHTTPAPIReachesNoPortPastTheUseCases(t *testing.T) {
	domain := parseDir(t, "../../domain")
	app := parseDir(t, "../../app")
	httpapi := parseDir(t, "../../adapters/httpapi")
	for _, v := range portLeaks(domain, app, httpapi) {
		t.Error(v)
	}
}

// TestPortLeaksCatchesEveryRule proves each rule of portLeaks can fail,
// on made-up packages that break them.
func TestPortLeaksCatchesEveryRule(t *testing.T) {
	domain := parseSource(t, `package domain
type UserStore interface{ Delete() }
type Stores struct{ Users UserStore }
type User struct{ Email string }`)
	app := parseSource(t, `package app
import "example.com/domain"
type Ports struct{ Stores domain.Stores }
type Auth struct{ Users domain.UserStore; users domain.UserStore; Name string }
type Tokens struct{ User domain.User }
func (a *Auth) Store() domain.UserStore { return a.users }
func (a *Auth) Me() (domain.User, error) { return domain.User{}, nil }
func (a *Auth) stores() domain.Stores { return domain.Stores{} }
func Open() (*Auth, domain.Stores) { return nil, domain.Stores{} }`)
	httpapi := parseSource(t, `package httpapi
import ("example.com/app"; "example.com/domain")
var _ domain.UserStore
func f(p app.Ports, s domain.Stores, u domain.User) {}`)
	assert.ElementsMatch(t, []string{
		"app.Auth exports field Users, a port: use cases hand out results, never ports",
		"app.Auth.Store returns domain.UserStore, a port: use cases hand out results, never ports",
		"app.Open returns domain.Stores, a port: use cases hand out results, never ports",
		"app.Open returns app.Auth, a port: use cases hand out results, never ports", // its field Users is one
		"httpapi names domain.UserStore, a port: it reaches ports only through the use cases",
		"httpapi names domain.Stores, a port: it reaches ports only through the use cases",
		"httpapi names app.Ports, a port: it reaches ports only through the use cases",
	}, portLeaks(domain, app, httpapi))
}

// portLeaks returns one line for every way the HTTP edge could reach a
// port past the use cases: a port of domain or of app named in httpapi, an
// exported field holding a port in an exported type of app other than the
// input of its constructor, Ports, or an exported function or method of
// app that returns a port. A port is an interface, or a struct
// with an exported field holding one.
func portLeaks(domain, app, httpapi []*ast.File) []string {
	ports := map[string]bool{}
	for name := range portTypes(domain, "domain", ports) {
		ports["domain."+name] = true
	}
	for name := range portTypes(app, "app", ports) {
		ports["app."+name] = true
	}
	var out []string
	for _, f := range app {
		eachStruct(f, func(name string, st *ast.StructType) {
			if name == "Ports" || !ast.IsExported(name) {
				return
			}
			for _, field := range exportedFields(st) {
				if ports[qualified(field.Type, "app")] {
					out = append(out, "app."+name+" exports field "+field.Names[0].Name+", a port: use cases hand out results, never ports")
				}
			}
		})
	}
	for _, f := range app {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || !fn.Name.IsExported() || fn.Type.Results == nil {
				continue
			}
			name := "app." + fn.Name.Name
			if fn.Recv != nil {
				recv := qualified(fn.Recv.List[0].Type, "app")
				if !ast.IsExported(strings.TrimPrefix(recv, "app.")) {
					continue
				}
				name = recv + "." + fn.Name.Name
			}
			for _, r := range fn.Type.Results.List {
				if t := qualified(r.Type, "app"); ports[t] {
					out = append(out, name+" returns "+t+", a port: use cases hand out results, never ports")
				}
			}
		}
	}
	for _, f := range httpapi {
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && ports[qualified(sel, "httpapi")] {
				out = append(out, "httpapi names "+qualified(sel, "httpapi")+", a port: it reaches ports only through the use cases")
			}
			return true
		})
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// portTypes returns the names of the ports that the files of package pkg
// declare, given the ports of other packages already known (by qualified
// name).
func portTypes(files []*ast.File, pkg string, known map[string]bool) map[string]bool {
	own := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok {
				if _, ok := ts.Type.(*ast.InterfaceType); ok {
					own[ts.Name.Name] = true
				}
			}
			return true
		})
	}
	for grew := true; grew; {
		grew = false
		for _, f := range files {
			eachStruct(f, func(name string, st *ast.StructType) {
				if own[name] {
					return
				}
				for _, field := range exportedFields(st) {
					t := qualified(field.Type, pkg)
					if known[t] || own[strings.TrimPrefix(t, pkg+".")] {
						own[name], grew = true, true
						return
					}
				}
			})
		}
	}
	return own
}

// eachStruct calls fn with every struct type f declares.
func eachStruct(f *ast.File, fn func(name string, st *ast.StructType)) {
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok {
			if st, ok := ts.Type.(*ast.StructType); ok {
				fn(ts.Name.Name, st)
			}
		}
		return true
	})
}

// exportedFields returns the fields of st with an exported name, one
// name each; an embedded field is named by its type.
func exportedFields(st *ast.StructType) []*ast.Field {
	var out []*ast.Field
	for _, field := range st.Fields.List {
		names := field.Names
		if len(names) == 0 {
			t := qualified(field.Type, "")
			names = []*ast.Ident{ast.NewIdent(t[strings.LastIndex(t, ".")+1:])}
		}
		for _, n := range names {
			if n.IsExported() {
				out = append(out, &ast.Field{Names: []*ast.Ident{n}, Type: field.Type})
			}
		}
	}
	return out
}

// qualified returns the name of a type expression, through pointers, as
// pkg.Name: a name declared in the file's own package pkg gets pkg as its
// qualifier. It returns "" for any other expression.
func qualified(e ast.Expr, pkg string) string {
	switch e := e.(type) {
	case *ast.StarExpr:
		return qualified(e.X, pkg)
	case *ast.Ident:
		return pkg + "." + e.Name
	case *ast.SelectorExpr:
		if x, ok := e.X.(*ast.Ident); ok {
			return x.Name + "." + e.Sel.Name
		}
	}
	return ""
}

// parseDir parses the non-test Go files of one directory.
func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	fset := token.NewFileSet()
	var files []*ast.File
	entries, err := fs.Glob(os.DirFS(dir), "*.go")
	require.NoError(t, err)
	for _, name := range entries {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		files = append(files, f)
	}
	require.NotEmpty(t, files, "Go files in %s", dir)
	return files
}

// parseSource parses one file's source.
func parseSource(t *testing.T, src string) []*ast.File {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "src.go", src, parser.SkipObjectResolution)
	require.NoError(t, err)
	return []*ast.File{f}
}
