package otptest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The implementation agrees with RFC 6238's own test vectors (appendix B,
// SHA-1, 8 digits), so that what tests built on it say means something.
func TestCodesMatchTheRFCsVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for unix, want := range map[int64]string{59: "94287082", 1111111109: "07081804", 1234567890: "89005924", 20000000000: "65353130"} {
		assert.Equal(t, want, codeOfStep(secret, unix/30, 8), "T=%d", unix)
		assert.Equal(t, want[2:], Code(secret, time.Unix(unix, 0)), "T=%d, 6 digits", unix)
	}
}

func TestCodeOfTextDecodesBase32(t *testing.T) {
	at := time.Unix(59, 0)
	got, err := CodeOfText("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", at) // base32 of the RFC's key
	require.NoError(t, err)
	assert.Equal(t, "287082", got)
	_, err = CodeOfText("not base32!", at)
	assert.Error(t, err)
}
