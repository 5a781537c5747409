package privacy

import (
	"fmt"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// ErrAudienceBelowK is returned by StorageGroups when a whole audience is
// smaller than the threshold: nothing its answers say could ever be shown.
type ErrAudienceBelowK struct{ Invited, K int }

func (e ErrAudienceBelowK) Error() string {
	return fmt.Sprintf("the audience has %d people and results are shown only for groups of at least %d, so a round would show nothing", e.Invited, e.K)
}

// StorageGroups decides, once per round, the unit each person's answers
// are stored under (their storage group), from the number of people
// invited directly in each unit of root's subtree (people of that unit
// itself, not of its descendants; root is the audience's top unit) and the
// configured threshold k (corrected by Threshold).
//
// Bottom-up, a unit keeps its own invitees and those of the smaller units
// rolled into it; when they number at least k it is a storage group, and
// otherwise they all roll up into its parent. At root, people still short
// of k are joined by
// the smallest storage group below it (ties to the lowest unit id) until
// they reach k. So every storage group holds at least k invitees, and no
// stored answer, running total or comment points at a group smaller than
// k — not even for someone reading the database.
//
// It returns, for every unit with invitees, the unit its people's answers
// are stored under, and each storage group's invitee count. A whole
// audience of fewer than k people is an ErrAudienceBelowK.
func StorageGroups(tree *tandem.Tree, root int64, invited map[int64]int, k int) (group map[int64]int64, size map[int64]int, err error) {
	k = Threshold(k)
	group, size = map[int64]int64{}, map[int64]int{}
	walk := tree.Subtree(root)
	total := 0
	for _, u := range walk {
		total += max(invited[u], 0)
	}
	if total < k {
		return nil, nil, ErrAudienceBelowK{Invited: total, K: k}
	}
	// pending[u] are the units whose people are waiting at u to reach k,
	// with their count.
	pending := map[int64][]int64{}
	count := map[int64]int{}
	// groupsBelow[u] are the storage groups in u's subtree, for the merge
	// at a top unit.
	groupsBelow := map[int64][]int64{}
	for i := len(walk) - 1; i >= 0; i-- {
		u := walk[i]
		if n := invited[u]; n > 0 {
			pending[u] = append(pending[u], u)
			count[u] += n
		}
		for _, c := range tree.Children(u) {
			groupsBelow[u] = append(groupsBelow[u], groupsBelow[c]...)
			if count[c] > 0 {
				pending[u] = append(pending[u], pending[c]...)
				count[u] += count[c]
				delete(pending, c)
				delete(count, c)
			}
		}
		if count[u] >= k {
			for _, m := range pending[u] {
				group[m] = u
			}
			size[u] = count[u]
			groupsBelow[u] = append(groupsBelow[u], u)
			delete(pending, u)
			delete(count, u)
			continue
		}
		if count[u] == 0 || u != root {
			continue
		}
		// The audience's top with people short of k: the smallest groups
		// below join them here.
		for count[u] < k {
			best := -1
			for j, g := range groupsBelow[u] {
				if best < 0 || size[g] < size[groupsBelow[u][best]] || (size[g] == size[groupsBelow[u][best]] && g < groupsBelow[u][best]) {
					best = j
				}
			}
			if best < 0 {
				// Cannot happen while the tree holds everyone counted in
				// total; refuse rather than store a small group.
				return nil, nil, ErrAudienceBelowK{Invited: count[u], K: k}
			}
			g := groupsBelow[u][best]
			groupsBelow[u] = append(groupsBelow[u][:best], groupsBelow[u][best+1:]...)
			for m, at := range group {
				if at == g {
					pending[u] = append(pending[u], m)
				}
			}
			count[u] += size[g]
			delete(size, g)
		}
		for _, m := range pending[u] {
			group[m] = u
		}
		size[u] = count[u]
	}
	return group, size, nil
}
