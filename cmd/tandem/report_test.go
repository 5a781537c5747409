package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// newCorrelationDB writes a database with six weekly rounds answered by
// everyone in Ops/Alpha (6), Ops/Bravo (5), Ops/Tiny (2) and Care/C1…C3
// (6 each), and CSAT ratings for all of those teams. With k = 5, Tiny is
// too small and Bravo is hidden by complementary suppression (Ops − Alpha
// − Bravo would be Tiny) in every round.
func newCorrelationDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	st, err := store.Open(ctx, path, store.Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The commands run at testNow (runTandem), so the organisation lives
	// there.
	now := testNow
	org := tandemtest.On(t, st, now)
	org.AddPeople(tandem.Today(now).AddDate(0, 0, -100), tandemtest.People(tandemtest.Numbered("p"),
		tandemtest.Team{Path: "Acme/Ops/Alpha", Size: 6}, tandemtest.Team{Path: "Acme/Ops/Bravo", Size: 5}, tandemtest.Team{Path: "Acme/Ops/Tiny", Size: 2},
		tandemtest.Team{Path: "Acme/Care/C1", Size: 6}, tandemtest.Team{Path: "Acme/Care/C2", Size: 6}, tandemtest.Team{Path: "Acme/Care/C3", Size: 6}))
	p := org.Program("Acme", nil)
	rng := rand.New(rand.NewPCG(9, 9))
	level := map[int64]float64{}
	var ratings []tandem.Rating
	for w := 6; w >= 1; w-- {
		monday := tandem.PeriodStart(tandem.Week, now.AddDate(0, 0, -7*w))
		r := org.Round(&p, monday.Add(9*time.Hour))
		org.Answer(r, func(inv store.InvitationRef, qs []pulse.Question) *store.RecordedResponse {
			if _, ok := level[inv.UnitID]; !ok {
				level[inv.UnitID] = 2.5 + 2*rng.Float64()
			}
			rec := &store.RecordedResponse{}
			for _, q := range qs {
				v := level[inv.UnitID] + rng.NormFloat64()*0.6
				switch q.Kind {
				case pulse.Likert5:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: math.Max(1, math.Min(5, math.Round(v))), HasValue: true})
				case pulse.Scale010:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: math.Max(0, math.Min(10, math.Round(2*v))), HasValue: true})
				}
			}
			return rec
		})
		for u, lv := range level {
			for i := 0; i < 6; i++ {
				ratings = append(ratings, tandem.Rating{Source: "cli-test", ExternalID: fmt.Sprintf("%d-%d-%d", w, u, i),
					OccurredAt: monday.AddDate(0, 0, 1).Add(time.Duration(i) * time.Hour), UnitID: u, Metric: tandem.MetricCSAT,
					Score: math.Max(1, math.Min(5, math.Round(lv+rng.NormFloat64()*0.7)))})
			}
		}
	}
	if _, err := st.IngestRatings(ctx, ratings, now); err != nil {
		t.Fatal(err)
	}
	// Results are released when their rounds close.
	if _, err := st.CloseDueRounds(ctx, now); err != nil {
		t.Fatal(err)
	}
	return path
}

func runTandem(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(testContext(), args, &out)
	return out.String(), err
}

func TestReportCorrelationPrintsOnlyShownTeamsInEveryFormat(t *testing.T) {
	db := newCorrelationDB(t)
	table, err := runTandem(t, "report", "correlation", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Across 4 teams over 6 weeks, teams with higher engagement had", "not proof of cause",
		"Pearson r (between teams)", "Within teams (rmcorr)", "Pooled r by lag (customers this many weeks later)", "Drivers (", "Benjamini-Hochberg",
		"Within teams and periods (two-way)", "clustered by team", "Between teams (team means)", "Detectable at power 0.8, two-sided alpha 0.05: between teams (n = 4 teams)",
		"Lags within teams and periods, corrected for persistence", "p adjusted by bonferroni", "\n-6 ", "\n6 ", "\nAgreement\n",
		"priority = max(0, CI low) x (100 - score) / 100", "\nTerms\n", "  Driver priority: "} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	js, err := runTandem(t, "report", "correlation", "--db", db, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res report.Correlation
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatalf("json: %v\n%s", err, js)
	}
	if res.NPairs != 24 || res.NTeams != 4 {
		t.Errorf("json: %d pairs from %d teams, want 24 from 4", res.NPairs, res.NTeams)
	}
	if first := strings.Fields(res.Headline); len(first) < 8 || !strings.Contains(table, strings.Join(first[:8], " ")) {
		t.Errorf("the table does not start with the headline %q:\n%s", res.Headline, table)
	}
	if len(res.LagScan.Lags) != 13 || res.Within.Teams != 4 || res.Power.BetweenN != 4 {
		t.Errorf("json: %d scanned lags, within over %d teams, power over %d; want 13, 4, 4", len(res.LagScan.Lags), res.Within.Teams, res.Power.BetweenN)
	}
	csv, err := runTandem(t, "report", "correlation", "--format=csv", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(csv), "\n"); len(lines) != 25 || !strings.HasPrefix(lines[0], "team,team_id,period,") {
		t.Errorf("csv: %d lines, header %q", len(lines), lines[0])
	}
	for format, out := range map[string]string{"table": table, "json": js, "csv": csv} {
		for _, hidden := range []string{"Bravo", "Tiny"} {
			if strings.Contains(out, hidden) {
				t.Errorf("%s output names %s, hidden in every round", format, hidden)
			}
		}
	}
	care, err := runTandem(t, "report", "correlation", "--db", db, "--format", "csv", "--unit", "Acme/Care", "--measure", "driver:manager", "--lag", "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(care), "\n")[1:] {
		if !strings.HasPrefix(line, "Acme / Care / C") {
			t.Errorf("--unit Acme/Care printed %q", line)
		}
	}
}

func TestReportCorrelationRejectsBadFlagsByName(t *testing.T) {
	db := newCorrelationDB(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--measure", "joy"}, `--measure must be index, enps or driver:<key>; got "joy"`},
		{[]string{"--lag", "8"}, `--lag must be a whole number of periods from -6 to 6`},
		{[]string{"--min-ratings", "none"}, `--min-ratings must be a whole number of at least 1`},
		{[]string{"--format", "xml"}, `--format must be table, json or csv`},
		{[]string{"--from", "2025-13-01"}, `--from must be a date written YYYY-MM-DD`},
	} {
		_, err := runTandem(t, append([]string{"report", "correlation", "--db", db}, tc.args...)...)
		if tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(err.Error(), tc.want) || exitCode(err) != 2 {
			t.Errorf("%v: %v, want %q (exit 2)", tc.args, err, tc.want)
		}
	}
	_, err := runTandem(t, "report", "correlation", "--db", db, "--unit", "Acme/Nowhere")
	if tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("unknown unit: %v, want not found", err)
	}
}

func TestReportHelpListsTheReportKinds(t *testing.T) {
	out, err := runTandem(t, "report", "--help")
	if !errors.Is(err, errHelp) || !strings.Contains(out, "correlation") || !strings.Contains(out, "Usage: tandem report KIND") {
		t.Errorf("report --help: %v\n%s", err, out)
	}
	if _, err := runTandem(t, "report", "payroll"); !errors.Is(err, errUsage) {
		t.Errorf("unknown report: %v, want a usage error", err)
	}
	out, _ = runTandem(t, "help")
	if !strings.Contains(out, "report") {
		t.Errorf("tandem help does not list report:\n%s", out)
	}
}
