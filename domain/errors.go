package domain

import "errors"

// Errors the ports return. Adapters translate their own failures into these,
// so use cases and the HTTP edge never see a driver's error type.
var (
	// ErrNotFound means the thing asked for does not exist (or, for a token
	// or session, is no longer usable).
	ErrNotFound = errors.New("not found")
	// ErrEmailTaken means another user already has that email, in any case.
	ErrEmailTaken = errors.New("email taken")
	// ErrInvalidTier means a string names no tier.
	ErrInvalidTier = errors.New("invalid tier")
	// ErrInvalidTokenKind means a string names no token kind.
	ErrInvalidTokenKind = errors.New("invalid token kind")
)
