package pulse

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
)

// The scoring rule: how a group's answers become the numbers every page,
// export and report shows. Score is its one home; the store's SQL
// aggregation (TeamScores) is tested against it.

// Measures are the names of what a team is scored on, the same in the
// report's parameters, its JSON and the store's rows.
const (
	// MeasureIndex is the engagement index: the mean of the index items,
	// each on 0–100.
	MeasureIndex = "index"
	// MeasureENPS is the employee net promoter score.
	MeasureENPS = "enps"
	// DriverMeasurePrefix starts a driver measure: "driver:manager".
	DriverMeasurePrefix = "driver:"
)

// DriverMeasure is the measure of a driver key ("driver:manager").
func DriverMeasure(key string) string { return DriverMeasurePrefix + key }

// MeasureDriver is the driver key of a driver measure ("" for the index
// and eNPS).
func MeasureDriver(m string) string {
	if k, ok := strings.CutPrefix(m, DriverMeasurePrefix); ok {
		return k
	}
	return ""
}

// MeasureLabel names a measure for people ("Engagement index", "eNPS",
// a driver's label).
func MeasureLabel(m string) string {
	switch m {
	case MeasureIndex:
		return "Engagement index"
	case MeasureENPS:
		return "eNPS"
	}
	return DriverLabel(MeasureDriver(m))
}

// TeamScoreMeasures returns the measures of TeamScoreRow.Values, in order:
// MeasureIndex, MeasureENPS, then the built-in drivers in Drivers order
// (questions can only belong to built-in drivers).
func TeamScoreMeasures() []string {
	m := []string{MeasureIndex, MeasureENPS}
	for _, d := range Drivers {
		m = append(m, DriverMeasure(d.Key))
	}
	return m
}

// Totals accumulates the score totals of one question over a set of units.
type Totals struct {
	N, Promoters, Detractors int
	Sum                      float64
}

// Add adds a unit's running total to t.
func (t *Totals) Add(r ScoreRow) {
	t.N += r.N
	t.Sum += r.Sum
	t.Promoters += r.Promoters
	t.Detractors += r.Detractors
}

// Merge adds another group's totals to t.
func (t *Totals) Merge(o Totals) {
	t.N += o.N
	t.Sum += o.Sum
	t.Promoters += o.Promoters
	t.Detractors += o.Detractors
}

// Mean is the raw mean answer; NaN without answers.
func (t Totals) Mean() float64 {
	if t.N == 0 {
		return math.NaN()
	}
	return t.Sum / float64(t.N)
}

// Scores are one group's measures for one round.
type Scores struct {
	Respondents int
	// Engagement is the mean of the index items on 0–100; NaN when none
	// were asked.
	Engagement float64
	// ENPS is % promoters − % detractors; NaN when not asked.
	ENPS float64
	// Drivers maps a driver key to its 0–100 score.
	Drivers map[string]float64
	// Questions maps a question id to its totals.
	Questions map[int64]Totals
}

// Measure returns the score on measure m (MeasureIndex, MeasureENPS or a
// driver measure); NaN when the round did not ask it.
func (sc Scores) Measure(m string) float64 {
	switch m {
	case MeasureIndex:
		return sc.Engagement
	case MeasureENPS:
		return sc.ENPS
	}
	if v, ok := sc.Drivers[MeasureDriver(m)]; ok {
		return v
	}
	return math.NaN()
}

// Score computes a group's scores from its per-question totals: the
// engagement index is the mean of the index items, each on 0–100 (a 1–5
// answer counts as (v−1)/4·100); eNPS is % promoters − % detractors; a
// driver is the mean of its items on 0–100 (a 0–10 item counts as its
// mean × 10).
func Score(totals map[int64]Totals, questions []Question, respondents int) Scores {
	sc := Scores{Respondents: respondents, Engagement: math.NaN(), ENPS: math.NaN(), Drivers: map[string]float64{}, Questions: totals}
	var engSum float64
	var engN int
	driverSum := map[string]float64{}
	driverN := map[string]int{}
	for _, q := range questions {
		t, ok := totals[q.ID]
		if !ok || t.N == 0 {
			continue
		}
		switch q.Kind {
		case Likert5:
			v := Score0to100(t.Mean())
			if q.InIndex {
				engSum += v
				engN++
			}
			if q.Driver != "" && q.Driver != DriverEngagement {
				driverSum[q.Driver] += v
				driverN[q.Driver]++
			}
		case Scale010:
			if q.Driver == DriverENPS {
				sc.ENPS = NPS(t.Promoters, t.Detractors, t.N)
			} else if q.Driver != "" {
				driverSum[q.Driver] += t.Mean() * 10
				driverN[q.Driver]++
			}
		}
	}
	if engN > 0 {
		sc.Engagement = engSum / float64(engN)
	}
	for d, s := range driverSum {
		sc.Drivers[d] = s / float64(driverN[d])
	}
	return sc
}

// ScoreRow is the running total of one question in one unit and round.
type ScoreRow struct {
	RoundID, UnitID, QuestionID int64
	N                           int
	Sum                         float64
	Promoters, Detractors       int
}

// TeamScoreRow is one unit's scores in one round, from the answers stored
// under that unit itself (not its descendants): Values[i] is the score on
// TeamScoreMeasures()[i] by the rule of Score, NaN when the round did not
// ask it. The rows say nothing about whether a unit may be shown: the
// caller applies the round's anonymity decision.
type TeamScoreRow struct {
	RoundID, UnitID int64
	Values          []float64
}

// UnitCounts maps a unit id to a number of people.
type UnitCounts map[int64]int

// RoundSet is some of one program's rounds with what the pulse reports
// read of them: each round's questions, its respondents per unit and its
// score totals.
type RoundSet struct {
	Rounds      []Round
	Questions   map[int64][]Question // by round id
	Respondents map[int64]UnitCounts // by round id
	Scores      []ScoreRow
}

// TextAnswer is a comment or a free-text answer, with the unit it is
// stored under and nothing else about the person.
type TextAnswer struct {
	UnitID     int64
	QuestionID int64 // 0 for the round's general comment
	Text       string
	// Key names the comment to a leader who acknowledges it
	// (CommentKey): it links no two comments of one person.
	Key string
}

// CommentKey is how pages name one comment: a hash of its round, its
// response's random id and its question. Two comments of one response
// (a general comment and a free-text answer) get unrelated keys, so a key
// in a page or form says nothing about who else wrote what; without the
// random 63-bit response id a key cannot be traced back either.
func CommentKey(roundID, responseID, questionID int64) string {
	sum := sha256.Sum256([]byte(strconv.FormatInt(roundID, 10) + "/" + strconv.FormatInt(responseID, 10) + "/" + strconv.FormatInt(questionID, 10)))
	return hex.EncodeToString(sum[:10])
}

// ChoiceCount is how many in a unit chose an option of a question.
type ChoiceCount struct {
	UnitID, QuestionID int64
	Option             int
	N                  int
}

// ServiceRow is the running total of the ratings one rater unit gave one
// provider unit in a round.
type ServiceRow struct {
	RoundID, RaterUnitID, ProviderUnitID int64
	N                                    int
	Sum                                  float64
}

// TeamScoresOf scores per-question totals into TeamScoreRows by the rule
// of Score, one row per round and unit, in the order the rows first name
// them. It is the Go statement of what the store's TeamScores computes in
// SQL.
func TeamScoresOf(rows []ScoreRow, questions map[int64][]Question) []TeamScoreRow {
	type key struct{ round, unit int64 }
	totals := map[key]map[int64]Totals{}
	var order []key
	for _, r := range rows {
		k := key{r.RoundID, r.UnitID}
		if totals[k] == nil {
			totals[k] = map[int64]Totals{}
			order = append(order, k)
		}
		t := totals[k][r.QuestionID]
		t.Add(r)
		totals[k][r.QuestionID] = t
	}
	measures := TeamScoreMeasures()
	out := make([]TeamScoreRow, 0, len(order))
	for _, k := range order {
		sc := Score(totals[k], questions[k.round], 0)
		row := TeamScoreRow{RoundID: k.round, UnitID: k.unit, Values: make([]float64, len(measures))}
		for i, m := range measures {
			row.Values[i] = sc.Measure(m)
		}
		out = append(out, row)
	}
	return out
}
