package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/tandem-hq/tandem/internal/history"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// repeated is a flag that may be given more than once.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func runImportHistory(ctx context.Context, args []string, out io.Writer) error {
	var c common
	var program, period string
	var mapping repeated
	var dryRun bool
	fs := newFlags("import history --program NAME [flags] FILE",
		"Import past survey results so that reports have history from the first day: one row per response, with\n"+
			"the unit path (as the roster names units), the date, one column per question (headed by the question's\n"+
			"key or text, or mapped) with values on its scale, and an optional comment. The rows become one imported\n"+
			"round per period of the program; answers are stored under groups of at least k by the roster's headcount\n"+
			"on the period's first day. Any problem: nothing is imported, and every problem is listed by line and column.")
	c.register(fs, "tandem.db")
	fs.StringVar(&program, "program", "", "the pulse program the history belongs to: its name or id (required)")
	fs.StringVar(&period, "period", "", "one round per week, fortnight or month (default: the program's cadence)")
	fs.Var(&mapping, "map", `columns where the defaults do not find them, as key=header pairs (repeat, or separate with commas):`+
		` eng.proud="Q1 I am proud",date="Submitted at" (keys: unit, date, comment and the program's question keys)`)
	fs.BoolVar(&dryRun, "dry-run", false, "check the file and show the rounds it would make, import nothing")
	if err := fs.parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 || strings.TrimSpace(program) == "" {
		fmt.Fprintln(os.Stderr, "Usage: tandem import history --program NAME [--period week|fortnight|month] [--map key=header ...] [--dry-run] FILE")
		return errUsage
	}
	st, err := store.Open(ctx, c.db, store.Options{Now: clockOf(ctx)})
	if err != nil {
		return err
	}
	defer st.Close()
	programs, err := st.Programs(ctx)
	if err != nil {
		return err
	}
	p, err := findProgram(programs, program)
	if err != nil {
		return err
	}
	if period == "" {
		period = history.DefaultPeriod(p.Cadence)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open the history file: %w", err)
	}
	defer f.Close()
	res, err := st.ImportHistory(ctx, store.HistoryImport{ProgramID: p.ID, Period: period, Mapping: mapping, DryRun: dryRun,
		Actor: "cli", Now: nowOf(ctx)}, f)
	var he *history.Error
	if errors.As(err, &he) {
		for i, pr := range he.Problems {
			if i == maxListedProblems {
				break
			}
			fmt.Fprintln(out, pr.String())
		}
		if he.Total > maxListedProblems {
			fmt.Fprintf(out, "… and %d more problems\n", he.Total-maxListedProblems)
		}
		return tandem.Errorf(tandem.EINVALID, "%s: %d problem(s); nothing imported", fs.Arg(0), he.Total)
	} else if err != nil {
		return err
	}
	printHistory(out, res)
	if dryRun {
		fmt.Fprintln(out, "dry run: nothing changed")
		return nil
	}
	fmt.Fprintf(out, "imported %s: %d responses into %d rounds of %s\n", fs.Arg(0), res.Responses, len(res.Rounds), p.Name)
	return nil
}

// findProgram finds a program by id or by name (without regard to case).
func findProgram(programs []pulse.Program, ref string) (*pulse.Program, error) {
	ref = strings.TrimSpace(ref)
	id, _ := strconv.ParseInt(ref, 10, 64)
	var names []string
	for i := range programs {
		if programs[i].ID == id || strings.EqualFold(programs[i].Name, ref) {
			return &programs[i], nil
		}
		names = append(names, fmt.Sprintf("%q", programs[i].Name))
	}
	if len(names) == 0 {
		return nil, tandem.Errorf(tandem.ENOTFOUND, "there is no pulse program yet; create the program the history belongs to first")
	}
	return nil, tandem.Errorf(tandem.ENOTFOUND, "there is no program %q; the programs are %s", ref, strings.Join(names, ", "))
}

// printHistory says what an import stores, or would store.
func printHistory(out io.Writer, res *store.HistoryResult) {
	var cols []string
	for _, f := range []string{history.FieldUnit, history.FieldDate, history.FieldComment} {
		if h, ok := res.Used[f]; ok {
			cols = append(cols, fmt.Sprintf("%s ← %q", f, h))
		}
	}
	for _, q := range res.Questions {
		cols = append(cols, fmt.Sprintf("%s ← %q", q.Key, res.Used[q.Key]))
	}
	fmt.Fprintf(out, "columns: %s\n", strings.Join(cols, ", "))
	if len(res.Ignored) > 0 {
		fmt.Fprintf(out, "ignored: %s\n", strings.Join(res.Ignored, ", "))
	}
	fmt.Fprintf(out, "%d responses, %d rounds of %s, one a %s:\n", res.Responses, len(res.Rounds), res.Program.Name, res.Period)
	for _, r := range res.Rounds {
		fmt.Fprintf(out, "  %-32s %4d responses, %d question(s), %d storage group(s) of %d people", r.Label, r.Responses, r.Questions, r.Groups, r.Invited)
		if r.Below > 0 {
			fmt.Fprintf(out, "; %d group(s) with fewer than %d answers: stored, never shown", r.Below, res.Program.MinGroup)
		}
		fmt.Fprintln(out)
	}
}
