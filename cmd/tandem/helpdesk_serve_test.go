package main

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/helpdesk"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// TestServeKeepsAConnectorsRatingsCurrentOnItsSchedule: `tandem serve`
// with TANDEM_SECRET_KEY in its environment. HR connects a (stand-in)
// Zendesk on the page; the first sync stores its rating; when the
// connector is due again, the scheduler's job — no click, no file —
// stores the rating given since.
func TestServeKeepsAConnectorsRatingsCurrentOnItsSchedule(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	// `tandem serve` runs the connector's schedule and look-back on the
	// machine's clock, which a test of the whole command cannot move, so
	// the ratings and the roster are dated from it.
	day := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Hour)

	// The stand-in Zendesk: group Support, agent 135 = ana@example.com,
	// and the satisfaction ratings the test adds.
	var mu sync.Mutex
	var ratings []map[string]any
	rate := func(id int, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		ratings = append(ratings, map[string]any{"id": id, "assignee_id": 135, "group_id": 44, "requester_id": 7881, "ticket_id": 200 + id,
			"score": "good", "comment": "", "created_at": at.Format(time.RFC3339), "updated_at": at.Format(time.RFC3339)})
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@acme.example/token:zd-token"))
	zd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var body any
		switch r.URL.Path {
		case "/api/v2/groups":
			body = map[string]any{"groups": []any{map[string]any{"id": 44, "name": "Support"}}, "meta": map[string]any{"has_more": false}}
		case "/api/v2/satisfaction_ratings":
			mu.Lock()
			body = map[string]any{"satisfaction_ratings": append([]map[string]any{}, ratings...), "meta": map[string]any{"has_more": false}}
			mu.Unlock()
		case "/api/v2/users/show_many":
			body = map[string]any{"users": []any{map[string]any{"id": 135, "email": "ana@example.com"}}}
		default:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(body)
	}))
	defer zd.Close()
	rate(1001, day)

	dbPath := filepath.Join(t.TempDir(), "tandem.db")
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plan, err := st.PlanRoster(ctx, strings.NewReader("employee_id,email,name,team,hired_on\nE1,ana@example.com,Ana Silva,Acme/Support,2020-01-06\n"), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyRoster(ctx, plan, tandem.Today(time.Now())); err != nil {
		t.Fatal(err)
	}
	hash, _ := auth.HashPassword("a long enough password")
	if err := st.CreateUser(ctx, &tandem.User{Email: "hr@example.com", Role: tandem.RoleHR, PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}

	t.Setenv(helpdesk.SecretKeyEnv, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	cfg := parseServe(t, "--addr", "127.0.0.1:0", "--helpdesk-check", "200ms")
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)), func(a string) { addr <- a })
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not start")
	}
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	post := func(page, action string, form url.Values) *http.Response {
		t.Helper()
		res, err := hc.Get(base + page)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrf.FindSubmatch(b)
		if m == nil {
			t.Fatalf("no CSRF token on %s (%d)", page, res.StatusCode)
		}
		form.Set("_csrf", string(m[1]))
		res, err = hc.PostForm(base+action, form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	if res := post("/login", "/login", url.Values{"email": {"hr@example.com"}, "password": {"a long enough password"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	res := post("/helpdesk", "/helpdesk", url.Values{"kind": {"zendesk"}, "account": {zd.URL}, "email": {"admin@acme.example"}, "token": {"zd-token"},
		"zendesk_csat": {"legacy"}, "every": {"1h0m0s"}, "lookback": {"7"}, "start": {tandem.FormatDate(day.AddDate(0, 0, -7))}, "active": {"1"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/helpdesk/1" {
		t.Fatalf("connect Zendesk: %d to %q, want 303 to /helpdesk/1", res.StatusCode, res.Header.Get("Location"))
	}
	waitFor := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := st.RatingsCount(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				c, _ := st.HelpdeskConnector(ctx, 1)
				t.Fatalf("%s: %d ratings stored, want %d (connector: last %+v, error %q, next %v)", what, got, n, c.Last, c.LastError, c.NextSyncAt)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFor("first sync after connecting", 1)

	// A rating given since; an hour later (the connector's next sync moved
	// to now) the scheduler's job pulls it.
	rate(1002, day.Add(time.Hour))
	clock, err := sql.Open("sqlite3", "file:"+dbPath+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer clock.Close()
	if _, err := clock.ExecContext(ctx, "UPDATE helpdesk_connectors SET next_sync_at = ? WHERE id = 1", time.Now().Add(-time.Second).Unix()); err != nil {
		t.Fatal(err)
	}
	waitFor("the scheduled sync", 2)
}
