package app

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-auth/gatehouse/domain"
)

// DeviceTTL is how long a device token exempts its client from the
// account-wide login limit; every sign-in hands the client a new one.
const DeviceTTL = 365 * 24 * time.Hour

// devices issues and reads device tokens: proof that a client has signed
// in to an account before, which lets it past the account-wide login
// limit (limitLoginAccount) that guesses from elsewhere may have spent, so
// that nobody can lock the owner out by guessing (OWASP's device
// cookies). A token is the account's user id, a random device id and its
// issue time, sealed by a SecretBox of its own: it cannot be forged or
// moved to another account, and it tells its holder nothing. It only
// ever relaxes a limit; it proves nothing on its own.
type devices struct {
	box domain.SecretBox // nil: no device tokens are issued or honoured
}

// device is what a valid device token says.
type device struct {
	user domain.UserID
	id   string // random; what the device's own login limit counts on
}

// issue returns a new device token for the user, issued at now, or ""
// when device tokens are off. A token that cannot be sealed only costs
// the client its exemption, so the sign-in goes on without one.
func (d *devices) issue(user domain.UserID, now time.Time) string {
	if d == nil || d.box == nil {
		return ""
	}
	id, _ := domain.NewOpaqueToken()
	sealed, err := d.box.Seal([]byte(string(user) + "\n" + id + "\n" + strconv.FormatInt(now.Unix(), 10)))
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(sealed)
}

// open returns what token says, and false for a token that is empty,
// forged, sealed under another key, malformed or older than DeviceTTL
// at now.
func (d *devices) open(token string, now time.Time) (device, bool) {
	if d == nil || d.box == nil || token == "" || len(token) > 512 {
		return device{}, false
	}
	sealed, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return device{}, false
	}
	plain, err := d.box.Open(sealed)
	if err != nil {
		return device{}, false
	}
	parts := strings.Split(string(plain), "\n")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return device{}, false
	}
	issued, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || !now.Before(time.Unix(issued, 0).Add(DeviceTTL)) {
		return device{}, false
	}
	return device{user: domain.UserID(parts[0]), id: parts[1]}, true
}
