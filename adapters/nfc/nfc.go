// Package nfc normalises passwords to Unicode Normalization Form C
// (canonical composition), as NIST SP 800-63B asks of a verifier that
// accepts Unicode: it is Gatehouse's domain.PasswordNormalizer, on
// golang.org/x/text's tables.
//
// NFC, not NFKC: compatibility folding would make "ﬁ" and "fi", or
// full-width and ASCII digits, one password, taking away distinctions a
// user made on purpose; canonical equivalence only joins spellings that
// are the same text.
package nfc

import (
	"golang.org/x/text/unicode/norm"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// Normalizer is the NFC implementation of domain.PasswordNormalizer. Its
// zero value is ready, and safe for concurrent use.
type Normalizer struct{}

var _ domain.PasswordNormalizer = Normalizer{}

// NormalizePassword returns password in NFC. Bytes that are not UTF-8 pass
// through unchanged.
func (Normalizer) NormalizePassword(password string) string {
	return norm.NFC.String(password)
}
