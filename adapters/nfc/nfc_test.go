package nfc_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gatehouse-auth/gatehouse/adapters/nfc"
)

func TestNormalizePasswordComposes(t *testing.T) {
	var n nfc.Normalizer
	for _, tt := range []struct{ name, in, want string }{
		{"already composed", "caf\u00e9 au lait", "caf\u00e9 au lait"},
		{"decomposed accent", "cafe\u0301 au lait", "caf\u00e9 au lait"},
		{"combining marks reordered", "a\u0323\u0302", "\u1ead"}, // dot below and circumflex, in either order
		{"combining marks other order", "a\u0302\u0323", "\u1ead"},
		{"Hangul jamo", "\u1112\u1161\u11ab", "\ud55c"},
		{"Angstrom sign", "\u212b", "\u00c5"},
		{"compatibility forms are kept", "\ufb01 \uff11", "\ufb01 \uff11"},
		{"ASCII", "correct horse battery staple", "correct horse battery staple"},
		{"invalid UTF-8 passes through", "pw\xff\xfe", "pw\xff\xfe"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, n.NormalizePassword(tt.in))
		})
	}
}
