package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
	"time"

	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func runReportRetention(ctx context.Context, args []string, out io.Writer) error {
	var c common
	var unit, period, from, to, program, format string
	fs := newFlags("report retention [flags]", "Turnover (exits ÷ average headcount) by month or quarter and by unit for the last 12 months,\n"+
		"voluntary and regretted apart; tenure; the Kaplan-Meier retention curve; and team engagement and\n"+
		"intent to stay against voluntary turnover 3 and 6 months later. Units below the anonymity threshold\n"+
		"are counted in the unit above them and never shown on their own.")
	c.register(fs, "tandem.db")
	fs.StringVar(&unit, "unit", "", "a unit path such as Acme/Support, or an id (default: everything)")
	fs.StringVar(&period, "period", "month", "period: month or quarter")
	fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: 12 months ago)")
	fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD (default: today)")
	fs.StringVar(&program, "program", "", "pulse program id for the engagement link (default: the one with most rounds)")
	fs.StringVar(&format, "format", "table", "output: table or json")
	if err := fs.parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return tandem.Errorf(tandem.EINVALID, "unexpected argument %q; every setting is a flag (see --help)", fs.Arg(0))
	}
	if format != "table" && format != "json" {
		return tandem.Errorf(tandem.EINVALID, "--format must be table or json; got %q", format)
	}
	values := map[string]string{"unit": unit, "period": period, "from": from, "to": to, "program": program}
	now := time.Now()
	p, err := report.ParseRetentionParams(func(k string) string { return values[k] }, now)
	if err != nil {
		return flagError(err)
	}
	st, err := store.Open(ctx, c.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := report.LoadRetention(ctx, st, p, 0, now)
	if err != nil {
		return flagError(err)
	}
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
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
	fmt.Fprintf(out, "\nLast 12 months: turnover %s (%d exits), voluntary %s, regretted %s\n\n", pct(r.TTM.Rate), r.TTM.Exits, pct(r.TTM.VoluntaryRate), pct(r.TTM.RegrettedRate))
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "period\tstart\tend\texits\tvoluntary\tregretted\trate\tvoluntary/yr\t")
	for _, x := range r.Periods {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", x.Label, x.HeadcountStart, x.HeadcountEnd, x.Exits, x.Voluntary, x.Regretted, pct(x.Rate), pct(x.AnnualisedVoluntary))
	}
	tw.Flush()
	if len(r.Units) > 0 {
		fmt.Fprintln(out, "\nUnits, last 12 months:")
		tw = tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "unit\tavg headcount\texits\tturnover\tvoluntary\t")
		for _, u := range r.Units {
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t\n", u.Name, f2(u.TTM.AverageHeadcount), u.TTM.Exits, pct(u.TTM.Rate), pct(u.TTM.VoluntaryRate))
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
