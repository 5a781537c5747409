package privacy

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// The worked example of the package documentation, as invitees (k = 5):
// Inside (5), Field (5), Tier 1 (7) and Tier 2 (6) are groups of their own;
// Partner (2) rolls up through Sales, Support's one direct member up to the
// Company; the Company's 3 are short of 5, so the smallest group below
// (Inside and Field tie at 5; Inside has the lower id) joins them.
func TestStorageGroupsRollSmallUnitsUpAndMergeTheSmallestAtTheTop(t *testing.T) {
	tree, invited := newTestOrg([]unitSpec{
		{1, 0, 0}, {2, 1, 0}, {3, 1, 1}, {4, 2, 5}, {5, 2, 5}, {6, 2, 2}, {7, 3, 7}, {8, 3, 6},
	})
	group, size, err := StorageGroups(tree, 1, invited, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]int64{3: 1, 4: 1, 5: 5, 6: 1, 7: 7, 8: 8}
	for u, g := range want {
		if group[u] != g {
			t.Errorf("unit %d stores under %d, want %d", u, group[u], g)
		}
	}
	if len(group) != len(want) {
		t.Errorf("groups %v, want %v", group, want)
	}
	wantSize := map[int64]int{1: 8, 5: 5, 7: 7, 8: 6}
	for g, n := range wantSize {
		if size[g] != n {
			t.Errorf("group %d holds %d, want %d", g, size[g], n)
		}
	}
	if len(size) != len(wantSize) {
		t.Errorf("sizes %v, want %v", size, wantSize)
	}
}

func TestStorageGroupsOfAManagerAloneAboveFullTeams(t *testing.T) {
	// A manager alone in a department of two full teams: the manager's
	// answers cannot be stored under the department on their own.
	tree, invited := newTestOrg([]unitSpec{{1, 0, 1}, {2, 1, 6}, {3, 1, 9}})
	group, size, err := StorageGroups(tree, 1, invited, 5)
	if err != nil {
		t.Fatal(err)
	}
	if group[1] != 1 || group[2] != 1 || group[3] != 3 || size[1] != 7 || size[3] != 9 {
		t.Errorf("groups %v sizes %v; want the manager with the smaller team (7) and the larger team alone (9)", group, size)
	}
}

func TestStorageGroupsRefuseAnAudienceBelowK(t *testing.T) {
	tree, invited := newTestOrg([]unitSpec{{1, 0, 1}, {2, 1, 2}, {3, 1, 1}})
	_, _, err := StorageGroups(tree, 1, invited, 5)
	var below ErrAudienceBelowK
	if !errors.As(err, &below) || below.Invited != 4 || below.K != 5 {
		t.Errorf("an audience of 4 with k 5: %v", err)
	}
	// Units outside the audience do not count towards it.
	tree, invited = newTestOrg([]unitSpec{{1, 0, 0}, {2, 1, 3}, {3, 1, 30}})
	if _, _, err := StorageGroups(tree, 2, invited, 5); !errors.As(err, &below) || below.Invited != 3 {
		t.Errorf("an audience of 3 under a big sibling: %v", err)
	}
}

// On random organisations: everyone invited is stored under a unit at or
// above their own, within the audience, in a group of at least k, and the
// groups add up to the audience.
func TestStorageGroupsHoldAtLeastKOnRandomOrganisations(t *testing.T) {
	for seed := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, 13))
		units, invited := randomOrg(rng)
		tree := tandem.NewTree(units)
		k := 3 + rng.IntN(4)
		root := units[rng.IntN(len(units))].ID
		total := 0
		for _, u := range tree.Subtree(root) {
			total += invited[u]
		}
		group, size, err := StorageGroups(tree, root, invited, k)
		if total < k {
			if err == nil {
				t.Fatalf("seed %d: an audience of %d with k %d was not refused", seed, total, k)
			}
			continue
		}
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		members := map[int64]int{}
		for _, u := range tree.Subtree(root) {
			if invited[u] == 0 {
				continue
			}
			g, ok := group[u]
			if !ok || !tree.Contains(g, u) || !tree.Contains(root, g) {
				t.Fatalf("seed %d: unit %d (%d invited) stores under %d, not at or above it within audience %d", seed, u, invited[u], g, root)
			}
			members[g] += invited[u]
		}
		sum := 0
		for g, n := range size {
			if n < k || members[g] != n {
				t.Fatalf("seed %d: group %d holds %d (members %d), k %d", seed, g, n, members[g], k)
			}
			sum += n
		}
		if sum != total || len(members) != len(size) {
			t.Fatalf("seed %d: groups hold %d of %d invited (%d groups, %d with members)", seed, sum, total, len(size), len(members))
		}
	}
}
