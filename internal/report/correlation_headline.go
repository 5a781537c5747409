package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// The plain-words headline of the correlation report. It claims a link
// only when the interval of the view it speaks of excludes zero (for the
// within view: both its conventional and its team-clustered interval; for
// a lag: Bonferroni over the 13 lags), and otherwise says what the data
// would have had to show (the minimum detectable r at power 0.8). It uses
// no statistical names (r_rm, rmcorr, df, q, p): those are defined in
// Details and shown in the figures.

// Definition is a term the report's figures use, with its meaning.
type Definition struct {
	Term    string `json:"term"`
	Meaning string `json:"meaning"`
}

// MaxDriverActions is how many drivers the action sentences name.
const MaxDriverActions = 3

// periodWords returns "week", "weeks" or "month", "months".
func periodWords(period string) (string, string) {
	if period == tandem.Month {
		return "month", "months"
	}
	return "week", "weeks"
}

// strength names the size of a correlation (Cohen 1988: .1 small, .3
// medium, .5 large).
func strength(r float64) string {
	switch a := math.Abs(r); {
	case a < 0.1:
		return "very weak"
	case a < 0.3:
		return "weak"
	case a < 0.5:
		return "moderate"
	}
	return "strong"
}

// lagPhrase is " 2 weeks later", " 3 weeks earlier" or "".
func lagPhrase(lag int, unit, units string) string {
	switch {
	case lag > 0:
		return " " + plural(lag, unit, units) + " later"
	case lag < 0:
		return " " + plural(-lag, unit, units) + " earlier"
	}
	return ""
}

// explain fills in the sentences, the headline and the definitions.
func explain(c *Correlation) {
	p := c.Params
	unit, units := periodWords(p.Period)
	eng, cust := measureNoun(p.Measure), CustomerLabel(p.Customer)
	c.LagScan.Sentence = lagSentence(c.LagScan, eng, cust, unit, units)
	c.Agreement.Sentence = agreementSentence(c.Agreement, c.NPairs, unit)
	c.DriverActions = driverActions(c.Drivers, cust, unit)
	c.Details = definitions(c)

	if c.NPairs == 0 || math.IsNaN(float64(c.Pearson.R)) {
		c.Headline = fmt.Sprintf("There is not enough data yet to relate %s to %s.", eng, cust)
		return
	}
	var parts []string
	parts = append(parts, withinSentence(c, eng, cust, unit, units))
	parts = append(parts, betweenSentence(c, eng, cust))
	if c.LagScan.Reason == "" {
		parts = append(parts, c.LagScan.Sentence)
	}
	if a := c.Agreement; a.PairsAffected > 0 && a.PairsAffected*10 >= c.NPairs {
		parts = append(parts, fmt.Sprintf("In %d of the %d team-%ss the members disagreed widely, so those averages stand for little.",
			a.PairsAffected, c.NPairs, unit))
	}
	parts = append(parts, "This shows what moves together, not what causes what.")
	c.Headline = strings.Join(parts, " ")
}

func withinSentence(c *Correlation, eng, cust, unit, units string) string {
	w := c.Within
	when := lagPhrase(c.Params.Lag, unit, units)
	if math.IsNaN(float64(w.R)) {
		return fmt.Sprintf("There are too few repeated measurements of the same teams to tell whether a team's %s moves with its own %s.", cust, eng)
	}
	if w.excludesZero() {
		dir := "higher"
		if w.R < 0 {
			dir = "lower"
		}
		return fmt.Sprintf("When a team's %s was above its own usual level, beyond what moved every team that %s, its %s%s was %s too: a %s link.",
			eng, unit, cust, when, dir, strength(float64(w.R)))
	}
	lo, hi := float64(w.CILow), float64(w.CIHigh)
	if !math.IsNaN(float64(w.ClusterCILow)) {
		lo, hi = math.Min(lo, float64(w.ClusterCILow)), math.Max(hi, float64(w.ClusterCIHigh))
	}
	s := fmt.Sprintf("Whether a team's %s%s moves with its own %s the data cannot tell yet", cust, when, eng)
	if !math.IsNaN(lo) {
		s += fmt.Sprintf(": plausible values run from %s to %s, and zero (no link) is among them", F2(Num(lo)), F2(Num(hi)))
	}
	s += "."
	if pw := c.Power; !math.IsNaN(float64(pw.WithinMinR)) {
		s += fmt.Sprintf(" With %d team-%s comparisons, only a link of r ≥ %s would be found 8 times in 10.", pw.WithinN, unit, F2(pw.WithinMinR))
	}
	return s
}

func betweenSentence(c *Correlation, eng, cust string) string {
	b, pw := c.BetweenTeams, c.Power
	if b.N < 4 || math.IsNaN(float64(b.R)) {
		return fmt.Sprintf("With %s, teams cannot be compared with one another; about %d teams would find a link of r = %g.",
			plural(b.N, "team", "teams"), pw.TeamsNeeded, float64(pw.ExampleR))
	}
	if sameSide(b.CILow, b.CIHigh) {
		dir := "higher"
		if b.R < 0 {
			dir = "lower"
		}
		return fmt.Sprintf("Across %d teams, those with higher %s had %s %s on average, a %s link; such lasting differences between teams may have other causes.",
			b.N, eng, dir, cust, strength(float64(b.R)))
	}
	return fmt.Sprintf("Whether teams with higher %s have higher %s the data cannot tell: with %d teams, only a link of r ≥ %s would be found 8 times in 10; about %d teams would find r = %g.",
		eng, cust, b.N, F2(pw.BetweenMinR), pw.TeamsNeeded, float64(pw.ExampleR))
}

func lagSentence(l LagScan, eng, cust, unit, units string) string {
	if l.Reason != "" {
		return "There are too few teams or periods to look for a delay between the two."
	}
	if l.Significant == 0 {
		return fmt.Sprintf("No delay between %s and %s stands out once each team's slow drift and the company's common swings are allowed for (%d delays checked, with the bar raised for checking so many).",
			eng, cust, l.Tests)
	}
	tied := ""
	if l.TiedFrom < l.TiedTo {
		tied = fmt.Sprintf(" Lags %d–%d %s are within each other's intervals.", l.TiedFrom, l.TiedTo, units)
	}
	if !l.Named {
		return fmt.Sprintf("%s and %s are linked over time, but the delay cannot be named.%s", capitalize(eng), cust, tied)
	}
	with := "moved with"
	if l.peakR() < 0 {
		with = "moved against"
	}
	var s string
	switch {
	case l.From == l.To && l.From > 0:
		s = fmt.Sprintf("%s %s %s about %s later.", cust, with, eng, plural(l.From, unit, units))
	case l.From == l.To && l.From < 0:
		s = fmt.Sprintf("%s %s %s about %s later: customers' ratings changed first.", capitalize(eng), with, cust, plural(-l.From, unit, units))
	case l.From == l.To:
		s = fmt.Sprintf("%s %s %s in the same %s.", cust, with, eng, unit)
	case l.From >= 0:
		s = fmt.Sprintf("%s %s %s %d to %d %s later; the data cannot single out one delay in that range.", cust, with, eng, l.From, l.To, units)
	case l.To <= 0:
		s = fmt.Sprintf("%s %s %s %d to %d %s later: customers' ratings changed first.", capitalize(eng), with, cust, -l.To, -l.From, units)
	default:
		s = fmt.Sprintf("%s %s %s within %d %s either way; which one leads cannot be told.", cust, with, eng, max(-l.From, l.To), units)
	}
	return s + tied
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func agreementSentence(a Agreement, pairs int, unit string) string {
	var parts []string
	if !math.IsNaN(float64(a.ICC1)) {
		rel := "unreliable"
		switch icc2 := float64(a.ICC2); {
		case icc2 >= 0.7:
			rel = "reliable"
		case icc2 >= 0.5:
			rel = "fairly reliable"
		}
		parts = append(parts, fmt.Sprintf("Team membership accounts for %.0f %% of the differences between people's engagement (ICC(1) = %s), and a team's mean in a round is %s (ICC(2) = %s, over %d team-rounds).",
			math.Max(0, float64(a.ICC1))*100, F2(a.ICC1), rel, F2(a.ICC2), a.ICCGroups))
	}
	if a.RWGGroups > 0 {
		parts = append(parts, fmt.Sprintf("Of %s with at least twice the anonymity threshold of respondents, %d had members who disagreed (rwg below %s); %d of the %d pairs rest on such a team-%s.",
			plural(a.RWGGroups, "team-round", "team-rounds"), a.Disagree, F2(a.Cutoff), a.PairsAffected, pairs, unit))
	} else {
		parts = append(parts, "No team-round has enough respondents (at least twice the anonymity threshold) to show how far its members agree.")
	}
	return strings.Join(parts, " ")
}

func driverActions(drivers []DriverLink, cust, unit string) []string {
	top := make([]DriverLink, 0, len(drivers))
	for _, d := range drivers {
		if float64(d.Priority) > 0 {
			top = append(top, d)
		}
	}
	slices.SortStableFunc(top, func(a, b DriverLink) int { return cmp.Compare(float64(b.Priority), float64(a.Priority)) })
	if len(top) == 0 {
		return []string{fmt.Sprintf("No driver's link with %s is clear enough (its interval reaches zero or below) to single it out for action.", cust)}
	}
	out := []string{}
	for _, d := range top[:min(len(top), MaxDriverActions)] {
		change := ""
		if c := float64(d.Change); !math.IsNaN(c) {
			switch {
			case math.Round(c) > 0:
				change = fmt.Sprintf(", up %.0f since %s", c, d.ChangeFrom)
			case math.Round(c) < 0:
				change = fmt.Sprintf(", down %.0f since %s", -c, d.ChangeFrom)
			default:
				change = fmt.Sprintf(", unchanged since %s", d.ChangeFrom)
			}
		}
		out = append(out, fmt.Sprintf("%s scores %.0f of 100 (%s of %s%s), and higher %s scores went with higher %s (a link of at least %s): priority %s.",
			d.Label, float64(d.Score), unit, d.ScorePeriod, change, strings.ToLower(d.Label), cust, F2(d.CILow), F2(d.Priority)))
	}
	return out
}

// definitions returns the terms of the figures.
func definitions(c *Correlation) []Definition {
	_, units := periodWords(c.Params.Period)
	return []Definition{
		{"Within teams and periods (two-way within r)", "The correlation of a team's deviation from its own average and from what every team did that period (team and period fixed effects; the two-way within estimator of R's plm and fixest). Lasting differences between teams and company-wide swings cannot produce it. Its 95 % interval is given twice: Fisher's z with df + 2 (conventional), and from standard errors clustered by team (t with teams − 1 df); a link is claimed only when both exclude zero."},
		{"r_rm (rmcorr)", "Repeated-measures correlation (Bakdash & Marusich 2017): within teams, each team's own average removed, but not the company's movement each period."},
		{"Between teams", "Pearson r of the teams' averages, one point per team (n = teams). The pooled Pearson r and Spearman ρ use every team-period as a point and overstate the evidence, because a team's periods are not independent."},
		{"95 % CI", "The range of correlations consistent with the data at 95 % confidence; one that includes 0 means the data are also consistent with no link."},
		{"p, q, df", "p: the chance of a link this strong if there were none. q: p adjusted for the number of drivers tested (Benjamini–Hochberg). df: degrees of freedom, the independent comparisons left after removing team and period averages."},
		{"Lags and the persistence correction", fmt.Sprintf("Lag L pairs engagement in one period with customers L %s later (negative: earlier, customers first). A team's engagement drifts slowly, which smears raw lag correlations over neighbouring lags; each series is first filtered with the AR(1) persistence of the teams' engagement (prewhitening, Box & Jenkins; here φ = %s), then correlated within teams and periods. With 13 lags tested, each p is multiplied by the number tested (Bonferroni, familywise 5 %%). Lags within each other's 95 %% intervals cannot be told apart; a lag, or a run of at most 3, is named only when it is significant after the correction.", units, F2(c.LagScan.Persistence))},
		{"Minimum detectable r", "The smallest correlation a two-sided test at the 5 % level would find 8 times in 10 (power 0.8), as R's pwr.r.test computes it: n = teams between teams, df + 2 within."},
		{"ICC(1), ICC(2)", "From a one-way ANOVA of respondents' engagement index by team-round (Bliese 2000): ICC(1) is the share of one person's answer that lies between teams; ICC(2) the reliability of a team's mean (0.70 or more is usually taken as reliable)."},
		{"rwg(j)", "Agreement among a team's members over the engagement-index items in one round, against answers spread evenly over the 5-point scale (James, Demaree & Wolf 1984). Shown only as counts in bands (LeBreton & Senter 2008), and only for team-rounds with at least twice the anonymity threshold of respondents; below 0.70 the members disagree."},
		{"Driver priority", "max(0, lower end of the driver's 95 % interval with customers) × (100 − the driver's score) / 100: room to improve times the weakest link the data still support. A driver whose interval reaches zero gets priority 0."},
	}
}
