package httpapi_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/httpapi"
	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// readSettings reads the HTTP edge's settings from vars.
func readSettings(vars map[string]string) (httpapi.Settings, error) {
	r := setting.NewReader(func(name string) string { return vars[name] })
	s := httpapi.ReadSettings(r)
	return s, r.Err()
}

func TestReadSettingsDefaults(t *testing.T) {
	s, err := readSettings(nil)
	require.NoError(t, err)
	assert.Equal(t, httpapi.Settings{PublicURL: "http://localhost:8080", RequestTimeout: 10 * time.Second}, s,
		"no proxy is trusted and the admin API is off")
}

func TestReadSettingsReadsEveryVariable(t *testing.T) {
	s, err := readSettings(map[string]string{
		"GATEHOUSE_PUBLIC_URL":      "https://auth.example.com/",
		"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,2001:db8::/32 10.1.2.3/16",
		"GATEHOUSE_ADMIN_API_KEY":   "admin-key-admin-key-admin-key-admin-key",
		"GATEHOUSE_REQUEST_TIMEOUT": "30s",
		"GATEHOUSE_REDIRECT_URLS":   " https://app.example.com/app/,http://localhost:3000\thttps://app.example.com/done ,",
	})
	require.NoError(t, err)
	assert.Equal(t, "https://auth.example.com", s.PublicURL, "the trailing slash goes")
	assert.Equal(t, []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.1/32"),
		netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("10.1.0.0/16"),
	}, s.TrustedProxies)
	assert.Equal(t, "admin-key-admin-key-admin-key-admin-key", s.AdminAPIKey)
	assert.Equal(t, 30*time.Second, s.RequestTimeout)
	assert.Equal(t, []string{"https://app.example.com/app/", "http://localhost:3000", "https://app.example.com/done"}, s.RedirectURLs,
		"split at commas and white space")
}

func TestReadSettingsRequestTimeoutBoundsAreInclusive(t *testing.T) {
	for v, want := range map[string]time.Duration{"100ms": 100 * time.Millisecond, "5m": 5 * time.Minute} {
		s, err := readSettings(map[string]string{"GATEHOUSE_REQUEST_TIMEOUT": v})
		require.NoError(t, err, v)
		assert.Equal(t, want, s.RequestTimeout, v)
	}
}

func TestReadSettingsErrorsNameTheVariable(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"relative public":            {map[string]string{"GATEHOUSE_PUBLIC_URL": "auth.example.com"}, `GATEHOUSE_PUBLIC_URL: "auth.example.com" is not an absolute http(s) URL`},
		"public with query":          {map[string]string{"GATEHOUSE_PUBLIC_URL": "https://a.example.com/?x=1"}, "GATEHOUSE_PUBLIC_URL"},
		"public with fragment":       {map[string]string{"GATEHOUSE_PUBLIC_URL": "https://a.example.com/#x"}, "GATEHOUSE_PUBLIC_URL"},
		"bad proxy":                  {map[string]string{"GATEHOUSE_TRUSTED_PROXIES": "10.0.0.0/8,proxy.local"}, `GATEHOUSE_TRUSTED_PROXIES: "proxy.local" is not a CIDR`},
		"short admin key":            {map[string]string{"GATEHOUSE_ADMIN_API_KEY": "admin"}, "GATEHOUSE_ADMIN_API_KEY: must be at least 32 characters long"},
		"bad request timeout":        {map[string]string{"GATEHOUSE_REQUEST_TIMEOUT": "10"}, `GATEHOUSE_REQUEST_TIMEOUT: "10" is not a Go duration`},
		"zero request timeout":       {map[string]string{"GATEHOUSE_REQUEST_TIMEOUT": "0s"}, `GATEHOUSE_REQUEST_TIMEOUT: "0s" must be positive`},
		"endless request timeout":    {map[string]string{"GATEHOUSE_REQUEST_TIMEOUT": "1h"}, "GATEHOUSE_REQUEST_TIMEOUT: must be from 100ms to 5m0s"},
		"instant request timeout":    {map[string]string{"GATEHOUSE_REQUEST_TIMEOUT": "1ns"}, "GATEHOUSE_REQUEST_TIMEOUT: must be from 100ms to 5m0s"},
		"relative redirect":          {map[string]string{"GATEHOUSE_REDIRECT_URLS": "https://app.example.com/ /app/"}, `GATEHOUSE_REDIRECT_URLS: "/app/" is not an absolute http(s) URL`},
		"redirect with query":        {map[string]string{"GATEHOUSE_REDIRECT_URLS": "https://app.example.com/?next=1"}, `GATEHOUSE_REDIRECT_URLS: "https://app.example.com/?next=1" has a query`},
		"redirect with fragment":     {map[string]string{"GATEHOUSE_REDIRECT_URLS": "https://app.example.com/#top"}, `GATEHOUSE_REDIRECT_URLS: "https://app.example.com/#top" has a fragment`},
		"redirect with userinfo":     {map[string]string{"GATEHOUSE_REDIRECT_URLS": "https://app.example.com/,https://ada@app.example.com/"}, "GATEHOUSE_REDIRECT_URLS: entry 2 has userinfo"},
		"redirect of another scheme": {map[string]string{"GATEHOUSE_REDIRECT_URLS": "myapp://callback"}, `GATEHOUSE_REDIRECT_URLS: "myapp://callback" is not an absolute http(s) URL`},
	} {
		_, err := readSettings(tc.vars)
		assert.ErrorContains(t, err, tc.want, name)
	}
}

func TestReadSettingsReportsEveryBadRedirectURL(t *testing.T) {
	s, err := readSettings(map[string]string{"GATEHOUSE_REDIRECT_URLS": "https://app.example.com/ ftp://a.example https://b.example/#x"})
	require.Error(t, err)
	assert.ErrorContains(t, err, `"ftp://a.example"`)
	assert.ErrorContains(t, err, `"https://b.example/#x"`)
	assert.Equal(t, []string{"https://app.example.com/"}, s.RedirectURLs, "only the good entries")
}

func TestReadSettingsKeepsTheAdminKeyOut(t *testing.T) {
	_, err := readSettings(map[string]string{"GATEHOUSE_ADMIN_API_KEY": "short-admin-secret"})
	require.ErrorContains(t, err, "GATEHOUSE_ADMIN_API_KEY")
	assert.NotContains(t, err.Error(), "short-admin-secret")
}
