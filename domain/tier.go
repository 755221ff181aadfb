package domain

import "fmt"

// Tier is a user's access level, which downstream services use for access
// control. Its zero value is invalid; the only valid tiers are the Tier
// variables below, and ParseTier is the only way in from a string.
type Tier struct{ name string }

// The tiers a user can have.
var (
	TierAnonymous = Tier{"anonymous"}
	TierFree      = Tier{"free"}
	TierMember    = Tier{"member"}
)

var tiers = []Tier{TierAnonymous, TierFree, TierMember}

// ParseTier returns the tier named s. It returns ErrInvalidTier for any
// other string, including one that differs only in case.
func ParseTier(s string) (Tier, error) {
	for _, t := range tiers {
		if t.name == s {
			return t, nil
		}
	}
	return Tier{}, fmt.Errorf("%w: %q", ErrInvalidTier, s)
}

// String returns the tier's name as stored and as shown in the API.
func (t Tier) String() string { return t.name }

// Valid reports whether t is one of the defined tiers.
func (t Tier) Valid() bool { return t != Tier{} }
