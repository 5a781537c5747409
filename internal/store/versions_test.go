package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestReleasedVersionMovesWithACloseAndARatingIngestButNotWithAnOpenRoundsAnswer(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		version := func() int64 {
			t.Helper()
			v, err := st.ReleasedVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		r, hashes, answers := linkRound(t, st, 5)
		v0 := version()
		if err := st.SubmitResponse(ctx, hashes[0], answers, "", testNow); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v0 {
			t.Errorf("an answer to an open round moved the version from %d to %d; its results are not released", v0, v)
		}
		if n, err := st.CloseDueRounds(ctx, r.ClosesAt); err != nil || n != 1 {
			t.Fatalf("close: %d, %v", n, err)
		}
		v1 := version()
		if v1 != v0+1 {
			t.Errorf("closing a round: version %d, want %d", v1, v0+1)
		}
		tree, _ := st.Tree(ctx)
		team := tree.ByPath([]string{"Acme", "Team"}).ID
		rating := []tandem.Rating{{Source: "test", ExternalID: "1", OccurredAt: testNow.Add(-time.Hour).Truncate(time.Second),
			UnitID: team, Metric: tandem.MetricCSAT, Score: 5}}
		if _, err := st.IngestRatings(ctx, rating, testNow); err != nil {
			t.Fatal(err)
		}
		v2 := version()
		if v2 != v1+1 {
			t.Errorf("a rating ingest: version %d, want %d", v2, v1+1)
		}
		if res, err := st.IngestRatings(ctx, rating, testNow); err != nil || res.Duplicates != 1 {
			t.Fatalf("the same rating again: %+v, %v", res, err)
		}
		if v := version(); v != v2 {
			t.Errorf("a batch of duplicates changed nothing but moved the version from %d to %d", v2, v)
		}
	})
}

// MetricTotalsChanged names the periods whose totals of a metric an ingest
// or a correction changed after a version — each kind of period, the
// period a correction empties as well as the one it fills — and no others.
func TestMetricTotalsChangedNamesThePeriodsChangedSinceAVersion(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, "email,name,team\na@example.com,A,Acme/Support\n", false)
		tree, _ := st.Tree(ctx)
		unit := tree.ByPath([]string{"Acme", "Support"}).ID
		mon := tandem.PeriodStart(tandem.Week, today) // a Monday, the first of a month
		rating := func(id string, at time.Time, metric string) tandem.Rating {
			return tandem.Rating{Source: "t", ExternalID: id, OccurredAt: at, UnitID: unit, Metric: metric, Score: 3}
		}
		from, to := mon.AddDate(0, -3, 0), mon.AddDate(0, 3, 0)
		changed := func(kind, metric string, since int64) string {
			t.Helper()
			ps, err := st.MetricTotalsChanged(ctx, kind, metric, from, to, since)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, tandem.FormatDate(p))
			}
			return strings.Join(out, " ")
		}
		v0, _ := st.ReleasedVersion(ctx)
		if _, err := st.IngestRatings(ctx, []tandem.Rating{rating("1", mon.AddDate(0, 0, 2), tandem.MetricCSAT), rating("2", mon.AddDate(0, 0, -20), tandem.MetricCSAT),
			rating("3", mon.AddDate(0, 0, 9), tandem.MetricNPS)}, testNow); err != nil {
			t.Fatal(err)
		}
		v1, _ := st.ReleasedVersion(ctx)
		for _, c := range []struct{ kind, metric, want string }{
			{tandem.Week, tandem.MetricCSAT, "2026-02-09 2026-03-02"},
			{tandem.Month, tandem.MetricCSAT, "2026-02-01 2026-03-01"},
			{tandem.Week, tandem.MetricNPS, "2026-03-09"},
			{tandem.Week, tandem.MetricCES, ""},
		} {
			if got := changed(c.kind, c.metric, v0); got != c.want {
				t.Errorf("%s %s changed since %d: %q, want %q", c.kind, c.metric, v0, got, c.want)
			}
		}
		if got := changed(tandem.Week, tandem.MetricCSAT, v1); got != "" {
			t.Errorf("changed since the ingest's own version: %q, want none", got)
		}
		// Rating 1 moved a week on: its old week loses its only rating.
		if _, err := st.ReplaceRatings(ctx, []tandem.Rating{rating("1", mon.AddDate(0, 0, 8), tandem.MetricCSAT)}, testNow); err != nil {
			t.Fatal(err)
		}
		if got, want := changed(tandem.Week, tandem.MetricCSAT, v1), "2026-03-02 2026-03-09"; got != want {
			t.Errorf("after the correction, weeks changed since %d: %q, want %q", v1, got, want)
		}
		// Within March, so March's totals are what they were.
		if got := changed(tandem.Month, tandem.MetricCSAT, v1); got != "" {
			t.Errorf("after a correction within March, months changed since %d: %q, want none", v1, got)
		}
		rows, err := st.MetricTotals(ctx, tandem.Week, tandem.MetricCSAT, mon, mon.AddDate(0, 0, 7))
		if err != nil || len(rows) != 0 {
			t.Errorf("the emptied week: %d rows (%v), want none", len(rows), err)
		}
		// An ingest of duplicates only changes nothing.
		v2, _ := st.ReleasedVersion(ctx)
		if _, err := st.IngestRatings(ctx, []tandem.Rating{rating("2", mon.AddDate(0, 0, -20), tandem.MetricCSAT)}, testNow); err != nil {
			t.Fatal(err)
		}
		if got := changed(tandem.Week, tandem.MetricCSAT, v2); got != "" {
			t.Errorf("after a duplicate: %q changed, want none", got)
		}
		if _, err := st.MetricTotalsChanged(ctx, "day", tandem.MetricCSAT, from, to, 0); err == nil {
			t.Error("a period of days was accepted")
		}
	})
}
