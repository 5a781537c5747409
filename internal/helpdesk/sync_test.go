package helpdesk

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
)

func TestZendeskDocumentedRatingsAreReadAndAttributedByGroup(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zd.raw["/api/v2/satisfaction_ratings"] = readTestdata(t, "zendesk_satisfaction_ratings.json")
	zd.groups = [][2]any{{44, "Support"}}
	// Agents 135 and 136 are not on Tandem's roster: their group's unit
	// takes the ratings.
	zd.users = map[string]string{"135": "ann.other@example.com"}
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL, StartAt: time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC)})
	ctx := context.Background()
	if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{}); err != nil {
		t.Fatal(err)
	}
	s := newSyncer(t, st, "a")
	got := s.runDue(t, c.ID)
	// The first sync finds group 44 unmapped: both are set aside.
	if got.Last.SetAside != 2 || got.Last.Added != 0 || got.LastError != "" {
		t.Fatalf("first sync: %+v, error %q; want 2 set aside", got.Last, got.LastError)
	}
	aside, _, _ := st.HelpdeskSetAside(ctx, c.ID, 10)
	if len(aside) != 2 || !strings.Contains(aside[1].Reason, `its agent ann.other@example.com is not on the roster and its group "Support" is mapped to no unit`) ||
		!strings.Contains(aside[0].Reason, "Zendesk has no agent 136") {
		t.Errorf("set aside: %+v", aside)
	}
	if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"44": unitID(t, st, "Acme", "Support", "Tier 1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := Rewind(ctx, st, c.ID, now); err != nil {
		t.Fatal(err)
	}
	got = s.runDue(t, c.ID)
	if got.Last.Added != 2 || got.SetAside != 0 {
		t.Errorf("after mapping the group: %+v, %d set aside; want 2 added, none set aside", got.Last, got.SetAside)
	}
	want := []string{
		`120447 Tier 1/ 5 2012-02-02T10:32:59Z "Awesome support!"`,
		`35436 Tier 1/ 5 2011-07-20T22:55:29Z "Awesome support!"`,
	}
	if g := stored(t, st, "zendesk"); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("stored\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	// The request asked for ratings of every score (surveys not answered
	// yet included) from the start date, a page at a time.
	u, _ := url.Parse(zd.log[1])
	if q := u.Query(); u.Path != "/api/v2/satisfaction_ratings" || q.Has("score") || q.Get("start_time") != "1293840000" || q.Get("page[size]") != "100" {
		t.Errorf("first ratings request %s", zd.log[1])
	}
}

func TestZendeskDocumentedSurveyResponseIsReadWithItsTicketsAgent(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zd.raw["/api/v2/guide/survey_responses"] = readTestdata(t, "zendesk_survey_responses.json")
	zd.tickets["99"] = [2]any{135, 44}
	zd.users = map[string]string{"135": "dev@example.com"}
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL, ZendeskCSAT: ZendeskResponses, StartAt: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
	got := newSyncer(t, st, "a").runDue(t, c.ID)
	if got.Last.Added != 1 || got.LastError != "" {
		t.Fatalf("sync: %+v %q", got.Last, got.LastError)
	}
	want := `01J1WB51MG6HXTYWE6Q0C93RNW Tier 1/dev@example.com 1 2024-08-14T12:00:00Z "I had to repeatedly answer the same questions."`
	if g := stored(t, st, "zendesk"); len(g) != 1 || g[0] != want {
		t.Errorf("stored %q, want %q", g, want)
	}
	var sawFilter bool
	for _, l := range zd.log {
		u, _ := url.Parse(l)
		if u.Path == "/api/v2/guide/survey_responses" && u.Query().Get("filter[created_at_start]") == "1704067200000" {
			sawFilter = true
		}
	}
	if !sawFilter {
		t.Errorf("no survey response request filtered from the start date in ms: %v", zd.log)
	}
}

func TestFreshdeskDocumentedRatingsAreReadAndAMalformedOneSetAside(t *testing.T) {
	st := newOrg(t)
	fd := newFakeFreshdesk(t)
	fd.raw = readTestdata(t, "freshdesk_satisfaction_ratings.json")
	fd.agents = map[int]string{1: "Ana@Example.com"}
	c := connect(t, st, Settings{Kind: Freshdesk, Account: fd.srv.URL, Credentials: Credentials{Token: "fd-key"}, StartAt: time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)})
	got := newSyncer(t, st, "a").runDue(t, c.ID)
	if got.Last.Fetched != 2 || got.Last.Added != 1 || got.Last.SetAside != 1 {
		t.Fatalf("sync: %+v %q; want 2 read, 1 added, 1 set aside", got.Last, got.LastError)
	}
	// 103 (extremely happy) is 5.
	want := `102 EMEA/ana@example.com 5 2015-08-28T09:08:16Z "Thank you for the quick action"`
	if g := stored(t, st, "freshdesk"); len(g) != 1 || g[0] != want {
		t.Errorf("stored %q, want %q", g, want)
	}
	aside, _, _ := st.HelpdeskSetAside(context.Background(), c.ID, 10)
	if len(aside) != 1 || aside[0].ExternalID != "112" || !strings.Contains(aside[0].Reason, `"2015-08-28T011:08:16Z" is not a date-time`) {
		t.Errorf("set aside %+v, want 112 with its unreadable time", aside)
	}
	if !strings.Contains(fd.log[len(fd.log)-1], "created_since=2015-01-01T00%3A00%3A00Z") && !strings.Contains(strings.Join(fd.log, " "), "created_since=2015-01-01T00%3A00%3A00Z") {
		t.Errorf("no request filtered by created_since: %v", fd.log)
	}
}

// zendeskMonth fills the stand-in Zendesk with seven ratings of February
// 2026 by agents on the roster.
func zendeskMonth(zd *fakeZendesk) {
	zd.users = map[string]string{"1": "ana@example.com", "2": "ben@example.com", "4": "dev@example.com", "5": "eve@example.com", "9": "zoe@example.com"}
	zd.groups = [][2]any{{44, "Support"}, {45, "Sales"}}
	zd.rating(501, 1, 45, "good", "2026-02-02T09:00:00Z", "2026-02-02T10:00:00Z", "Quick")
	zd.rating(502, 2, 45, "bad", "2026-02-03T09:00:00Z", "2026-02-03T11:30:00Z", "Slow")
	zd.rating(503, 4, 44, "good", "2026-02-09T09:00:00Z", "2026-02-10T08:00:00Z", "")
	zd.rating(504, 4, 44, "good", "2026-02-10T09:00:00Z", "2026-02-10T09:30:00Z", "Great help")
	zd.rating(505, 1, 44, "bad", "2026-02-16T09:00:00Z", "2026-02-17T09:00:00Z", "")
	zd.rating(506, 2, 45, "good", "2026-02-23T09:00:00Z", "2026-02-23T12:00:00Z", "")
	zd.rating(507, 4, 44, "good", "2026-02-24T09:00:00Z", "2026-02-24T09:05:00Z", "Thanks")
}

func TestARestartMidSyncResumesWithoutLosingOrDoublingRatings(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zd.pageSize = 2
	zendeskMonth(zd)
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL})

	// Tandem stops while the third page is being fetched.
	ctx, stop := context.WithCancel(context.Background())
	third := "/api/v2/satisfaction_ratings@" + "NA" // the cursor of offset 4
	zd.onPage = func(r *http.Request) {
		if r.URL.Path+"@"+r.URL.Query().Get("page[after]") == third {
			stop()
		}
	}
	first := newSyncer(t, st, "first")
	if err := first.RunDue(ctx, now); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	got, _ := st.HelpdeskConnector(context.Background(), c.ID)
	if got.Last.Added != 4 || !strings.Contains(got.LastError, "interrupted") || got.LeaseOwner != "" {
		t.Fatalf("interrupted sync: %+v %q lease %q; want 4 added, an interruption, the lease given up", got.Last, got.LastError, got.LeaseOwner)
	}
	zd.onPage = nil

	// The restarted process carries on at once, from the third page.
	got = newSyncer(t, st, "second").runDue(t, c.ID)
	if got.Last.Added != 3 || got.Last.Unchanged != 0 || got.LastError != "" {
		t.Errorf("resumed sync: %+v %q; want the last 3 added and nothing read twice", got.Last, got.LastError)
	}
	for _, page := range []string{"", "Mg", "NA", "Ng"} {
		key := "/api/v2/satisfaction_ratings@" + page
		want := 1
		if page == "NA" {
			want = 2 // asked when Tandem stopped, and again after the restart
		}
		if n := zd.count(key); n != want {
			t.Errorf("page after %q fetched %d times, want %d", page, n, want)
		}
	}
	if g := stored(t, st, "zendesk"); len(g) != 7 {
		t.Errorf("%d ratings stored, want 7:\n%s", len(g), strings.Join(g, "\n"))
	}
	if n, _ := st.RatingsCount(context.Background()); n != 7 {
		t.Errorf("%d ratings in all, want 7", n)
	}
}

func TestARateLimitIsWaitedOutAsRetryAfterSays(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zendeskMonth(zd)
	limited := false
	zd.fail = func(r *http.Request, n int) (int, http.Header) {
		if r.URL.Path == "/api/v2/satisfaction_ratings" && !limited {
			limited = true
			return http.StatusTooManyRequests, http.Header{"Retry-After": {"37"}}
		}
		return 0, nil
	}
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL})
	s := newSyncer(t, st, "a")
	got := s.runDue(t, c.ID)
	if got.Last.Added != 7 || got.LastError != "" {
		t.Errorf("sync: %+v %q; want all 7 added", got.Last, got.LastError)
	}
	if w := s.waits(); len(w) != 1 || w[0] != 37*time.Second {
		t.Errorf("waited %v, want 37s once", w)
	}
}

func TestServerErrorsAreRetriedWithBackoffAndAnOutageEndsTheSyncUntilTheNext(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zd.pageSize = 2
	zendeskMonth(zd)
	var mu sync.Mutex
	failures := 2
	zd.fail = func(r *http.Request, n int) (int, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == "/api/v2/satisfaction_ratings" && r.URL.Query().Get("page[after]") == "Mg" && failures > 0 {
			failures--
			return http.StatusInternalServerError, nil
		}
		return 0, nil
	}
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL})
	s := newSyncer(t, st, "a")
	got := s.runDue(t, c.ID)
	if got.Last.Added != 7 || got.LastError != "" {
		t.Errorf("sync: %+v %q; want all 7 added", got.Last, got.LastError)
	}
	if w := s.waits(); len(w) != 2 || w[0] != 2*time.Second || w[1] != 4*time.Second {
		t.Errorf("waited %v, want 2s then 4s", w)
	}

	// An outage: every try of the second page fails. The first page is
	// kept, the error shown, and the next sync resumes at the second page.
	zd.rating(508, 1, 45, "good", "2026-02-25T09:00:00Z", "2026-02-25T10:00:00Z", "")
	zd.rating(509, 1, 45, "good", "2026-02-25T11:00:00Z", "2026-02-25T11:00:00Z", "")
	zd.rating(510, 1, 45, "good", "2026-02-26T11:00:00Z", "2026-02-26T11:00:00Z", "")
	mu.Lock()
	failures = 100
	mu.Unlock()
	s.Now = func() time.Time { return now.Add(time.Hour) }
	got = s.runDue(t, c.ID)
	if !strings.Contains(got.LastError, "Zendesk answered 500 Internal Server Error") || !strings.Contains(got.LastError, "gave up after 6 tries") {
		t.Errorf("error shown %q", got.LastError)
	}
	if got.Last.Unchanged != 2 {
		t.Errorf("outage sync: %+v, want the first page (2 unchanged) saved", got.Last)
	}
	mu.Lock()
	failures = 0
	mu.Unlock()
	s.Now = func() time.Time { return now.Add(2 * time.Hour) }
	got = s.runDue(t, c.ID)
	if got.LastError != "" || got.Last.Added != 3 {
		t.Errorf("after the outage: %+v %q, want the 3 new ratings added", got.Last, got.LastError)
	}
	if n, _ := st.RatingsCount(context.Background()); n != 10 {
		t.Errorf("%d ratings stored, want 10", n)
	}
}

func TestTheAgentsTeamWinsAndRatingsOfNoOneAreSetAsideWithoutHoldingBackTheRest(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zendeskMonth(zd)
	// Zoe is not on the roster; Eve left on 31 January; 512 names an
	// agent Zendesk does not know, in an unmapped group.
	zd.rating(511, 9, 44, "good", "2026-02-11T09:00:00Z", "2026-02-11T10:00:00Z", "")
	zd.rating(512, 77, 45, "bad", "2026-02-12T09:00:00Z", "2026-02-12T10:00:00Z", "")
	zd.rating(513, 5, 44, "bad", "2026-02-12T09:00:00Z", "2026-02-12T10:00:00Z", "")
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL})
	ctx := context.Background()
	// Group Support is mapped to Tier 1: Zoe's rating goes there. Ana's
	// rating in that group (505) stays with Ana's own team, EMEA.
	s := newSyncer(t, st, "a")
	if _, err := s.Groups(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"44": unitID(t, st, "Acme", "Support", "Tier 1")}); err != nil {
		t.Fatal(err)
	}
	got := s.runDue(t, c.ID)
	if got.Last.Added != 8 || got.Last.SetAside != 2 {
		t.Errorf("sync: %+v; want 8 added and 2 set aside", got.Last)
	}
	g := strings.Join(stored(t, st, "zendesk"), "\n")
	for _, want := range []string{`505 EMEA/ana@example.com 1 `, `511 Tier 1/ 5 `} {
		if !strings.Contains(g, want) {
			t.Errorf("stored ratings lack %q:\n%s", want, g)
		}
	}
	aside, total, _ := st.HelpdeskSetAside(ctx, c.ID, 10)
	reasons := map[string]string{}
	for _, a := range aside {
		reasons[a.ExternalID] = a.Reason
	}
	if total != 2 || !strings.Contains(reasons["512"], `Zendesk has no agent 77 (deleted?) and its group "Sales" is mapped to no unit`) ||
		!strings.Contains(reasons["513"], "after eve@example.com left on 2026-01-31") {
		t.Errorf("set aside %d: %v", total, reasons)
	}
}

func TestARatingChangedInTheHelpdeskReplacesTheStoredOne(t *testing.T) {
	eachOrg(t, func(t *testing.T, st *store.Store) {
		zd := newFakeZendesk(t)
		zendeskMonth(zd)
		c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL})
		s := newSyncer(t, st, "a")
		s.runDue(t, c.ID)
		before := totals(t, st)

		// Ben's customer changes 506 from good to bad the next day, and a
		// rating of 1 March arrives.
		zd.rating(506, 2, 45, "bad", "2026-02-23T09:00:00Z", "2026-02-24T08:00:00Z", "Changed my mind")
		zd.rating(514, 4, 44, "good", "2026-03-01T09:00:00Z", "2026-03-01T09:10:00Z", "")
		s.Now = func() time.Time { return now.Add(time.Hour) }
		got := s.runDue(t, c.ID)
		if got.Last.Updated != 1 || got.Last.Added != 1 || got.TotalUpdated != 1 {
			t.Errorf("second sync: %+v, total updated %d; want 1 updated and 1 added", got.Last, got.TotalUpdated)
		}
		g := strings.Join(stored(t, st, "zendesk"), "\n")
		if !strings.Contains(g, `506 EMEA/ben@example.com 1 2026-02-24T08:00:00Z "Changed my mind"`) {
			t.Errorf("506 not replaced:\n%s", g)
		}
		// EMEA's week of 23 Feb had 506 alone (good); now it has it bad.
		after := strings.Join(totals(t, st), "\n")
		for _, want := range []string{"week 2026-02-23 EMEA n=1 sum=1 top=0", "month 2026-02-01 EMEA n=4 sum=8 top=1", "month 2026-03-01 Tier 1 n=1 sum=5 top=1"} {
			if !strings.Contains(after, want) {
				t.Errorf("totals lack %q:\nbefore\n%s\nafter\n%s", want, strings.Join(before, "\n"), after)
			}
		}
	})
}

func TestTwoReplicasSyncAConnectorOnce(t *testing.T) {
	eachOrg(t, func(t *testing.T, st *store.Store) {
		zd := newFakeZendesk(t)
		zd.pageSize = 2
		zendeskMonth(zd)
		c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL})
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, name := range []string{"one", "two", "three"} {
			s := newSyncer(t, st, name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				if err := s.RunDue(context.Background(), now); err != nil {
					t.Error(err)
				}
			}()
		}
		close(start)
		wg.Wait()
		for _, page := range []string{"", "Mg", "NA", "Ng"} {
			if n := zd.count("/api/v2/satisfaction_ratings@" + page); n != 1 {
				t.Errorf("page after %q fetched %d times by three replicas, want once", page, n)
			}
		}
		got, _ := st.HelpdeskConnector(context.Background(), c.ID)
		if got.TotalAdded != 7 {
			t.Errorf("added %d in all, want 7", got.TotalAdded)
		}
		if n, _ := st.RatingsCount(context.Background()); n != 7 {
			t.Errorf("%d ratings stored, want 7", n)
		}
	})
}

func TestWrongCredentialsAndAMissingKeyAreShownOnTheConnector(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL, Credentials: Credentials{Email: "admin@acme.example", Token: "wrong"}})
	got := newSyncer(t, st, "a").runDue(t, c.ID)
	if !strings.Contains(got.LastError, "Zendesk refused the request: 401 Unauthorized") || !strings.Contains(got.LastError, "check the credentials") {
		t.Errorf("error %q", got.LastError)
	}
	if !got.NextSyncAt.Equal(now.Add(time.Hour)) {
		t.Errorf("next sync %v, want in an hour", got.NextSyncAt)
	}
	// A replica started without TANDEM_SECRET_KEY syncs nothing and says why.
	st.RequestHelpdeskSync(context.Background(), c.ID)
	nokey := newSyncer(t, st, "b")
	nokey.keys = nil
	got = nokey.runDue(t, c.ID)
	if !strings.Contains(got.LastError, "TANDEM_SECRET_KEY is not set") {
		t.Errorf("without a key: %q", got.LastError)
	}
	if _, err := Connector(Settings{Kind: Zendesk, Account: "acme", Credentials: Credentials{Email: "a@b.c", Token: "t"}, StartAt: now}, nil, nil); !errors.Is(err, ErrNoKey) {
		t.Errorf("a connector built without a key: %v, want ErrNoKey", err)
	}
}

func TestALegacySurveyAnsweredAfterTheLookbackIsStillPulled(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zendeskMonth(zd)
	// Ben's customer was offered a survey on 5 February and has not
	// answered yet; the newest rating is of 24 February, so the lookback
	// of 7 days alone would read from 17 February on.
	zd.rating(520, 2, 45, "offered", "2026-02-05T09:00:00Z", "2026-02-05T09:00:00Z", "")
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL})
	s := newSyncer(t, st, "a")
	if got := s.runDue(t, c.ID); got.Last.Added != 7 || got.Last.Unrated != 1 || got.LastError != "" {
		t.Fatalf("first sync: %+v %q; want 7 added and 1 survey not answered", got.Last, got.LastError)
	}
	// On 2 March the customer answers: Zendesk keeps the rating's
	// created_at (when the survey was offered) and updates the rest.
	zd.rating(520, 2, 45, "bad", "2026-02-05T09:00:00Z", "2026-03-02T12:30:00Z", "Too late")
	s.Now = func() time.Time { return now.Add(time.Hour) }
	got := s.runDue(t, c.ID)
	if got.Last.Added != 1 || got.LastError != "" {
		t.Errorf("sync after the late answer: %+v %q; want it added", got.Last, got.LastError)
	}
	if g := strings.Join(stored(t, st, "zendesk"), "\n"); !strings.Contains(g, `520 EMEA/ben@example.com 1 2026-03-02T12:30:00Z "Too late"`) {
		t.Errorf("the late answer is not stored:\n%s", g)
	}
}

// Zendesk's legacy endpoint filters on created_at, and a customer may
// change a rating until the ticket closes, at most 28 days after it is
// solved: every sync must read the last 28 days again, whatever the
// connector's "follow changed ratings for".
func TestALegacyRatingChangedLateInItsWindowReplacesTheStoredOneAndNothingIsDoubled(t *testing.T) {
	eachOrg(t, func(t *testing.T, st *store.Store) {
		zd := newFakeZendesk(t)
		zendeskMonth(zd)
		// Ana's customer rated her good on 4 February.
		zd.rating(530, 1, 45, "good", "2026-02-04T09:00:00Z", "2026-02-04T09:30:00Z", "Fine")
		c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL, Lookback: 7})
		s := newSyncer(t, st, "a")
		if got := s.runDue(t, c.ID); got.Last.Added != 8 || got.LastError != "" {
			t.Fatalf("first sync: %+v %q; want 8 added", got.Last, got.LastError)
		}
		before := totals(t, st)

		// On 3 March, 27 days after the rating and 7 after the newest one,
		// the customer changes it to bad.
		zd.rating(530, 1, 45, "bad", "2026-02-04T09:00:00Z", "2026-03-03T08:00:00Z", "Broke again")
		s.Now = func() time.Time { return now.Add(24 * time.Hour) }
		st.RequestHelpdeskSync(context.Background(), c.ID)
		got := s.runDue(t, c.ID)
		if got.Last.Updated != 1 || got.Last.Added != 0 || got.Last.Unchanged != 7 || got.LastError != "" {
			t.Errorf("second sync: %+v %q; want 530 updated, the other 7 unchanged, nothing added", got.Last, got.LastError)
		}
		// The pass read back 28 days from the newest rating (24 February).
		want := "start_time=" + strconv.FormatInt(time.Date(2026, 1, 27, 9, 0, 0, 0, time.UTC).Unix(), 10)
		var last string
		for _, l := range zd.log {
			if strings.HasPrefix(l, "/api/v2/satisfaction_ratings?") {
				last = l
			}
		}
		if !strings.Contains(last, want) {
			t.Errorf("second sync read %s, want %s", last, want)
		}
		g := strings.Join(stored(t, st, "zendesk"), "\n")
		if !strings.Contains(g, `530 EMEA/ana@example.com 1 2026-03-03T08:00:00Z "Broke again"`) {
			t.Errorf("530 not replaced:\n%s", g)
		}
		if n, _ := st.RatingsCount(context.Background()); n != 8 {
			t.Errorf("%d ratings stored, want 8: the change replaced the rating, not added one", n)
		}
		// 530 now counts in the week and month of its new time (the
		// weekly and monthly totals are by the time the score was given),
		// and no longer in February's.
		after := strings.Join(totals(t, st), "\n")
		for _, want := range []string{"month 2026-02-01 EMEA n=4 sum=12 top=2", "month 2026-03-01 EMEA n=1 sum=1 top=0"} {
			if !strings.Contains(after, want) {
				t.Errorf("totals lack %q:\nbefore\n%s\nafter\n%s", want, strings.Join(before, "\n"), after)
			}
		}
	})
}

func TestAFreshdeskRatingChangedAfterItsFirstSyncReplacesTheStoredOne(t *testing.T) {
	eachOrg(t, func(t *testing.T, st *store.Store) {
		fd := newFakeFreshdesk(t)
		fd.pageSize = 2
		fd.agents = map[int]string{11: "ana@example.com", 14: "dev@example.com"}
		fd.groups = [][2]any{{44, "Support"}, {45, "Sales"}}
		fd.rating(701, 11, 45, 103, "2026-02-02T09:00:00Z", "2026-02-02T09:00:00Z", "Brilliant")
		fd.rating(702, 14, 44, 100, "2026-02-20T09:00:00Z", "2026-02-20T09:00:00Z", "")
		fd.rating(703, 14, 44, 102, "2026-02-24T09:00:00Z", "2026-02-24T09:00:00Z", "")
		c := connect(t, st, Settings{Kind: Freshdesk, Account: fd.srv.URL, Credentials: Credentials{Token: "fd-key"}})
		s := newSyncer(t, st, "a")
		if got := s.runDue(t, c.ID); got.Last.Added != 3 || got.LastError != "" {
			t.Fatalf("first sync: %+v %q; want 3 added", got.Last, got.LastError)
		}
		// Dev's customer changes 702 from neutral to extremely unhappy,
		// inside the connector's 7 days.
		fd.rating(702, 14, 44, -103, "2026-02-20T09:00:00Z", "2026-03-02T15:00:00Z", "It broke again")
		s.Now = func() time.Time { return now.Add(6 * time.Hour) }
		st.RequestHelpdeskSync(context.Background(), c.ID)
		got := s.runDue(t, c.ID)
		if got.Last.Updated != 1 || got.Last.Added != 0 || got.LastError != "" {
			t.Errorf("second sync: %+v %q; want 702 updated and nothing added", got.Last, got.LastError)
		}
		if g := strings.Join(stored(t, st, "freshdesk"), "\n"); !strings.Contains(g, `702 Tier 1/dev@example.com 1 2026-03-02T15:00:00Z "It broke again"`) {
			t.Errorf("702 not replaced:\n%s", g)
		}
		if n, _ := st.RatingsCount(context.Background()); n != 3 {
			t.Errorf("%d ratings stored, want 3", n)
		}
	})
}
