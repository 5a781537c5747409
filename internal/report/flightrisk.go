package report

import (
	"math"
	"sort"
	"strings"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// FlightRiskRule is when a unit is flagged: its latest score on a measure
// is at least Drop points (0–100 scale) below the mean of its previous
// Trailing scores on that measure, and the unit met the anonymity
// threshold in every one of those rounds.
type FlightRiskRule struct {
	Drop     float64
	Trailing int
}

// DefaultFlightRisk flags a fall of 10 points below the trailing three.
var DefaultFlightRisk = FlightRiskRule{Drop: 10, Trailing: 3}

// Measures a flight-risk signal can be about: the engagement index and
// the intent-to-stay driver, named as everywhere else.
var (
	MeasureEngagement = pulse.MeasureIndex
	MeasureIntent     = pulse.DriverMeasure(pulse.DriverIntent)
)

// FlightRisk is one unit's warning, with its evidence. It is about a team,
// never a person.
type FlightRisk struct {
	Unit    *tandem.Unit
	Measure string
	// Latest is the unit's score in the latest round that asked the
	// measure; Trailing the mean of the previous ones; Drop = Trailing −
	// Latest.
	Latest, Trailing, Drop float64
	// Rounds are the rounds compared, oldest first, with each score and
	// its respondents.
	Rounds []FlightRiskPoint
}

// FlightRiskPoint is one round's evidence.
type FlightRiskPoint struct {
	Round       pulse.Round
	Score       float64
	Respondents int
}

// RiskMeasureLabel names a flight-risk measure for people.
func RiskMeasureLabel(m string) string { return strings.ToLower(pulse.MeasureLabel(m)) }

// FlightRisks applies rule to a program's rounds (any order) within scope
// (0: everyone) and returns the flagged units, biggest drop first.
func FlightRisks(tree *tandem.Tree, scope int64, set pulse.RoundSet, rule FlightRiskRule) []FlightRisk {
	questions := set.Questions
	rs := append([]pulse.Round(nil), set.Rounds...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].ScheduledAt.Before(rs[j].ScheduledAt) })
	byRound := map[int64][]pulse.ScoreRow{}
	for _, r := range set.Scores {
		byRound[r.RoundID] = append(byRound[r.RoundID], r)
	}
	// Per unit and measure: the series of (round, score, n) where shown.
	type key struct {
		unit    int64
		measure string
	}
	series := map[key][]FlightRiskPoint{}
	for _, r := range rs {
		vis := privacy.Decide(tree, set.Respondents[r.ID], r.MinGroup)
		for _, id := range vis.ShownUnits(scope) {
			totals := map[int64]pulse.Totals{}
			for _, row := range byRound[r.ID] {
				if tree.Contains(id, row.UnitID) {
					t := totals[row.QuestionID]
					t.Add(row)
					totals[row.QuestionID] = t
				}
			}
			sc := pulse.Score(totals, questions[r.ID], vis.Count(id))
			if !math.IsNaN(sc.Engagement) {
				k := key{id, MeasureEngagement}
				series[k] = append(series[k], FlightRiskPoint{Round: r, Score: sc.Engagement, Respondents: sc.Respondents})
			}
			if v, ok := sc.Drivers[pulse.DriverIntent]; ok && !math.IsNaN(v) {
				k := key{id, MeasureIntent}
				series[k] = append(series[k], FlightRiskPoint{Round: r, Score: v, Respondents: sc.Respondents})
			}
		}
	}
	latestRound := map[string]int64{}
	for _, r := range rs {
		for _, q := range questions[r.ID] {
			if q.InIndex {
				latestRound[MeasureEngagement] = r.ID
			}
			if q.Driver == pulse.DriverIntent {
				latestRound[MeasureIntent] = r.ID
			}
		}
	}
	var out []FlightRisk
	for k, pts := range series {
		n := len(pts)
		// The unit must have been shown in the latest round that asked the
		// measure and in each of the rounds before it that asked it.
		if n < rule.Trailing+1 || pts[n-1].Round.ID != latestRound[k.measure] {
			continue
		}
		window := pts[n-rule.Trailing-1:]
		if !consecutive(window, rs, k.measure, questions) {
			continue
		}
		var sum float64
		for _, p := range window[:rule.Trailing] {
			sum += p.Score
		}
		trailing := sum / float64(rule.Trailing)
		latest := window[rule.Trailing].Score
		if trailing-latest >= rule.Drop {
			out = append(out, FlightRisk{Unit: tree.Unit(k.unit), Measure: k.measure, Latest: latest, Trailing: trailing,
				Drop: trailing - latest, Rounds: window})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Drop != out[j].Drop {
			return out[i].Drop > out[j].Drop
		}
		return out[i].Unit.Path < out[j].Unit.Path
	})
	return out
}

// consecutive reports whether the window's rounds are the consecutive
// rounds that asked the measure (no round that asked it was skipped
// because the unit was hidden then).
func consecutive(window []FlightRiskPoint, rounds []pulse.Round, measure string, questions map[int64][]pulse.Question) bool {
	var asked []int64
	for _, r := range rounds {
		for _, q := range questions[r.ID] {
			if (measure == MeasureEngagement && q.InIndex) || (measure == MeasureIntent && q.Driver == pulse.DriverIntent) {
				asked = append(asked, r.ID)
				break
			}
		}
	}
	for i := range asked {
		if asked[i] == window[0].Round.ID {
			if i+len(window) > len(asked) {
				return false
			}
			for j, p := range window {
				if asked[i+j] != p.Round.ID {
					return false
				}
			}
			return true
		}
	}
	return false
}
