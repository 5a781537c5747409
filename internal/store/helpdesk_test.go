package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func newConnector(t *testing.T, st *Store, source string) HelpdeskConnector {
	t.Helper()
	c := HelpdeskConnector{Kind: "zendesk", Name: "Acme Zendesk", Source: source, BaseURL: "https://acme.zendesk.com",
		Secret: "sealed", Active: true, Every: time.Hour, Lookback: 7, StartAt: today.AddDate(0, -1, 0)}
	if err := st.CreateHelpdeskConnector(context.Background(), &c, today); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAConnectorIsSyncedByOneReplicaAtATime(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		c := newConnector(t, st, "zendesk")
		if err := st.CreateHelpdeskConnector(ctx, &HelpdeskConnector{Kind: "zendesk", Name: "Again", Source: "zendesk", BaseURL: "https://x.zendesk.com",
			Secret: "s", Every: time.Hour, StartAt: today}, today); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("a second connector with the same source: %v, want invalid", err)
		}

		// Eight replicas claim the due connector at the same moment.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var won []string
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				owner := string(rune('a' + i))
				_, ok, err := st.ClaimHelpdeskConnector(ctx, c.ID, owner, today, 5*time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					won = append(won, owner)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(won) != 1 {
			t.Fatalf("claimed by %v, want exactly one replica", won)
		}
		owner := won[0]
		if ids, _ := st.DueHelpdeskConnectors(ctx, today); len(ids) != 0 {
			t.Errorf("due while leased: %v, want none", ids)
		}
		// Another replica cannot save a page under the holder's lease.
		page := HelpdeskPage{ConnectorID: c.ID, Owner: "intruder", LeaseUntil: today.Add(time.Hour), Cursor: "x"}
		if _, err := st.SaveHelpdeskPage(ctx, page, today); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("page saved by a replica without the lease: %v, want ErrLeaseLost", err)
		}
		// The holder stalls past its lease; another replica takes over, and
		// the stalled one's late page is refused.
		later := today.Add(6 * time.Minute)
		if _, ok, _ := st.ClaimHelpdeskConnector(ctx, c.ID, "next", later, 5*time.Minute); !ok {
			t.Fatal("the connector was not claimable after its lease ran out")
		}
		page.Owner = owner
		if _, err := st.SaveHelpdeskPage(ctx, page, later); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("page saved by the stalled replica: %v, want ErrLeaseLost", err)
		}
		if err := st.FinishHelpdeskSync(ctx, c.ID, "next", HelpdeskCounts{Fetched: 3, Added: 2, Updated: 1}, "", later.Add(time.Hour), later); err != nil {
			t.Fatal(err)
		}
		got, _ := st.HelpdeskConnector(ctx, c.ID)
		if got.LeaseOwner != "" || got.Last.Added != 2 || got.TotalUpdated != 1 || !got.NextSyncAt.Equal(later.Add(time.Hour)) || got.Cursor != "" {
			t.Errorf("after the sync: %+v", got)
		}
		if ids, _ := st.DueHelpdeskConnectors(ctx, later.Add(time.Minute)); len(ids) != 0 {
			t.Errorf("due before its time: %v", ids)
		}
		if err := st.RequestHelpdeskSync(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if ids, _ := st.DueHelpdeskConnectors(ctx, later.Add(time.Minute)); len(ids) != 1 {
			t.Errorf("sync now: due %v, want the connector", ids)
		}
	})
}

func TestAPageSavesItsRatingsSetAsideAndCursorTogether(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		c := newConnector(t, st, "zendesk")
		if _, ok, err := st.ClaimHelpdeskConnector(ctx, c.ID, "me", today, time.Minute); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		rs := checkRatings(t, st, rating("1", "2026-02-10T10:00:00Z", "csat", "5", "ana@example.com"))
		aside := []SetAsideRating{{ExternalID: "2", OccurredAt: mustDate("2026-02-11"), CreatedAt: mustDate("2026-02-09"), Score: "bad",
			Agent: "zoe@example.com", Reason: "no one on the roster"}}
		res, err := st.SaveHelpdeskPage(ctx, HelpdeskPage{ConnectorID: c.ID, Owner: "me", LeaseUntil: today.Add(time.Minute),
			Ratings: rs, SetAside: aside, Cursor: "page 2"}, today)
		if err != nil || res.Accepted != 1 {
			t.Fatalf("save: %+v %v", res, err)
		}
		list, total, _ := st.HelpdeskSetAside(ctx, c.ID, 10)
		if total != 1 || list[0].ExternalID != "2" || list[0].Agent != "zoe@example.com" {
			t.Errorf("set aside %d %+v", total, list)
		}
		if oldest, _ := st.OldestHelpdeskSetAside(ctx, c.ID); !oldest.Equal(mustDate("2026-02-09")) {
			t.Errorf("oldest set aside %v, want 2026-02-09", oldest)
		}
		// A page that fails stores nothing, and leaves the cursor.
		bad := []tandem.Rating{{Source: "zendesk", ExternalID: "3", OccurredAt: today, UnitID: 999_999, Metric: "csat", Score: 4}}
		if _, err := st.SaveHelpdeskPage(ctx, HelpdeskPage{ConnectorID: c.ID, Owner: "me", LeaseUntil: today.Add(time.Minute),
			Ratings: bad, SetAside: []SetAsideRating{{ExternalID: "4", Reason: "x"}}, Cursor: "page 3"}, today); err == nil {
			t.Fatal("a page with a rating of a missing unit was saved")
		}
		got, _ := st.HelpdeskConnector(ctx, c.ID)
		if got.Cursor != "page 2" || got.SetAside != 1 {
			t.Errorf("after a failed page: cursor %q, %d set aside; want page 2 and 1", got.Cursor, got.SetAside)
		}
		// Rating 2 is attributed later (its agent joined the roster): it
		// leaves the set-aside list.
		two := checkRatings(t, st, rating("2", "2026-02-11T10:00:00Z", "csat", "bad", "dev@example.com"))
		if _, err := st.SaveHelpdeskPage(ctx, HelpdeskPage{ConnectorID: c.ID, Owner: "me", LeaseUntil: today.Add(time.Minute),
			Ratings: two, Cursor: "page 3"}, today); err != nil {
			t.Fatal(err)
		}
		if _, total, _ := st.HelpdeskSetAside(ctx, c.ID, 10); total != 0 {
			t.Errorf("%d set aside after the rating was stored, want 0", total)
		}
	})
}

func TestHelpdeskGroupsKeepTheirUnitWhenRenamed(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		tree, _ := st.Tree(ctx)
		tier1 := tree.ByPath([]string{"Acme", "Support", "Tier 1"}).ID
		c := newConnector(t, st, "zendesk")
		if err := st.SaveHelpdeskGroups(ctx, c.ID, []HelpdeskGroup{{ID: "44", Name: "Support"}, {ID: "45", Name: "Billing"}}, today); err != nil {
			t.Fatal(err)
		}
		if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"44": tier1, "45": 0}); err != nil {
			t.Fatal(err)
		}
		if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"99": tier1}); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("mapping an unknown group: %v, want invalid", err)
		}
		if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"45": 999_999}); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("mapping to a missing unit: %v, want invalid", err)
		}
		st.SaveHelpdeskGroups(ctx, c.ID, []HelpdeskGroup{{ID: "44", Name: "Support Tier 1"}}, today)
		gs, _ := st.HelpdeskGroups(ctx, c.ID)
		if len(gs) != 2 || gs[0] != (HelpdeskGroup{"45", "Billing", 0}) || gs[1] != (HelpdeskGroup{"44", "Support Tier 1", tier1}) {
			t.Errorf("groups %+v", gs)
		}
	})
}
