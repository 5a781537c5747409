// Command reportdump writes the correlation report, as JSON with its pairs
// and as the CSV export, for a fixed set of parameters read from one
// database, so that two builds can be compared byte for byte on the same
// data (JSON numbers are written in the shortest form that reads back to
// the same float64, so equal bytes are equal bits). Every report is built
// twice, by one loader that keeps what it read (as the server does: the
// second pass is the cold build with closed rounds in memory) and by a
// fresh loader for the first, and the two must agree.
//
//	go run ./bench/reportdump -db /tmp/copy.db -out /tmp/dump-old
//	(another build) go run ./bench/reportdump -db /tmp/copy.db -out /tmp/dump-new
//	diff -r /tmp/dump-old /tmp/dump-new
//
// Run it on a copy of a database that nothing writes to: the reports
// depend on the data.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func main() {
	db := flag.String("db", "", "database to read")
	out := flag.String("out", "", "folder to write the reports to")
	today := flag.String("today", "", "end of the default range, YYYY-MM-DD (default: today)")
	weeks := flag.Int("weeks", 104, "weeks back for the long variants")
	fresh := flag.Bool("fresh", true, "also build each report with a fresh loader (every round read again: slow on a large database) and compare")
	flag.Parse()
	if err := run(*db, *out, *today, *weeks, *fresh); err != nil {
		fmt.Fprintln(os.Stderr, "reportdump:", err)
		os.Exit(1)
	}
}

func run(db, out, today string, weeks int, checkFresh bool) error {
	if db == "" || out == "" {
		return fmt.Errorf("give -db and -out")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	if today != "" {
		if now, err = tandem.ParseDate(today); err != nil {
			return err
		}
	}
	tree, err := st.Tree(ctx)
	if err != nil {
		return err
	}
	// A division: the first child of the first root.
	division := ""
	if roots := tree.Roots(); len(roots) > 0 {
		if kids := tree.Children(roots[0]); len(kids) > 0 {
			division = fmt.Sprint(kids[0])
		}
	}
	long := tandem.FormatDate(tandem.PeriodStart(tandem.Week, now).AddDate(0, 0, -7*(weeks-1)))
	sets := []url.Values{
		{},
		{"from": {long}},
		{"from": {long}, "lag": {"2"}},
		{"from": {long}, "lag": {"-3"}, "customer": {"nps"}},
		{"from": {long}, "measure": {"enps"}, "customer": {"ces"}},
		{"from": {long}, "measure": {"driver:manager"}},
		{"from": {long}, "unit": {division}},
		{"from": {long}, "period": {"month"}},
		{"from": {long}, "period": {"month"}, "lag": {"1"}, "customer": {"nps"}},
		{"min_ratings": {"40"}},
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	warm := report.NewCorrelationLoader(st)
	for pass := range 2 {
		for i, q := range sets {
			p, err := report.ParseCorrelationParams(q.Get, now)
			if err != nil {
				return fmt.Errorf("%s: %w", q.Encode(), err)
			}
			t0 := time.Now()
			c, err := warm.Load(ctx, p, 0)
			if err != nil {
				return fmt.Errorf("%s: %w", q.Encode(), err)
			}
			b, err := dump(c)
			if err != nil {
				return err
			}
			name := filepath.Join(out, fmt.Sprintf("%02d", i))
			if pass == 0 {
				if checkFresh {
					fresh, err := report.NewCorrelationLoader(st).Load(ctx, p, 0)
					if err != nil {
						return err
					}
					fb, err := dump(fresh)
					if err != nil {
						return err
					}
					if !bytes.Equal(b, fb) {
						return fmt.Errorf("%s: the warm loader's report differs from a fresh one", q.Encode())
					}
				}
				if err := os.WriteFile(name+".json", b, 0o644); err != nil {
					return err
				}
				var csv bytes.Buffer
				if err := report.WriteCorrelationCSV(&csv, c); err != nil {
					return err
				}
				if err := os.WriteFile(name+".csv", csv.Bytes(), 0o644); err != nil {
					return err
				}
			} else if old, err := os.ReadFile(name + ".json"); err != nil || !bytes.Equal(old, b) {
				return fmt.Errorf("%s: the second build differs from the first", q.Encode())
			}
			fmt.Printf("pass %d %s: %d pairs, %s\n", pass, q.Encode(), c.NPairs, time.Since(t0).Round(time.Millisecond))
		}
		if pass == 1 {
			break
		}
		// The second pass is the server's cold case: a loader that has
		// read every round (for a report with other parameters) builds
		// each report from the closed rounds it keeps.
		warm = report.NewCorrelationLoader(st)
		p, err := report.ParseCorrelationParams(url.Values{"from": {long}, "lag": {"5"}}.Get, now)
		if err != nil {
			return err
		}
		if _, err := warm.Load(ctx, p, 0); err != nil {
			return err
		}
	}
	return nil
}

// dump is the report's JSON with its pairs.
func dump(c *report.Correlation) ([]byte, error) {
	return json.MarshalIndent(struct {
		Report *report.Correlation `json:"report"`
		Pairs  []report.Pair       `json:"pairs"`
	}{c, c.Pairs()}, "", " ")
}
