package gatehousetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/test/otptest"
)

// Tier is a user's tier.
type Tier string

// Gatehouse's tiers.
const (
	Anonymous Tier = "anonymous"
	Free      Tier = "free"
	Member    Tier = "member"
)

// Password is the password of every user NewUser makes.
const Password = "correct horse battery staple"

// UserObject is Gatehouse's user object.
type UserObject struct {
	ID            string    `json:"id"`
	Email         *string   `json:"email"` // nil for an anonymous user
	EmailVerified bool      `json:"email_verified"`
	Tier          Tier      `json:"tier"`
	CreatedAt     time.Time `json:"created_at"`
}

// TokenResponse is Gatehouse's token response.
type TokenResponse struct {
	AccessToken  string     `json:"access_token"`
	TokenType    string     `json:"token_type"`
	ExpiresIn    int        `json:"expires_in"`
	RefreshToken string     `json:"refresh_token"`
	User         UserObject `json:"user"`
}

// User is a user NewUser made.
type User struct {
	ID       string
	Email    string // "" for an anonymous user
	Password string // "" for an anonymous user
	// Tokens is the token response of the user's session as it is now:
	// its access token carries the user's tier, verification and, with
	// WithMFA, aal2.
	Tokens TokenResponse
	// TOTPKey is the base32 key of the user's authenticator app (with
	// WithMFA; "" otherwise), for Gatehouse.TOTPCode; RecoveryCodes are
	// its ten recovery codes.
	TOTPKey       string
	RecoveryCodes []string
}

// userSpec is what the UserOptions ask for.
type userSpec struct {
	email      string
	unverified bool
	mfa        bool
}

// UserOption changes the user NewUser makes.
type UserOption func(*userSpec)

// WithEmail gives the user this address instead of a made-up one.
func WithEmail(address string) UserOption { return func(s *userSpec) { s.email = address } }

// Unverified leaves the user's address unverified; by default it is
// verified, through the link of the verification email.
func Unverified() UserOption { return func(s *userSpec) { s.unverified = true } }

// WithMFA enrols and verifies an authenticator app (TOTP) for the user,
// whose token response is then of an aal2 session.
func WithMFA() UserOption { return func(s *userSpec) { s.mfa = true } }

// NewUser makes a user of tier over the API, as a client and an operator
// would: register, follow the verification link, have the admin API set
// the tier, enrol a second factor, and refresh. An anonymous user takes no
// options.
func (g *Gatehouse) NewUser(tb testing.TB, tier Tier, opts ...UserOption) *User {
	tb.Helper()
	var spec userSpec
	for _, o := range opts {
		o(&spec)
	}
	if tier == Anonymous {
		if spec != (userSpec{}) {
			tb.Fatal("gatehousetest: an anonymous user has no email, so no verification and no second factor")
		}
		var tokens TokenResponse
		g.call(tb, http.MethodPost, "/v1/auth/anonymous", "", map[string]any{}, http.StatusCreated, &tokens)
		return &User{ID: tokens.User.ID, Tokens: tokens}
	}
	if tier != Free && tier != Member {
		tb.Fatalf("gatehousetest: no tier %q", tier)
	}
	if spec.email == "" {
		spec.email = fmt.Sprintf("user-%d@example.com", g.users.Add(1))
	}
	u := &User{Email: spec.email, Password: Password}
	g.call(tb, http.MethodPost, "/v1/auth/register", "", map[string]string{"email": u.Email, "password": u.Password}, http.StatusCreated, &u.Tokens)
	u.ID = u.Tokens.User.ID
	changed := false
	if !spec.unverified {
		link := g.VerificationLink(tb, u.Email)
		g.call(tb, http.MethodPost, "/v1/auth/verify-email", "", map[string]string{"token": tokenOf(tb, link)}, http.StatusOK, nil)
		changed = true
	}
	if tier == Member {
		g.call(tb, http.MethodPatch, "/v1/admin/users/"+url.PathEscape(u.ID), g.AdminKey, map[string]string{"tier": string(Member)}, http.StatusOK, nil)
		changed = true
	}
	if spec.mfa {
		var enrolment struct {
			Secret string `json:"secret"`
		}
		g.call(tb, http.MethodPost, "/v1/me/mfa/totp", u.Tokens.AccessToken, map[string]any{}, http.StatusCreated, &enrolment)
		u.TOTPKey = enrolment.Secret
		var verified struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		g.call(tb, http.MethodPost, "/v1/me/mfa/totp/verify", u.Tokens.AccessToken, map[string]string{"code": g.TOTPCode(tb, u.TOTPKey)}, http.StatusOK, &verified)
		u.RecoveryCodes = verified.RecoveryCodes
		changed = true
	}
	if changed {
		u.Tokens = g.Refresh(tb, u.Tokens.RefreshToken)
	}
	return u
}

// Refresh trades a refresh token for a new token response.
func (g *Gatehouse) Refresh(tb testing.TB, refreshToken string) TokenResponse {
	tb.Helper()
	var tokens TokenResponse
	g.call(tb, http.MethodPost, "/v1/auth/refresh", "", map[string]string{"refresh_token": refreshToken}, http.StatusOK, &tokens)
	return tokens
}

// TOTPCode returns the code an authenticator app with key shows at
// Gatehouse's clock. Gatehouse accepts a code of each 30-second step once:
// advance the clock by otptest.Step before the next.
func (g *Gatehouse) TOTPCode(tb testing.TB, key string) string {
	tb.Helper()
	code, err := otptest.CodeOfText(key, g.Now())
	if err != nil {
		tb.Fatalf("gatehousetest: TOTP key: %v", err)
	}
	return code
}

// awaitMail bounds how long VerificationLink and ResetLink wait for
// Gatehouse to send an email.
const awaitMail = 5 * time.Second

// VerificationLink returns the link of the newest verification email
// sent to address, and fails tb when there is none.
func (g *Gatehouse) VerificationLink(tb testing.TB, address string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), awaitMail)
	defer cancel()
	e, err := g.Mail.Await(ctx, address, PurposeVerifyEmail, 0)
	if err != nil {
		tb.Fatalf("gatehousetest: no verification email to %s: %v", address, err)
	}
	return e.Link
}

// ResetLink asks for a password reset of address
// (POST /v1/auth/password/forgot) and returns the link of the email that
// follows, waiting for it: Gatehouse sends it after it has answered.
func (g *Gatehouse) ResetLink(tb testing.TB, address string) string {
	tb.Helper()
	seen := len(g.Mail.To(address, PurposeResetPassword))
	g.call(tb, http.MethodPost, "/v1/auth/password/forgot", "", map[string]string{"email": address}, http.StatusAccepted, nil)
	ctx, cancel := context.WithTimeout(context.Background(), awaitMail)
	defer cancel()
	e, err := g.Mail.Await(ctx, address, PurposeResetPassword, seen)
	if err != nil {
		tb.Fatalf("gatehousetest: no reset email to %s: %v", address, err)
	}
	return e.Link
}

// tokenOf returns the token query parameter of an email's link.
func tokenOf(tb testing.TB, link string) string {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		tb.Fatalf("gatehousetest: link without a token: %q", link)
	}
	return u.Query().Get("token")
}

// call sends a JSON request to the API and decodes the answer into out
// (when not nil); it fails tb unless the status is want.
func (g *Gatehouse) call(tb testing.TB, method, path, bearer string, body any, want int, out any) {
	tb.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		tb.Fatalf("gatehousetest: %s %s: %v", method, path, err)
	}
	req, err := http.NewRequest(method, g.URL+path, bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("gatehousetest: %s %s: %v", method, path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := g.srv.Client().Do(req)
	if err != nil {
		tb.Fatalf("gatehousetest: %s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("gatehousetest: %s %s: %v", method, path, err)
	}
	if res.StatusCode != want {
		tb.Fatalf("gatehousetest: %s %s answered %d, not %d: %s", method, path, res.StatusCode, want, got)
	}
	if out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			tb.Fatalf("gatehousetest: %s %s: %v", method, path, err)
		}
	}
}
