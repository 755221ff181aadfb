package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gatehouse-auth/gatehouse/domain"
)

func TestAssuranceOf(t *testing.T) {
	t.Parallel()
	pwd, otp, rec, hwk, mfa := domain.AuthPassword, domain.AuthOTP, domain.AuthRecoveryCode, domain.AuthHardwareKey, domain.AuthMultiFactor
	cases := []struct {
		name    string
		methods []domain.AuthMethod
		want    domain.AAL
	}{
		{"anonymous", nil, domain.AAL1},
		{"password", []domain.AuthMethod{pwd}, domain.AAL1},
		{"password and code", []domain.AuthMethod{pwd, otp}, domain.AAL2},
		{"password and recovery code", []domain.AuthMethod{pwd, rec}, domain.AAL2},
		{"password and passkey", []domain.AuthMethod{pwd, hwk}, domain.AAL2},
		{"passkey that verified the user", []domain.AuthMethod{hwk, mfa}, domain.AAL2},
		{"passkey alone", []domain.AuthMethod{hwk}, domain.AAL1},
		{"user verification alone", []domain.AuthMethod{mfa}, domain.AAL1},
		{"two possession factors", []domain.AuthMethod{otp, hwk}, domain.AAL1},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, domain.AssuranceOf(c.methods), c.name)
	}
}

func TestParseAuthMethod(t *testing.T) {
	t.Parallel()
	for _, m := range []domain.AuthMethod{domain.AuthPassword, domain.AuthOTP, domain.AuthRecoveryCode, domain.AuthHardwareKey, domain.AuthMultiFactor} {
		got, err := domain.ParseAuthMethod(m.String())
		if assert.NoError(t, err, m.String()) {
			assert.Equal(t, m, got)
		}
	}
	_, err := domain.ParseAuthMethod("sms")
	assert.ErrorIs(t, err, domain.ErrInvalidAuthMethod)
}
