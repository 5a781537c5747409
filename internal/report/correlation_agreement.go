package report

import (
	"cmp"
	"maps"
	"math"
	"slices"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/stats"
)

// Are team means meaningful? The agreement figures of the correlation
// report, from individual answers to the engagement-index items:
//
// ICC(1) and ICC(2) (stats.ICCOfGroups, multilevel's ICC1/ICC2 of the
// one-way ANOVA): groups are team-rounds — the respondents of one team in
// one round, whose mean is the value a pair is built from — and a
// respondent's value is their engagement index (the mean of the index
// items they answered, on 0–100). ICC(1) is the share of one person's
// answer that lies between teams; ICC(2) the reliability of a team-round
// mean.
//
// rwg(J) (stats.RWGJ, James, Demaree & Wolf 1984) over the index items per
// team-round, against the uniform null of the 5-point scale (variance 2),
// among respondents who answered every item. It is counted only for
// team-rounds with at least twice the round's anonymity threshold k of such
// respondents, so that it never tells that every member of a small group
// gave the same answer; the report carries counts by band and the median,
// never a team's value. A team-round with rwg below 0.70 is one whose
// members disagree; PairsAffected counts the pairs (at the chosen lag)
// whose engagement team-period contains such a team-round.
//
// Only team-rounds that enter the scores (shown in the round's anonymity
// decision, all respondents the unit's own, in scope) count.

// LikertPoints is the number of answer options of an index item.
const LikertPoints = 5

// UnitAgreement is one unit's agreement inputs in one round.
type UnitAgreement = pulse.UnitAgreement

// RoundAgreement is one round's agreement inputs, in unit id order.
type RoundAgreement = pulse.RoundAgreement

// AgreementOf summarises index answers per round and unit.
func AgreementOf(answers []pulse.IndexAnswers) map[int64]RoundAgreement {
	type key struct{ round, unit int64 }
	scores := map[key][]float64{}
	rows := map[key][][]float64{}
	var order []key
	for _, a := range answers {
		k := key{a.RoundID, a.UnitID}
		if _, ok := scores[k]; !ok {
			order = append(order, k)
		}
		// A respondent's index by the rule of pulse.Score (the mean of the
		// answered index items on 0–100), item by item through its scale.
		var s, n float64
		for _, v := range a.Values {
			if !math.IsNaN(v) {
				s += pulse.Score0to100(v)
				n++
			}
		}
		if n == 0 {
			scores[k] = append(scores[k], math.NaN())
			continue
		}
		scores[k] = append(scores[k], s/n)
		rows[k] = append(rows[k], a.Values)
	}
	counts := map[int64]int{}
	for _, k := range order {
		counts[k.round]++
	}
	out := map[int64]RoundAgreement{}
	for _, k := range order {
		r := stats.RWGJ(rows[k], LikertPoints)
		if out[k.round] == nil {
			out[k.round] = make(RoundAgreement, 0, counts[k.round])
		}
		out[k.round] = append(out[k.round], UnitAgreement{Unit: k.unit, Index: stats.MomentsOf(scores[k]), RWG: r.RWG, RWGN: r.N})
	}
	for _, ra := range out {
		slices.SortFunc(ra, func(a, b UnitAgreement) int { return cmp.Compare(a.Unit, b.Unit) })
	}
	return out
}

// Agreement is the agreement summary of the report.
type Agreement struct {
	ICC1 Num `json:"icc1"`
	ICC2 Num `json:"icc2"`
	// ICCGroups team-rounds with ICCResponses respondents.
	ICCGroups    int `json:"icc_groups"`
	ICCResponses int `json:"icc_responses"`
	// RWGGroups team-rounds have an rwg (at least 2k complete respondents).
	RWGGroups int `json:"rwg_groups"`
	RWGMedian Num `json:"rwg_median"`
	// RWGBands counts them by LeBreton & Senter's bands: "lack", "weak",
	// "moderate", "strong", "very strong".
	RWGBands map[string]int `json:"rwg_bands"`
	// Disagree of them have rwg below Cutoff; PairsAffected pairs rest on
	// a team-period containing one of those.
	Cutoff        Num    `json:"cutoff"`
	Disagree      int    `json:"disagree"`
	PairsAffected int    `json:"pairs_affected"`
	Sentence      string `json:"sentence"`
}

// agreementFigures are a report's agreement figures but PairsAffected,
// and the unit-periods with a team-round whose members disagree. They
// read the closed rounds' agreement inputs, anonymity decisions and
// periods, the tree and the scope; never the customers, nor the open
// rounds (which have no inputs). So a report rebuilt after a new rating
// can take them from the one before (see CorrelationLoader) instead of
// reading and summarising every team-round again.
type agreementFigures struct {
	a       Agreement
	flagged map[unitPeriod]bool
}

type unitPeriod struct {
	unit int64
	pi   int
}

// keptAgreement is one round's agreement inputs in columns, in unit id
// order, as the loader keeps them for every closed round it has read:
// 32 bytes a unit, its list of unit ids shared with the round's other
// lists (unitLists), instead of a UnitAgreement's 48.
type keptAgreement struct {
	units          []int64
	n, rwgN        []int32 // respondents with an index; with every index item
	mean, ss, rwgs []float64
}

// packAgreement lays ra out in columns, its unit ids through lists when
// that is not nil. A count above what an int32 holds (two billion
// respondents in one unit) would not fit; there is none.
func packAgreement(ra RoundAgreement, lists *unitLists) *keptAgreement {
	k := &keptAgreement{units: make([]int64, len(ra)), n: make([]int32, len(ra)), rwgN: make([]int32, len(ra)),
		mean: make([]float64, len(ra)), ss: make([]float64, len(ra)), rwgs: make([]float64, len(ra))}
	for i, ua := range ra {
		k.units[i], k.n[i], k.rwgN[i] = ua.Unit, int32(ua.Index.N), int32(ua.RWGN)
		k.mean[i], k.ss[i], k.rwgs[i] = ua.Index.Mean, ua.Index.SS, ua.RWG
	}
	if lists != nil {
		k.units = lists.of(k.units)
	}
	return k
}

// packRounds packs each round of in, sharing no unit list.
func packRounds(in map[int64]RoundAgreement) map[int64]*keptAgreement {
	out := make(map[int64]*keptAgreement, len(in))
	for id, ra := range in {
		out[id] = packAgreement(ra, nil)
	}
	return out
}

// agreementFigures works out the figures from each round's inputs.
func (pn *panel) agreementFigures(in map[int64]*keptAgreement) *agreementFigures {
	out := Agreement{ICC1: Num(math.NaN()), ICC2: Num(math.NaN()), RWGMedian: Num(math.NaN()), Cutoff: stats.DisagreementCutoff, RWGBands: map[string]int{}}
	for _, b := range []stats.AgreementBand{stats.AgreementLacking, stats.AgreementWeak, stats.AgreementModerate, stats.AgreementStrong, stats.AgreementVeryStrong} {
		out.RWGBands[string(b)] = 0
	}
	units := 0
	for _, ra := range in {
		units += len(ra.units)
	}
	groups := make([]stats.GroupMoments, 0, units)
	rwg := make([]float64, 0, units)
	flagged := map[unitPeriod]bool{}
	// In id order, so that the sums, and the report, do not depend on map
	// order.
	for _, roundID := range slices.Sorted(maps.Keys(in)) {
		r, ok := pn.rounds[roundID]
		if !ok {
			continue
		}
		ra := in[roundID]
		for i, unit := range ra.units {
			if _, ok := r.usable(unit, pn.inScope); !ok {
				continue
			}
			groups = append(groups, stats.GroupMoments{N: int(ra.n[i]), Mean: ra.mean[i], SS: ra.ss[i]})
			// Twice the threshold the round was decided with (privacy's
			// correction of a too-low k, not one of our own).
			if int(ra.rwgN[i]) >= 2*r.own.k && !math.IsNaN(ra.rwgs[i]) {
				rwg = append(rwg, ra.rwgs[i])
				if stats.Disagrees(ra.rwgs[i]) { // a unit without a team has no pairs
					flagged[unitPeriod{unit, r.pi}] = true
				}
			}
		}
	}
	icc := stats.ICCOfGroups(groups)
	out.ICC1, out.ICC2, out.ICCGroups, out.ICCResponses = Num(icc.ICC1), Num(icc.ICC2), icc.Groups, icc.N
	sum := stats.SummarizeAgreement(rwg)
	out.RWGGroups, out.RWGMedian, out.Disagree = sum.Groups, Num(sum.MedianRWG), sum.Disagree
	for b, n := range sum.ByBand {
		out.RWGBands[string(b)] = n
	}
	return &agreementFigures{a: out, flagged: flagged}
}

// of returns the report's agreement summary for its pairs pl, whose team
// codes stand for the panel's teams byTeam.
func (f *agreementFigures) of(pl *pairList, byTeam []*team) Agreement {
	out := f.a
	out.RWGBands = maps.Clone(f.a.RWGBands) // each report its own
	for i, code := range pl.team {
		if f.flagged[unitPeriod{byTeam[code].unit.ID, int(pl.period[i])}] {
			out.PairsAffected++
		}
	}
	return out
}
