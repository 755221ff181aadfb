package domain

import (
	"strings"
	"time"
)

// UserID identifies a user. It is opaque outside the store that assigns it.
type UserID string

// User is an account. An anonymous user has no email and no password hash;
// registering upgrades it in place, keeping its ID.
type User struct {
	ID            UserID
	Email         string // normalised (see NormalizeEmail); empty for an anonymous user
	PasswordHash  string // encoded hash (PHC string); empty for an anonymous user
	EmailVerified bool
	Tier          Tier
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// NormalizeEmail returns email trimmed and lower-cased, the one form in which
// emails are stored and compared, so that uniqueness ignores case.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}
