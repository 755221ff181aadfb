package app_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Placeholders in FuzzRefresh's input, replaced by the real refresh tokens
// of the iteration's session, so that the fuzzer can reach the success and
// reuse paths and build near misses of live tokens.
const (
	currentPlaceholder = "{current}" // the session's current refresh token
	rotatedPlaceholder = "{rotated}" // the token it rotated away
)

// FuzzRefresh presents arbitrary strings to Refresh on a fresh memstore with
// one session, which has rotated once. Exactly the current token rotates,
// exactly the rotated-away one is reuse (and revokes the session), and
// everything else is ErrInvalidRefreshToken: no other error, no panic.
func FuzzRefresh(f *testing.F) {
	for _, s := range []string{
		currentPlaceholder,
		rotatedPlaceholder,
		currentPlaceholder + currentPlaceholder,
		" " + currentPlaceholder,
		currentPlaceholder + "\n",
		currentPlaceholder + "=",
		"",
		strings.Repeat("A", 43),
		strings.Repeat("A", 42) + "B", // decodes, but with bits set past the 32 bytes
		strings.Repeat("A", 42) + "E", // decodes in strict mode
		strings.Repeat("A", 44),
		strings.Repeat("A", 42) + "=",
		strings.Repeat("+", 43),
		strings.Repeat("/", 43),
		strings.Repeat("-", 43),
		strings.Repeat("_", 43),
		strings.Repeat("\xff", 43),
		strings.Repeat("é", 21) + "A",
		"null",
		"0",
		strings.Repeat("x", 1<<12),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		e := newEnv(t, rateLimitsOff)
		ctx := context.Background()
		first := e.register(t, "ada@example.com")
		second, err := e.Auth.Refresh(ctx, first.RefreshToken)
		if err != nil {
			t.Fatalf("refreshing a fresh session: %v", err)
		}
		rotated, current := first.RefreshToken, second.RefreshToken
		token := strings.NewReplacer(currentPlaceholder, current, rotatedPlaceholder, rotated).Replace(input)

		tokens, err := e.Auth.Refresh(ctx, token)
		switch token {
		case current:
			if err != nil {
				t.Fatalf("the current token does not refresh: %v", err)
			}
			if tokens.RefreshToken == "" || tokens.RefreshToken == current || tokens.User.ID != first.User.ID {
				t.Fatalf("refresh returned %+v", tokens)
			}
			if _, err := e.Auth.Refresh(ctx, current); !errors.Is(err, domain.ErrRefreshTokenReused) {
				t.Fatalf("presenting the token again: %v, want ErrRefreshTokenReused", err)
			}
		case rotated:
			if !errors.Is(err, domain.ErrRefreshTokenReused) {
				t.Fatalf("the rotated-away token: %v, want ErrRefreshTokenReused", err)
			}
			if _, err := e.Auth.Refresh(ctx, current); !errors.Is(err, domain.ErrInvalidRefreshToken) {
				t.Fatalf("the current token after reuse: %v, want ErrInvalidRefreshToken (session revoked)", err)
			}
		default:
			if !errors.Is(err, domain.ErrInvalidRefreshToken) || errors.Is(err, domain.ErrRefreshTokenReused) {
				t.Fatalf("Refresh(%q) = %v, want ErrInvalidRefreshToken alone", token, err)
			}
			if _, err := e.Auth.Refresh(ctx, current); err != nil {
				t.Fatalf("the current token after a failed refresh: %v", err)
			}
		}
	})
}
