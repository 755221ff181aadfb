package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// newClient returns an HTTP client for concurrency workers: it keeps a
// connection per worker alive between requests, follows no redirects, and
// its dialer refuses any address that is not loopback, whatever a name
// resolved to.
func newClient(concurrency int, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !ap.Addr().Unmap().IsLoopback() {
				return fmt.Errorf("gatehouse-bench: refusing to connect to %s: not a loopback address", address)
			}
			return nil
		},
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        2 * concurrency,
			MaxIdleConnsPerHost: 2 * concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
			ForceAttemptHTTP2:   false,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// api is the part of Gatehouse's HTTP API the scenarios use.
type api struct {
	base string
	hc   *http.Client
}

// session is what a worker keeps between requests: its newest tokens.
type session struct {
	access, refresh string
}

// tokenResponse is the body of register, login and refresh answers.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// errBadResponse marks a success status whose body lacked the tokens.
var errBadResponse = errors.New("success status without tokens")

// result is the outcome of one request: status is 0 when no response came
// (err is the transport error then).
type result struct {
	status int
	err    error
}

func (a *api) register(ctx context.Context, email, password string) (session, result) {
	return a.tokens(ctx, "/v1/auth/register", http.StatusCreated, map[string]string{"email": email, "password": password})
}

func (a *api) login(ctx context.Context, email, password string) (session, result) {
	return a.tokens(ctx, "/v1/auth/login", http.StatusOK, map[string]string{"email": email, "password": password})
}

func (a *api) refreshSession(ctx context.Context, refresh string) (session, result) {
	return a.tokens(ctx, "/v1/auth/refresh", http.StatusOK, map[string]string{"refresh_token": refresh})
}

// me reads the caller's user object; the body is read and dropped.
func (a *api) me(ctx context.Context, access string) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/v1/me", nil)
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := a.hc.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return result{err: err}
	}
	return result{status: resp.StatusCode}
}

// tokens posts body as JSON to path and, when the answer has status want,
// decodes the token pair. The body is always read to the end so that the
// connection can be reused.
func (a *api) tokens(ctx context.Context, path string, want int, body any) (session, result) {
	raw, err := json.Marshal(body)
	if err != nil {
		return session{}, result{err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+path, bytes.NewReader(raw))
	if err != nil {
		return session{}, result{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.hc.Do(req)
	if err != nil {
		return session{}, result{err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return session{}, result{err: err}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return session{}, result{status: resp.StatusCode}
	}
	var tr tokenResponse
	if json.Unmarshal(data, &tr) != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		return session{}, result{status: resp.StatusCode, err: errBadResponse}
	}
	return session{access: tr.AccessToken, refresh: tr.RefreshToken}, result{status: resp.StatusCode}
}
