package mail_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/adapters/mail"
	"github.com/gatehouse-auth/gatehouse/adapters/setting"
)

// readSettings reads the mail settings from vars.
func readSettings(vars map[string]string) (mail.Settings, error) {
	r := setting.NewReader(func(name string) string { return vars[name] })
	s := mail.ReadSettings(r)
	return s, r.Err()
}

func TestReadSettingsDefaults(t *testing.T) {
	s, err := readSettings(nil)
	require.NoError(t, err)
	assert.Nil(t, s.SMTP, "emails go to the log")
	assert.Equal(t, "Gatehouse <no-reply@localhost>", s.From)
}

func TestReadSettingsReadsBoth(t *testing.T) {
	s, err := readSettings(map[string]string{
		"GATEHOUSE_SMTP_URL":  "smtps://mailer:s3cret@smtp.example.com",
		"GATEHOUSE_MAIL_FROM": " Example Auth <auth@example.com> ",
	})
	require.NoError(t, err)
	require.NotNil(t, s.SMTP)
	assert.Equal(t, mail.SMTPConfig{Host: "smtp.example.com", Port: 465, Username: "mailer", Password: "s3cret", ImplicitTLS: true}, *s.SMTP)
	assert.Equal(t, "Example Auth <auth@example.com>", s.From)
}

func TestReadSettingsErrorsNameTheVariable(t *testing.T) {
	for name, tc := range map[string]struct {
		vars map[string]string
		want string
	}{
		"bad smtp url":     {map[string]string{"GATEHOUSE_SMTP_URL": "http://mail.example.com"}, "GATEHOUSE_SMTP_URL: mail: SMTP URL must start with smtp:// or smtps://"},
		"bad mail from":    {map[string]string{"GATEHOUSE_MAIL_FROM": "not an address"}, `GATEHOUSE_MAIL_FROM: "not an address" is not an address`},
		"from without a @": {map[string]string{"GATEHOUSE_MAIL_FROM": "Gatehouse <no-reply>"}, "GATEHOUSE_MAIL_FROM"},
	} {
		_, err := readSettings(tc.vars)
		assert.ErrorContains(t, err, tc.want, name)
	}
}

func TestReadSettingsKeepsTheSMTPPasswordOut(t *testing.T) {
	_, err := readSettings(map[string]string{"GATEHOUSE_SMTP_URL": "smtp://user:hunter2-smtp-password@mail.example.com:notaport"})
	require.ErrorContains(t, err, "GATEHOUSE_SMTP_URL")
	assert.NotContains(t, err.Error(), "hunter2-smtp-password")
}
