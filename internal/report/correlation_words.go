package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Words for the summary.

func measureNoun(m string) string {
	switch m {
	case pulse.MeasureIndex:
		return "engagement"
	case pulse.MeasureENPS:
		return "eNPS"
	}
	return strings.ToLower(pulse.MeasureLabel(m)) + " scores"
}

// CustomerLabel names a customer measure for people.
func CustomerLabel(metric string) string {
	switch metric {
	case tandem.MetricCSAT:
		return "CSAT"
	case tandem.MetricNPS:
		return "NPS"
	case tandem.MetricCES:
		return "CES"
	}
	return metric
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// F2 formats a coefficient with two decimals ("—" when undefined).
func F2(v Num) string {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "—"
	}
	s := strconv.FormatFloat(f, 'f', 2, 64)
	if s == "-0.00" {
		s = "0.00"
	}
	return s
}

// FormatP formats a p- or q-value: three significant digits, "< 0.001"
// below that.
func FormatP(v Num) string {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return "—"
	case f < 0.001:
		return "< 0.001"
	}
	return strconv.FormatFloat(f, 'g', 3, 64)
}

func ciIncludesZero(c Coef) bool {
	return !math.IsNaN(float64(c.CILow)) && float64(c.CILow) <= 0 && float64(c.CIHigh) >= 0
}

// describe writes the plain-language summary and the warnings.
func describe(c *Correlation, rounds int, anyCustomer bool) (string, []string) {
	p := c.Params
	unit, units := "week", "weeks"
	if p.Period == tandem.Month {
		unit, units = "month", "months"
	}
	eng, cust := measureNoun(p.Measure), CustomerLabel(p.Customer)
	warnings := []string{}
	if c.NPairs == 0 || math.IsNaN(float64(c.Pearson.R)) {
		var why string
		switch {
		case rounds == 0 && p.ProgramID == 0:
			why = "There is no pulse program yet: once a program's rounds are answered, this report relates their scores to customer ratings."
		case rounds == 0:
			why = fmt.Sprintf("The pulse program %q has no rounds between %s and %s.", p.Program, tandem.FormatDate(p.From), tandem.FormatDate(p.To))
		case !anyCustomer:
			why = fmt.Sprintf("No %s ratings are recorded for teams in this scope in these %s.", cust, units)
		case c.NPairs == 0:
			why = fmt.Sprintf("No team has both a shown %s score and at least %d %s ratings %s.", eng, p.MinRatings, cust, lagWords(p.Lag, unit, units, "in the same "+unit))
		default:
			why = fmt.Sprintf("Only %s: too few, or too alike, to compute a correlation.", plural(c.NPairs, "team-"+unit+" pair", "team-"+unit+" pairs"))
		}
		warnings = append(warnings, "No data to correlate. "+why)
		return fmt.Sprintf("There is not enough data to relate %s to %s. This is a report of correlation; even with data it could not show cause.", eng, cust), warnings
	}

	var b strings.Builder
	r := float64(c.Pearson.R)
	dir := "higher"
	if r < 0 {
		dir = "lower"
	}
	when := lagPhrase(p.Lag, unit, units)
	fmt.Fprintf(&b, "Across %s over %s, ", plural(c.NTeams, "team", "teams"), plural(c.NPeriods, unit, units))
	if F2(c.Pearson.R) == "0.00" {
		fmt.Fprintf(&b, "teams' %s showed no linear link with their %s%s: r = %s", eng, cust, when, F2(c.Pearson.R))
	} else {
		fmt.Fprintf(&b, "teams with higher %s had %s %s%s: r = %s", eng, dir, cust, when, F2(c.Pearson.R))
	}
	if math.IsNaN(float64(c.Pearson.CILow)) {
		b.WriteString(" (too few pairs for a confidence interval).")
	} else {
		fmt.Fprintf(&b, ", 95 %% CI %s to %s.", F2(c.Pearson.CILow), F2(c.Pearson.CIHigh))
	}
	b.WriteString(" This is a correlation, not proof of cause.")
	if rm := c.RMCorr; !math.IsNaN(float64(rm.R)) {
		way := "moved together with it"
		if rm.R < 0 {
			way = "moved the opposite way"
		}
		if F2(rm.R) == "0.00" {
			way = "did not move with it"
		}
		fmt.Fprintf(&b, " Within teams, when a team's %s was above its own usual level, its %s %s: r_rm = %s", eng, cust, way, F2(rm.R))
		if !math.IsNaN(float64(rm.CILow)) {
			fmt.Fprintf(&b, ", 95 %% CI %s to %s", F2(rm.CILow), F2(rm.CIHigh))
		}
		fmt.Fprintf(&b, " (%s).", plural(rm.Teams, "team", "teams"))
	}

	if c.NPairs < 10 || c.NTeams < 10 {
		warnings = append(warnings, fmt.Sprintf("Only %s from %s: with fewer than 10 pairs or teams the figures are too unstable to rely on.",
			plural(c.NPairs, "team-"+unit+" pair", "team-"+unit+" pairs"), plural(c.NTeams, "team", "teams")))
	}
	if ciIncludesZero(c.Pearson) {
		warnings = append(warnings, fmt.Sprintf("The 95 %% confidence interval of r (%s to %s) includes 0: the data are also consistent with no link at all.",
			F2(c.Pearson.CILow), F2(c.Pearson.CIHigh)))
	}
	if c.NPairs > c.NTeams {
		warnings = append(warnings, "Pairs from the same team are not independent, so the p-value and interval of the pooled r overstate the evidence. "+
			"The within-team figure (rmcorr) allows for repeated measures of each team.")
	}
	return b.String(), warnings
}

func lagWords(lag int, unit, units, same string) string {
	if lag == 0 {
		return same
	}
	return strings.TrimPrefix(lagPhrase(lag, unit, units), " ")
}

// WriteCorrelationCSV writes the pairs the figures were computed from as
// plain CSV with a header row: team, team_id, period, customer_period,
// engagement, customer, ratings, respondents. Anyone can recompute r from
// it.
func WriteCorrelationCSV(w io.Writer, c *Correlation) error {
	cw := csvfile.NewWriter(w)
	cw.Write([]string{"team", "team_id", "period", "customer_period", "engagement", "customer", "ratings", "respondents"})
	f := func(v Num) string {
		if math.IsNaN(float64(v)) {
			return ""
		}
		return strconv.FormatFloat(float64(v), 'g', -1, 64)
	}
	for i := range c.PairCount() {
		p := c.Pair(i)
		cw.Write([]string{p.Team, strconv.FormatInt(p.TeamID, 10), p.Period, p.CustomerPeriod, f(p.Engagement), f(p.Customer),
			strconv.Itoa(p.Ratings), strconv.Itoa(p.Respondents)})
	}
	cw.Flush()
	return cw.Error()
}
