package web

import (
	"net/http"
	"strings"
	"testing"
)

// A fresh install has a roster and no program, round, rating or exit yet.
// Every page a leader or HR opens first says so and what to do, instead of
// an error or an empty table.
func TestAFreshInstallExplainsEachEmptyPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	pages := map[string]string{
		"/dashboard":           "No pulse results yet.",
		"/results":             "No pulse results yet.",
		"/programs":            "No program yet.",
		"/service":             "No round has asked an internal-service question yet.",
		"/risks":               "No pulse results yet.",
		"/reports/correlation": "There is no pulse program yet",
	}
	// Retention: HR sees the whole organisation (5 people) with no exit
	// yet; the Sales leader's 2 people are fewer than k.
	retention := map[string]string{"hr@example.com": "(0 exits)", "sales.lead@example.com": "Fewer people than the anonymity threshold"}
	for _, who := range []string{"hr@example.com", "sales.lead@example.com"} {
		c := app.client()
		c.login(who)
		for path, want := range pages {
			if who != "hr@example.com" && path == "/programs" {
				continue // HR's page
			}
			r := c.get(path)
			if r.status != http.StatusOK || !strings.Contains(r.body, want) {
				t.Errorf("%s, %s: %d, want 200 saying %q", who, path, r.status, want)
			}
		}
		if r := c.get("/reports/retention"); r.status != http.StatusOK || !strings.Contains(r.body, retention[who]) {
			t.Errorf("%s, /reports/retention: %d, want 200 saying %q", who, r.status, retention[who])
		}
		dash := c.get("/dashboard").body
		if canEdit := who == "hr@example.com"; strings.Contains(dash, `href="/programs/new"`) != canEdit {
			t.Errorf("%s: the empty dashboard's link to create a program shown = %v, want %v", who, !canEdit, canEdit)
		}
	}
}
