package report

import (
	"math"
	"sort"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// What the dashboard and a program's results page read besides a round's
// results: the unit × measure heatmap, the biggest changes between the two
// latest rounds, and customer satisfaction rolled up to a unit. The web
// package only renders them.

// Heatmap is the unit × measure table of a program.
type Heatmap struct {
	// Measures are the columns, in order (pulse measures).
	Measures []string
	Rows     []HeatRow
}

// HeatRow is one shown unit's row.
type HeatRow struct {
	Unit *tandem.Unit
	// Depth is the unit's depth below the scope's top, for indenting.
	Depth int
	// Cells follow Heatmap.Measures; a cell without a value has Shown false.
	Cells []HeatCell
}

// HeatCell is one unit's score on one measure, from one round.
type HeatCell struct {
	Shown       bool
	Value       float64
	Round       pulse.Round
	Respondents int
}

// BuildHeatmap builds the unit × measure table within scope (0: the whole
// organisation). Each column comes from one round: the latest round within
// the program's last driver cycle (set.Rounds oldest first) that asked the
// measure, under that round's own anonymity decision. Mixing rounds within
// a column would let shown units from different rounds be subtracted from
// each other, so a column never does.
func BuildHeatmap(tree *tandem.Tree, scope int64, p pulse.Program, set pulse.RoundSet) Heatmap {
	window := set.Rounds
	if n := max(p.DriverCycle, p.CoreEvery); len(window) > n {
		window = window[len(window)-n:]
	}
	h := Heatmap{Measures: pulse.TeamScoreMeasures()}
	asks := func(r pulse.Round, m string) bool {
		for _, q := range set.Questions[r.ID] {
			if (m == pulse.MeasureIndex && q.InIndex) || (m == pulse.MeasureENPS && q.Driver == pulse.DriverENPS) ||
				(pulse.MeasureDriver(m) != "" && q.Driver == pulse.MeasureDriver(m)) {
				return true
			}
		}
		return false
	}
	type cellKey struct {
		unit int64
		col  int
	}
	cells := map[cellKey]HeatCell{}
	seen := map[int64]bool{}
	results := map[int64]*RoundResults{}
	for col, m := range h.Measures {
		var r *pulse.Round
		for i := len(window) - 1; i >= 0; i-- {
			if asks(window[i], m) {
				r = &window[i]
				break
			}
		}
		if r == nil {
			continue
		}
		rr := results[r.ID]
		if rr == nil {
			rr = SetRoundResults(tree, scope, set, *r)
			results[r.ID] = rr
		}
		for _, u := range rr.Units {
			v := u.Measure(m)
			if math.IsNaN(v) {
				continue
			}
			seen[u.Unit.ID] = true
			cells[cellKey{u.Unit.ID, col}] = HeatCell{Shown: true, Value: v, Round: *r, Respondents: u.Respondents}
		}
	}
	top := topDepth(tree, scope)
	for _, u := range tree.Walk() {
		if !seen[u.ID] {
			continue
		}
		row := HeatRow{Unit: u, Depth: u.Depth - top}
		for col := range h.Measures {
			cell, ok := cells[cellKey{u.ID, col}]
			if !ok {
				cell = HeatCell{Value: math.NaN()}
			}
			row.Cells = append(row.Cells, cell)
		}
		h.Rows = append(h.Rows, row)
	}
	return h
}

// Change is a unit's engagement move between the two latest rounds that
// asked the engagement index.
type Change struct {
	Unit            *tandem.Unit
	Before, After   float64
	Delta           float64
	BeforeN, AfterN int
}

// BiggestChanges compares the engagement of units shown in both of the two
// latest rounds of set (oldest first) that asked the engagement index,
// each under its own round's anonymity decision, biggest move first; at
// most n.
func BiggestChanges(tree *tandem.Tree, scope int64, set pulse.RoundSet, n int) []Change {
	var last, prev []UnitResult
	for i := len(set.Rounds) - 1; i >= 0 && prev == nil; i-- {
		rr := SetRoundResults(tree, scope, set, set.Rounds[i])
		asked := false
		for _, u := range rr.Units {
			asked = asked || !math.IsNaN(u.Engagement)
		}
		if !asked {
			continue
		}
		if last == nil {
			last = rr.Units
		} else {
			prev = rr.Units
		}
	}
	before := map[int64]UnitResult{}
	for _, u := range prev {
		before[u.Unit.ID] = u
	}
	var out []Change
	for _, u := range last {
		b, ok := before[u.Unit.ID]
		if !ok || math.IsNaN(u.Engagement) || math.IsNaN(b.Engagement) {
			continue
		}
		out = append(out, Change{Unit: u.Unit, Before: b.Engagement, After: u.Engagement, Delta: u.Engagement - b.Engagement, BeforeN: b.Respondents, AfterN: u.Respondents})
	}
	sort.SliceStable(out, func(i, j int) bool { return math.Abs(out[i].Delta) > math.Abs(out[j].Delta) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// CustomerOf rolls customer totals up to unit (its subtree), one total per
// period start.
func CustomerOf(tree *tandem.Tree, unit int64, rows []tandem.CustomerTotalsRow) map[string]tandem.CustomerTotals {
	out := map[string]tandem.CustomerTotals{}
	for _, t := range rows {
		if tree.Contains(unit, t.UnitID) {
			k := tandem.FormatDate(t.Period)
			acc := out[k]
			acc.Merge(t.CustomerTotals)
			out[k] = acc
		}
	}
	return out
}
