package accesstoken_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/accesstoken"
	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// readSecret reads GATEHOUSE_SECRET from vars.
func readSecret(vars map[string]string) (string, error) {
	r := setting.NewReader(func(name string) string { return vars[name] })
	s := accesstoken.ReadSecret(r)
	return s, r.Err()
}

func TestReadSecret(t *testing.T) {
	s, err := readSecret(nil)
	require.NoError(t, err, "unset: the embedded default keeps a local secret")
	assert.Empty(t, s)

	long := " " + strings.Repeat("s", accesstoken.MinSecretLength-1)
	s, err = readSecret(map[string]string{"GATEHOUSE_SECRET": long})
	require.NoError(t, err)
	assert.Equal(t, long, s, "every byte counts, blanks too")
}

func TestReadSecretRefusesAShortOneWithoutQuotingIt(t *testing.T) {
	_, err := readSecret(map[string]string{"GATEHOUSE_SECRET": "tooshort-but-secret"})
	assert.EqualError(t, err, "GATEHOUSE_SECRET: must be at least 32 characters long")
}
