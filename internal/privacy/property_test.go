package privacy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// randomOrg builds a random organisation of up to 25 units and 5 levels
// with direct counts 0–12, ids shuffled and names that often tie, so
// neither id order nor name order lines up with the tree.
func randomOrg(rng *rand.Rand) ([]tandem.Unit, map[int64]int) {
	n := 1 + rng.IntN(25)
	perm := rng.Perm(n)
	units := make([]tandem.Unit, n)
	depth := make([]int, n)
	direct := make(map[int64]int, n)
	small := rng.IntN(3) == 0 // some organisations of mostly tiny teams
	for i := range units {
		id := int64(perm[i] + 1)
		units[i] = tandem.Unit{ID: id, Name: fmt.Sprintf("t%d", rng.IntN(4))}
		if i > 0 && rng.IntN(12) != 0 {
			var candidates []int
			for j := range i {
				if depth[j] < 4 {
					candidates = append(candidates, j)
				}
			}
			var j int
			if rng.IntN(2) == 0 {
				j = candidates[rng.IntN(len(candidates))]
			} else { // recent units: deeper, narrower trees
				j = candidates[len(candidates)-1-rng.IntN(min(3, len(candidates)))]
			}
			units[i].ParentID = units[j].ID
			depth[i] = depth[j] + 1
		}
		c := rng.IntN(13)
		if small {
			c = rng.IntN(4)
		}
		if c > 0 || rng.IntN(2) == 0 { // a zero is sometimes just missing
			direct[id] = c
		}
	}
	return units, direct
}

func TestPrivacyInvariantsHoldOnRandomOrganisations(t *testing.T) {
	var suppressed, allShown int
	for seed := range uint64(2000) {
		rng := rand.New(rand.NewPCG(seed, 0x7a6e64656d))
		units, direct := randomOrg(rng)
		k := 3 + rng.IntN(4)
		tree := tandem.NewTree(units)
		v := Decide(tree, direct, k)
		if !checkInvariants(t, tree, direct, v) {
			t.Fatalf("seed %d, k %d:\n%s", seed, k, describe(tree, direct, v))
		}

		// The same organisation listed in another order decides the same.
		slices.Reverse(units)
		if got, want := Decide(tandem.NewTree(units), direct, k).ShownUnits(0), v.ShownUnits(0); !slices.Equal(got, want) {
			t.Fatalf("seed %d: ShownUnits(0) with units reversed = %v, want %v", seed, got, want)
		}

		// Maximality in the simple case: when every non-empty unit is at
		// least k and every remainder is 0 or at least k with everything
		// shown, nothing non-empty is hidden.
		if nothingToProtect(tree, v) {
			allShown++
			for _, u := range tree.Walk() {
				if v.Count(u.ID) > 0 && !v.Shown(u.ID) {
					t.Fatalf("seed %d: unit %d (n %d) hidden with nothing to protect\n%s", seed, u.ID, v.Count(u.ID), describe(tree, direct, v))
				}
			}
		}
		for _, u := range tree.Walk() {
			if v.Reason(u.ID) == ReasonSubtraction {
				suppressed++
				break
			}
		}
	}
	t.Logf("%d organisations needed complementary suppression, %d had nothing to protect", suppressed, allShown)
	// Guard the generator: the property is only worth something if both
	// kinds of organisation come up often.
	if suppressed < 200 {
		t.Errorf("organisations needing complementary suppression = %d, want ≥ 200", suppressed)
	}
	if allShown < 100 {
		t.Errorf("organisations with nothing to protect = %d, want ≥ 100", allShown)
	}
}

// nothingToProtect reports whether showing every non-empty unit would
// already meet the rules.
func nothingToProtect(tree *tandem.Tree, v *Visibility) bool {
	for _, u := range tree.Walk() {
		n := v.Count(u.ID)
		if n == 0 {
			continue
		}
		if n < v.K() {
			return false
		}
		r := n
		for _, c := range tree.Children(u.ID) {
			r -= v.Count(c)
		}
		if r > 0 && r < v.K() {
			return false
		}
	}
	return true
}

// checkInvariants asserts the privacy rules on v by brute force, without
// reusing Decide's own bookkeeping. It reports whether all held.
func checkInvariants(t *testing.T, tree *tandem.Tree, direct map[int64]int, v *Visibility) bool {
	t.Helper()
	failed := false
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
		failed = true
	}
	k := v.K()
	all := tree.Walk()

	// People in the same unit are alike for every check here, so people
	// are counted per occupied unit: occupied[j] holds weight[j] of them.
	var occupied []int64
	var weight []int
	for _, u := range all {
		if n := direct[u.ID]; n > 0 {
			occupied = append(occupied, u.ID)
			weight = append(weight, n)
		}
	}
	var shown []int64
	for _, u := range all {
		if v.Shown(u.ID) {
			shown = append(shown, u.ID)
		}
	}
	// isProper reports whether d is strictly inside a.
	isProper := func(a, d int64) bool { return a != d && tree.Contains(a, d) }

	for _, u := range all {
		id := u.ID
		// (4) The count is everyone in the subtree.
		want := 0
		for j, o := range occupied {
			if tree.Contains(id, o) {
				want += weight[j]
			}
		}
		if got := v.Count(id); got != want {
			fail("Count(%d) = %d, want %d (direct plus all descendants)", id, got, want)
		}

		if v.Shown(id) {
			// (1) Every shown unit has at least k people.
			if got := v.Count(id); got < k {
				fail("shown unit %d has n %d, want ≥ k %d", id, got, k)
			}
			// (2) The remainder after subtracting shown children.
			r := v.Count(id)
			for _, c := range tree.Children(id) {
				if v.Shown(c) {
					r -= v.Count(c)
				}
			}
			if r != 0 && r < k {
				fail("shown unit %d: remainder %d, want 0 or ≥ k %d", id, r, k)
			}
			if got := v.Reason(id); got != "" {
				fail("Reason(%d) of a shown unit = %q, want \"\"", id, got)
			}
		} else {
			// (3) Everything below a hidden unit is hidden.
			for _, d := range tree.Subtree(id) {
				if v.Shown(d) {
					fail("unit %d is shown below hidden unit %d", d, id)
				}
			}
			n := v.Count(id)
			want := ReasonSubtraction
			if n == 0 {
				want = ReasonEmpty
			} else if n < k {
				want = fmt.Sprintf(ReasonTooFew, k)
			}
			if got := v.Reason(id); got != want {
				fail("Reason(%d) (n %d, k %d) = %q, want %q", id, n, k, got, want)
			}
		}

		// (5) Maximality: a unit big enough on its own is hidden only under a
		// hidden parent, or because showing it would leave its shown parent a
		// remainder in 1..k-1 — and then it is the smallest such sibling,
		// ties to the lowest id.
		if n := v.Count(id); !v.Shown(id) && n >= k {
			p := u.ParentID
			if p == 0 {
				fail("root %d (n %d ≥ k %d) is hidden", id, n, k)
			} else if v.Shown(p) {
				r := v.Count(p)
				for _, c := range tree.Children(p) {
					if v.Shown(c) {
						r -= v.Count(c)
					}
				}
				if without := r - n; without <= 0 || without >= k {
					fail("unit %d (n %d) is hidden needlessly: parent %d's remainder would be %d with it shown (k %d)", id, n, p, without, k)
				}
				for _, c := range tree.Children(p) {
					if c == id || v.Count(c) < k {
						continue
					}
					if !v.Shown(c) {
						fail("units %d and %d under %d are both hidden for subtraction; one is enough", id, c, p)
					}
					if v.Count(c) < n || (v.Count(c) == n && c < id) {
						fail("unit %d (n %d) is hidden but sibling %d (n %d) comes first in the tie-break", id, n, c, v.Count(c))
					}
				}
			}
		}

		// ShownAncestor is the nearest shown unit at or above.
		a := v.ShownAncestor(id)
		var nearest int64
		for _, s := range shown {
			if tree.Contains(s, id) && (nearest == 0 || tree.Contains(nearest, s)) {
				nearest = s
			}
		}
		if a != nearest {
			fail("ShownAncestor(%d) = %d, want %d", id, a, nearest)
		}

		// A leader's view is a filter of the whole decision.
		var inScope []int64
		for _, s := range shown {
			if tree.Contains(id, s) {
				inScope = append(inScope, s)
			}
		}
		if got := v.ShownUnits(id); !slices.Equal(got, inScope) {
			fail("ShownUnits(%d) = %v, want %v", id, got, inScope)
		}
	}
	if got := v.ShownUnits(0); !slices.Equal(got, shown) {
		fail("ShownUnits(0) = %v, want %v", got, shown)
	}

	// Subtraction across any number of levels: for every shown unit G and
	// every set S of shown units inside it (shown parents, shown children,
	// any mix), the people in G but in no member of S are 0 or at least k.
	// S = all shown proper descendants gives G's own cell.
	for _, g := range shown {
		var inside []int64
		for _, s := range shown {
			if isProper(g, s) {
				inside = append(inside, s)
			}
		}
		if len(inside) > 10 {
			inside = inside[:10] // keep 2^n small; the cell check below has no limit
		}
		// cover[j]: which members of inside hold occupied[j]; -1 when
		// occupied[j] is not in g at all.
		cover := make([]int, len(occupied))
		for j, o := range occupied {
			if !tree.Contains(g, o) {
				cover[j] = -1
				continue
			}
			for i, s := range inside {
				if tree.Contains(s, o) {
					cover[j] |= 1 << i
				}
			}
		}
		for mask := range 1 << len(inside) {
			left := 0
			for j, c := range cover {
				if c >= 0 && c&mask == 0 {
					left += weight[j]
				}
			}
			if left > 0 && left < k {
				var subtracted []int64
				for i, s := range inside {
					if mask&(1<<i) != 0 {
						subtracted = append(subtracted, s)
					}
				}
				fail("unit %d minus shown units %v isolates %d people, want 0 or ≥ k %d", g, subtracted, left, k)
			}
		}
		// The cell: people in G but in no shown proper descendant.
		cell := 0
		for j, o := range occupied {
			if !tree.Contains(g, o) {
				continue
			}
			covered := false
			for _, s := range shown {
				if isProper(g, s) && tree.Contains(s, o) {
					covered = true
					break
				}
			}
			if !covered {
				cell += weight[j]
			}
		}
		if cell > 0 && cell < k {
			fail("shown unit %d: %d people are in no shown unit below it, want 0 or ≥ k %d", g, cell, k)
		}
	}

	// Any sum and difference of shown totals (coefficients −1, 0, 1) that
	// counts each person 0 or 1 times describes a group: it must be empty
	// or at least k. Brute force when there are few shown units.
	if len(shown) <= 8 {
		checkSignedCombinations(t, tree, occupied, weight, shown, k, fail)
	}
	return !failed
}

// checkSignedCombinations tries every ±1/0 combination of the shown
// units' member sets, counted per occupied unit.
func checkSignedCombinations(t *testing.T, tree *tandem.Tree, occupied []int64, weight []int, shown []int64, k int, fail func(string, ...any)) {
	t.Helper()
	member := make([][]int, len(shown)) // member[i][j]: occupied[j] is in shown[i]
	for i, s := range shown {
		member[i] = make([]int, len(occupied))
		for j, o := range occupied {
			if tree.Contains(s, o) {
				member[i][j] = 1
			}
		}
	}
	coef := make([]int, len(shown))
	sum := make([]int, len(occupied))
	var try func(i int)
	try = func(i int) {
		if i == len(shown) {
			size := 0
			for j, x := range sum {
				if x != 0 && x != 1 {
					return // not a group: someone counted twice or negatively
				}
				size += x * weight[j]
			}
			if size > 0 && size < k {
				fail("combination %v of shown units %v isolates %d people, want 0 or ≥ k %d", coef, shown, size, k)
			}
			return
		}
		for _, c := range []int{0, 1, -1} {
			coef[i] = c
			for j := range sum {
				sum[j] += c * member[i][j]
			}
			try(i + 1)
			for j := range sum {
				sum[j] -= c * member[i][j]
			}
		}
		coef[i] = 0
	}
	try(0)
}

// describe prints the tree with counts and decisions, for failure messages.
func describe(tree *tandem.Tree, direct map[int64]int, v *Visibility) string {
	var b strings.Builder
	for _, u := range tree.Walk() {
		state := "shown"
		if !v.Shown(u.ID) {
			state = "hidden: " + v.Reason(u.ID)
		}
		fmt.Fprintf(&b, "%sunit %d (%s) direct %d n %d %s\n", strings.Repeat("  ", u.Depth), u.ID, u.Name, direct[u.ID], v.Count(u.ID), state)
	}
	return b.String()
}
