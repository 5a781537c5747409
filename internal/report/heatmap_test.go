package report

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// heatTree: Co > Sales > (EMEA, APAC), Co > Ops.
func heatTree() *tandem.Tree {
	return tandem.NewTree([]tandem.Unit{
		{ID: 1, Name: "Co"}, {ID: 2, Name: "Sales", ParentID: 1}, {ID: 3, Name: "EMEA", ParentID: 2},
		{ID: 4, Name: "APAC", ParentID: 2}, {ID: 5, Name: "Ops", ParentID: 1},
	})
}

// heatOf builds a two-column heatmap; NaN is a hidden cell.
func heatOf(tree *tandem.Tree, values map[int64][2]float64) Heatmap {
	h := Heatmap{Measures: []string{pulse.MeasureIndex, pulse.MeasureENPS}}
	for _, u := range tree.Walk() {
		v, ok := values[u.ID]
		if !ok {
			continue
		}
		row := HeatRow{Unit: u, Depth: u.Depth}
		for _, x := range v {
			row.Cells = append(row.Cells, HeatCell{Shown: !math.IsNaN(x), Value: x})
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

func TestHeatmapDifferencesSubtractTheParentOrTheChosenUnitInTheSameColumn(t *testing.T) {
	tree := heatTree()
	nan := math.NaN()
	h := heatOf(tree, map[int64][2]float64{1: {70, 10}, 2: {66, nan}, 3: {80, 30}, 4: {61, nan}, 5: {75, 0}})
	type want struct {
		unit int64
		col  int
		ok   bool
		diff float64
		ref  int64
	}
	for _, tc := range []struct {
		name  string
		scope int64
		cmp   string
		want  []want
	}{
		// EMEA's eNPS has no shown parent (Sales hidden there): it is
		// compared with the unit above, Co.
		{"parent", 0, CompareParent, []want{{1, 0, false, 0, 0}, {2, 0, true, -4, 1}, {3, 0, true, 14, 2}, {3, 1, true, 20, 1}, {4, 0, true, -5, 2}, {4, 1, false, 0, 0}, {5, 1, true, -10, 1}}},
		{"whole organisation", 0, CompareScope, []want{{1, 0, false, 0, 0}, {3, 0, true, 10, 1}, {3, 1, true, 20, 1}, {5, 0, true, 5, 1}}},
		{"company", 0, CompareCompany, []want{{3, 0, true, 10, 1}, {5, 1, true, -10, 1}}},
		// A leader of Sales: Sales' own eNPS is hidden, so nothing in that
		// column has a comparison.
		{"leader's scope", 2, CompareScope, []want{{2, 0, false, 0, 0}, {3, 0, true, 14, 2}, {4, 0, true, -5, 2}, {3, 1, false, 0, 0}}},
	} {
		cmp, err := ChooseComparison(tree, tc.scope, tc.cmp)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		d := h.Differences(tree, cmp)
		at := map[int64]int{}
		for i, r := range h.Rows {
			at[r.Unit.ID] = i
		}
		for _, w := range tc.want {
			got := d[at[w.unit]][w.col]
			if got.Shown != w.ok || (w.ok && (got.Delta != w.diff || got.Ref.ID != w.ref)) {
				t.Errorf("%s: unit %d column %d = %+v, want shown=%v difference %v from unit %d", tc.name, w.unit, w.col, got, w.ok, w.diff, w.ref)
			}
		}
	}
}

func TestOnlyViewersWhoSeeTheWholeCompanyMayCompareWithIt(t *testing.T) {
	tree := heatTree()
	for _, tc := range []struct {
		scope   int64
		compare string
		ok      bool
		base    int64
	}{
		{0, CompareCompany, true, 1}, {1, CompareCompany, true, 1}, {2, CompareCompany, false, 0},
		{2, CompareScope, true, 2}, {0, CompareScope, true, 1}, {2, "", true, 0}, {2, "sideways", false, 0},
	} {
		got, err := ChooseComparison(tree, tc.scope, tc.compare)
		if (err == nil) != tc.ok {
			t.Errorf("scope %d compare %q: error %v, want ok=%v", tc.scope, tc.compare, err, tc.ok)
			continue
		}
		if err != nil && tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("scope %d compare %q: error code %s, want invalid", tc.scope, tc.compare, tandem.ErrorCode(err))
		}
		if tc.ok && tc.base != 0 && (got.Base == nil || got.Base.ID != tc.base) {
			t.Errorf("scope %d compare %q: base %+v, want unit %d", tc.scope, tc.compare, got.Base, tc.base)
		}
		if MayCompareCompany(tree, tc.scope) != (tc.scope == 0 || tc.scope == 1) {
			t.Errorf("scope %d: MayCompareCompany = %v", tc.scope, MayCompareCompany(tree, tc.scope))
		}
	}
}

// Whatever the heatmap hides, a difference is only ever a shown cell minus
// another shown cell of the same column: it tells nothing the scores do
// not.
func TestHeatmapDifferencesUseOnlyShownCells(t *testing.T) {
	tree := heatTree()
	rng := rand.New(rand.NewPCG(7, 17))
	for trial := 0; trial < 500; trial++ {
		values := map[int64][2]float64{}
		for id := int64(1); id <= 5; id++ {
			var v [2]float64
			for c := range v {
				v[c] = float64(rng.IntN(101))
				if rng.IntN(3) == 0 {
					v[c] = math.NaN()
				}
			}
			if rng.IntN(5) > 0 {
				values[id] = v
			}
		}
		h := heatOf(tree, values)
		for _, cmpName := range []string{CompareParent, CompareScope, CompareCompany} {
			cmp, _ := ChooseComparison(tree, 0, cmpName)
			for i, row := range h.Differences(tree, cmp) {
				for col, d := range row {
					if !d.Shown {
						continue
					}
					cell := h.Rows[i].Cells[col]
					ref, ok := values[d.Ref.ID]
					if !cell.Shown || !ok || math.IsNaN(ref[col]) || d.Delta != cell.Value-ref[col] {
						t.Fatalf("trial %d %s: %s column %d difference %v from %s, but the cell is %+v and the comparison %v (shown %v)",
							trial, cmpName, h.Rows[i].Unit.Name, col, d.Delta, d.Ref.Name, cell, ref[col], ok)
					}
				}
			}
		}
	}
}
