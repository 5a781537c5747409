package pulse_test

import (
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Co (1) ─ Sales (2) ─ EMEA (4)
//
//	└ Support (3)
func choiceTree() *tandem.Tree {
	return tandem.NewTree([]tandem.Unit{{ID: 1, Name: "Co"}, {ID: 2, ParentID: 1, Name: "Sales"}, {ID: 3, ParentID: 1, Name: "Support"}, {ID: 4, ParentID: 2, Name: "EMEA"}})
}

func TestALeaderSeesProgramsWithinAndAboveTheirScopeButNotASiblings(t *testing.T) {
	tree := choiceTree()
	for _, tt := range []struct {
		audience, scope int64
		want            bool
	}{
		{1, 0, true}, {3, 0, true}, // the whole organisation sees everything
		{1, 2, true},  // the company pulse, above a Sales leader
		{4, 2, true},  // EMEA's own pulse, within Sales
		{2, 2, true},  // Sales' own
		{3, 2, false}, // Support's pulse is a sibling's
		{2, 4, true},  // Sales' pulse, above EMEA
		{3, 4, false},
	} {
		p := pulse.Program{ID: 9, AudienceUnitID: tt.audience}
		if got := p.VisibleTo(tree, tt.scope); got != tt.want {
			t.Errorf("program for unit %d seen from scope %d: %v, want %v", tt.audience, tt.scope, got, tt.want)
		}
	}
}

func TestTheDefaultProgramHasTheMostRoundsAndTiesGoToTheLowestID(t *testing.T) {
	tree := choiceTree()
	// Listed out of id order, so that "first in the list" and "lowest id"
	// differ.
	programs := []pulse.Program{{ID: 7, AudienceUnitID: 1}, {ID: 5, AudienceUnitID: 2}, {ID: 6, AudienceUnitID: 3}}
	for _, tt := range []struct {
		name   string
		rounds map[int64]int
		scope  int64
		want   int64
	}{
		{"most rounds wins", map[int64]int{7: 3, 5: 9, 6: 4}, 0, 5},
		{"a tie goes to the lowest id, not the first listed", map[int64]int{7: 4, 5: 4, 6: 4}, 0, 5},
		{"programs a leader cannot see do not count", map[int64]int{7: 1, 5: 2, 6: 30}, 2, 5},
		{"a program without rounds can still be the default", map[int64]int{}, 3, 6},
	} {
		got := pulse.DefaultProgram(programs, tt.rounds, tree, tt.scope)
		if got == nil || got.ID != tt.want {
			t.Errorf("%s: default %v, want program %d", tt.name, got, tt.want)
		}
	}
	if got := pulse.DefaultProgram(programs[2:], nil, tree, 4); got != nil {
		t.Errorf("a leader who can see no program got program %d", got.ID)
	}
}

func TestAChosenProgramMustBeVisible(t *testing.T) {
	tree := choiceTree()
	programs := []pulse.Program{{ID: 1, AudienceUnitID: 1}, {ID: 2, AudienceUnitID: 3}}
	if p, err := pulse.ChooseProgram(programs, nil, tree, 4, 1); err != nil || p.ID != 1 {
		t.Errorf("choosing the company pulse from EMEA: %v, %v", p, err)
	}
	_, hidden := pulse.ChooseProgram(programs, nil, tree, 4, 2)
	_, missing := pulse.ChooseProgram(programs, nil, tree, 4, 99)
	if tandem.ErrorCode(hidden) != tandem.ENOTFOUND || hidden.Error() != "There is no program 2." || tandem.ErrorCode(missing) != tandem.ENOTFOUND {
		t.Errorf("a sibling's program: %v; a missing one: %v; want both not found", hidden, missing)
	}
}
