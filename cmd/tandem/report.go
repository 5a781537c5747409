package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// reportKinds are the reports `tandem report` prints.
var reportKinds = []struct {
	name, summary string
	run           func(ctx context.Context, args []string, out io.Writer) error
}{
	{"correlation", "does engagement move with customer satisfaction? r, rmcorr, lags and drivers by team", runReportCorrelation},
	{"retention", "turnover by period and unit, tenure, retention curve, engagement against later exits", runReportRetention},
}

func reportUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: tandem report KIND [flags]\n\nPrint a report from the database, as a table, JSON or CSV.\n\nKinds:\n")
	for _, k := range reportKinds {
		fmt.Fprintf(w, "  %-12s %s\n", k.name, k.summary)
	}
	fmt.Fprintf(w, "\nRun tandem report KIND --help for the flags of a report.\n")
}

func runReport(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		reportUsage(os.Stderr)
		return errUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		reportUsage(out)
		return errHelp
	}
	for _, k := range reportKinds {
		if k.name == args[0] {
			return k.run(ctx, args[1:], out)
		}
	}
	fmt.Fprintf(os.Stderr, "tandem report: unknown report %q\n\n", args[0])
	reportUsage(os.Stderr)
	return errUsage
}

func runReportCorrelation(ctx context.Context, args []string, out io.Writer) error {
	var c common
	var measure, customer, period, from, to, unit, lag, program, minRatings, format string
	fs := newFlags("report correlation [flags]", "Does engagement move with customer satisfaction, team by team? Pairs each team's pulse score\n"+
		"in a week or month with its customers' ratings, and prints a plain-words headline, Pearson r and\n"+
		"Spearman rho with 95% CIs, the within-team repeated-measures r, the within-team, within-period r\n"+
		"(team and period effects), r at lags -6..+6 corrected for persistence (Bonferroni over the lags),\n"+
		"what the data could detect (power 0.8), ICC and rwg agreement, and each driver's link with\n"+
		"Benjamini-Hochberg q, its score, change and priority.\n"+
		"Teams below the anonymity threshold in a round never appear. The CSV format lists the pairs used.")
	c.register(fs, "tandem.db")
	fs.StringVar(&measure, "measure", pulse.MeasureIndex, "engagement measure: index, enps or driver:<key> (e.g. driver:manager)")
	fs.StringVar(&customer, "customer", tandem.MetricCSAT, "customer measure: csat (% top two boxes), nps or ces (mean)")
	fs.StringVar(&period, "period", tandem.Week, "period: week or month")
	fs.StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: 26 weeks or 12 months before --to)")
	fs.StringVar(&to, "to", "", "last day, YYYY-MM-DD (default: today)")
	fs.StringVar(&unit, "unit", "", "only teams in this unit: a path such as Acme/Support, or an id (default: everything)")
	fs.StringVar(&lag, "lag", "0", "customer measure this many periods after engagement, -6 to 6 (negative: before)")
	fs.StringVar(&program, "program", "", "pulse program id (default: the program with the most rounds)")
	fs.StringVar(&minRatings, "min-ratings", "5", "customer ratings a team needs in a period to count")
	fs.StringVar(&format, "format", "table", "output: table, json or csv")
	if err := fs.parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return tandem.Errorf(tandem.EINVALID, "unexpected argument %q; every setting is a flag (see --help)", fs.Arg(0))
	}
	if format != "table" && format != "json" && format != "csv" {
		return tandem.Errorf(tandem.EINVALID, "--format must be table, json or csv; got %q", format)
	}
	values := map[string]string{"measure": measure, "customer": customer, "period": period, "from": from, "to": to,
		"unit": unit, "lag": lag, "program": program, "min_ratings": minRatings}
	p, err := report.ParseCorrelationParams(func(name string) string { return values[name] }, nowOf(ctx))
	if err != nil {
		return flagError(err)
	}
	st, err := store.Open(ctx, c.db, store.Options{Now: clockOf(ctx)})
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := report.LoadCorrelation(ctx, st, p, 0)
	if err != nil {
		return flagError(err)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	case "csv":
		return report.WriteCorrelationCSV(out, res)
	}
	return printCorrelation(out, res)
}

// flagError turns a report parameter error into one that names the flag.
func flagError(err error) error {
	var te *tandem.Error
	if !errors.As(err, &te) {
		return err
	}
	msg := strings.Replace(te.Message, "min_ratings", "--min-ratings", 1)
	if te.Field != "" && te.Field != "min_ratings" && strings.HasPrefix(msg, te.Field+" ") {
		msg = "--" + msg
	}
	return tandem.Errorf(te.Code, "%s", msg)
}

// printCorrelation writes the report as readable text.
func printCorrelation(out io.Writer, r *report.Correlation) error {
	p := r.Params
	units := "weeks"
	if p.Period == tandem.Month {
		units = "months"
	}
	scope := p.Unit
	if scope == "" {
		scope = "the whole organisation"
	}
	program := "none"
	if p.ProgramID != 0 {
		program = fmt.Sprintf("%s (id %d)", p.Program, p.ProgramID)
	}
	fmt.Fprintf(out, "Engagement and customers: %s against %s, by %s, %s to %s, lag %d\n", pulse.MeasureLabel(p.Measure),
		report.CustomerLabel(p.Customer), strings.TrimSuffix(units, "s"), tandem.FormatDate(p.From), tandem.FormatDate(p.To), p.Lag)
	fmt.Fprintf(out, "Pulse program %s · %s · at least %d ratings per team and period\n\n", program, scope, p.MinRatings)
	fmt.Fprintln(out, wrap(r.Headline, 100, ""))
	fmt.Fprintln(out)
	fmt.Fprintln(out, wrap(r.Summary, 100, ""))
	if len(r.Warnings) > 0 {
		fmt.Fprintln(out, "\nWarnings:")
		for _, w := range r.Warnings {
			fmt.Fprintln(out, "  ! "+wrap(w, 96, "    "))
		}
	}
	ci := func(lo, hi report.Num) string {
		if math.IsNaN(float64(lo)) {
			return "—"
		}
		return report.F2(lo) + " to " + report.F2(hi)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintf(out, "\n%d pairs from %d teams over %d %s\n", r.NPairs, r.NTeams, r.NPeriods, units)
	fmt.Fprintln(tw, "\tr\t95% CI\tp\tn\t")
	fmt.Fprintf(tw, "Pearson r (between teams)\t%s\t%s\t%s\t%d pairs\t\n", report.F2(r.Pearson.R), ci(r.Pearson.CILow, r.Pearson.CIHigh), report.FormatP(r.Pearson.P), r.Pearson.N)
	fmt.Fprintf(tw, "Spearman rho\t%s\t%s\t%s\t%d pairs\t\n", report.F2(r.Spearman.R), ci(r.Spearman.CILow, r.Spearman.CIHigh), report.FormatP(r.Spearman.P), r.Spearman.N)
	fmt.Fprintf(tw, "Within teams (rmcorr)\t%s\t%s\t%s\tdf %d, %d teams\t\n", report.F2(r.RMCorr.R), ci(r.RMCorr.CILow, r.RMCorr.CIHigh), report.FormatP(r.RMCorr.P), r.RMCorr.DF, r.RMCorr.Teams)
	w := r.Within
	fmt.Fprintf(tw, "Within teams and periods (two-way)\t%s\t%s\t%s\tdf %d, %d teams, %d %s\t\n", report.F2(w.R), ci(w.CILow, w.CIHigh), report.FormatP(w.P), w.DF, w.Teams, w.Periods, units)
	fmt.Fprintf(tw, "  clustered by team\t%s\t%s\t%s\t%d teams\t\n", report.F2(w.R), ci(w.ClusterCILow, w.ClusterCIHigh), report.FormatP(w.ClusterP), w.Teams)
	fmt.Fprintf(tw, "Between teams (team means)\t%s\t%s\t%s\t%d teams\t\n", report.F2(r.BetweenTeams.R), ci(r.BetweenTeams.CILow, r.BetweenTeams.CIHigh), report.FormatP(r.BetweenTeams.P), r.BetweenTeams.N)
	tw.Flush()
	pw := r.Power
	fmt.Fprintf(out, "Detectable at power %g, two-sided alpha %g: between teams (n = %d teams) r >= %s; within (n = df + 2 = %d) r >= %s; about %d teams would find r = %g\n",
		float64(pw.Power), float64(pw.Alpha), pw.BetweenN, report.F2(pw.BetweenMinR), pw.WithinN, report.F2(pw.WithinMinR), pw.TeamsNeeded, float64(pw.ExampleR))
	if r.Fit != nil {
		fmt.Fprintf(out, "Least-squares line: %s = %.2f %+.3f × %s\n", report.CustomerLabel(p.Customer), float64(r.Fit.Intercept), float64(r.Fit.Slope), pulse.MeasureLabel(p.Measure))
	}

	scan := r.LagScan
	fmt.Fprintf(out, "\nLags within teams and periods, corrected for persistence (customers this many %s later; negative: before)\n", units)
	if scan.Reason != "" {
		fmt.Fprintf(out, "  not computed: %s\n", scan.Reason)
	} else {
		step := ""
		if scan.Step > 1 {
			step = fmt.Sprintf("; the program runs every %d %s, so lags move in steps of %d", scan.Step, units, scan.Step)
		}
		fmt.Fprintf(out, "AR(1) persistence phi = %s; %d lags tested, p adjusted by %s (familywise %g)%s\n", report.F2(scan.Persistence), scan.Tests, scan.Correction, float64(scan.Alpha), step)
		fmt.Fprintln(tw, "lag\tr\t95% CI\tadjusted p\tn\t")
		for _, l := range scan.Lags {
			mark := ""
			if l.Significant {
				mark = " *"
			}
			fmt.Fprintf(tw, "%d%s\t%s\t%s\t%s\t%d\t\n", l.Periods, mark, report.F2(l.R), ci(l.CILow, l.CIHigh), report.FormatP(l.PAdj), l.N)
		}
		tw.Flush()
	}
	fmt.Fprintln(out, wrap(scan.Sentence, 100, ""))

	fmt.Fprintf(out, "\nPooled r by lag (customers this many %s later)\n", units)
	fmt.Fprintln(tw, "lag\tr\t95% CI\tp\tn\t")
	for _, l := range r.Lags {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t\n", l.Lag, report.F2(l.R), ci(l.CILow, l.CIHigh), report.FormatP(l.P), l.N)
	}
	tw.Flush()

	fmt.Fprintf(out, "\nAgreement\n%s\n", wrap(r.Agreement.Sentence, 100, ""))
	if a := r.Agreement; a.RWGGroups > 0 {
		fmt.Fprintf(out, "rwg bands: very strong %d, strong %d, moderate %d, weak %d, lack %d; median %s\n", a.RWGBands["very strong"], a.RWGBands["strong"],
			a.RWGBands["moderate"], a.RWGBands["weak"], a.RWGBands["lack"], report.F2(a.RWGMedian))
	}

	fmt.Fprintf(out, "\nDrivers (%d tested; q = Benjamini-Hochberg adjusted p over %d comparisons; priority = max(0, CI low) x (100 - score) / 100)\n", r.DriverComparisons, r.DriverComparisons)
	if len(r.Drivers) == 0 {
		fmt.Fprintln(out, "  no driver has scores in these teams and periods")
	} else {
		for _, a := range r.DriverActions {
			fmt.Fprintln(out, "  - "+wrap(a, 96, "    "))
		}
		num := func(v report.Num, signed bool) string {
			f := float64(v)
			switch {
			case math.IsNaN(f):
				return "—"
			case signed && math.Round(f) == 0:
				return "0"
			case signed:
				return fmt.Sprintf("%+.0f", f)
			}
			return fmt.Sprintf("%.0f", f)
		}
		fmt.Fprintln(tw, "driver\tscore\tchange\tpriority\tr (customers)\t95% CI\tp\tq\tn\tr (engagement)\t")
		for _, d := range r.Drivers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t\n", d.Label, num(d.Score, false), num(d.Change, true), report.F2(d.Priority),
				report.F2(d.R), ci(d.CILow, d.CIHigh), report.FormatP(d.P), report.FormatP(d.Q), d.N, report.F2(d.REngagement))
		}
		tw.Flush()
	}

	fmt.Fprintln(out, "\nTerms")
	for _, d := range r.Details {
		fmt.Fprintf(out, "  %s\n", wrap(d.Term+": "+d.Meaning, 96, "    "))
	}
	return nil
}

// wrap breaks text into lines of at most width runes at spaces, starting
// each new line with indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := 0
	for i, w := range strings.Fields(text) {
		n := len([]rune(w))
		if i > 0 && line+1+n > width {
			b.WriteString("\n" + indent)
			line = len(indent)
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(w)
		line += n
	}
	return b.String()
}
