package domain

import "strings"

// FieldProblem is one thing wrong with one input field. Code is stable and
// machine-readable (too_short, weak_password, invalid_email, ...); Message
// is for people.
type FieldProblem struct {
	Field   string
	Code    string
	Message string
}

// ValidationError reports every problem found in one input at once, so a
// client can fix them all in one round trip.
type ValidationError struct {
	Problems []FieldProblem
}

// Error lists the field problems.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.Field + ": " + p.Code
	}
	return "validation failed: " + strings.Join(parts, ", ")
}

// Add records a problem with field.
func (e *ValidationError) Add(field, code, message string) {
	e.Problems = append(e.Problems, FieldProblem{Field: field, Code: code, Message: message})
}

// Err returns e when it holds any problem, and nil otherwise, so callers can
// collect problems and return the result unconditionally.
func (e *ValidationError) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}
