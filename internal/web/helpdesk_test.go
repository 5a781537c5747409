package web

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/helpdesk"
)

// standInZendesk answers as Zendesk's API documents: one group, and one
// satisfaction rating by an agent Zendesk does not list, in that group.
// While down is set it answers 503 to everything.
func standInZendesk(t *testing.T, down *atomic.Bool) *httptest.Server {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@acme.example/token:right-token"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down != nil && down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"error":"maintenance"}`)
			return
		}
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"Couldn't authenticate you"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		var body any
		switch r.URL.Path {
		case "/api/v2/groups":
			body = map[string]any{"groups": []any{map[string]any{"id": 44, "name": "Support"}}, "meta": map[string]any{"has_more": false}}
		case "/api/v2/satisfaction_ratings":
			body = map[string]any{"satisfaction_ratings": []any{map[string]any{"id": 35436, "assignee_id": 135, "group_id": 44, "requester_id": 7881,
				"ticket_id": 208, "score": "good", "comment": "Awesome support!", "created_at": "2026-02-10T09:00:00Z", "updated_at": "2026-02-10T10:00:00Z"}},
				"meta": map[string]any{"has_more": false}}
		case "/api/v2/users/show_many":
			body = map[string]any{"users": []any{}}
		default:
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newHelpdeskSyncer(t *testing.T, app *testApp, key string) *helpdesk.Syncer {
	keys, err := helpdesk.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	s := helpdesk.NewSyncer(app.st, keys, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.Now = func() time.Time { return time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) }
	s.Sleep = func(ctx context.Context, d time.Duration) error { return nil }
	app.srv.SetHelpdesk(s)
	return s
}

func TestHRConnectsAZendeskChecksTheCredentialsAndMapsItsGroup(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	zd := standInZendesk(t, nil)
	syncer := newHelpdeskSyncer(t, app, strings.Repeat("7a", 32))
	hr := app.client()
	hr.login("hr@example.com")
	form := url.Values{"kind": {"zendesk"}, "account": {zd.URL}, "email": {"admin@acme.example"}, "token": {"wrong-token"},
		"zendesk_csat": {"legacy"}, "every": {"1h0m0s"}, "lookback": {"7"}, "start": {"2026-01-01"}, "active": {"1"}}

	r := hr.postForm("/helpdesk", "/helpdesk", form)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "Zendesk refused the request: 401 Unauthorized") {
		t.Fatalf("wrong token: %d, want 422 saying Zendesk refused it:\n%s", r.status, r.body)
	}
	if cs, _ := app.st.HelpdeskConnectors(context.Background()); len(cs) != 0 {
		t.Fatalf("a connector with wrong credentials was stored: %+v", cs)
	}

	form.Set("token", "right-token")
	r = hr.postForm("/helpdesk", "/helpdesk", form)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/helpdesk/1" {
		t.Fatalf("connect: %d %s\n%s", r.status, r.header.Get("Location"), r.body)
	}
	page := hr.get("/helpdesk/1")
	if !strings.Contains(page.body, "1 groups found") || !strings.Contains(page.body, `name="group_44"`) {
		t.Errorf("connector page lacks the flash or the group Support:\n%s", page.body)
	}
	c, _ := app.st.HelpdeskConnector(context.Background(), 1)
	if strings.Contains(c.Secret, "right-token") || strings.Contains(page.body, "right-token") {
		t.Error("the token is stored or shown in clear")
	}

	// Map Support, ask for a sync, and let the sync run.
	r = hr.postForm("/helpdesk/1", "/helpdesk/1/groups", url.Values{"group_44": {itoa64(app.units["Support"])}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("map groups: %d\n%s", r.status, r.body)
	}
	if r = hr.postForm("/helpdesk/1", "/helpdesk/1/sync", nil); r.status != http.StatusSeeOther {
		t.Fatalf("sync now: %d", r.status)
	}
	if err := syncer.RunDue(context.Background(), syncer.Now()); err != nil {
		t.Fatal(err)
	}
	page = hr.get("/helpdesk/1")
	if !strings.Contains(page.body, "<strong>1</strong> new") || !strings.Contains(page.body, "Set-aside ratings (0)") {
		t.Errorf("after the sync the page does not show 1 new rating and none set aside:\n%s", page.body)
	}
	var unit int64
	app.st.DB().QueryRow("SELECT unit_id FROM csat_events WHERE source = 'zendesk' AND external_id = '35436'").Scan(&unit)
	if unit != app.units["Support"] {
		t.Errorf("rating stored in unit %d, want Support %d", unit, app.units["Support"])
	}

	// A leader cannot reach the connectors.
	lead := app.client()
	lead.login("sales.lead@example.com")
	if r := lead.get("/helpdesk/1"); r.status != http.StatusForbidden && r.status != http.StatusNotFound {
		t.Errorf("a leader opened the connector page: %d", r.status)
	}
}

func TestWithoutTheSecretKeyNoConnectorIsCreated(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	newHelpdeskSyncer(t, app, "")
	admin := app.client()
	admin.login("admin@example.com")
	page := admin.get("/helpdesk")
	if !strings.Contains(page.body, `id="no-key"`) || strings.Contains(page.body, `id="new-connector"`) {
		t.Errorf("the page offers a connector without a key:\n%s", page.body)
	}
	r := admin.postForm("/helpdesk", "/helpdesk", url.Values{"kind": {"freshdesk"}, "account": {"acme"}, "token": {"k"}, "start": {"2026-01-01"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "TANDEM_SECRET_KEY is not set") {
		t.Errorf("create without a key: %d, want 422 naming TANDEM_SECRET_KEY", r.status)
	}
}

func TestTheHelpdeskPagesListSetAsideRatingsAndTheLastSyncError(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	var down atomic.Bool
	zd := standInZendesk(t, &down)
	syncer := newHelpdeskSyncer(t, app, strings.Repeat("7a", 32))
	hr := app.client()
	hr.login("hr@example.com")
	form := url.Values{"kind": {"zendesk"}, "account": {zd.URL}, "email": {"admin@acme.example"}, "token": {"right-token"},
		"zendesk_csat": {"legacy"}, "every": {"1h0m0s"}, "lookback": {"7"}, "start": {"2026-01-01"}, "active": {"1"}}
	if r := hr.postForm("/helpdesk", "/helpdesk", form); r.status != http.StatusSeeOther {
		t.Fatalf("connect: %d\n%s", r.status, r.body)
	}
	// Support is not mapped, and Zendesk does not list the agent: the
	// rating matches no one.
	if r := hr.postForm("/helpdesk/1", "/helpdesk/1/sync", nil); r.status != http.StatusSeeOther {
		t.Fatalf("sync now: %d", r.status)
	}
	if err := syncer.RunDue(context.Background(), syncer.Now()); err != nil {
		t.Fatal(err)
	}
	page := hr.get("/helpdesk/1").body
	for _, want := range []string{"Set-aside ratings (1)", "Zendesk has no agent 135 (deleted?) and its group &#34;Support&#34; is mapped to no unit", "35436"} {
		if !strings.Contains(page, want) {
			t.Errorf("connector page lacks %q:\n%s", want, page)
		}
	}
	if list := hr.get("/helpdesk").body; !strings.Contains(list, `<a href="/helpdesk/1#set-aside">1</a>`) {
		t.Errorf("the connectors page does not link the 1 set-aside rating:\n%s", list)
	}
	if n, _ := app.st.RatingsCount(context.Background()); n != 0 {
		t.Errorf("%d ratings stored, want the set-aside one not counted", n)
	}

	// Zendesk is down at the next sync: the page says so.
	down.Store(true)
	if r := hr.postForm("/helpdesk/1", "/helpdesk/1/sync", nil); r.status != http.StatusSeeOther {
		t.Fatalf("sync now: %d", r.status)
	}
	if err := syncer.RunDue(context.Background(), syncer.Now()); err != nil {
		t.Fatal(err)
	}
	page = hr.get("/helpdesk/1").body
	i := strings.Index(page, `id="sync-error"`)
	if i < 0 || !strings.Contains(page[i:], "503") {
		t.Errorf("connector page does not show the failed sync's 503:\n%s", page)
	}
}
