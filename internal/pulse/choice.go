package pulse

import "github.com/tandem-hq/tandem/internal/tandem"

// Which program a person may read, and which one a page shows when they
// have not chosen: the one home of both rules, used by the dashboard, the
// results pages and every report.

// VisibleTo says whether someone whose scope is the unit scope (0: the
// whole organisation) may read program p's results: a leader sees the
// programs whose audience lies within their subtree, and those above it
// (the company-wide pulse), but not a sibling team's.
func (p Program) VisibleTo(tree *tandem.Tree, scope int64) bool {
	return tree.InScope(scope, p.AudienceUnitID) || tree.Contains(p.AudienceUnitID, scope)
}

// DefaultProgram is the program shown to someone of scope who has not
// chosen one: of the programs visible to them, the one with the most
// rounds (rounds maps a program id to its count), ties to the lowest id so
// that every page picks the same one. nil when none is visible.
func DefaultProgram(programs []Program, rounds map[int64]int, tree *tandem.Tree, scope int64) *Program {
	var best *Program
	for i := range programs {
		p := &programs[i]
		if !p.VisibleTo(tree, scope) {
			continue
		}
		if best == nil || rounds[p.ID] > rounds[best.ID] || (rounds[p.ID] == rounds[best.ID] && p.ID < best.ID) {
			best = p
		}
	}
	return best
}

// ChooseProgram returns the program chosen (its id; 0 for none) when it
// exists and is visible to scope, else DefaultProgram. A chosen program
// that is missing or not visible is an ENOTFOUND error, the same for both
// so that a leader cannot learn which programs exist elsewhere.
func ChooseProgram(programs []Program, rounds map[int64]int, tree *tandem.Tree, scope, chosen int64) (*Program, error) {
	if chosen == 0 {
		return DefaultProgram(programs, rounds, tree, scope), nil
	}
	for i := range programs {
		if programs[i].ID == chosen && programs[i].VisibleTo(tree, scope) {
			return &programs[i], nil
		}
	}
	return nil, tandem.Errorf(tandem.ENOTFOUND, "There is no program %d.", chosen)
}
