package httpapi

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRedirectListAllows(t *testing.T) {
	t.Parallel()
	l, err := newRedirectList([]string{
		"https://app.example.com/app/", // everything under /app/
		"https://app.example.com/done", // /done alone
		"http://localhost:3000",        // a whole origin: no path is "/"
		"https://[2001:db8::1]:8443/v/",
	})
	require.NoError(t, err)
	long := "https://app.example.com/app/" + strings.Repeat("a", maxRedirectLength-len("https://app.example.com/app/"))

	for _, tt := range []struct {
		name, raw, want string // want "" means refused
	}{
		{"the entry itself", "https://app.example.com/app/", "https://app.example.com/app/"},
		{"under the entry", "https://app.example.com/app/welcome", "https://app.example.com/app/welcome"},
		{"deep under the entry", "https://app.example.com/app/a/b/c", "https://app.example.com/app/a/b/c"},
		{"with a query", "https://app.example.com/app/welcome?from=email&x=%2F", "https://app.example.com/app/welcome?from=email&x=%2F"},
		{"mixed case scheme and host", "HTTPS://App.Example.COM/app/x", "https://app.example.com/app/x"},
		{"default port", "https://app.example.com:443/app/x", "https://app.example.com/app/x"},
		{"exact path entry", "https://app.example.com/done", "https://app.example.com/done"},
		{"exact path entry with a query", "https://app.example.com/done?ok=1", "https://app.example.com/done?ok=1"},
		{"an empty query is dropped", "https://app.example.com/done?", "https://app.example.com/done"},
		{"origin entry, root", "http://localhost:3000/", "http://localhost:3000/"},
		{"origin entry, no path", "http://localhost:3000", "http://localhost:3000/"},
		{"origin entry, any path", "http://localhost:3000/x/y", "http://localhost:3000/x/y"},
		{"IPv6 literal", "https://[2001:DB8::1]:8443/v/x", "https://[2001:db8::1]:8443/v/x"},
		{"percent-encoding other than slash and dot", "https://app.example.com/app/caf%C3%A9", "https://app.example.com/app/caf%C3%A9"},
		{"at the length limit", long, long},

		{"a suffix of the host", "https://app.example.com.evil.com/app/", ""},
		{"a prefix of the host", "https://evilapp.example.com/app/", ""},
		{"a subdomain", "https://x.app.example.com/app/", ""},
		{"the host as userinfo", "https://app.example.com@evil.com/app/", ""},
		{"userinfo", "https://user:pass@app.example.com/app/", ""},
		{"empty userinfo", "https://@app.example.com/app/", ""},
		{"scheme-relative", "//evil.com/app/", ""},
		{"scheme-relative to the host", "//app.example.com/app/", ""},
		{"relative path", "/app/welcome", ""},
		{"no authority", "https:app.example.com/app/", ""},
		{"empty authority", "https:///app.example.com/app/", ""},
		{"a sibling of the entry's directory", "https://app.example.com/app-evil", ""},
		{"the directory without its slash", "https://app.example.com/app", ""},
		{"under an exact entry", "https://app.example.com/done/x", ""},
		{"a longer exact path", "https://app.example.com/done2", ""},
		{"path case differs", "https://app.example.com/App/x", ""},
		{"another scheme", "http://app.example.com/app/", ""},
		{"another port", "https://app.example.com:8443/app/", ""},
		{"an empty port", "https://app.example.com:/app/", ""},
		{"a port of another scheme", "http://localhost:3001/", ""},
		{"trailing dot host", "https://app.example.com./app/", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"javascript with slashes", "javascript://app.example.com/app/%0aalert(1)", ""},
		{"data", "data:text/html,<script>alert(1)</script>", ""},
		{"fragment", "https://app.example.com/app/#x", ""},
		{"empty fragment", "https://app.example.com/app/#", ""},
		{"dot-dot segment", "https://app.example.com/app/../admin", ""},
		{"dot segment", "https://app.example.com/app/./x", ""},
		{"trailing dot-dot", "https://app.example.com/app/..", ""},
		{"encoded dots", "https://app.example.com/app/%2e%2e/admin", ""},
		{"encoded dots, upper case", "https://app.example.com/app/%2E%2E/admin", ""},
		{"encoded slash", "https://app.example.com/app/..%2Fadmin", ""},
		{"encoded backslash", "https://app.example.com/app/%5c..%5cadmin", ""},
		{"backslash in the path", `https://app.example.com/app\..\admin`, ""},
		{"backslash before userinfo", `https://evil.com\@app.example.com/app/`, ""},
		{"encoded host", "https://app.example.com%2eevil.com/app/", ""},
		{"non-ASCII host", "https://app.exämple.com/app/", ""},
		{"space", "https://app.example.com/app/a b", ""},
		{"tab", "https://app.example.com/app/\tx", ""},
		{"line break", "https://app.example.com/app/\r\nx", ""},
		{"NUL", "https://app.example.com/app/\x00", ""},
		{"quote", `https://app.example.com/app/?q="x"`, ""},
		{"angle brackets", "https://app.example.com/app/?q=<x>", ""},
		{"over the length limit", long + "a", ""},
		{"empty", "", ""},
		{"the entry in the query of another", "https://evil.com/?https://app.example.com/app/", ""},
		{"bad escape", "https://app.example.com/app/%zz", ""},
	} {
		got, ok := l.allows(tt.raw)
		assert.Equal(t, tt.want != "", ok, "%s: %q", tt.name, tt.raw)
		assert.Equal(t, tt.want, got, "%s: %q", tt.name, tt.raw)
	}
}

func TestEmptyRedirectListAllowsNothing(t *testing.T) {
	t.Parallel()
	var zero redirectList
	l, err := newRedirectList(nil)
	require.NoError(t, err)
	for _, raw := range []string{"https://app.example.com/", "http://localhost:8080/"} {
		_, ok := l.allows(raw)
		assert.False(t, ok, raw)
		_, ok = zero.allows(raw)
		assert.False(t, ok, raw)
	}
}

func TestNewRedirectListRefusesBadEntries(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"app.example.com":                      `"app.example.com" is not an absolute http(s) URL`,
		"/app/":                                "is not an absolute http(s) URL",
		"ftp://app.example.com/":               "is not an absolute http(s) URL",
		"https://":                             "is not an absolute http(s) URL",
		"https://app.example.com/?x=1":         "has a query",
		"https://app.example.com/?":            "has a query",
		"https://app.example.com/#x":           "has a fragment",
		"https://app.example.com/a/../b/":      "has a dot segment",
		"https://app.example.com/a%2Fb/":       "has a dot segment, or an encoded slash",
		"https://app.example.com/a b/":         "holds a character that a URL may not",
		"https://user:hunter2@app.example.com": "entry 1 has userinfo",
	} {
		_, err := newRedirectList([]string{raw})
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want, raw)
		assert.NotContains(t, err.Error(), "hunter2", "a password in an entry is never quoted")
	}
}
