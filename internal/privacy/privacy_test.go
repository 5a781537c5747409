package privacy

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// unitSpec is one unit of a test organisation with its direct count.
type unitSpec struct {
	id, parent int64
	direct     int
}

// newTestOrg builds a tree whose siblings walk in id order, and the direct
// counts of its units. A unit with direct < 0 is left out of the map.
func newTestOrg(specs []unitSpec) (*tandem.Tree, map[int64]int) {
	units := make([]tandem.Unit, 0, len(specs))
	direct := make(map[int64]int, len(specs))
	for _, s := range specs {
		units = append(units, tandem.Unit{ID: s.id, ParentID: s.parent, Name: fmt.Sprintf("unit %04d", s.id)})
		if s.direct >= 0 {
			direct[s.id] = s.direct
		}
	}
	return tandem.NewTree(units), direct
}

const (
	tooFew5 = "fewer than 5 respondents"
	sub     = ReasonSubtraction
	empty   = ReasonEmpty
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		units  []unitSpec
		k      int
		shown  []int64          // in walk order
		hidden map[int64]string // unit → reason
	}{
		{
			name:   "a team under k is hidden and its parent shown",
			units:  []unitSpec{{1, 0, 3}, {2, 1, 6}, {3, 1, 2}},
			k:      5,
			shown:  []int64{1, 2},
			hidden: map[int64]string{3: tooFew5},
		},
		{
			name:   "a parent under k hides its whole chain below",
			units:  []unitSpec{{1, 0, 10}, {2, 1, 1}, {3, 2, 2}, {4, 3, 1}},
			k:      5,
			shown:  []int64{1},
			hidden: map[int64]string{2: tooFew5, 3: tooFew5, 4: tooFew5},
		},
		{
			name:   "a root under k is hidden with its subtree",
			units:  []unitSpec{{1, 0, 0}, {2, 1, 2}, {3, 2, 2}},
			k:      5,
			shown:  nil,
			hidden: map[int64]string{1: tooFew5, 2: tooFew5, 3: tooFew5},
		},
		{
			name: "a small child left alone with shown siblings hides the smallest sibling too",
			// 12 − 5 − 5 = 2 would reveal the small team; hiding a 5-team
			// (the lower id of the tie) leaves a remainder of 7.
			units:  []unitSpec{{1, 0, 0}, {2, 1, 5}, {3, 1, 5}, {4, 1, 2}},
			k:      5,
			shown:  []int64{1, 3},
			hidden: map[int64]string{2: sub, 4: tooFew5},
		},
		{
			name: "a parent's own members alone in the remainder hide the smallest child",
			// 12 − 5 − 6 = 1 is the one person directly in the parent.
			units:  []unitSpec{{1, 0, 1}, {2, 1, 6}, {3, 1, 5}},
			k:      5,
			shown:  []int64{1, 2},
			hidden: map[int64]string{3: sub},
		},
		{
			name:  "a remainder of exactly 0 needs nothing hidden",
			units: []unitSpec{{1, 0, 0}, {2, 1, 5}, {3, 1, 7}},
			k:     5,
			shown: []int64{1, 2, 3},
		},
		{
			name:  "a remainder of exactly k needs nothing hidden",
			units: []unitSpec{{1, 0, 2}, {2, 1, 5}, {3, 1, 6}, {4, 1, 3}},
			k:     5,
			shown: []int64{1, 2, 3},
			// 2 + 3 = 5 people in the remainder.
			hidden: map[int64]string{4: "fewer than 5 respondents"},
		},
		{
			name:   "an empty child is hidden but never forces another to be hidden",
			units:  []unitSpec{{1, 0, 0}, {2, 1, 5}, {3, 1, 5}, {4, 1, 0}, {5, 4, 0}},
			k:      5,
			shown:  []int64{1, 2, 3},
			hidden: map[int64]string{4: empty, 5: empty},
		},
		{
			name: "suppression applies at every level and hides whole subtrees",
			// 1 (32) ─┬─ 2 (1 + 11 + 12 = 24) ─┬─ 4 (11) ─┬─ 8 (5)
			//         │                        │          └─ 9 (6)
			//         │                        └─ 5 (12)
			//         └─ 3 (8) ─┬─ 6 (5)
			//                   └─ 7 (3)
			// At 2: remainder 1, so the smaller child 4 goes with 8 and 9.
			// At 3: 7 is small, remainder 3, so 6 goes too.
			units: []unitSpec{
				{1, 0, 0}, {2, 1, 1}, {3, 1, 0}, {4, 2, 0}, {5, 2, 12},
				{6, 3, 5}, {7, 3, 3}, {8, 4, 5}, {9, 4, 6},
			},
			k:      5,
			shown:  []int64{1, 2, 5, 3},
			hidden: map[int64]string{4: sub, 8: sub, 9: sub, 6: sub, 7: tooFew5},
		},
		{
			name:  "a team of 3 is shown when k is 3",
			units: []unitSpec{{1, 0, 0}, {2, 1, 3}, {3, 1, 4}},
			k:     3,
			shown: []int64{1, 2, 3},
		},
		{
			name:   "a k below MinK is not one an admin could set: the default applies",
			units:  []unitSpec{{1, 0, 0}, {2, 1, 2}, {3, 1, 4}, {4, 1, 4}},
			k:      1,
			shown:  []int64{1}, // every team is under 5
			hidden: map[int64]string{2: tooFew5, 3: tooFew5, 4: tooFew5},
		},
		{
			name:   "a unit missing from the counts has no respondents",
			units:  []unitSpec{{1, 0, 6}, {2, 1, -1}},
			k:      5,
			shown:  []int64{1},
			hidden: map[int64]string{2: empty},
		},
		{
			name:   "separate roots are decided on their own",
			units:  []unitSpec{{1, 0, 4}, {2, 0, 7}, {3, 2, 1}},
			k:      5,
			shown:  []int64{2},
			hidden: map[int64]string{1: tooFew5, 3: tooFew5},
		},
		{
			name:  "a chain of equal counts is shown all the way down",
			units: []unitSpec{{1, 0, 0}, {2, 1, 0}, {3, 2, 0}, {4, 3, 5}},
			k:     5,
			shown: []int64{1, 2, 3, 4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree, direct := newTestOrg(tt.units)
			v := Decide(tree, direct, tt.k)
			if got := v.ShownUnits(0); !slices.Equal(got, tt.shown) {
				t.Errorf("ShownUnits(0) = %v, want %v", got, tt.shown)
			}
			for _, u := range tree.Walk() {
				want, hidden := tt.hidden[u.ID]
				if got := v.Shown(u.ID); got == hidden {
					t.Errorf("Shown(%d) = %v, want %v", u.ID, got, !hidden)
				}
				if got := v.Reason(u.ID); got != want {
					t.Errorf("Reason(%d) = %q, want %q", u.ID, got, want)
				}
			}
			checkInvariants(t, tree, direct, v)
		})
	}
}

func TestCountIsTheWholeSubtree(t *testing.T) {
	tree, direct := newTestOrg([]unitSpec{{1, 0, 1}, {2, 1, 2}, {3, 2, 4}, {4, 1, 8}})
	direct[99] = 100 // not in the tree: ignored
	v := Decide(tree, direct, DefaultK)
	for id, want := range map[int64]int{1: 15, 2: 6, 3: 4, 4: 8, 99: 0, 0: 0} {
		if got := v.Count(id); got != want {
			t.Errorf("Count(%d) = %d, want %d", id, got, want)
		}
	}
}

func TestNegativeCountsAreTreatedAsZero(t *testing.T) {
	tree, direct := newTestOrg([]unitSpec{{1, 0, 6}, {2, 1, -1}})
	direct[2] = -3
	v := Decide(tree, direct, DefaultK)
	if got, want := v.Count(1), 6; got != want {
		t.Errorf("Count(1) = %d, want %d", got, want)
	}
	if got, want := v.Reason(2), ReasonEmpty; got != want {
		t.Errorf("Reason(2) = %q, want %q", got, want)
	}
}

func TestDecideUsesTheThresholdRule(t *testing.T) {
	for _, tt := range []struct{ k, want int }{{-5, DefaultK}, {0, DefaultK}, {2, DefaultK}, {3, 3}, {5, 5}, {12, 12}, {51, DefaultK}} {
		if got := Decide(tandem.NewTree(nil), nil, tt.k).K(); got != tt.want {
			t.Errorf("Decide(k=%d).K() = %d, want %d", tt.k, got, tt.want)
		}
	}
}

func TestEmptyTreeShowsNothing(t *testing.T) {
	for name, tree := range map[string]*tandem.Tree{"empty": tandem.NewTree(nil), "nil": nil} {
		t.Run(name, func(t *testing.T) {
			v := Decide(tree, map[int64]int{7: 20}, DefaultK)
			if got := v.ShownUnits(0); len(got) != 0 {
				t.Errorf("ShownUnits(0) = %v, want none", got)
			}
			if got := v.ShownUnits(7); len(got) != 0 {
				t.Errorf("ShownUnits(7) = %v, want none", got)
			}
			if v.Shown(7) {
				t.Errorf("Shown(7) = true, want false")
			}
			if got, want := v.Reason(7), ReasonEmpty; got != want {
				t.Errorf("Reason(7) = %q, want %q", got, want)
			}
			if got := v.ShownAncestor(7); got != 0 {
				t.Errorf("ShownAncestor(7) = %d, want 0", got)
			}
		})
	}
}

func TestTiesAreBrokenByLowestIDNotByName(t *testing.T) {
	// The lower id walks second (name "b"), so walk order would pick the
	// other one.
	tree := tandem.NewTree([]tandem.Unit{
		{ID: 1, Name: "company"},
		{ID: 20, ParentID: 1, Name: "a"},
		{ID: 10, ParentID: 1, Name: "b"},
	})
	v := Decide(tree, map[int64]int{1: 1, 10: 6, 20: 6}, DefaultK)
	if got, want := v.ShownUnits(0), []int64{1, 20}; !slices.Equal(got, want) {
		t.Errorf("ShownUnits(0) = %v, want %v", got, want)
	}
}

func TestSmallestChildIsHiddenBeforeLargerOnes(t *testing.T) {
	tree, direct := newTestOrg([]unitSpec{{1, 0, 2}, {2, 1, 9}, {3, 1, 6}, {4, 1, 7}})
	v := Decide(tree, direct, DefaultK)
	if got, want := v.ShownUnits(0), []int64{1, 2, 4}; !slices.Equal(got, want) {
		t.Errorf("ShownUnits(0) = %v, want %v", got, want)
	}
}

func TestShownAncestorIsWhereHiddenPeopleAreReported(t *testing.T) {
	// 1 ─┬─ 2 (shown) ── 5 (small)
	//    ├─ 3 (hidden by subtraction) ── 6
	//    └─ 4 (small)
	tree, direct := newTestOrg([]unitSpec{
		{1, 0, 0}, {2, 1, 5}, {3, 1, 0}, {4, 1, 2}, {5, 2, 1}, {6, 3, 5},
	})
	v := Decide(tree, direct, DefaultK)
	for id, want := range map[int64]int64{1: 1, 2: 2, 3: 1, 4: 1, 5: 2, 6: 1, 99: 0} {
		if got := v.ShownAncestor(id); got != want {
			t.Errorf("ShownAncestor(%d) = %d, want %d", id, got, want)
		}
	}
	// Nothing shown above: 0.
	tree, direct = newTestOrg([]unitSpec{{1, 0, 2}, {2, 1, 1}})
	if got := Decide(tree, direct, DefaultK).ShownAncestor(2); got != 0 {
		t.Errorf("ShownAncestor(2) under a small root = %d, want 0", got)
	}
}

func TestShownUnitsInScopeIsAFilterOfTheWholeDecision(t *testing.T) {
	tree, direct := newTestOrg([]unitSpec{
		{1, 0, 0}, {2, 1, 1}, {3, 1, 0}, {4, 2, 0}, {5, 2, 12},
		{6, 3, 5}, {7, 3, 3}, {8, 4, 5}, {9, 4, 6},
	})
	v := Decide(tree, direct, DefaultK)
	for scope, want := range map[int64][]int64{
		1:  {1, 2, 5, 3},
		2:  {2, 5},
		4:  nil, // hidden with its subtree, though 8 and 9 are ≥ k on their own
		3:  {3},
		5:  {5},
		99: nil,
	} {
		if got := v.ShownUnits(scope); !slices.Equal(got, want) {
			t.Errorf("ShownUnits(%d) = %v, want %v", scope, got, want)
		}
	}
}

func TestDecideDoesNotChangeTheCounts(t *testing.T) {
	tree, direct := newTestOrg([]unitSpec{{1, 0, 0}, {2, 1, 5}, {3, 1, 5}, {4, 1, 2}})
	before := make(map[int64]int, len(direct))
	for id, n := range direct {
		before[id] = n
	}
	Decide(tree, direct, DefaultK)
	if len(direct) != len(before) {
		t.Fatalf("len(direct) = %d, want %d", len(direct), len(before))
	}
	for id, n := range before {
		if direct[id] != n {
			t.Errorf("direct[%d] = %d, want %d", id, direct[id], n)
		}
	}
}

func TestDeepChainDoesNotOverflow(t *testing.T) {
	const depth = 5000
	specs := []unitSpec{{1, 0, 1}}
	for id := int64(2); id <= depth; id++ {
		specs = append(specs, unitSpec{id, id - 1, 1})
	}
	tree, direct := newTestOrg(specs)
	v := Decide(tree, direct, DefaultK)
	// Each unit holds 1 person directly, so every shown unit's remainder is
	// 1 and its only child has to go: only the root is shown.
	if got, want := v.ShownUnits(0), []int64{1}; !slices.Equal(got, want) {
		t.Errorf("ShownUnits(0) = %v, want %v", got, want)
	}
	if got, want := v.Count(1), depth; got != want {
		t.Errorf("Count(1) = %d, want %d", got, want)
	}
	for id, want := range map[int64]string{2: sub, depth - 4: sub, depth - 3: tooFew5, depth: tooFew5} {
		if got := v.Reason(id); got != want {
			t.Errorf("Reason(%d) = %q, want %q", id, got, want)
		}
	}
}

func TestWorkedExampleFromPackageDoc(t *testing.T) {
	tree := tandem.NewTree([]tandem.Unit{
		{ID: 1, Name: "Company"},
		{ID: 2, ParentID: 1, Name: "Sales"},
		{ID: 3, ParentID: 1, Name: "Support"},
		{ID: 4, ParentID: 2, Name: "Inside"},
		{ID: 5, ParentID: 2, Name: "Field"},
		{ID: 6, ParentID: 2, Name: "Partner"},
		{ID: 7, ParentID: 3, Name: "Tier 1"},
		{ID: 8, ParentID: 3, Name: "Tier 2"},
	})
	direct := map[int64]int{3: 1, 4: 5, 5: 5, 6: 2, 7: 7, 8: 6}
	v := Decide(tree, direct, DefaultK)
	if got, want := v.ShownUnits(0), []int64{1, 2, 5, 3, 7}; !slices.Equal(got, want) {
		t.Errorf("ShownUnits(0) = %v, want %v", got, want)
	}
	for id, want := range map[int64]string{4: sub, 6: tooFew5, 8: sub} {
		if got := v.Reason(id); got != want {
			t.Errorf("Reason(%d) = %q, want %q", id, got, want)
		}
	}
	for id, want := range map[int64]int{1: 26, 2: 12, 3: 14} {
		if got := v.Count(id); got != want {
			t.Errorf("Count(%d) = %d, want %d", id, got, want)
		}
	}
}

func TestThresholdKeepsWhatAnAdminMaySetAndDefaultsTheRest(t *testing.T) {
	for _, tt := range []struct{ k, want int }{
		{0, DefaultK}, {-1, DefaultK}, {1, DefaultK}, {2, DefaultK},
		{3, 3}, {4, 4}, {5, 5}, {12, 12}, {50, 50}, {51, DefaultK},
	} {
		if got := Threshold(tt.k); got != tt.want {
			t.Errorf("Threshold(%d) = %d, want %d", tt.k, got, tt.want)
		}
		if ok := CheckThreshold(tt.k) == nil; ok != (tt.k == tt.want) {
			t.Errorf("CheckThreshold(%d) accepts: %v, want %v", tt.k, ok, tt.k == tt.want)
		}
	}
}
