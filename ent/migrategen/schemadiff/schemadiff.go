// Package schemadiff holds the corrections to Ent's schema diff that both
// the migration generator (ent/migrategen) and the drift tests apply, so
// that they agree on what counts as a change.
package schemadiff

import (
	"slices"
	"strings"

	atlas "ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect/sql/schema"
)

// IgnoreParenthesizedDefaults is a schema.DiffHook that drops the column
// changes Atlas' SQLite differ reports although nothing changed: it reads a
// default back from SQLite as CURRENT_TIMESTAMP but takes Ent's as
// (CURRENT_TIMESTAMP), or the other way round. Left in, that phantom change
// would make every SQLite migration rebuild the tokens and sessions tables
// again, and the drift test fail on a schema that matches.
func IgnoreParenthesizedDefaults(next schema.Differ) schema.Differ {
	return schema.DiffFunc(func(current, desired *atlas.Schema) ([]atlas.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		kept := changes[:0]
		for _, c := range changes {
			if m, ok := c.(*atlas.ModifyTable); ok {
				m.Changes = slices.DeleteFunc(m.Changes, func(c atlas.Change) bool {
					mc, ok := c.(*atlas.ModifyColumn)
					return ok && mc.Change == atlas.ChangeDefault && sameDefault(mc.From.Default, mc.To.Default)
				})
				if len(m.Changes) == 0 {
					continue
				}
			}
			kept = append(kept, c)
		}
		return kept, nil
	})
}

// sameDefault reports whether two default expressions differ at most in
// enclosing parentheses.
func sameDefault(a, b atlas.Expr) bool {
	x, ok1 := a.(*atlas.RawExpr)
	y, ok2 := b.(*atlas.RawExpr)
	return ok1 && ok2 && unparen(x.X) == unparen(y.X)
}

// unparen strips parentheses that enclose all of s.
func unparen(s string) string {
	for {
		s = strings.TrimSpace(s)
		if len(s) < 2 || s[0] != '(' || s[len(s)-1] != ')' {
			return s
		}
		depth := 0
		for i, r := range s {
			switch r {
			case '(':
				depth++
			case ')':
				depth--
			}
			// The first parenthesis closes before the end: "(a) + (b)".
			if depth == 0 && i < len(s)-1 {
				return s
			}
		}
		s = s[1 : len(s)-1]
	}
}
