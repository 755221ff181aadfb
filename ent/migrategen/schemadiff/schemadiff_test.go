package schemadiff_test

import (
	"testing"

	atlas "ariga.io/atlas/sql/schema"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/stretchr/testify/require"

	"github.com/gatehouse-auth/gatehouse/ent/migrategen/schemadiff"
)

func TestIgnoreParenthesizedDefaults(t *testing.T) {
	column := func(def string) *atlas.Column {
		return &atlas.Column{Name: "created_at", Default: &atlas.RawExpr{X: def}}
	}
	modify := func(kind atlas.ChangeKind, from, to string) atlas.Change {
		return &atlas.ModifyColumn{Change: kind, From: column(from), To: column(to)}
	}
	for _, tc := range []struct {
		name   string
		change atlas.Change
		kept   bool
	}{
		{"outer parentheses", modify(atlas.ChangeDefault, "CURRENT_TIMESTAMP", "(CURRENT_TIMESTAMP)"), false},
		{"nested parentheses", modify(atlas.ChangeDefault, "((CURRENT_TIMESTAMP))", "CURRENT_TIMESTAMP"), false},
		{"other default", modify(atlas.ChangeDefault, "CURRENT_TIMESTAMP", "(CURRENT_DATE)"), true},
		{"parentheses that do not enclose all", modify(atlas.ChangeDefault, "(1) + (2)", "1) + (2"), true},
		{"more than the default", modify(atlas.ChangeDefault|atlas.ChangeNull, "CURRENT_TIMESTAMP", "(CURRENT_TIMESTAMP)"), true},
		{"other change", &atlas.AddColumn{C: column("0")}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := &atlas.ModifyTable{T: atlas.NewTable("sessions"), Changes: []atlas.Change{tc.change}}
			next := schema.DiffFunc(func(_, _ *atlas.Schema) ([]atlas.Change, error) {
				return []atlas.Change{&atlas.AddTable{T: atlas.NewTable("users")}, table}, nil
			})
			changes, err := schemadiff.IgnoreParenthesizedDefaults(next).Diff(nil, nil)
			require.NoError(t, err)
			if tc.kept {
				require.Len(t, changes, 2)
				require.Equal(t, []atlas.Change{tc.change}, changes[1].(*atlas.ModifyTable).Changes)
			} else {
				require.Len(t, changes, 1, "the table without changes is dropped")
				require.IsType(t, &atlas.AddTable{}, changes[0])
			}
		})
	}
}
