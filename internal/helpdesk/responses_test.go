package helpdesk

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"
)

// zendeskResponsesMonth fills the stand-in Zendesk with five CSAT survey
// responses of February 2026 on tickets of Ana, Ben and Dev (on the
// roster) and Zoe (not on it, in group Support).
func zendeskResponsesMonth(zd *fakeZendesk) {
	zd.users = map[string]string{"1": "ana@example.com", "2": "ben@example.com", "4": "dev@example.com", "9": "zoe@example.com"}
	zd.groups = [][2]any{{44, "Support"}, {45, "Sales"}}
	zd.tickets = map[string][2]any{"901": {1, 45}, "902": {2, 45}, "903": {4, 44}, "904": {9, 44}, "905": {1, 45}}
	zd.response("01JR0000000000000000000001", 901, 5, "2026-02-02T09:00:00Z", "2026-02-02T09:00:00Z", "Quick")
	zd.response("01JR0000000000000000000002", 902, 2, "2026-02-03T09:00:00Z", "2026-02-03T09:10:00Z", "Slow")
	zd.response("01JR0000000000000000000003", 903, 4, "2026-02-09T09:00:00Z", "2026-02-09T09:00:00Z", "")
	zd.response("01JR0000000000000000000004", 904, 3, "2026-02-11T09:00:00Z", "2026-02-11T09:00:00Z", "Zoe, not on the roster")
	zd.response("01JR0000000000000000000005", 905, 1, "2026-02-16T09:00:00Z", "2026-02-16T10:00:00Z", "")
}

func TestZendeskSurveyResponsesAcrossPagesAreReadAndAChangedOneReplacesTheStoredOne(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zd.pageSize = 2
	zendeskResponsesMonth(zd)
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL, ZendeskCSAT: ZendeskResponses})
	ctx := context.Background()
	s := newSyncer(t, st, "a")
	if _, err := s.Groups(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"44": unitID(t, st, "Acme", "Support", "Tier 1")}); err != nil {
		t.Fatal(err)
	}
	got := s.runDue(t, c.ID)
	if got.Last.Fetched != 5 || got.Last.Added != 5 || got.Last.SetAside != 0 || got.LastError != "" {
		t.Fatalf("first sync: %+v %q; want 5 read and added", got.Last, got.LastError)
	}
	want := []string{
		`01JR0000000000000000000001 EMEA/ana@example.com 5 2026-02-02T09:00:00Z "Quick"`,
		`01JR0000000000000000000002 EMEA/ben@example.com 2 2026-02-03T09:10:00Z "Slow"`,
		`01JR0000000000000000000003 Tier 1/dev@example.com 4 2026-02-09T09:00:00Z ""`,
		`01JR0000000000000000000004 Tier 1/ 3 2026-02-11T09:00:00Z "Zoe, not on the roster"`,
		`01JR0000000000000000000005 EMEA/ana@example.com 1 2026-02-16T10:00:00Z ""`,
	}
	if g := stored(t, st, "zendesk"); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("stored\n%s\nwant\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
	// Three pages, each read once; each agent looked up once in the sync
	// although Ana's tickets are on the first and the last page.
	var pages int
	asked := map[string]int{}
	for _, l := range zd.log {
		u, _ := url.Parse(l)
		switch u.Path {
		case "/api/v2/guide/survey_responses":
			pages++
		case "/api/v2/users/show_many":
			for _, id := range strings.Split(u.Query().Get("ids"), ",") {
				asked[id]++
			}
		}
	}
	if pages != 3 || len(asked) != 4 || asked["1"] != 1 {
		t.Errorf("%d pages read, agents looked up %v; want 3 pages and each of the 4 agents once:\n%s", pages, asked, strings.Join(zd.log, "\n"))
	}

	// After the sync Ana's customer changes 1 to 4, and a response of
	// 2 March arrives.
	zd.response("01JR0000000000000000000005", 905, 4, "2026-02-16T09:00:00Z", "2026-03-02T12:30:00Z", "Sorted out in the end")
	zd.tickets["906"] = [2]any{4, 44}
	zd.response("01JR0000000000000000000006", 906, 5, "2026-03-02T12:40:00Z", "2026-03-02T12:40:00Z", "")
	s.Now = func() time.Time { return now.Add(time.Hour) }
	got = s.runDue(t, c.ID)
	if got.Last.Updated != 1 || got.Last.Added != 1 || got.LastError != "" {
		t.Errorf("second sync: %+v %q; want 1 updated and 1 added", got.Last, got.LastError)
	}
	g := strings.Join(stored(t, st, "zendesk"), "\n")
	if !strings.Contains(g, `01JR0000000000000000000005 EMEA/ana@example.com 4 2026-03-02T12:30:00Z "Sorted out in the end"`) || strings.Count(g, "01JR0000000000000000000005") != 1 {
		t.Errorf("the changed response did not replace the stored one:\n%s", g)
	}
	if n, _ := st.RatingsCount(ctx); n != 6 {
		t.Errorf("%d ratings stored, want 6", n)
	}
}

func TestZendeskSurveyResponsesPulledEqualResponsesImportedFromTheSameExport(t *testing.T) {
	zd := newFakeZendesk(t)
	zd.pageSize = 2
	zendeskResponsesMonth(zd)
	// The export: the response's id, when its rating was given, the agent
	// (or, for an agent not on the roster, the unit the group is mapped
	// to), the rating, the comment.
	var rows [][]string
	for _, r := range zd.responses {
		ticket := r["subjects"].([]any)[0].(map[string]any)["id"].(string)
		email := zd.users[strings.TrimSpace(anyString(zd.tickets[ticket][0]))]
		unit := ""
		if email == "zoe@example.com" {
			email, unit = "", "Acme/Support/Tier 1"
		}
		answers := r["answers"].([]any)
		csat := answers[0].(map[string]any)
		comment := ""
		if len(answers) > 1 {
			comment = answers[1].(map[string]any)["value"].(string)
		}
		rows = append(rows, []string{r["id"].(string), csat["updated_at"].(string), email, unit, anyString(csat["rating"]), comment})
	}
	file := export("Response ID,Updated at,Agent email,Unit path,Satisfaction score,Comment", rows)
	checkSameAsImport(t, Settings{Kind: Zendesk, Account: zd.srv.URL, ZendeskCSAT: ZendeskResponses}, file, 5)
}

func TestAChangeToASurveyResponseStillOpenForEditsIsFollowedBeyondTheLookback(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	// Customers may change a response for 28 days (its expires_at); the
	// connector follows changed ratings for 7 days only.
	zd.editWindow = 28 * 24 * time.Hour
	zendeskResponsesMonth(zd)
	zd.tickets["907"] = [2]any{2, 45}
	zd.response("01JR0000000000000000000007", 907, 5, "2026-02-27T09:00:00Z", "2026-02-27T09:00:00Z", "")
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL, ZendeskCSAT: ZendeskResponses})
	ctx := context.Background()
	s := newSyncer(t, st, "a")
	if _, err := s.Groups(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.MapHelpdeskGroups(ctx, c.ID, map[string]int64{"44": unitID(t, st, "Acme", "Support", "Tier 1")}); err != nil {
		t.Fatal(err)
	}
	if got := s.runDue(t, c.ID); got.Last.Added != 6 || got.LastError != "" {
		t.Fatalf("first sync: %+v %q; want 6 added", got.Last, got.LastError)
	}
	// Ben's customer changes the response of 3 February (open until
	// 3 March) on 2 March: 24 days before the newest response, beyond the
	// 7 days of lookback, but still open for edits.
	zd.response("01JR0000000000000000000002", 902, 4, "2026-02-03T09:00:00Z", "2026-03-02T12:30:00Z", "Sorted out in the end")
	s.Now = func() time.Time { return now.Add(time.Hour) }
	got := s.runDue(t, c.ID)
	if got.Last.Updated != 1 || got.LastError != "" {
		t.Errorf("second sync: %+v %q; want the changed response updated", got.Last, got.LastError)
	}
	if g := strings.Join(stored(t, st, "zendesk"), "\n"); !strings.Contains(g, `01JR0000000000000000000002 EMEA/ben@example.com 4 2026-03-02T12:30:00Z "Sorted out in the end"`) {
		t.Errorf("the changed response did not replace the stored one:\n%s", g)
	}
	// Once every response before the lookback is closed for edits, the
	// sync reads only the lookback again.
	s.Now = func() time.Time { return time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC) }
	s.runDue(t, c.ID)
	s.Now = func() time.Time { return time.Date(2026, 3, 20, 14, 0, 0, 0, time.UTC) }
	zd.mu.Lock()
	zd.log = nil
	zd.mu.Unlock()
	if got := s.runDue(t, c.ID); got.Last.Fetched != 1 {
		t.Errorf("sync after every older response closed: read %d, want only the response of 27 February (within the lookback)", got.Last.Fetched)
	}
}

func TestAGoodRatingOnAShorterZendeskScaleCountsAsSatisfied(t *testing.T) {
	st := newOrg(t)
	zd := newFakeZendesk(t)
	zd.users = map[string]string{"1": "ana@example.com"}
	zd.tickets = map[string][2]any{"901": {1, 45}, "902": {1, 45}, "903": {1, 45}, "904": {1, 45}, "905": {1, 45}}
	// Surveys on Zendesk's two-point custom text scale (1 bad, 2 good), on
	// its three-point scale (2 neutral, 3 good) and on the five-point
	// scale: each answer carries Zendesk's own rating_category.
	for _, r := range []struct {
		id       string
		ticket   int
		rating   int
		category string
		scale    string
	}{
		{"01JR0000000000000000000011", 901, 2, "good", "rating_scale_custom_text"},
		{"01JR0000000000000000000012", 902, 1, "bad", "rating_scale_custom_text"},
		{"01JR0000000000000000000013", 903, 3, "good", "rating_scale_emoji"},
		{"01JR0000000000000000000014", 904, 3, "neutral", "rating_scale_numeric"},
		{"01JR0000000000000000000015", 905, 2, "neutral", "rating_scale_emoji"},
	} {
		zd.response(r.id, r.ticket, r.rating, "2026-02-10T09:00:00Z", "2026-02-10T09:00:00Z", "")
		a := zd.responses[len(zd.responses)-1]["answers"].([]any)[0].(map[string]any)
		a["rating_category"] = r.category
		a["question"].(map[string]any)["type"] = r.scale
	}
	c := connect(t, st, Settings{Kind: Zendesk, Account: zd.srv.URL, ZendeskCSAT: ZendeskResponses})
	if got := newSyncer(t, st, "a").runDue(t, c.ID); got.Last.Added != 5 || got.LastError != "" {
		t.Fatalf("sync: %+v %q; want 5 added", got.Last, got.LastError)
	}
	want := []string{
		`01JR0000000000000000000011 EMEA/ana@example.com 5 2026-02-10T09:00:00Z ""`,
		`01JR0000000000000000000012 EMEA/ana@example.com 1 2026-02-10T09:00:00Z ""`,
		`01JR0000000000000000000013 EMEA/ana@example.com 5 2026-02-10T09:00:00Z ""`,
		`01JR0000000000000000000014 EMEA/ana@example.com 3 2026-02-10T09:00:00Z ""`,
		`01JR0000000000000000000015 EMEA/ana@example.com 3 2026-02-10T09:00:00Z ""`,
	}
	if g := stored(t, st, "zendesk"); strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("stored\n%s\nwant (good on a shorter scale = 5 as a legacy good, neutral = 3)\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}
