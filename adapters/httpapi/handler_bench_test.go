package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/app"
)

// The handler benchmarks run the whole middleware chain and handler on
// memstore with the fake token issuer and hasher, through ServeHTTP with a
// recorder, so that what they report is the HTTP edge's own cost: routing,
// middleware, body decoding, JSON encoding, the access log line (to
// io.Discard, as JSON, at the production level) and metrics.
// BenchmarkHandlerBaseline is what the benchmark loop itself costs.

// newBenchStack returns a stack that logs as production does, and ada's
// tokens.
func newBenchStack(b *testing.B) (*stack, app.Tokens) {
	b.Helper()
	s := newStack(b, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	tokens, err := s.app.Auth.Register(context.Background(), app.RegisterInput{
		Email: "ada@example.com", Password: password, Client: app.Client{IP: "192.0.2.1", UserAgent: userAgent},
	})
	require.NoError(b, err)
	return s, tokens
}

// BenchmarkHandlerBaseline is a request and a recorder through a handler
// that writes a small JSON body: the part of the other benchmarks' numbers
// that is the loop's, not the API's.
func BenchmarkHandlerBaseline(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{}`)
	})
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		req.Header.Set("Authorization", "Bearer at-x")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
	}
}

// BenchmarkHandlerMe is GET /v1/me with a valid bearer: the middleware
// chain, the bearer check, one store read and the user's JSON.
func BenchmarkHandlerMe(b *testing.B) {
	s, tokens := newBenchStack(b)
	auth := "Bearer " + tokens.AccessToken
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/v1/me", nil)
		req.Header.Set("Authorization", auth)
		req.Header.Set("User-Agent", userAgent)
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET /v1/me: %d %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkHandlerRefresh is POST /v1/auth/refresh, each request rotating
// the token the one before it received: the body decoding, a unit of work
// on memstore (rotate and read the user), a fake access token and the
// token response. The next token is cut out of the response rather than
// decoded, so that the loop costs one small string.
//
// memstore copies all its data for every unit of work, and each rotation
// keeps one more hash, so a long chain would measure memstore's copying
// rather than the handler: the stack is rebuilt, off the clock, every
// refreshChain requests.
func BenchmarkHandlerRefresh(b *testing.B) {
	const field = `"refresh_token":"`
	var (
		s       *stack
		refresh string
	)
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		if n%refreshChain == 0 {
			b.StopTimer()
			var tokens app.Tokens
			s, tokens = newBenchStack(b)
			refresh = tokens.RefreshToken
			b.StartTimer()
		}
		req := httptest.NewRequest(http.MethodPost, "/v1/auth/refresh", strings.NewReader(`{"refresh_token":"`+refresh+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", userAgent)
		rec := httptest.NewRecorder()
		s.handler.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		i := bytes.Index(body, []byte(field))
		if rec.Code != http.StatusOK || i < 0 || len(body) < i+len(field)+len(refresh) {
			b.Fatalf("POST /v1/auth/refresh: %d %s", rec.Code, body)
		}
		refresh = string(body[i+len(field) : i+len(field)+len(refresh)])
	}
}

// refreshChain is how many rotations BenchmarkHandlerRefresh makes in one
// store.
const refreshChain = 256
