package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"text/tabwriter"

	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func runReportRetention(ctx context.Context, args []string, out io.Writer) error {
	var c common
	var unit, period, from, to, program, format string
	fs := newFlags("report retention [flags]", "Turnover (exits ÷ average headcount) by month or quarter and by unit for the last 12 months,\n"+
		"voluntary, regretted, involuntary and of unknown type (no exit type recorded) apart; the tenure\n"+
		"distribution; the Kaplan-Meier retention curve; and team engagement and intent to stay against\n"+
		"voluntary turnover 3 and 6 months later. Units below the anonymity threshold are counted in the unit\n"+
		"above them and never shown on their own. The CSV format has one figure a row:\n"+
		"section,unit,label,from,to,measure,value.")
	c.register(fs, "tandem.db")
	fs.StringVar(&unit, "unit", "", "a unit path such as Acme/Support, or an id (default: everything)")
	fs.StringVar(&period, "period", "month", "period: month or quarter")
	fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: 12 months ago)")
	fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD (default: today)")
	fs.StringVar(&program, "program", "", "pulse program id for the engagement link (default: the one with most rounds)")
	fs.StringVar(&format, "format", "table", "output: table, csv or json")
	if err := fs.parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return tandem.Errorf(tandem.EINVALID, "unexpected argument %q; every setting is a flag (see --help)", fs.Arg(0))
	}
	if format != "table" && format != "json" && format != "csv" {
		return tandem.Errorf(tandem.EINVALID, "--format must be table, csv or json; got %q", format)
	}
	values := map[string]string{"unit": unit, "period": period, "from": from, "to": to, "program": program}
	now := nowOf(ctx)
	p, err := report.ParseRetentionParams(func(k string) string { return values[k] }, now)
	if err != nil {
		return flagError(err)
	}
	st, err := store.Open(ctx, c.db, store.Options{Now: clockOf(ctx)})
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := report.LoadRetention(ctx, st, p, 0, now)
	if err != nil {
		return flagError(err)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		return report.WriteRetentionCSV(out, r)
	}
	return printRetention(out, r)
}

// printRetention prints the retention report as tables: every part the
// JSON and CSV carry (periods, units, tenure, retention curves, links).
func printRetention(out io.Writer, r *report.Retention) error {
	pct := func(v report.Num) string {
		if math.IsNaN(float64(v)) {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(v))
	}
	f2 := func(v report.Num) string {
		if math.IsNaN(float64(v)) {
			return "—"
		}
		return fmt.Sprintf("%.2f", float64(v))
	}
	fmt.Fprintf(out, "Retention: %s (%d people today; groups of at least %d)\n", r.Scope, r.Headcount, r.K)
	for _, w := range r.Warnings {
		fmt.Fprintf(out, "! %s\n", w)
	}
	if len(r.Periods) == 0 {
		return nil
	}
	fmt.Fprintf(out, "\nLast 12 months: turnover %s (%d exits), voluntary %s, regretted %s; %d involuntary, %d of unknown type\n\n",
		pct(r.TTM.Rate), r.TTM.Exits, pct(r.TTM.VoluntaryRate), pct(r.TTM.RegrettedRate), r.TTM.Involuntary, r.TTM.Unknown)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "period\tstart\tend\texits\tvoluntary\tregretted\tinvoluntary\ttype unknown\trate\tvoluntary/yr\t")
	for _, x := range r.Periods {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", x.Label, x.HeadcountStart, x.HeadcountEnd, x.Exits, x.Voluntary, x.Regretted,
			x.Involuntary, x.Unknown, pct(x.Rate), pct(x.AnnualisedVoluntary))
	}
	tw.Flush()
	fmt.Fprintln(out, "An exit whose type the roster does not record counts as type unknown, neither voluntary nor involuntary.")
	if len(r.Units) > 0 {
		fmt.Fprintln(out, "\nUnits, last 12 months:")
		tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "unit\tavg headcount\texits\tturnover\tvoluntary\ttype unknown\t")
		for _, u := range r.Units {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%d\t\n", u.Name, f2(u.TTM.AverageHeadcount), u.TTM.Exits, pct(u.TTM.Rate), pct(u.TTM.VoluntaryRate), u.TTM.Unknown)
		}
		tw.Flush()
	}
	if len(r.Tenure) > 0 {
		fmt.Fprintln(out, "\nTenure today:")
		tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "tenure\tpeople\t")
		for _, b := range r.Tenure {
			fmt.Fprintf(tw, "%s\t%d\t\n", b.Label, b.Count)
		}
		tw.Flush()
	}
	for _, c := range r.Survival {
		fmt.Fprintf(out, "\nRetention curve (Kaplan-Meier), %s: %d stints, %d exits\n", c.Unit, c.Stints, c.Exits)
		tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "months since hire\tat risk\texits\tstill employed\t95% CI\t")
		for _, p := range c.JSON {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s to %s\t\n", strconv.FormatFloat(float64(p.Month), 'f', -1, 64), p.AtRisk, p.Exits, pct(p.Survival), pct(p.CILow), pct(p.CIHigh))
		}
		tw.Flush()
	}
	if len(r.Links) > 0 {
		fmt.Fprintf(out, "\nEngagement against voluntary turnover (program %q):\n", r.Program)
		for _, l := range r.Links {
			fmt.Fprintf(out, "  %-10s next %d months: r = %s (95%% CI %s to %s, n = %d, %d teams); bottom/top quartile rate ratio %s (%s to %s)\n",
				l.Measure, l.Horizon, f2(l.Pearson.R), f2(l.Pearson.CILow), f2(l.Pearson.CIHigh), l.Pearson.N, l.NTeams, f2(l.RateRatio), f2(l.RateRatioLow), f2(l.RateRatioHi))
		}
		fmt.Fprintln(out, "  A correlation, not proof of cause.")
	}
	return nil
}
