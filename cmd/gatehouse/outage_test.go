package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/test/pgtest"
)

// TestServeRidesOutADatabaseOutage stops the Postgres container under a
// running server. Meanwhile every request that needs the database answers
// 503 unavailable at once (the client's timeout only guards against a
// hang; nothing measures time) and readiness fails, while liveness and the
// metrics keep answering. Once the database is back the server recovers
// by itself, and every session issued before the outage still refreshes:
// the refreshes the outage refused spent nothing.
func TestServeRidesOutADatabaseOutage(t *testing.T) {
	db := pgtest.NewContainer(t) // its own container: the shared one's tests go on undisturbed
	addr, log, stop := startServe(t, map[string]string{
		"GATEHOUSE_DATABASE_URL": db.URL(),
		"GATEHOUSE_SECRET":       "outage-test-secret-outage-test-secret",
	})

	ada := tokensOf(t, call(t, "POST", addr, "/v1/auth/register", credentials("ada@example.com", testPassword), ""), http.StatusCreated)
	var refresh []string
	for range 3 {
		refresh = append(refresh, tokensOf(t, call(t, "POST", addr, "/v1/auth/login", credentials("ada@example.com", testPassword), ""), http.StatusOK).RefreshToken)
	}
	rotated := tokensOf(t, call(t, "POST", addr, "/v1/auth/refresh", `{"refresh_token":"`+ada.RefreshToken+`"}`, ""), http.StatusOK)
	refresh = append(refresh, rotated.RefreshToken)
	require.Equal(t, http.StatusOK, call(t, "GET", addr, "/readyz", "", "").status)

	db.Stop()

	requireUnavailable := func(r reply) {
		t.Helper()
		requireProblem(t, r, http.StatusServiceUnavailable, "unavailable")
		assert.Equal(t, "1", r.header.Get("Retry-After"))
	}
	requireUnavailable(call(t, "GET", addr, "/readyz", "", ""))
	requireUnavailable(call(t, "POST", addr, "/v1/auth/login", credentials("ada@example.com", testPassword), ""))
	requireUnavailable(call(t, "POST", addr, "/v1/auth/register", credentials("bob@example.com", testPassword), ""))
	for _, token := range refresh {
		requireUnavailable(call(t, "POST", addr, "/v1/auth/refresh", `{"refresh_token":"`+token+`"}`, ""))
	}
	requireUnavailable(call(t, "GET", addr, "/v1/me", "", rotated.AccessToken))
	assert.Equal(t, http.StatusOK, call(t, "GET", addr, "/healthz", "", "").status, "liveness does not depend on the database")
	metrics := call(t, "GET", addr, "/metrics", "", "")
	require.Equal(t, http.StatusOK, metrics.status)
	assert.Contains(t, metrics.body, `gatehouse_http_requests_total{method="POST",route="/v1/auth/refresh",status="503"} 4`)
	assert.Contains(t, metrics.body, `go_sql_max_open_connections{db_name="gatehouse"} 25`)
	require.Eventually(t, func() bool { return strings.Contains(log.String(), `"code":"unavailable"`) },
		10*time.Second, 5*time.Millisecond, "the log names the outage (within its flush interval)")

	db.Start()
	require.Eventually(t, func() bool {
		r, err := send("GET", addr, "/readyz", "", "")
		return err == nil && r.status == http.StatusOK
	}, time.Minute, 100*time.Millisecond, "readiness recovers by itself")

	for i, token := range refresh {
		next := tokensOf(t, call(t, "POST", addr, "/v1/auth/refresh", `{"refresh_token":"`+token+`"}`, ""), http.StatusOK)
		assert.NotEqual(t, token, next.RefreshToken, "session %d", i)
	}
	tokensOf(t, call(t, "POST", addr, "/v1/auth/login", credentials("ada@example.com", testPassword), ""), http.StatusOK)
	tokensOf(t, call(t, "POST", addr, "/v1/auth/register", credentials("bob@example.com", testPassword), ""), http.StatusCreated)
	require.NoError(t, stop())
	assert.False(t, strings.Contains(log.String(), `"code":"internal_error"`), "no outage request was mistaken for a bug:\n%s", log)
}
