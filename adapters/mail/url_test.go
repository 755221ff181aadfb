package mail_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/mail"
)

func TestParseSMTPURL(t *testing.T) {
	cases := map[string]mail.SMTPConfig{
		"smtp://mail.example.com":           {Host: "mail.example.com", Port: 587},
		"smtps://mail.example.com":          {Host: "mail.example.com", Port: 465, ImplicitTLS: true},
		"smtp://mail.example.com:2525":      {Host: "mail.example.com", Port: 2525},
		"smtps://mail.example.com:10465":    {Host: "mail.example.com", Port: 10465, ImplicitTLS: true},
		"SMTP://mail.example.com:25":        {Host: "mail.example.com", Port: 25},
		"smtp://127.0.0.1:1025/":            {Host: "127.0.0.1", Port: 1025},
		"smtp://[::1]:25":                   {Host: "::1", Port: 25},
		"smtp://mail.example.com:":          {Host: "mail.example.com", Port: 587},
		"smtp://user:pass@mail.example.com": {Host: "mail.example.com", Port: 587, Username: "user", Password: "pass"},
		"smtps://apikey:SG.abc-DEF_123@smtp.example.net:465": {
			Host: "smtp.example.net", Port: 465, Username: "apikey", Password: "SG.abc-DEF_123", ImplicitTLS: true,
		},
		// Userinfo is percent-decoded.
		"smtp://ada%40example.com:p%40ss%3Aw%2Frd%25%23%3F@mail.example.com:587": {
			Host: "mail.example.com", Port: 587, Username: "ada@example.com", Password: "p@ss:w/rd%#?",
		},
	}
	for raw, want := range cases {
		got, err := mail.ParseSMTPURL(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, want, got, raw)
	}
}

// TestParseSMTPURLErrors: each error says what is wrong and quotes no part
// of the password, even where the URL is so malformed that the parser
// mistakes the password for a port or a path.
func TestParseSMTPURLErrors(t *testing.T) {
	const secret = "hunter2"
	cases := map[string]string{
		"":                                       "must start with smtp:// or smtps://",
		"mail.example.com:25":                    "must start with smtp:// or smtps://",
		"http://user:hunter2@mail.example.com":   "must start with smtp:// or smtps://",
		"user:hunter2@mail.example.com":          "must start with smtp:// or smtps://",
		"smtp:mail.example.com":                  "form smtp://host:port",
		"smtp://":                                "no host",
		"smtp://user:hunter2@":                   "no host",
		"smtp://user:hunter2@:25":                "no host",
		"smtp://mail.example.com:0":              "port outside 1 to 65535",
		"smtp://user:hunter2@mail.example:65536": "port outside 1 to 65535",
		"smtp://mail.example.com:abc":            "malformed",
		"smtp://user:hunter2@mail.example.com/x": "must not have a path",
		"smtp://mail.example.com?tls=1":          "must not have a query",
		"smtp://mail.example.com?":               "must not have a query",
		"smtp://mail.example.com#x":              "must not have a fragment",
		"smtp://user@mail.example.com":           "no password",
		"smtp://user:@mail.example.com":          "no password",
		"smtp://:hunter2@mail.example.com":       "no user name",
		// Unencoded or badly encoded passwords.
		"smtp://user:hunter2%zz@mail.example.com":   "malformed",
		"smtp://user:hunter2/pw@mail.example.com":   "malformed",
		"smtp://user:1234/hunter2@mail.example.com": "must not have a path",
		"smtp://user:hun ter2@mail.example.com":     "malformed",
		"smtp://user:hunter2?x@mail.example.com":    "malformed",
		"smtp://user:hunter2#x@mail.example.com":    "malformed",
		"smtp://user:hunter2\n@mail.example.com":    "malformed",
	}
	for raw, want := range cases {
		_, err := mail.ParseSMTPURL(raw)
		require.Error(t, err, raw)
		assert.Contains(t, err.Error(), want, raw)
		assert.True(t, strings.HasPrefix(err.Error(), "mail: "), err.Error())
		assert.NotContains(t, err.Error(), secret[:4], raw)
	}
}

// TestSMTPConfigHidesPassword: printing or logging a config never shows
// the password.
func TestSMTPConfigHidesPassword(t *testing.T) {
	c, err := mail.ParseSMTPURL("smtps://user:hunter2@mail.example.com")
	require.NoError(t, err)
	require.Equal(t, "hunter2", c.Password, "the control: the password is there")
	assert.Equal(t, "smtps://user:xxxxx@mail.example.com:465", c.String())

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "smtp", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "smtp", c)
	assert.Contains(t, buf.String(), "user:xxxxx@mail.example.com")
	assert.NotContains(t, buf.String(), "hunter2")

	plain, err := mail.ParseSMTPURL("smtp://mail.example.com")
	require.NoError(t, err)
	assert.Equal(t, "smtp://mail.example.com:587", plain.String())
	assert.Equal(t, "mail.example.com:587", plain.Addr())
}
