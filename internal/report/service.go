package report

import (
	"math"
	"sort"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// ServiceProvider is one provider team's internal-service score: how the
// teams it serves rate it, beside its own engagement and, when customers
// rate it too, their satisfaction.
type ServiceProvider struct {
	Unit   *tandem.Unit
	Raters int
	// Score is the mean rating on 0–100 ((v−1)/4·100).
	Score float64
	// Engagement is the provider's own engagement index in the same
	// round, NaN when it is not shown (below k) or not asked.
	Engagement float64
	// CSAT is its customers' % satisfied over the customer window, NaN
	// when it has no ratings or is not customer-facing.
	CSAT        float64
	CSATRatings int
}

// ServiceCell is one rater unit's rating of one provider.
type ServiceCell struct {
	Score  float64
	Raters int
	Shown  bool
}

// ServiceMatrix is the internal-service picture of a round.
type ServiceMatrix struct {
	K         int
	Providers []ServiceProvider
	// Raters are the rater units shown in at least one column, in tree
	// order; Cells[i][j] is rater i's rating of provider j.
	Raters []*tandem.Unit
	Cells  [][]ServiceCell
	// HiddenProviders counts providers rated by fewer than k people.
	HiddenProviders int
}

// Overall is the matrix's one number: the mean score (0–100) of the
// providers it shows, weighted by their raters, and how many providers
// that covers (0 when none is shown). It combines only figures the matrix
// already shows, each over at least k raters.
func (m *ServiceMatrix) Overall() (score float64, providers int) {
	sum, n := 0.0, 0
	for _, p := range m.Providers {
		if math.IsNaN(p.Score) || p.Raters == 0 {
			continue
		}
		sum += p.Score * float64(p.Raters)
		n += p.Raters
		providers++
	}
	if providers == 0 {
		return math.NaN(), 0
	}
	return sum / float64(n), providers
}

// ServiceInput is what BuildService needs.
type ServiceInput struct {
	Tree  *tandem.Tree
	Scope int64
	Round pulse.Round
	Rows  []pulse.ServiceRow
	// Engagement of each unit in the round (its subtree), already limited
	// to units shown under the round's anonymity decision.
	Engagement map[int64]float64
	// CSAT per provider unit (subtree), from customer totals.
	CSAT map[int64]tandem.CustomerTotals
}

// BuildService aggregates internal-service ratings. A provider is shown
// once at least k people rated it; each provider's column of rater units
// goes through the same roll-up and complementary suppression as any
// other result (a column's shown cells cannot be subtracted from its
// total to reveal fewer than k raters).
func BuildService(in ServiceInput) *ServiceMatrix {
	k := privacy.Threshold(in.Round.MinGroup)
	m := &ServiceMatrix{K: k}
	byProvider := map[int64][]pulse.ServiceRow{}
	for _, r := range in.Rows {
		byProvider[r.ProviderUnitID] = append(byProvider[r.ProviderUnitID], r)
	}
	var providers []int64
	for p := range byProvider {
		providers = append(providers, p)
	}
	sort.Slice(providers, func(i, j int) bool {
		a, b := in.Tree.Unit(providers[i]), in.Tree.Unit(providers[j])
		if a == nil || b == nil {
			return providers[i] < providers[j]
		}
		return a.Path < b.Path
	})
	type column struct {
		vis  *privacy.Visibility
		rows []pulse.ServiceRow
	}
	var cols []column
	for _, p := range providers {
		u := in.Tree.Unit(p)
		if u == nil || !in.Tree.InScope(in.Scope, p) {
			continue // a leader sees how their own teams are served
		}
		raters := map[int64]int{}
		var n int
		var sum float64
		for _, r := range byProvider[p] {
			raters[r.RaterUnitID] += r.N
			n += r.N
			sum += r.Sum
		}
		if n < k {
			m.HiddenProviders++
			continue
		}
		sp := ServiceProvider{Unit: u, Raters: n, Score: pulse.Score0to100(sum / float64(n)), Engagement: math.NaN(), CSAT: math.NaN()}
		if v, ok := in.Engagement[p]; ok {
			sp.Engagement = v
		}
		if c, ok := in.CSAT[p]; ok && c.N > 0 {
			sp.CSAT, sp.CSATRatings = c.TopShare(), c.N
		}
		m.Providers = append(m.Providers, sp)
		cols = append(cols, column{vis: privacy.Decide(in.Tree, raters, k), rows: byProvider[p]})
	}
	// Rater rows: units shown in some column, within scope.
	shownAny := map[int64]bool{}
	for _, c := range cols {
		for _, id := range c.vis.ShownUnits(in.Scope) {
			shownAny[id] = true
		}
	}
	for _, u := range in.Tree.Walk() {
		if shownAny[u.ID] {
			m.Raters = append(m.Raters, u)
		}
	}
	for _, rater := range m.Raters {
		row := make([]ServiceCell, len(cols))
		for j, c := range cols {
			cell := ServiceCell{Score: math.NaN()}
			if c.vis.Shown(rater.ID) {
				var n int
				var sum float64
				for _, r := range c.rows {
					if in.Tree.Contains(rater.ID, r.RaterUnitID) {
						n += r.N
						sum += r.Sum
					}
				}
				cell = ServiceCell{Score: pulse.Score0to100(sum / float64(n)), Raters: n, Shown: true}
			}
			row[j] = cell
		}
		m.Cells = append(m.Cells, row)
	}
	return m
}
