package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/entstore"
	"github.com/gatehouse-auth/gatehouse/test/smtptest"
)

// TestLogsAtInfoHoldNoSecrets runs every flow that handles a secret through
// the real wiring at the default level, info, with email over SMTP (the
// log mailer, for development only, writes emails to the log by design),
// and then looks for each secret in the whole log: passwords, access and
// refresh tokens, the tokens of email links, password hashes and the email
// address itself.
func TestLogsAtInfoHoldNoSecrets(t *testing.T) {
	smtp := smtptest.Start(t)
	dbPath := filepath.Join(t.TempDir(), "gatehouse.db")
	addr, log, stop := startServe(t, map[string]string{
		"GATEHOUSE_DATABASE_URL": "sqlite://" + dbPath,
		"GATEHOUSE_SMTP_URL":     smtp.URL(),
		"GATEHOUSE_LOG_LEVEL":    "info",
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := entstore.Open(ctx, "sqlite://"+dbPath)
	require.NoError(t, err)
	defer db.Close()
	hashOf := func(email string) string {
		t.Helper()
		u, err := db.Stores().Users.ByEmail(ctx, email)
		require.NoError(t, err)
		require.NotEmpty(t, u.PasswordHash)
		return u.PasswordHash
	}
	const (
		email    = "ada.lovelace@example.com"
		wrong    = "not-adas-password-at-all"
		reset    = "a brand new passphrase for ada"
		changed  = "and yet another passphrase"
		postBody = `{"refresh_token":"%s"}`
	)
	secrets := []string{testPassword, wrong, reset, changed, email, "Ada.Lovelace@Example.com"}
	keep := func(tk tokens) tokens { secrets = append(secrets, tk.AccessToken, tk.RefreshToken); return tk }
	body := func(format, value string) string { return strings.Replace(format, "%s", value, 1) }
	wait := func(purpose string) string {
		t.Helper()
		m, err := smtp.WaitFor(ctx, func(m smtptest.Message) bool { return strings.Contains(m.Link(), purpose) })
		require.NoError(t, err)
		secrets = append(secrets, m.Token())
		return m.Token()
	}

	first := keep(tokensOf(t, call(t, "POST", addr, "/v1/auth/register", credentials(email, testPassword), ""), http.StatusCreated))
	secrets = append(secrets, hashOf(email))
	verify := wait("verify-email")
	requireProblem(t, call(t, "POST", addr, "/v1/auth/login", credentials(email, wrong), ""), http.StatusUnauthorized, "invalid_credentials")
	second := keep(tokensOf(t, call(t, "POST", addr, "/v1/auth/login", credentials("Ada.Lovelace@Example.com", testPassword), ""), http.StatusOK))
	rotated := keep(tokensOf(t, call(t, "POST", addr, "/v1/auth/refresh", body(postBody, second.RefreshToken), ""), http.StatusOK))
	keep(tokensOf(t, call(t, "POST", addr, "/v1/auth/refresh", body(postBody, rotated.RefreshToken), ""), http.StatusOK))
	requireProblem(t, call(t, "POST", addr, "/v1/auth/refresh", body(postBody, second.RefreshToken), ""), http.StatusUnauthorized, "refresh_token_reused")
	requireProblem(t, call(t, "GET", addr, "/v1/me?access_token="+first.AccessToken, "", ""), http.StatusUnauthorized, "invalid_token")
	require.Equal(t, http.StatusOK, call(t, "GET", addr, "/verify-email?token="+verify, "", "").status)
	require.Equal(t, http.StatusOK, call(t, "POST", addr, "/v1/auth/verify-email", `{"token":"`+verify+`"}`, "").status)

	require.Equal(t, http.StatusAccepted, call(t, "POST", addr, "/v1/auth/password/forgot", `{"email":"`+email+`"}`, "").status)
	resetToken := wait("reset-password")
	require.Equal(t, http.StatusOK, call(t, "GET", addr, "/reset-password?token="+resetToken, "", "").status)
	require.Equal(t, http.StatusNoContent, call(t, "POST", addr, "/v1/auth/password/reset", `{"token":"`+resetToken+`","password":"`+reset+`"}`, "").status)
	secrets = append(secrets, hashOf(email))
	third := keep(tokensOf(t, call(t, "POST", addr, "/v1/auth/login", credentials(email, reset), ""), http.StatusOK))
	require.Equal(t, http.StatusNoContent, call(t, "POST", addr, "/v1/auth/password/change",
		`{"current_password":"`+reset+`","new_password":"`+changed+`"}`, third.AccessToken).status)
	secrets = append(secrets, hashOf(email))
	require.Equal(t, http.StatusOK, call(t, "GET", addr, "/v1/me", "", third.AccessToken).status)
	keep(tokensOf(t, call(t, "POST", addr, "/v1/auth/anonymous", "", ""), http.StatusCreated))
	require.Equal(t, http.StatusNoContent, call(t, "POST", addr, "/v1/auth/logout", body(postBody, third.RefreshToken), "").status)
	require.Equal(t, http.StatusNoContent, call(t, "DELETE", addr, "/v1/me", `{"password":"`+changed+`"}`, third.AccessToken).status)
	require.NoError(t, stop(), "stopping flushes the mail queue's log lines too")

	out := log.String()
	requests, sent := 0, 0
	for line := range strings.Lines(out) {
		var rec struct{ Msg string }
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		switch rec.Msg {
		case "request":
			requests++
		case "email sent":
			sent++
		}
	}
	require.Equal(t, 18, requests, "every request was logged: the log is not empty by accident")
	require.Equal(t, 2, sent)
	for _, secret := range secrets {
		require.NotEmpty(t, secret)
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, `"recipient_domain":"example.com"`, "the mail log names the domain, not the address")
	assert.NotContains(t, out, "ada.lovelace", "nor its local part")
}
