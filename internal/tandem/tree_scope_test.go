package tandem_test

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tandem-hq/tandem/internal/sourcescan"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// TestInScopeIsTheWholeOrganisationOrALeadersSubtree: scope 0 sees every
// unit; a leader's scope sees their unit and everything below it, not its
// parent, a sibling or another root.
func TestInScopeIsTheWholeOrganisationOrALeadersSubtree(t *testing.T) {
	tree := tandem.NewTree([]tandem.Unit{
		{ID: 1, Name: "Acme"}, {ID: 2, ParentID: 1, Name: "Sales"}, {ID: 3, ParentID: 2, Name: "EMEA"},
		{ID: 4, ParentID: 1, Name: "Support"}, {ID: 5, Name: "Other root"},
	})
	for _, tc := range []struct {
		scope, unit int64
		want        bool
	}{
		{0, 1, true}, {0, 3, true}, {0, 5, true},
		{2, 2, true}, {2, 3, true},
		{2, 1, false}, {2, 4, false}, {2, 5, false}, {2, 99, false},
		{3, 2, false},
	} {
		if got := tree.InScope(tc.scope, tc.unit); got != tc.want {
			t.Errorf("InScope(scope %d, unit %d) = %v, want %v", tc.scope, tc.unit, got, tc.want)
		}
	}
}

// TestTheScopeRuleHasNoSecondCopy: outside Tree.InScope, no code spells
// out "scope 0, or the unit inside the scope" by hand.
func TestTheScopeRuleHasNoSecondCopy(t *testing.T) {
	re := regexp.MustCompile(`([\w.]*(?i:scope|sc)\w*)\s*(==|!=)\s*0\s*(\|\||&&)\s*!?\(?\s*[\w.]+\.Contains\(\s*([\w.()]+)\s*,`)
	for _, f := range sourcescan.GoFiles(t, "") {
		if f.Rel == filepath.Join("internal", "tandem", "tree.go") {
			continue // the home itself
		}
		for _, loc := range re.FindAllSubmatchIndex(f.Text, -1) {
			if scopeVar, first := string(f.Text[loc[2]:loc[3]]), string(f.Text[loc[8]:loc[9]]); scopeVar != first {
				continue // the scope inside something else: another rule
			}
			t.Errorf("%s:%d: %q: the scope rule written by hand; call Tree.InScope", f.Rel, f.Line(loc[0]), f.Text[loc[0]:loc[1]])
		}
	}
}
