package report

import (
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/tandem-hq/tandem/internal/csvfile"
)

// RetentionCSVHeader is the header of WriteRetentionCSV.
var RetentionCSVHeader = []string{"section", "unit", "label", "from", "to", "measure", "value"}

// WriteRetentionCSV writes the retention report as one long table, one
// figure a row, so that every part of the report — periods, the trailing
// twelve months, units, tenure, the Kaplan–Meier curves and the
// engagement links — fits one rectangular file a spreadsheet can pivot:
//
//	section   period | trailing_12_months | unit | tenure | survival | link
//	unit      the unit the row is about (the scope for periods and tenure)
//	label     the period, tenure band, "month N" of a curve, or the link
//	from, to  the period's first and last day (turnover rows only)
//	measure   the figure's name, as in the JSON (exits, unknown_type, rate …)
//	value     the number; empty where it is undefined (JSON null)
func WriteRetentionCSV(w io.Writer, r *Retention) error {
	cw := csvfile.NewWriter(w)
	cw.Write(RetentionCSVHeader)
	num := func(v Num) string {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return ""
		}
		return strconv.FormatFloat(float64(v), 'g', -1, 64)
	}
	n := strconv.Itoa
	turnover := func(section, unit string, t TurnoverRow) {
		for _, m := range []struct{ name, value string }{
			{"headcount_start", n(t.HeadcountStart)}, {"headcount_end", n(t.HeadcountEnd)}, {"average_headcount", num(t.AverageHeadcount)},
			{"exits", n(t.Exits)}, {"voluntary", n(t.Voluntary)}, {"regretted", n(t.Regretted)},
			{"involuntary", n(t.Involuntary)}, {"unknown_type", n(t.Unknown)},
			{"rate", num(t.Rate)}, {"voluntary_rate", num(t.VoluntaryRate)}, {"regretted_rate", num(t.RegrettedRate)},
			{"annualised_rate", num(t.AnnualisedRate)}, {"annualised_voluntary_rate", num(t.AnnualisedVoluntary)},
		} {
			cw.Write([]string{section, unit, t.Label, t.From, t.To, m.name, m.value})
		}
	}
	if len(r.Periods) > 0 {
		for _, p := range r.Periods {
			turnover("period", r.Scope, p)
		}
		turnover("trailing_12_months", r.Scope, r.TTM)
	}
	for _, u := range r.Units {
		turnover("unit", u.Name, u.TTM)
	}
	for _, b := range r.Tenure {
		cw.Write([]string{"tenure", r.Scope, b.Label, "", "", "people", n(b.Count)})
	}
	for _, c := range r.Survival {
		for _, p := range c.JSON {
			label := "month " + num(p.Month)
			for _, m := range []struct{ name, value string }{
				{"at_risk", n(p.AtRisk)}, {"exits", n(p.Exits)}, {"survival", num(p.Survival)}, {"ci_low", num(p.CILow)}, {"ci_high", num(p.CIHigh)},
			} {
				cw.Write([]string{"survival", c.Unit, label, "", "", m.name, m.value})
			}
		}
	}
	for _, l := range r.Links {
		label := fmt.Sprintf("%s, next %d months", l.Measure, l.Horizon)
		for _, m := range []struct{ name, value string }{
			{"r", num(l.Pearson.R)}, {"ci_low", num(l.Pearson.CILow)}, {"ci_high", num(l.Pearson.CIHigh)}, {"n", n(l.Pearson.N)},
			{"n_teams", n(l.NTeams)}, {"bottom_quartile_rate", num(l.BottomRate)}, {"top_quartile_rate", num(l.TopRate)},
			{"rate_ratio_bottom_vs_top", num(l.RateRatio)}, {"rate_ratio_ci_low", num(l.RateRatioLow)}, {"rate_ratio_ci_high", num(l.RateRatioHi)},
		} {
			cw.Write([]string{"link", r.Scope, label, "", "", m.name, m.value})
		}
	}
	cw.Flush()
	return cw.Error()
}
