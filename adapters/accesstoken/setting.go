package accesstoken

import "github.com/gatehouse-auth/gatehouse/adapters/setting"

// secretVar names the variable ReadSecret reads.
const secretVar = "GATEHOUSE_SECRET"

// ReadSecret reads GATEHOUSE_SECRET through r: the secret Config.Secret
// takes, exactly as set, or "" when it is unset. A set secret shorter than
// MinSecretLength makes r record a problem naming the variable, so that it
// stops start-up before New would refuse it.
func ReadSecret(r *setting.Reader) string {
	s := r.Secret(secretVar)
	if s != "" && len(s) < MinSecretLength {
		r.Fail(secretVar, "must be at least %d characters long", MinSecretLength)
	}
	return s
}
