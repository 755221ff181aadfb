package setting_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestStringTrimsAndDefaults(t *testing.T) {
	r := setting.NewReader(env(map[string]string{"SET": "  value\t", "BLANK": "  "}))
	assert.Equal(t, "value", r.String("SET", "default"))
	assert.Equal(t, "default", r.String("BLANK", "default"), "blanks are unset")
	assert.Equal(t, "default", r.String("UNSET", "default"))
	assert.NoError(t, r.Err())
}

func TestSecretKeepsEveryByte(t *testing.T) {
	r := setting.NewReader(env(map[string]string{"KEY": " s3cret "}))
	assert.Equal(t, " s3cret ", r.Secret("KEY"))
	assert.Empty(t, r.Secret("UNSET"))
}

func TestPositiveDuration(t *testing.T) {
	r := setting.NewReader(env(map[string]string{"SET": "5m", "ZERO": "0s", "BARE": "15"}))
	assert.Equal(t, 5*time.Minute, r.PositiveDuration("SET", time.Hour))
	assert.Equal(t, time.Hour, r.PositiveDuration("UNSET", time.Hour))
	require.NoError(t, r.Err())

	assert.Zero(t, r.PositiveDuration("ZERO", time.Hour))
	assert.Zero(t, r.PositiveDuration("BARE", time.Hour))
	err := r.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `ZERO: "0s" must be positive`)
	assert.Contains(t, err.Error(), `BARE: "15" is not a Go duration such as 15m or 720h`)
}

func TestNonNegativeDuration(t *testing.T) {
	r := setting.NewReader(env(map[string]string{"ZERO": "0s", "NEGATIVE": "-1s", "BARE": "2"}))
	assert.Zero(t, r.NonNegativeDuration("ZERO", time.Second))
	assert.Equal(t, 2*time.Second, r.NonNegativeDuration("UNSET", 2*time.Second))
	require.NoError(t, r.Err(), "zero is a valid choice")

	r.NonNegativeDuration("NEGATIVE", time.Second)
	r.NonNegativeDuration("BARE", time.Second)
	err := r.Err()
	require.Error(t, err)
	assert.Contains(t, err.Error(), `NEGATIVE: "-1s" must not be negative`)
	assert.Contains(t, err.Error(), `BARE: "2" is not a Go duration such as 0s, 2s or 500ms`)
}

func TestFailJoinsEveryProblemNamingItsVariable(t *testing.T) {
	r := setting.NewReader(env(nil))
	require.NoError(t, r.Err())
	r.Fail("FIRST", "must be at least %d characters long", 32)
	r.Fail("SECOND", "is wrong")
	assert.EqualError(t, r.Err(), "FIRST: must be at least 32 characters long\nSECOND: is wrong")
}

func TestParsePositiveDuration(t *testing.T) {
	d, err := setting.ParsePositiveDuration("720h")
	require.NoError(t, err)
	assert.Equal(t, 720*time.Hour, d)
	_, err = setting.ParsePositiveDuration("-1h")
	assert.EqualError(t, err, `"-1h" must be positive`)
	_, err = setting.ParsePositiveDuration("hourly")
	assert.EqualError(t, err, `"hourly" is not a Go duration such as 15m or 720h`)
}
