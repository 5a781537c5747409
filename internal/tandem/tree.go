package tandem

import (
	"encoding/binary"
	"hash/fnv"
	"sort"
)

// Tree is the organisation as loaded at one moment: units by id with their
// children, for scope checks, roll-ups and display.
type Tree struct {
	units    map[int64]*Unit
	children map[int64][]int64
	roots    []int64
}

// NewTree builds a tree from units (any order) and fills each unit's Path
// and Depth. Units whose parent is missing are treated as roots.
func NewTree(units []Unit) *Tree {
	t := &Tree{units: make(map[int64]*Unit, len(units)), children: make(map[int64][]int64)}
	for i := range units {
		u := units[i]
		t.units[u.ID] = &u
	}
	for _, u := range t.units {
		if _, ok := t.units[u.ParentID]; u.ParentID != 0 && ok {
			t.children[u.ParentID] = append(t.children[u.ParentID], u.ID)
		} else {
			u.ParentID = 0
			t.roots = append(t.roots, u.ID)
		}
	}
	byName := func(ids []int64) {
		sort.Slice(ids, func(i, j int) bool {
			a, b := t.units[ids[i]], t.units[ids[j]]
			if a.Name != b.Name {
				return a.Name < b.Name
			}
			return a.ID < b.ID
		})
	}
	byName(t.roots)
	for _, c := range t.children {
		byName(c)
	}
	var walk func(id int64, path string, depth int)
	walk = func(id int64, path string, depth int) {
		u := t.units[id]
		if path == "" {
			u.Path = u.Name
		} else {
			u.Path = path + PathSeparator + u.Name
		}
		u.Depth = depth
		for _, c := range t.children[id] {
			walk(c, u.Path, depth+1)
		}
	}
	for _, r := range t.roots {
		walk(r, "", 0)
	}
	return t
}

// Unit returns the unit with id, or nil.
func (t *Tree) Unit(id int64) *Unit { return t.units[id] }

// Len returns the number of units.
func (t *Tree) Len() int { return len(t.units) }

// Roots returns the ids of the top-level units, by name.
func (t *Tree) Roots() []int64 { return t.roots }

// Children returns the ids of id's direct children, by name.
func (t *Tree) Children(id int64) []int64 { return t.children[id] }

// InScope reports whether someone whose scope is the unit scope may see
// unit: everyone sees every unit when scope is 0 (admins, HR), a leader
// sees their own unit and its subtree, nothing else. It is the one home of
// that rule; pages, exports and reports ask it (pulse.Program.VisibleTo is
// the rule for programs, which a leader also sees when they cover their
// unit).
func (t *Tree) InScope(scope, unit int64) bool {
	return scope == 0 || t.Contains(scope, unit)
}

// Contains reports whether unit is ancestor itself or in its subtree.
func (t *Tree) Contains(ancestor, unit int64) bool {
	for id := unit; id != 0; {
		if id == ancestor {
			return true
		}
		u := t.units[id]
		if u == nil {
			return false
		}
		id = u.ParentID
	}
	return false
}

// Subtree returns id and all its descendants, depth first, parents before
// children.
func (t *Tree) Subtree(id int64) []int64 {
	if t.units[id] == nil {
		return nil
	}
	var out []int64
	var walk func(int64)
	walk = func(id int64) {
		out = append(out, id)
		for _, c := range t.children[id] {
			walk(c)
		}
	}
	walk(id)
	return out
}

// Walk returns every unit depth first from the roots, parents before
// children, siblings by name: the order of an indented tree.
func (t *Tree) Walk() []*Unit {
	out := make([]*Unit, 0, len(t.units))
	for _, r := range t.roots {
		for _, id := range t.Subtree(r) {
			out = append(out, t.units[id])
		}
	}
	return out
}

// Ancestors returns the ids from the root down to id's parent.
func (t *Tree) Ancestors(id int64) []int64 {
	var up []int64
	u := t.units[id]
	for u != nil && u.ParentID != 0 {
		up = append(up, u.ParentID)
		u = t.units[u.ParentID]
	}
	for i, j := 0, len(up)-1; i < j; i, j = i+1, j-1 {
		up[i], up[j] = up[j], up[i]
	}
	return up
}

// ByPath returns the unit whose path (names joined by PathSeparator) is
// path, or nil.
func (t *Tree) ByPath(parts []string) *Unit {
	var level = t.roots
	var found *Unit
	for _, name := range parts {
		found = nil
		for _, id := range level {
			if t.units[id].Name == name {
				found = t.units[id]
				break
			}
		}
		if found == nil {
			return nil
		}
		level = t.children[found.ID]
	}
	return found
}

// Hash is a fingerprint of the tree's shape and names: equal for trees
// with the same units, parents, names and customer-facing marks. Reports
// cached for one tree are not served for another (a unit moved or
// renamed).
func (t *Tree) Hash() uint64 {
	ids := make([]int64, 0, len(t.units))
	for id := range t.units {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	h := fnv.New64a()
	var b [17]byte
	for _, id := range ids {
		u := t.units[id]
		binary.LittleEndian.PutUint64(b[0:], uint64(u.ID))
		binary.LittleEndian.PutUint64(b[8:], uint64(u.ParentID))
		b[16] = 0
		if u.CustomerFacing {
			b[16] = 1
		}
		h.Write(b[:])
		h.Write([]byte(u.Name))
		h.Write([]byte{0})
	}
	return h.Sum64()
}
