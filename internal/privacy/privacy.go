package privacy

import (
	"fmt"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// MinK is the smallest anonymity threshold Tandem accepts.
const MinK = 3

// DefaultK is the anonymity threshold used unless an admin sets another.
const DefaultK = 5

// MaxK is the largest threshold accepted: above it almost every team
// would be hidden.
const MaxK = 50

// Threshold is the anonymity threshold in force for a configured k: k
// itself when it is one an admin may set (MinK to MaxK), DefaultK when it
// is unset (0) or anything else. It is the one place a threshold is
// corrected; every page, export, report and job calls it (Decide does).
func Threshold(k int) int {
	if k < MinK || k > MaxK {
		return DefaultK
	}
	return k
}

// CheckThresholdChange says why a person may not change a threshold from
// old to k (old is DefaultK for a new program), or nil: lowering it is an
// admin's decision (and audited by the caller); anyone who may edit a
// program may keep or raise it.
func CheckThresholdChange(old, k int, admin bool) error {
	if err := CheckThreshold(k); err != nil {
		return err
	}
	if k < Threshold(old) && !admin {
		return tandem.FieldErrorf("min_group", "only an admin may lower the anonymity threshold (from %d to %d): keep it at %d or more, or ask an admin", Threshold(old), k, Threshold(old))
	}
	return nil
}

// CheckThreshold says why k cannot be set as a threshold, or nil.
func CheckThreshold(k int) error {
	switch {
	case k < MinK:
		return tandem.FieldErrorf("min_group", "the anonymity threshold must be at least %d", MinK)
	case k > MaxK:
		return tandem.FieldErrorf("min_group", "an anonymity threshold above %d would hide almost every team", MaxK)
	}
	return nil
}

// Reasons a unit is not shown, as returned by Reason. ReasonTooFew is a
// format with the threshold.
const (
	ReasonTooFew      = "fewer than %d respondents"
	ReasonSubtraction = "hidden so that no smaller group can be worked out by subtraction"
	ReasonEmpty       = "no respondents"
)

// Visibility is the outcome for one set of counts: which units may show
// their subtree aggregate. It is decided once for the whole tree; a
// leader's view is a filter over it (ShownUnits with a scope), never a
// decision of its own.
type Visibility struct {
	tree  *tandem.Tree
	k     int
	count map[int64]int  // subtree counts, every unit in the tree
	shown map[int64]bool // only shown units are present
}

// Decide returns which units may show their subtree aggregate, given each
// unit's direct count (people counted in that unit itself, not in its
// descendants) and the configured threshold k (corrected by Threshold).
//
// Units missing from direct count 0; ids in direct that are not in the tree
// are ignored, as are negative counts. The rules and the reasons for them
// are in the package documentation.
func Decide(tree *tandem.Tree, direct map[int64]int, k int) *Visibility {
	k = Threshold(k)
	if tree == nil {
		tree = tandem.NewTree(nil)
	}
	v := &Visibility{tree: tree, k: k, count: make(map[int64]int, tree.Len()), shown: make(map[int64]bool)}

	// Walk lists parents before children, so going backwards every child's
	// subtree count is known before its parent's is summed.
	walk := tree.Walk()
	for i := len(walk) - 1; i >= 0; i-- {
		id := walk[i].ID
		n := max(direct[id], 0)
		for _, c := range tree.Children(id) {
			n += v.count[c]
		}
		v.count[id] = n
	}

	// Top-down: a unit's fate is settled by its parent before its own
	// children are looked at. Decisions at a unit change only which of its
	// children are shown, so they never reopen a remainder higher up, and one
	// pass is already stable.
	for _, root := range tree.Roots() {
		if v.count[root] >= k {
			v.shown[root] = true
		}
	}
	for _, u := range walk {
		if v.shown[u.ID] {
			v.decideChildren(u.ID)
		}
		// A hidden unit's children are never marked shown, so its whole
		// subtree stays hidden: otherwise the hidden total could be rebuilt
		// as the sum of its shown children.
	}
	return v
}

// decideChildren settles which children of the shown unit p are shown so
// that p's remainder — its count minus its shown children's counts — is 0
// or at least k.
func (v *Visibility) decideChildren(p int64) {
	var candidates []int64
	remainder := v.count[p]
	for _, c := range v.tree.Children(p) {
		// Children under k (including empty ones) are hidden; their people
		// stay in p's remainder. An empty child adds 0, so it never forces
		// another child to be hidden.
		if v.count[c] >= v.k {
			candidates = append(candidates, c)
			remainder -= v.count[c]
		}
	}
	// Hiding a child adds its count (≥ k) to the remainder, so this loop
	// runs at most once; it is written as a loop to state the rule, not to
	// rely on that arithmetic.
	for remainder > 0 && remainder < v.k && len(candidates) > 0 {
		i := smallest(candidates, v.count)
		remainder += v.count[candidates[i]]
		candidates = append(candidates[:i], candidates[i+1:]...)
	}
	for _, c := range candidates {
		v.shown[c] = true
	}
}

// smallest returns the index of the unit with the smallest count, ties to
// the lowest id. Hiding the smallest group withholds the fewest people;
// the id (not the name) breaks ties so renaming a team never changes what
// is shown.
func smallest(ids []int64, count map[int64]int) int {
	best := 0
	for i, id := range ids[1:] {
		b := ids[best]
		if count[id] < count[b] || (count[id] == count[b] && id < b) {
			best = i + 1
		}
	}
	return best
}

// K returns the threshold in force (Threshold of the one asked).
func (v *Visibility) K() int { return v.k }

// Shown reports whether unitID may show its subtree aggregate.
func (v *Visibility) Shown(unitID int64) bool { return v.shown[unitID] }

// Count returns unitID's subtree count: its direct count plus all its
// descendants'. It is known for every unit, but callers may only display it
// (or anything computed from those people) when Shown is true.
func (v *Visibility) Count(unitID int64) int { return v.count[unitID] }

// Reason returns "" for a shown unit and otherwise a short reason fit for a
// leader's screen. A unit that is not in the tree has no respondents.
func (v *Visibility) Reason(unitID int64) string {
	n := v.count[unitID]
	switch {
	case v.shown[unitID]:
		return ""
	case n == 0:
		return ReasonEmpty
	case n < v.k:
		return fmt.Sprintf(ReasonTooFew, v.k)
	default:
		// Big enough on its own, so it (or an ancestor) was hidden to keep
		// a parent's remainder at 0 or at least k.
		return ReasonSubtraction
	}
}

// ShownAncestor returns the nearest unit at or above unitID that is shown,
// or 0: where a hidden unit's people (and, for example, their comments) are
// reported. The people reported at a shown unit P this way are exactly P's
// remainder, which is 0 or at least k.
func (v *Visibility) ShownAncestor(unitID int64) int64 {
	for u := v.tree.Unit(unitID); u != nil; u = v.tree.Unit(u.ParentID) {
		if v.shown[u.ID] {
			return u.ID
		}
	}
	return 0
}

// ShownUnits returns the shown unit ids in tree Walk order, limited to the
// subtree of scope unless scope is 0. A scope that is not in the tree gives
// none.
func (v *Visibility) ShownUnits(scope int64) []int64 {
	var ids []int64
	if scope == 0 {
		for _, u := range v.tree.Walk() {
			ids = append(ids, u.ID)
		}
	} else {
		ids = v.tree.Subtree(scope)
	}
	var out []int64
	for _, id := range ids {
		if v.shown[id] {
			out = append(out, id)
		}
	}
	return out
}
