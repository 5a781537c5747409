package helpdesk

import (
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/store"
)

// importCSV imports a ratings file as `tandem import ratings` does.
func importCSV(t *testing.T, st *store.Store, file, source string) store.IngestResult {
	t.Helper()
	return importCSVAt(t, st, file, source, now)
}

// importCSVAt imports a ratings file on the clock at.
func importCSVAt(t *testing.T, st *store.Store, file, source string, at time.Time) store.IngestResult {
	t.Helper()
	ctx := context.Background()
	dir, err := st.RatingDirectory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := ratings.NewBatch(dir, at)
	if _, err := ratings.ReadCSV(strings.NewReader(file), ratings.CSVOptions{Source: source}, b); err != nil {
		t.Fatal(err)
	}
	if err := b.Err(); err != nil {
		t.Fatalf("the export has problems: %v", err)
	}
	res, err := st.IngestRatings(ctx, b.Ratings(), at)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// export writes rows as a helpdesk export: the header, then one line per
// rating.
func export(header string, rows [][]string) string {
	var b strings.Builder
	b.WriteString(header + "\n")
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	return b.String()
}

// checkSameAsImport syncs into one store and imports file into another,
// and checks both hold the same ratings and totals; then that importing
// the file after the sync, and syncing after the import, add nothing.
func checkSameAsImport(t *testing.T, set Settings, file string, wantRatings int) {
	t.Helper()
	ctx := context.Background()
	synced, imported := newOrg(t), newOrg(t)
	c := connect(t, synced, set)
	s := newSyncer(t, synced, "a")
	if err := synced.MapHelpdeskGroups(ctx, c.ID, map[string]int64{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Groups(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := synced.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"44": unitID(t, synced, "Acme", "Support", "Tier 1")}); err != nil {
		t.Fatal(err)
	}
	got := s.runDue(t, c.ID)
	if got.Last.Added != wantRatings || got.Last.SetAside != 0 || got.LastError != "" {
		t.Fatalf("sync: %+v %q; want %d added", got.Last, got.LastError, wantRatings)
	}
	if res := importCSV(t, imported, file, c.Source); res.Accepted != wantRatings {
		t.Fatalf("import: %+v, want %d accepted", res, wantRatings)
	}
	a, b := stored(t, synced, c.Source), stored(t, imported, c.Source)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("ratings differ\nsynced:\n%s\nimported:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if ta, tb := totals(t, synced), totals(t, imported); strings.Join(ta, "\n") != strings.Join(tb, "\n") {
		t.Errorf("totals differ\nsynced:\n%s\nimported:\n%s", strings.Join(ta, "\n"), strings.Join(tb, "\n"))
	}
	// The file after the sync, and a sync after the file: nothing twice.
	if res := importCSV(t, synced, file, c.Source); res.Accepted != 0 || res.Duplicates != wantRatings {
		t.Errorf("file imported after the sync: %+v, want all %d duplicates", res, wantRatings)
	}
	c2 := connect(t, imported, set)
	s2 := newSyncer(t, imported, "b")
	s2.Groups(ctx, c2)
	imported.MapHelpdeskGroups(ctx, c2.ID, map[string]int64{"44": unitID(t, imported, "Acme", "Support", "Tier 1")})
	got = s2.runDue(t, c2.ID)
	if got.Last.Added != 0 || got.Last.Updated != 0 || got.Last.Unchanged != wantRatings {
		t.Errorf("sync after the file: %+v, want all %d unchanged", got.Last, wantRatings)
	}
	if n, _ := imported.RatingsCount(ctx); n != wantRatings {
		t.Errorf("%d ratings after file and sync, want %d", n, wantRatings)
	}
}

func TestZendeskRatingsPulledEqualRatingsImportedFromTheSameExport(t *testing.T) {
	zd := newFakeZendesk(t)
	zd.pageSize = 3
	zendeskMonth(zd)
	zd.rating(511, 9, 44, "good", "2026-02-11T09:00:00Z", "2026-02-11T10:00:00Z", "Zoe, not on the roster")
	checkSameAsImport(t, Settings{Kind: Zendesk, Account: zd.srv.URL}, legacyExport(zd), 8)
}

// legacyExport is the stand-in Zendesk's satisfaction ratings as an export
// holds them: the rating's id, when it was given, the agent (or, for Zoe,
// who is not on the roster, the unit her group is mapped to), good or bad,
// the comment.
func legacyExport(zd *fakeZendesk) string {
	var rows [][]string
	for _, r := range zd.ratings {
		email := zd.users[fmt.Sprint(r["assignee_id"])]
		unit := ""
		if email == "zoe@example.com" {
			email, unit = "", "Acme/Support/Tier 1"
		}
		rows = append(rows, []string{fmt.Sprint(r["id"]), r["updated_at"].(string), email, unit, strings.ToUpper(r["score"].(string)[:1]) + r["score"].(string)[1:], r["comment"].(string)})
	}
	return export("Satisfaction rating ID,Rated at,Assignee email,Unit path,Satisfaction score,Satisfaction comment", rows)
}

// A rating changed after its first sync, and synced again, leaves the same
// ratings and totals as the export of the helpdesk's data as it is now,
// imported once.
func TestZendeskRatingsPulledAndChangedEqualTheCurrentExportImported(t *testing.T) {
	zd := newFakeZendesk(t)
	zd.pageSize = 3
	zendeskMonth(zd)
	zd.rating(530, 1, 45, "good", "2026-02-04T09:00:00Z", "2026-02-04T09:30:00Z", "Fine")
	synced, imported := newOrg(t), newOrg(t)
	c := connect(t, synced, Settings{Kind: Zendesk, Account: zd.srv.URL})
	s := newSyncer(t, synced, "a")
	s.runDue(t, c.ID)
	zd.rating(530, 1, 45, "bad", "2026-02-04T09:00:00Z", "2026-03-03T08:00:00Z", "Broke again")
	zd.rating(502, 2, 45, "good", "2026-02-03T09:00:00Z", "2026-03-03T09:00:00Z", "Sorted out")
	later := now.Add(24 * time.Hour)
	s.Now = func() time.Time { return later }
	synced.RequestHelpdeskSync(context.Background(), c.ID)
	if got := s.runDue(t, c.ID); got.Last.Updated != 2 || got.Last.Added != 0 || got.LastError != "" {
		t.Fatalf("second sync: %+v %q; want 2 updated", got.Last, got.LastError)
	}
	if res := importCSVAt(t, imported, legacyExport(zd), c.Source, later); res.Accepted != 8 {
		t.Fatalf("import: %+v, want 8 accepted", res)
	}
	if a, b := stored(t, synced, c.Source), stored(t, imported, c.Source); strings.Join(a, "\n") != strings.Join(b, "\n") {
		t.Errorf("ratings differ\nsynced:\n%s\nimported:\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
	if ta, tb := totals(t, synced), totals(t, imported); strings.Join(ta, "\n") != strings.Join(tb, "\n") {
		t.Errorf("totals differ\nsynced:\n%s\nimported:\n%s", strings.Join(ta, "\n"), strings.Join(tb, "\n"))
	}
}

func TestFreshdeskRatingsPulledEqualRatingsImportedFromTheSameExport(t *testing.T) {
	fd := newFakeFreshdesk(t)
	fd.pageSize = 2
	fd.agents = map[int]string{11: "ana@example.com", 12: "ben@example.com", 14: "dev@example.com", 19: "zoe@example.com"}
	fd.groups = [][2]any{{44, "Support"}, {45, "Sales"}}
	fd.rating(701, 11, 45, 103, "2026-02-02T09:00:00Z", "2026-02-02T09:00:00Z", "Brilliant")
	fd.rating(702, 12, 45, -103, "2026-02-03T09:00:00Z", "2026-02-03T09:00:00Z", "Never again")
	fd.rating(703, 14, 44, 102, "2026-02-10T09:00:00Z", "2026-02-10T09:00:00Z", "")
	fd.rating(704, 14, 44, 100, "2026-02-11T09:00:00Z", "2026-02-11T09:00:00Z", "")
	fd.rating(705, 11, 44, -101, "2026-02-17T09:00:00Z", "2026-02-18T09:00:00Z", "Changed it")
	fd.rating(706, 19, 44, 101, "2026-02-24T09:00:00Z", "2026-02-24T09:00:00Z", "")
	var rows [][]string
	for _, r := range fd.ratings {
		email := fd.agents[r["agent_id"].(int)]
		unit := ""
		if email == "zoe@example.com" {
			email, unit = "", "Acme/Support/Tier 1"
		}
		rows = append(rows, []string{fmt.Sprint(r["id"]), r["updated_at"].(string), email, unit,
			fmt.Sprint(r["ratings"].(map[string]any)["default_question"]), r["feedback"].(string)})
	}
	file := export("Rating ID,Updated at,Agent email,Unit path,CSAT,Feedback", rows)
	checkSameAsImport(t, Settings{Kind: Freshdesk, Account: fd.srv.URL, Credentials: Credentials{Token: "fd-key"}}, file, 6)
	// Three pages of two, each fetched once, and the agents listed once.
	var pages, agents int
	for _, l := range fd.log {
		switch {
		case strings.HasPrefix(l, "/api/v2/surveys/satisfaction_ratings"):
			pages++
		case strings.HasPrefix(l, "/api/v2/agents"):
			agents++
		}
	}
	// Two syncs (one per store), each reading 3 pages and 2 pages of agents.
	if pages != 6 || agents != 4 {
		t.Errorf("%d rating pages and %d agent pages fetched, want 6 and 4:\n%s", pages, agents, strings.Join(fd.log, "\n"))
	}
}
