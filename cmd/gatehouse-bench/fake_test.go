package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fake is a tiny stand-in for Gatehouse's register, login, refresh and me
// endpoints, strict where the scenarios could go wrong: emails must be new,
// and a refresh token works once (presenting a spent one is counted as
// reuse, as Gatehouse would revoke the session).
type fake struct {
	mu       sync.Mutex
	users    map[string]string // email → password
	refresh  map[string]*refreshToken
	access   map[string]string // access token → email
	seq      int
	reused   int            // spent refresh tokens presented again
	requests map[string]int // "METHOD path" → count

	failMeEvery int  // every n-th GET /v1/me answers 503
	dropMeEvery int  // every n-th GET /v1/me is cut off in the middle of its answer
	limited     bool // register answers 429 (rate limits on)
	meCount     int
	readyAfter  int // GET /readyz answers 503 this many times first
	noReadyz    bool
}

type refreshToken struct {
	email string
	spent bool
}

func newFake(t *testing.T, configure func(*fake)) (*fake, string) {
	f := &fake{
		users: map[string]string{}, refresh: map[string]*refreshToken{},
		access: map[string]string{}, requests: map[string]int{},
	}
	if configure != nil {
		configure(f)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/register", f.register)
	mux.HandleFunc("POST /v1/auth/login", f.login)
	mux.HandleFunc("POST /v1/auth/refresh", f.refreshHandler)
	mux.HandleFunc("GET /v1/me", f.me)
	if !f.noReadyz {
		mux.HandleFunc("GET /readyz", f.readyz)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests[r.Method+" "+r.URL.Path]++
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func (f *fake) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[key]
}

// issue makes a token pair for email; f.mu is held.
func (f *fake) issue(w http.ResponseWriter, status int, email string) {
	f.seq++
	a, r := fmt.Sprintf("at-%d", f.seq), fmt.Sprintf("rt-%d", f.seq)
	f.access[a] = email
	f.refresh[r] = &refreshToken{email: email}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": a, "refresh_token": r, "token_type": "Bearer", "expires_in": 900})
}

func problem(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"status": status, "code": code})
}

func decode(r *http.Request) map[string]string {
	var body map[string]string
	_ = json.NewDecoder(r.Body).Decode(&body)
	return body
}

func (f *fake) register(w http.ResponseWriter, r *http.Request) {
	body := decode(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch email := strings.ToLower(body["email"]); {
	case f.limited:
		problem(w, http.StatusTooManyRequests, "rate_limited")
	case len(body["password"]) < 8 || !strings.Contains(email, "@"):
		problem(w, http.StatusBadRequest, "validation_failed")
	case f.users[email] != "":
		problem(w, http.StatusConflict, "email_taken")
	default:
		f.users[email] = body["password"]
		f.issue(w, http.StatusCreated, email)
	}
}

func (f *fake) login(w http.ResponseWriter, r *http.Request) {
	body := decode(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	email := strings.ToLower(body["email"])
	if pw, ok := f.users[email]; !ok || pw != body["password"] {
		problem(w, http.StatusUnauthorized, "invalid_credentials")
		return
	}
	f.issue(w, http.StatusOK, email)
}

func (f *fake) refreshHandler(w http.ResponseWriter, r *http.Request) {
	body := decode(r)
	f.mu.Lock()
	defer f.mu.Unlock()
	tok := f.refresh[body["refresh_token"]]
	switch {
	case tok == nil:
		problem(w, http.StatusUnauthorized, "invalid_refresh_token")
	case tok.spent:
		f.reused++
		problem(w, http.StatusUnauthorized, "refresh_token_reused")
	default:
		tok.spent = true
		f.issue(w, http.StatusOK, tok.email)
	}
}

func (f *fake) me(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.meCount++
	n := f.meCount
	email, ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	f.mu.Unlock()
	switch {
	case f.dropMeEvery > 0 && n%f.dropMeEvery == 0:
		// Half an answer: a client cannot retry it as it can a request
		// whose connection closed before any byte came back.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"id\"")
			_ = conn.Close()
		}
	case f.failMeEvery > 0 && n%f.failMeEvery == 0:
		problem(w, http.StatusServiceUnavailable, "unavailable")
	case !ok:
		w.Header().Set("WWW-Authenticate", "Bearer")
		problem(w, http.StatusUnauthorized, "invalid_token")
	default:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "u", "email": email, "tier": "free"})
	}
}

func (f *fake) readyz(w http.ResponseWriter, _ *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readyAfter > 0 {
		f.readyAfter--
		problem(w, http.StatusServiceUnavailable, "not_ready")
		return
	}
	w.WriteHeader(http.StatusOK)
}
