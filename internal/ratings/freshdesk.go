package ratings

import (
	"strconv"
	"strings"
)

// FreshdeskValue is one value a Freshdesk satisfaction rating can have
// (ratings.default_question in the Freshdesk API, -103 to 103) and the CSAT
// score Tandem reads it as.
type FreshdeskValue struct {
	Value int
	// Label is Freshdesk's name for the value on its 7-point scale; on
	// shorter scales Freshdesk uses a subset of the values, labelled
	// differently (103 is "Happy" on a 3-point scale), which is why files
	// and the sync go by the value, not the label.
	Label string
	Score float64
}

// FreshdeskValues maps Freshdesk's rating values onto the 1–5 CSAT scale.
// The two ends are the top and bottom box, as Zendesk's good and bad; every
// value Freshdesk counts as happy is satisfied (4 or 5) and every unhappy
// one dissatisfied (1 or 2), so Tandem's "% satisfied" is Freshdesk's
// happy share whatever the survey's scale. On a 3-point survey (103, 100,
// -103) this gives 5, 3, 1; on a 5-point one (103, 102, 100, -102, -103)
// 5, 4, 3, 2, 1.
var FreshdeskValues = []FreshdeskValue{
	{103, "Extremely happy", 5},
	{102, "Very happy", 4},
	{101, "Happy", 4},
	{100, "Neutral", 3},
	{-101, "Unhappy", 2},
	{-102, "Very unhappy", 2},
	{-103, "Extremely unhappy", 1},
}

// FreshdeskScore reads a Freshdesk rating value (such as "103" or "-102")
// as a CSAT score; false when raw is not one of FreshdeskValues.
func FreshdeskScore(raw string) (float64, bool) {
	v, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil {
		return 0, false
	}
	for _, f := range FreshdeskValues {
		if f.Value == v {
			return f.Score, true
		}
	}
	return 0, false
}

// isFreshdesk reports whether a rating's source is a Freshdesk account
// ("freshdesk", or a name starting with it such as "freshdesk-eu"): only
// there are 100 to 103 and -101 to -103 Freshdesk's values rather than
// scores out of range.
func isFreshdesk(source string) bool { return strings.HasPrefix(source, "freshdesk") }
