package app_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/app"
	"github.com/gatehouse-auth/gatehouse/domain"
)

// registerProblemCodes are the field problems Register may report, by
// field: the email check's and the password policy's.
var registerProblemCodes = map[string][]string{
	"email":    {"required", "invalid_email"},
	"password": {"invalid_password", "too_short", "too_long", "weak_password"},
}

// FuzzRegister drives the email check (unexported, so through Register) and
// the password policy with arbitrary input, on a fresh memstore each time.
// Register must either succeed, storing the normalised email, or return a
// *domain.ValidationError with only the documented problems; never another
// error, never a panic. A registered email must then be taken, which proves
// that the store's own normalisation agrees with the use case's.
func FuzzRegister(f *testing.F) {
	const good = "correct horse battery staple"
	for _, seed := range [][2]string{
		{"ada@example.com", good},
		{"  Ada.Lovelace@Example.COM ", good},
		{"", good},
		{"ada", good},
		{"ada@example", good},
		{"ada@@example.com", good},
		{"Ada Lovelace <ada@example.com>", good},
		{"<ada@example.com>", good},
		{`"ada lovelace"@example.com`, good},
		{"ada@[192.0.2.1]", good},
		{"ada(comment)@example.com", good},
		{"ada@example.com.", good},
		{"ada@.example.com", good},
		{"ada@exa mple.com", good},
		{"ada,bob@example.com", good},
		{"=?utf-8?q?ada?=@example.com", good},
		{"ada@xn--bcher-kva.example", good},
		{"adä@bücher.example", good},
		{"ada\x00@example.com", good},
		{"ada\xff@example.com", good},
		{"\u212a@example.com", good},
		{strings.Repeat("a", 243) + "@example.com", good}, // 255 characters
		{strings.Repeat("a", 242) + "@example.com", good}, // 254
		{"ada@example.com", "short"},
		{"ada@example.com", "password"},
		{"ada@example.com", "ada-is-my-password"},
		{"ada@example.com", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8"},
		{"ada@example.com", strings.Repeat("é", 257)},
		{"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, email, password string) {
		e := newEnv(t, rateLimitsOff)
		ctx := context.Background()
		in := app.RegisterInput{Email: email, Password: password, Client: client}
		tokens, err := e.Auth.Register(ctx, in)
		if err != nil {
			var v *domain.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("Register(%q, %q) = %v, want success or a validation error", email, password, err)
			}
			if len(v.Problems) == 0 {
				t.Fatalf("Register(%q, %q): a validation error without problems", email, password)
			}
			for _, p := range v.Problems {
				if !slices.Contains(registerProblemCodes[p.Field], p.Code) || p.Message == "" {
					t.Fatalf("Register(%q, %q): unexpected problem %+v", email, password, p)
				}
			}
			return
		}

		want := domain.NormalizeEmail(email)
		if tokens.User.Email != want || want == "" || !strings.Contains(want, "@") || len(want) > 254 {
			t.Fatalf("Register(%q) stored the email %q, want %q, a non-empty address of at most 254 bytes", email, tokens.User.Email, want)
		}
		stored, err := e.Store.Stores().Users.ByEmail(ctx, email)
		if err != nil || stored.ID != tokens.User.ID {
			t.Fatalf("ByEmail(%q) after registering it = %+v, %v", email, stored, err)
		}
		if _, err := e.Auth.Register(ctx, in); !errors.Is(err, domain.ErrEmailTaken) {
			t.Fatalf("registering %q twice: %v, want ErrEmailTaken", email, err)
		}
	})
}
