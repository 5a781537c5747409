package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

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
	// Rounds are the columns' rounds; nil where no round of the window
	// asked the measure (questions rotate).
	Rounds []*pulse.Round
	// Window is the number of latest rounds the columns come from.
	Window int
	Rows   []HeatRow
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
	h := Heatmap{Measures: pulse.TeamScoreMeasures(), Window: len(window)}
	h.Rounds = make([]*pulse.Round, len(h.Measures))
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
		h.Rounds[col] = r
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
	out, _, _ := BiggestChangesBetween(tree, scope, set, n)
	return out
}

// BiggestChangesBetween is BiggestChanges with the two rounds it compares
// (nil when there are not two that asked the engagement index), so that a
// page can say which closed rounds its figures come from.
func BiggestChangesBetween(tree *tandem.Tree, scope int64, set pulse.RoundSet, n int) (out []Change, before, after *pulse.Round) {
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
			last, after = rr.Units, &set.Rounds[i]
		} else {
			prev, before = rr.Units, &set.Rounds[i]
		}
	}
	if prev == nil {
		return nil, nil, nil
	}
	was := map[int64]UnitResult{}
	for _, u := range prev {
		was[u.Unit.ID] = u
	}
	for _, u := range last {
		b, ok := was[u.Unit.ID]
		if !ok || math.IsNaN(u.Engagement) || math.IsNaN(b.Engagement) {
			continue
		}
		out = append(out, Change{Unit: u.Unit, Before: b.Engagement, After: u.Engagement, Delta: u.Engagement - b.Engagement, BeforeN: b.Respondents, AfterN: u.Respondents})
	}
	sort.SliceStable(out, func(i, j int) bool { return math.Abs(out[i].Delta) > math.Abs(out[j].Delta) })
	if len(out) > n {
		out = out[:n]
	}
	return out, before, after
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

// WeekPoint is one round of the dashboard's chart: the head unit's
// engagement index (NaN where the unit was hidden in that round) and its
// customers' CSAT, % satisfied, in the week the round counts for (NaN
// without ratings that week).
type WeekPoint struct {
	Period     string
	Engagement float64
	CSAT       float64
}

// EngagementAndCSAT puts a unit's engagement (Trend) beside its customers'
// weekly CSAT (CustomerOf over weekly CSAT totals): each round is matched
// with the week its period falls in. It is the dashboard chart's roll-up;
// web only draws it.
func EngagementAndCSAT(tree *tandem.Tree, unit int64, set pulse.RoundSet, weeklyCSAT []tandem.CustomerTotalsRow) []WeekPoint {
	weekly := CustomerOf(tree, unit, weeklyCSAT)
	var out []WeekPoint
	for _, t := range Trend(tree, unit, set) {
		p := WeekPoint{Period: t.Round.Period, Engagement: math.NaN(), CSAT: math.NaN()}
		if t.Shown {
			p.Engagement = t.Engagement
		}
		if d, err := tandem.ParseDate(t.Round.Period); err == nil {
			if w, ok := weekly[tandem.FormatDate(tandem.PeriodStart(tandem.Week, d))]; ok && w.N > 0 {
				p.CSAT = w.TopShare()
			}
		}
		out = append(out, p)
	}
	return out
}

// MinTeamsForBetweenClaim is the fewest teams over which the dashboard says
// that teams with higher engagement had higher (or lower) customer scores.
// With one team every pair is that team's own periods, and with two any
// line fits; neither is a comparison between teams.
const MinTeamsForBetweenClaim = 3

// intervalLeavesOutZero reports whether [lo, hi] is an interval that leaves out 0.
func intervalLeavesOutZero(lo, hi Num) bool {
	l, h := float64(lo), float64(hi)
	return !math.IsNaN(l) && !math.IsNaN(h) && (l > 0 || h < 0)
}

// DashboardHeadline is the correlation headline a leader reads on the
// dashboard, in plain words. It claims a link between teams only over at
// least MinTeamsForBetweenClaim teams and when the 95 % interval of r
// leaves out zero, and a link within teams only when that interval leaves
// out zero; otherwise it says what the data cannot tell and why. Without
// data it is the report's own summary, which says so.
func DashboardHeadline(c *Correlation) string {
	if c == nil {
		return ""
	}
	if c.NPairs == 0 || math.IsNaN(float64(c.Pearson.R)) {
		return c.Summary
	}
	p := c.Params
	unit, units := "week", "weeks"
	if p.Period == tandem.Month {
		unit, units = "month", "months"
	}
	eng, cust := measureNoun(p.Measure), CustomerLabel(p.Customer)
	when := ""
	if p.Lag > 0 {
		when = " " + plural(p.Lag, unit, units) + " later"
	}
	dir := func(r Num) string {
		if r < 0 {
			return "lower"
		}
		return "higher"
	}
	ci := func(lo, hi Num) string { return fmt.Sprintf("95 %% interval %s to %s", F2(lo), F2(hi)) }
	var b strings.Builder
	span := fmt.Sprintf("%s over %s", plural(c.NTeams, "team", "teams"), plural(c.NPeriods, unit, units))
	between := c.Pearson
	claimed := false
	switch {
	case c.NTeams < MinTeamsForBetweenClaim:
		fmt.Fprintf(&b, "With %s, the data cannot tell whether teams with higher %s have higher %s%s: comparing teams needs at least %d of them.",
			span, eng, cust, when, MinTeamsForBetweenClaim)
	case !intervalLeavesOutZero(between.CILow, between.CIHigh):
		fmt.Fprintf(&b, "Across %s, the data cannot tell whether teams with higher %s have higher %s%s", span, eng, cust, when)
		if math.IsNaN(float64(between.CILow)) {
			b.WriteString(": there are too few pairs to say how sure any link is.")
		} else {
			fmt.Fprintf(&b, ": r = %s, but its %s includes no link at all. More teams or a longer period would narrow it.", F2(between.R), ci(between.CILow, between.CIHigh))
		}
	default:
		claimed = true
		fmt.Fprintf(&b, "Across %s, teams with higher %s had %s %s%s: r = %s, %s. This is a correlation, not proof of cause.",
			span, eng, dir(between.R), cust, when, F2(between.R), ci(between.CILow, between.CIHigh))
	}
	rm := c.RMCorr
	whose := "a team's"
	if c.NTeams == 1 {
		whose = "the team's"
	}
	moves := "rises when its own " + eng + " does"
	if p.Lag > 0 {
		moves = "rises " + plural(p.Lag, unit, units) + " after its own " + eng + " does"
	}
	switch {
	case math.IsNaN(float64(rm.R)):
	case intervalLeavesOutZero(rm.CILow, rm.CIHigh):
		fmt.Fprintf(&b, " When %s %s was above its usual level, its %s%s was %s (r = %s, %s).", whose, eng, cust, when, dir(rm.R), F2(rm.R), ci(rm.CILow, rm.CIHigh))
	case !claimed:
		fmt.Fprintf(&b, " Nor can it tell whether %s %s %s.", whose, cust, moves)
	default:
		fmt.Fprintf(&b, " Within teams, the data cannot tell whether %s %s %s.", whose, cust, moves)
	}
	return b.String()
}

// The comparisons a difference heatmap subtracts (?compare=).
const (
	// CompareParent: each unit against the nearest unit above it shown
	// in the same column.
	CompareParent = "parent"
	// CompareScope: every unit against the top of the viewer's part of
	// the organisation.
	CompareScope = "scope"
	// CompareCompany: every unit against the whole organisation, for
	// viewers who may see it.
	CompareCompany = "company"
)

// HeatmapComparison is what a difference heatmap subtracts: the rule
// (CompareParent, CompareScope or CompareCompany) and, except for
// CompareParent, the unit every cell is compared with.
type HeatmapComparison struct {
	Compare string
	Base    *tandem.Unit
}

// ChooseComparison checks a ?compare= value for a viewer whose scope is
// scope (0: the whole organisation) and returns the comparison. The
// default is the parent unit. The whole company is refused to a viewer
// who may not see it; so is anything unknown.
func ChooseComparison(tree *tandem.Tree, scope int64, compare string) (HeatmapComparison, error) {
	company := companyUnit(tree)
	mayCompany := company != nil && (scope == 0 || scope == company.ID)
	switch compare {
	case "", CompareParent:
		return HeatmapComparison{Compare: CompareParent}, nil
	case CompareScope:
		if scope == 0 {
			if company == nil {
				return HeatmapComparison{}, tandem.FieldErrorf("compare", "compare=scope needs one top unit; this organisation has %d, so compare with the parent unit instead", len(tree.Roots()))
			}
			return HeatmapComparison{Compare: CompareScope, Base: company}, nil
		}
		return HeatmapComparison{Compare: CompareScope, Base: tree.Unit(scope)}, nil
	case CompareCompany:
		if !mayCompany {
			return HeatmapComparison{}, tandem.FieldErrorf("compare", "You may compare only within your part of the organisation: use compare=scope or compare=parent")
		}
		return HeatmapComparison{Compare: CompareCompany, Base: company}, nil
	}
	return HeatmapComparison{}, tandem.FieldErrorf("compare", "compare must be parent, scope or company; got %q", compare)
}

// MayCompareCompany reports whether a viewer with scope may compare with
// the whole organisation.
func MayCompareCompany(tree *tandem.Tree, scope int64) bool {
	c := companyUnit(tree)
	return c != nil && (scope == 0 || scope == c.ID)
}

// companyUnit is the organisation's one top unit, or nil when it has
// several (or none).
func companyUnit(tree *tandem.Tree) *tandem.Unit {
	if r := tree.Roots(); len(r) == 1 {
		return tree.Unit(r[0])
	}
	return nil
}

// HeatDiff is one cell of a difference heatmap: the cell's score minus
// its comparison's, both shown cells of the same column (so of the same
// round).
type HeatDiff struct {
	Shown bool
	Delta float64
	// Ref is the unit compared with and RefValue its score; nil when the
	// cell has no comparison (IsRef: it is the comparison).
	Ref      *tandem.Unit
	RefValue float64
	IsRef    bool
}

// Differences subtracts from every shown cell of h its comparison's cell
// in the same column. Only cells h shows take part, so a difference
// reveals nothing the score heatmap does not: anyone could subtract the
// two shown numbers themselves. A cell whose comparison is not shown in
// that column has no difference. The result follows h.Rows and their
// Cells.
func (h Heatmap) Differences(tree *tandem.Tree, cmp HeatmapComparison) [][]HeatDiff {
	row := map[int64]int{}
	for i, r := range h.Rows {
		row[r.Unit.ID] = i
	}
	out := make([][]HeatDiff, len(h.Rows))
	for i, r := range h.Rows {
		out[i] = make([]HeatDiff, len(r.Cells))
		for col, cell := range r.Cells {
			if !cell.Shown {
				continue
			}
			var ref *HeatRow
			switch cmp.Compare {
			case CompareParent:
				anc := tree.Ancestors(r.Unit.ID)
				for j := len(anc) - 1; j >= 0; j-- {
					if k, ok := row[anc[j]]; ok && h.Rows[k].Cells[col].Shown {
						ref = &h.Rows[k]
						break
					}
				}
			default:
				if cmp.Base == nil {
					continue
				}
				if cmp.Base.ID == r.Unit.ID {
					out[i][col].IsRef = true
					continue
				}
				if k, ok := row[cmp.Base.ID]; ok && h.Rows[k].Cells[col].Shown {
					ref = &h.Rows[k]
				}
			}
			if ref == nil {
				continue
			}
			rv := ref.Cells[col].Value
			out[i][col] = HeatDiff{Shown: true, Delta: cell.Value - rv, Ref: ref.Unit, RefValue: rv}
		}
	}
	return out
}
