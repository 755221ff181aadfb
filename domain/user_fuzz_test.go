package domain_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// FuzzNormalizeEmail checks the properties the stores rely on when they
// normalise an email the use cases have normalised already: the function is
// idempotent, its result has no white space at either end, and white space
// around the input does not matter.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"",
		" ",
		"ada@example.com",
		"  Ada.Lovelace@Example.COM ",
		"\tADA@EXAMPLE.COM\n",
		"\u00a0ada@example.com\u0085", // no-break space and NEL are white space
		"\u200bada@example.com\u200b", // a zero-width space is not
		"İSTANBUL@ÖRNEK.COM",          // İ lower-cases to i
		"\u212a@example.com",          // the Kelvin sign lower-cases to k
		"ǅ@example.com",               // a title-case digraph
		"\xff\xfe@example.com",        // not UTF-8
		"ada\x00@example.com",         // NUL
		"\u3000ＡＤＡ@ＥＸＡＭＰＬＥ.ＣＯＭ\u3000", // full-width letters, ideographic space
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, email string) {
		n := domain.NormalizeEmail(email)
		if again := domain.NormalizeEmail(n); again != n {
			t.Fatalf("not idempotent: NormalizeEmail(%q) = %q, but NormalizeEmail(%q) = %q", email, n, n, again)
		}
		if trimmed := strings.TrimFunc(n, unicode.IsSpace); trimmed != n {
			t.Fatalf("NormalizeEmail(%q) = %q keeps white space at an end", email, n)
		}
		if padded := domain.NormalizeEmail(" \t" + email + "\r\n"); padded != n {
			t.Fatalf("white space around %q changes the result: %q, not %q", email, padded, n)
		}
		if utf8.ValidString(email) && !utf8.ValidString(n) {
			t.Fatalf("NormalizeEmail(%q) = %q is not UTF-8", email, n)
		}
	})
}

// TestNormalizeEmailIsIdempotentOnEveryRune covers every code point, which
// a fuzzer reaches only by chance, in the positions where trimming and
// case mapping could interact: alone and between letters.
func TestNormalizeEmailIsIdempotentOnEveryRune(t *testing.T) {
	var failures int
	for r := rune(0); r <= unicode.MaxRune && failures < 10; r++ {
		for _, s := range []string{string(r), "a" + string(r) + "b"} {
			n := domain.NormalizeEmail(s)
			if again := domain.NormalizeEmail(n); again != n {
				t.Errorf("U+%04X: NormalizeEmail(%q) = %q, but NormalizeEmail of that is %q", r, s, n, again)
				failures++
			}
		}
	}
}
