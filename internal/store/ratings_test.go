package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// checkRatings reads inputs through a ratings.Batch against st's roster,
// as the API and the import do, and fails the test on any problem.
func checkRatings(t *testing.T, st *Store, ins ...ratings.Input) []tandem.Rating {
	t.Helper()
	dir, err := st.RatingDirectory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b := ratings.NewBatch(dir, today.Add(12*time.Hour))
	for i, in := range ins {
		in.Index = i
		b.Add(in)
	}
	if err := b.Err(); err != nil {
		t.Fatalf("ratings have problems: %v", err)
	}
	return b.Ratings()
}

func rating(id, at, metric, score, agent string) ratings.Input {
	return ratings.Input{Source: "zendesk", ExternalID: id, OccurredAt: at, Metric: metric, Score: score, AgentEmail: agent}
}

// totals returns the stored totals of kind as "period unit metric" → totals.
func totals(t *testing.T, st *Store, kind string) map[string]tandem.CustomerTotals {
	t.Helper()
	rows, err := st.CustomerTotalsRows(context.Background(), kind, "", time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]tandem.CustomerTotals{}
	for _, r := range rows {
		m[fmt.Sprintf("%s %d %s", tandem.FormatDate(r.Period), r.UnitID, r.Metric)] = r.CustomerTotals
	}
	return m
}

func TestIngestStoresRatingsAndWeeklyAndMonthlyTotalsOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		tree, _ := st.Tree(ctx)
		emea := tree.ByPath([]string{"Acme", "Sales", "EMEA"}).ID
		tier1 := tree.ByPath([]string{"Acme", "Support", "Tier 1"}).ID
		rs := checkRatings(t, st,
			rating("1", "2026-02-23T09:00:00Z", "csat", "5", "ana@example.com"), // Monday 23 Feb
			rating("2", "2026-03-01T23:59:59Z", "csat", "3", "ben@example.com"), // Sunday: same week, next month
			rating("3", "2026-03-01T10:00:00Z", "nps", "9", "ben@example.com"),
			rating("4", "2026-03-01T11:00:00Z", "nps", "6", "dev@example.com"),
			rating("5", "2026-03-01T12:00:00Z", "nps", "7", "dev@example.com"),
			rating("1", "2026-02-23T09:00:00Z", "csat", "5", "ana@example.com"), // repeated in the batch
		)
		res, err := st.IngestRatings(ctx, rs, today)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 5 || res.Duplicates != 1 {
			t.Fatalf("first ingest %+v, want 5 accepted and 1 duplicate", res)
		}
		week := totals(t, st, tandem.Week)
		want := map[string]tandem.CustomerTotals{
			fmt.Sprintf("2026-02-23 %d csat", emea): {N: 2, Sum: 8, Top: 1},
			fmt.Sprintf("2026-02-23 %d nps", emea):  {N: 1, Sum: 9, Promoters: 1},
			fmt.Sprintf("2026-02-23 %d nps", tier1): {N: 2, Sum: 13, Detractors: 1},
		}
		if fmt.Sprint(week) != fmt.Sprint(want) {
			t.Errorf("weekly totals\n got %v\nwant %v", week, want)
		}
		month := totals(t, st, tandem.Month)
		wantM := map[string]tandem.CustomerTotals{
			fmt.Sprintf("2026-02-01 %d csat", emea): {N: 1, Sum: 5, Top: 1},
			fmt.Sprintf("2026-03-01 %d csat", emea): {N: 1, Sum: 3},
			fmt.Sprintf("2026-03-01 %d nps", emea):  {N: 1, Sum: 9, Promoters: 1},
			fmt.Sprintf("2026-03-01 %d nps", tier1): {N: 2, Sum: 13, Detractors: 1},
		}
		if fmt.Sprint(month) != fmt.Sprint(wantM) {
			t.Errorf("monthly totals\n got %v\nwant %v", month, wantM)
		}
		// Sent again: nothing new, nothing counted twice.
		res, err = st.IngestRatings(ctx, rs, today)
		if err != nil || res.Accepted != 0 || res.Duplicates != 6 {
			t.Fatalf("re-sent: %+v %v, want 0 accepted and 6 duplicates", res, err)
		}
		if again := totals(t, st, tandem.Week); fmt.Sprint(again) != fmt.Sprint(week) {
			t.Errorf("totals changed on a re-send:\n%v\n%v", again, week)
		}
		if n, _ := st.RatingsCount(ctx); n != 5 {
			t.Errorf("%d ratings stored, want 5", n)
		}
	})
}

func TestIngestSkipsStoredRatingsMixedIntoLargeBatches(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		var ins []ratings.Input
		var want tandem.CustomerTotals
		for i := 0; i < 250; i++ {
			score := 1 + i%5
			ins = append(ins, ratings.Input{Source: "survey", ExternalID: fmt.Sprint(i), OccurredAt: "2026-02-10T10:00:00Z",
				Metric: "csat", Score: fmt.Sprint(score), UnitPath: "Acme/Support/Tier 1"})
			want.Add("csat", float64(score))
		}
		all := checkRatings(t, st, ins...)
		// Every other rating of the first 150 is stored already: chunks mix
		// new and stored ratings.
		var some []tandem.Rating
		for i := 0; i < 150; i += 2 {
			some = append(some, all[i])
		}
		if res, err := st.IngestRatings(ctx, some, today); err != nil || res.Accepted != 75 {
			t.Fatalf("first part: %+v %v", res, err)
		}
		res, err := st.IngestRatings(ctx, append(all, all[3], all[200]), today)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 175 || res.Duplicates != 77 {
			t.Errorf("result %+v, want 175 accepted, 77 duplicates (75 stored, 2 repeated)", res)
		}
		rows, err := st.CustomerTotalsRows(ctx, tandem.Month, tandem.MetricCSAT, time.Time{}, time.Time{})
		if err != nil || len(rows) != 1 {
			t.Fatalf("rows %v %v", rows, err)
		}
		if rows[0].CustomerTotals != want {
			t.Errorf("totals %+v, want %+v: each rating counted once", rows[0].CustomerTotals, want)
		}
	})
}

func TestAgentWhoMovedTeamsIsCountedInTheTeamOfTheDay(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		tree, _ := st.Tree(ctx)
		emea := tree.ByPath([]string{"Acme", "Sales", "EMEA"}).ID
		tier1 := tree.ByPath([]string{"Acme", "Support", "Tier 1"}).ID
		ana, _, _ := st.Employees(ctx, EmployeeFilter{Query: "ana@"})
		ana[0].UnitID = tier1
		moved := time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC)
		if err := st.UpdateEmployee(ctx, &ana[0], moved); err != nil {
			t.Fatal(err)
		}
		rs := checkRatings(t, st,
			rating("a", "2026-02-15T23:00:00Z", "csat", "5", "ana@example.com"),
			rating("b", "2026-02-16T08:00:00Z", "csat", "2", "ana@example.com"))
		if _, err := st.IngestRatings(ctx, rs, today); err != nil {
			t.Fatal(err)
		}
		week := totals(t, st, tandem.Week)
		if got := week[fmt.Sprintf("2026-02-09 %d csat", emea)]; got.N != 1 || got.Sum != 5 {
			t.Errorf("EMEA, week of 9 Feb: %+v, want Ana's rating before the move", got)
		}
		if got := week[fmt.Sprintf("2026-02-16 %d csat", tier1)]; got.N != 1 || got.Sum != 2 {
			t.Errorf("Tier 1, week of 16 Feb: %+v, want Ana's rating after the move", got)
		}
		var agent int64
		st.DB().QueryRow("SELECT agent_id FROM csat_events WHERE external_id = 'b'").Scan(&agent)
		if agent != ana[0].ID {
			t.Errorf("agent_id %d, want Ana %d", agent, ana[0].ID)
		}
	})
}

// TestADirectoryForSomeAgentsAttributesTheirRatingsAsTheWholeOneDoes holds
// the API's directory, read for the agents a batch names, to the whole
// roster's: the same ratings in the same teams (across a move), the same
// problems, an address matched whatever its case, and the same again when
// a batch names too many agents to look up one by one.
func TestADirectoryForSomeAgentsAttributesTheirRatingsAsTheWholeOneDoes(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		tree, _ := st.Tree(ctx)
		ana, _, _ := st.Employees(ctx, EmployeeFilter{Query: "ana@"})
		ana[0].UnitID = tree.ByPath([]string{"Acme", "Support", "Tier 1"}).ID
		if err := st.UpdateEmployee(ctx, &ana[0], time.Date(2026, 2, 16, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		ins := []ratings.Input{
			rating("a", "2026-02-15T23:00:00Z", "csat", "5", "ana@example.com"),
			rating("b", "2026-02-16T08:00:00Z", "csat", "2", " ANA@Example.com "),
			rating("c", "2026-02-20T08:00:00Z", "nps", "9", "ben@example.com"),
			rating("d", "2026-02-20T09:00:00Z", "csat", "4", "nobody@example.com"),
			rating("e", "2026-02-20T10:00:00Z", "csat", "4", "not an address"),
			{Source: "zendesk", ExternalID: "f", OccurredAt: "2026-02-20T11:00:00Z", Metric: "csat", Score: "3", UnitPath: "Acme/Sales/EMEA"},
		}
		read := func(dir *ratings.Directory) string {
			b := ratings.NewBatch(dir, today.Add(12*time.Hour))
			for i, in := range ins {
				in.Index = i
				b.Add(in)
			}
			var problems []string
			if err := b.Err(); err != nil {
				for _, p := range err.(*ratings.Error).Errors {
					problems = append(problems, p.String())
				}
			}
			return fmt.Sprintf("%+v\n%s", b.Ratings(), strings.Join(problems, "\n"))
		}
		whole, err := st.RatingDirectory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := read(whole)
		if !strings.Contains(want, "nobody@example.com") || !strings.Contains(want, "not an email address") {
			t.Fatalf("the whole directory's answer names neither problem:\n%s", want)
		}
		agents := []string{}
		for _, in := range ins {
			agents = append(agents, in.AgentEmail)
		}
		many := append([]string{}, agents...)
		for i := range directoryEmailsAtMost + 1 {
			many = append(many, fmt.Sprintf("extra%d@example.com", i))
		}
		for name, emails := range map[string][]string{"the batch's agents": agents, "more than are looked up one by one": many} {
			dir, err := st.RatingDirectoryFor(ctx, emails)
			if err != nil {
				t.Fatal(err)
			}
			if got := read(dir); got != want {
				t.Errorf("directory for %s:\n got %s\nwant %s", name, got, want)
			}
		}
		// A batch that names no agent still resolves units, and names no
		// one it cannot find.
		dir, err := st.RatingDirectoryFor(ctx, []string{"", "  "})
		if err != nil {
			t.Fatal(err)
		}
		b := ratings.NewBatch(dir, today.Add(12*time.Hour))
		b.Add(ins[5])
		if rs := b.Ratings(); b.Err() != nil || len(rs) != 1 || rs[0].UnitID != tree.ByPath([]string{"Acme", "Sales", "EMEA"}).ID {
			t.Errorf("a unit-path rating through a directory for no agent: %+v, %v", rs, b.Err())
		}
	})
}

func TestAFailedIngestStoresNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		rs := checkRatings(t, st, rating("1", "2026-02-10T10:00:00Z", "csat", "5", "ana@example.com"))
		bad := append(rs, tandem.Rating{Source: "zendesk", ExternalID: "2", OccurredAt: today, UnitID: 999_999, Metric: "csat", Score: 4})
		if _, err := st.IngestRatings(ctx, bad, today); err == nil {
			t.Fatal("a rating of a unit that does not exist was stored")
		}
		invalid := append(rs, tandem.Rating{Source: "zendesk", ExternalID: "3", OccurredAt: today, UnitID: rs[0].UnitID, Metric: "csat", Score: 6})
		if _, err := st.IngestRatings(ctx, invalid, today); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("a score out of range: %v, want invalid", err)
		}
		if n, _ := st.RatingsCount(ctx); n != 0 {
			t.Errorf("%d ratings stored by failed ingests, want 0", n)
		}
		if rows, _ := st.CustomerTotalsRows(ctx, tandem.Week, "", time.Time{}, time.Time{}); len(rows) != 0 {
			t.Errorf("totals %v left by failed ingests", rows)
		}
	})
}

func TestCustomerTotalsRowsAreFilteredByMetricAndPeriod(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		rs := checkRatings(t, st,
			rating("1", "2026-01-05T10:00:00Z", "csat", "4", "ana@example.com"),
			rating("2", "2026-01-12T10:00:00Z", "csat", "4", "ana@example.com"),
			rating("3", "2026-01-19T10:00:00Z", "csat", "4", "ana@example.com"),
			rating("4", "2026-01-14T10:00:00Z", "ces", "2", "ana@example.com"))
		if _, err := st.IngestRatings(ctx, rs, today); err != nil {
			t.Fatal(err)
		}
		// From a Wednesday: its week (from Monday 12 Jan) on; to Monday 19
		// Jan, exclusive.
		rows, err := st.CustomerTotalsRows(ctx, tandem.Week, "csat", time.Date(2026, 1, 14, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 19, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 1 || tandem.FormatDate(rows[0].Period) != "2026-01-12" || rows[0].Metric != "csat" || rows[0].TopShare() != 100 {
			t.Errorf("rows %+v, want only the CSAT week of 12 Jan", rows)
		}
		if _, err := st.CustomerTotalsRows(ctx, "year", "", time.Time{}, time.Time{}); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("kind year: %v, want invalid", err)
		}
		if _, err := st.CustomerTotalsRows(ctx, "M", "stars", time.Time{}, time.Time{}); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("metric stars: %v, want invalid", err)
		}
	})
}

func TestCountStoredRatingsFindsWhatADryRunWouldSkip(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		rs := checkRatings(t, st,
			rating("1", "2026-01-05T10:00:00Z", "csat", "4", "ana@example.com"),
			rating("2", "2026-01-05T10:00:00Z", "csat", "4", "ana@example.com"))
		if _, err := st.IngestRatings(ctx, rs[:1], today); err != nil {
			t.Fatal(err)
		}
		if n, err := st.CountStoredRatings(ctx, rs); err != nil || n != 1 {
			t.Errorf("stored = %d (%v), want 1", n, err)
		}
	})
}

func TestReplacedRatingsCorrectTheTotalsOfBothVersions(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		tree, _ := st.Tree(ctx)
		emea := tree.ByPath([]string{"Acme", "Sales", "EMEA"}).ID
		tier1 := tree.ByPath([]string{"Acme", "Support", "Tier 1"}).ID
		first := checkRatings(t, st,
			rating("1", "2026-02-10T10:00:00Z", "csat", "5", "ana@example.com"),
			rating("2", "2026-02-10T11:00:00Z", "csat", "2", "ben@example.com"),
			rating("3", "2026-02-24T10:00:00Z", "csat", "4", "dev@example.com"))
		if _, err := st.IngestRatings(ctx, first, today); err != nil {
			t.Fatal(err)
		}
		second := checkRatings(t, st,
			rating("1", "2026-02-10T10:00:00Z", "csat", "5", "ana@example.com"), // unchanged
			rating("2", "2026-02-10T11:00:00Z", "csat", "4", "ben@example.com"), // score changed
			rating("3", "2026-03-02T09:00:00Z", "csat", "1", "dev@example.com"), // moved to another week and month
			rating("4", "2026-02-11T10:00:00Z", "csat", "3", "dev@example.com"), // new
			rating("5", "2026-02-12T10:00:00Z", "csat", "5", "ana@example.com"), // new, and changed within the batch:
			rating("5", "2026-02-12T10:00:00Z", "csat", "1", "ana@example.com"), // the last version wins
		)
		res, err := st.ReplaceRatings(ctx, second, today)
		if err != nil {
			t.Fatal(err)
		}
		if want := (IngestResult{Accepted: 2, Updated: 2, Duplicates: 2}); res != want {
			t.Errorf("result %+v, want %+v", res, want)
		}
		// Worked out by hand from the final versions: 1 (5), 2 (4), 5 (1)
		// in EMEA's week of 9 Feb; 4 (3) in Tier 1's; 3 (1) in Tier 1's
		// week of 2 Mar. Tier 1's week of 23 Feb lost its only rating and
		// has no row.
		wantW := map[string]tandem.CustomerTotals{
			fmt.Sprintf("2026-02-09 %d csat", emea):  {N: 3, Sum: 10, Top: 2},
			fmt.Sprintf("2026-02-09 %d csat", tier1): {N: 1, Sum: 3},
			fmt.Sprintf("2026-03-02 %d csat", tier1): {N: 1, Sum: 1},
		}
		if got := totals(t, st, tandem.Week); fmt.Sprint(got) != fmt.Sprint(wantW) {
			t.Errorf("weekly totals\n got %v\nwant %v", got, wantW)
		}
		wantM := map[string]tandem.CustomerTotals{
			fmt.Sprintf("2026-02-01 %d csat", emea):  {N: 3, Sum: 10, Top: 2},
			fmt.Sprintf("2026-02-01 %d csat", tier1): {N: 1, Sum: 3},
			fmt.Sprintf("2026-03-01 %d csat", tier1): {N: 1, Sum: 1},
		}
		if got := totals(t, st, tandem.Month); fmt.Sprint(got) != fmt.Sprint(wantM) {
			t.Errorf("monthly totals\n got %v\nwant %v", got, wantM)
		}
		var day string
		var score float64
		st.DB().QueryRow("SELECT day, score FROM csat_events WHERE external_id = '3'").Scan(&day, &score)
		if day != "2026-03-02" || score != 1 {
			t.Errorf("rating 3 stored on %s with %g, want 2026-03-02 with 1", day, score)
		}
		if n, _ := st.RatingsCount(ctx); n != 5 {
			t.Errorf("%d ratings stored, want 5", n)
		}
		// The same batch again changes nothing.
		res, err = st.ReplaceRatings(ctx, second, today)
		if want := (IngestResult{Duplicates: 6}); err != nil || res != want {
			t.Errorf("again: %+v %v, want %+v", res, err, want)
		}
		if got := totals(t, st, tandem.Week); fmt.Sprint(got) != fmt.Sprint(wantW) {
			t.Errorf("weekly totals changed on a repeat: %v", got)
		}
		// IngestRatings keeps the stored version.
		changed := checkRatings(t, st, rating("1", "2026-02-10T10:00:00Z", "csat", "1", "ana@example.com"))
		if res, err := st.IngestRatings(ctx, changed, today); err != nil || res.Duplicates != 1 || res.Updated != 0 {
			t.Errorf("IngestRatings of a changed rating: %+v %v, want it skipped as a duplicate", res, err)
		}
	})
}
