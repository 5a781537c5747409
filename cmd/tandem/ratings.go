package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// progressOut receives the progress of long imports (stderr; tests and
// benchmarks silence it).
var progressOut io.Writer = os.Stderr

// maxListedProblems is how many problems an import prints before it only
// counts them.
const maxListedProblems = 50

func runImportRatings(ctx context.Context, args []string, out io.Writer) error {
	var c common
	var source, metric, mapping string
	var dryRun bool
	fs := newFlags("import ratings [flags] FILE",
		"Import customer ratings from a CSV file (a helpdesk export): one rating per row, attributed by agent email\n"+
			"(the agent's team on the day of the rating), unit path or unit id. Any bad row: nothing is imported, and\n"+
			"every problem is listed by line and column. A rating whose source and id are stored already is skipped,\n"+
			"so importing the same file again changes nothing.")
	c.register(fs, "tandem.db")
	fs.StringVar(&source, "source", "", "source of the ratings when the file has no source column, such as zendesk")
	fs.StringVar(&metric, "metric", "", "metric of the ratings when the file has no metric column: csat, nps or ces")
	fs.StringVar(&mapping, "map", "", `columns where the defaults do not find them, as field=header pairs:`+
		` time="Rated at",agent="Assignee email",score=Rating,id="Ticket ID",comment=Comment`+
		` (fields: source, id, time, metric, score, unit, unit_id, agent, comment)`)
	fs.BoolVar(&dryRun, "dry-run", false, "check the file and show what would be imported, import nothing")
	if err := fs.parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "Usage: tandem import ratings [--source S] [--metric csat|nps|ces] [--map field=header,...] [--dry-run] FILE")
		return errUsage
	}
	m, err := ratings.ParseMapping(mapping)
	if err != nil {
		return tandem.Errorf(tandem.EINVALID, "--map: %s", tandem.ErrorMessage(err))
	}
	st, err := store.Open(ctx, c.db, store.Options{Now: clockOf(ctx)})
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open the ratings file: %w", err)
	}
	defer f.Close()

	start := time.Now()
	dir, err := st.RatingDirectory(ctx)
	if err != nil {
		return err
	}
	b := ratings.NewBatch(dir, start)
	if fi, err := f.Stat(); err == nil {
		// A helpdesk export has 40 bytes a row or more: room for the rows
		// up front instead of growing (and copying) the batch as it fills.
		// Room not filled is never touched, so it costs no memory.
		b.Grow(int(min(fi.Size()/40, 20_000_000)))
	}
	cols, err := ratings.ReadCSV(f, ratings.CSVOptions{Mapping: m, Source: source, Metric: metric,
		Progress: func(n int) { fmt.Fprintf(progressOut, "read %d rows (%.1fs)\n", n, time.Since(start).Seconds()) }}, b)
	if err != nil {
		return fmt.Errorf("read %s: %w", fs.Arg(0), err)
	}
	if err := b.Err(); err != nil {
		e := err.(*ratings.Error)
		for i, p := range e.Errors {
			if i == maxListedProblems {
				break
			}
			fmt.Fprintln(out, p.String())
		}
		if e.Total > maxListedProblems {
			fmt.Fprintf(out, "… and %d more problems\n", e.Total-maxListedProblems)
		}
		return tandem.Errorf(tandem.EINVALID, "%s: %d problem(s) in %d row(s); nothing imported", fs.Arg(0), e.Total, e.Rows)
	}
	sum := b.Summary()
	printColumns(out, cols)
	fmt.Fprintf(out, "%d rows: %d ratings (%s), %d unrated skipped", sum.Rows, sum.Valid, byMetric(sum.ByMetric), sum.Unrated)
	if sum.Valid > 0 {
		fmt.Fprintf(out, ", from %s to %s", tandem.FormatDate(sum.First), tandem.FormatDate(sum.Last))
	}
	fmt.Fprintln(out)
	if dryRun {
		distinct, repeats := b.Distinct()
		stored, err := st.CountStoredRatings(ctx, distinct)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "dry run: %d would be added, %d duplicates (%d stored already, %d repeated in the file); nothing changed\n",
			len(distinct)-stored, stored+repeats, stored, repeats)
		return nil
	}
	if sum.Valid >= ratings.ProgressEvery {
		fmt.Fprintf(progressOut, "checked %d rows (%.1fs); storing %d ratings in one transaction\n", sum.Rows, time.Since(start).Seconds(), sum.Valid)
	}
	res, err := st.IngestRatings(ctx, b.Ratings(), nowOf(ctx))
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("imported %s: %d accepted, %d duplicates (stored already or repeated in the file), %d unrated rows skipped",
		fs.Arg(0), res.Accepted, res.Duplicates, sum.Unrated)
	if err := st.Audit(ctx, store.AuditEntry{UserEmail: "cli", Action: "ratings.import", Detail: msg}); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s in %.1fs\n", msg, time.Since(start).Seconds())
	return nil
}

func printColumns(out io.Writer, cols ratings.Columns) {
	var used []string
	for f, h := range cols.Used {
		used = append(used, fmt.Sprintf("%s ← %q", f, h))
	}
	sort.Strings(used)
	fmt.Fprintf(out, "columns: %s\n", strings.Join(used, ", "))
	if len(cols.Ignored) > 0 {
		fmt.Fprintf(out, "ignored: %s\n", strings.Join(cols.Ignored, ", "))
	}
}

func byMetric(m map[string]int) string {
	var parts []string
	for _, k := range []string{tandem.MetricCSAT, tandem.MetricNPS, tandem.MetricCES} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], strings.ToUpper(k)))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
