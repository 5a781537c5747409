package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func postJSON(t *testing.T, app *testApp, path, key, body string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, app.http.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return app.client().do(req)
}

func TestExitsThroughTheAPIAreAllOrNothing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	key, _, err := app.st.CreateAPIKey(ctx, "HRIS", []string{store.ScopeRosterWrite}, 0, tandem.Today(timeNow()).AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	ratingsOnly, _, _ := app.st.CreateAPIKey(ctx, "helpdesk", []string{store.ScopeRatingsWrite}, 0, tandem.Today(timeNow()).AddDate(0, 1, 0))
	if r := postJSON(t, app, "/api/v1/exits", "", `{"employee_id":"E1"}`); r.status != http.StatusUnauthorized {
		t.Errorf("no key: %d, want 401", r.status)
	}
	if r := postJSON(t, app, "/api/v1/exits", ratingsOnly, `{"employee_id":"E1","exited_on":"2026-01-31","exit_type":"voluntary"}`); r.status != http.StatusForbidden {
		t.Errorf("a key without roster:write: %d, want 403", r.status)
	}
	bad := `[{"employee_id":"E1","exited_on":"2026-01-31","exit_type":"voluntary","regretted":true},{"email":"nobody@example.com","exited_on":"2026-01-31","exit_type":"voluntary"}]`
	if r := postJSON(t, app, "/api/v1/exits", key, bad); r.status != http.StatusBadRequest || !strings.Contains(r.body, "nobody@example.com") {
		t.Fatalf("a batch with an unknown employee: %d %s", r.status, r.body)
	}
	if e, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "ana@", Status: "all"}); !e[0].ExitedOn.IsZero() {
		t.Fatal("a refused batch recorded Ana's exit")
	}
	for _, body := range []string{`{"employee_id":"E1","exited_on":"31/01/2026","exit_type":"voluntary"}`, `{"employee_id":"E1","exited_on":"2026-01-31","exit_type":"fired"}`, `{not json`} {
		if r := postJSON(t, app, "/api/v1/exits", key, body); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", body, r.status)
		}
	}
	good := `[{"employee_id":"E1","exited_on":"2026-01-31","exit_type":"voluntary","regretted":true,"reason":"career move"},{"email":"dev@example.com","exited_on":"2026-02-15","exit_type":"involuntary"}]`
	if r := postJSON(t, app, "/api/v1/exits", key, good); r.status != http.StatusOK || !strings.Contains(r.body, `"recorded":2`) {
		t.Fatalf("good batch: %d %s", r.status, r.body)
	}
	all, _ := app.st.AllEmployees(ctx)
	for _, e := range all {
		switch e.Email {
		case "ana@example.com":
			if tandem.FormatDate(e.ExitedOn) != "2026-01-31" || e.ExitType != "voluntary" || !e.Regretted || e.ExitReason != "career move" {
				t.Errorf("Ana after the exit: %+v", e)
			}
		case "dev@example.com":
			if e.ExitType != "involuntary" || e.Regretted {
				t.Errorf("Dev after the exit: %+v", e)
			}
		}
	}
}

// TestExitsAPIBodyOverItsLimitIs413 sends an exit followed by padding that
// makes the body larger than the exits API reads: before, the body was cut
// at 4 MiB without a word and the exit in front was recorded.
func TestExitsAPIBodyOverItsLimitIs413(t *testing.T) {
	t.Parallel() // its own server and database; among the slowest of the package
	app := newTestApp(t)
	ctx := context.Background()
	key, _, err := app.st.CreateAPIKey(ctx, "HRIS", []string{store.ScopeRosterWrite}, 0, tandem.Today(timeNow()).AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	one := `{"employee_id":"E1","exited_on":"2026-01-31","exit_type":"voluntary"}`
	for name, body := range map[string]string{
		"one exit and 5 MiB of spaces": one + strings.Repeat(" ", 5<<20),
		"a list of 5 MiB":              "[" + strings.Repeat(one+",", (5<<20)/len(one)) + one + "]",
	} {
		r := postJSON(t, app, "/api/v1/exits", key, body)
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "larger") {
			t.Errorf("%s: %d %.200s, want 413 saying the body is too large", name, r.status, r.body)
		}
	}
	if e, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "ana@", Status: "all"}); !e[0].ExitedOn.IsZero() {
		t.Error("a refused body recorded Ana's exit")
	}
	// Just under the limit, an exit is still recorded.
	if r := postJSON(t, app, "/api/v1/exits", key, one+strings.Repeat(" ", 3<<20)); r.status != http.StatusOK {
		t.Errorf("an exit with 3 MiB of spaces: %d %.200s, want 200", r.status, r.body)
	}
}

// TestExitsAPIRefusesOverlongFields sends an exit whose reason, employee id
// or email is over its limit: 400 naming the exit and the field, without
// quoting the value, and nothing recorded.
func TestExitsAPIRefusesOverlongFields(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	key, _, err := app.st.CreateAPIKey(ctx, "HRIS", []string{store.ScopeRosterWrite}, 0, tandem.Today(timeNow()).AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 100_000)
	for field, body := range map[string]string{
		"reason":      `{"employee_id":"E1","exited_on":"2026-01-31","exit_type":"voluntary","reason":"` + long + `"}`,
		"employee_id": `{"employee_id":"` + long + `","exited_on":"2026-01-31","exit_type":"voluntary"}`,
		"email":       `{"email":"` + long + `@example.com","exited_on":"2026-01-31","exit_type":"voluntary"}`,
	} {
		r := postJSON(t, app, "/api/v1/exits", key, `[{"employee_id":"E2","exited_on":"2026-01-31","exit_type":"voluntary"},`+body+`]`)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "exit 1: "+field) || len(r.body) > 1000 {
			t.Errorf("a long %s: %d %.300s, want a short 400 about exit 1's %s", field, r.status, r.body, field)
		}
	}
	if e, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "ben@", Status: "all"}); !e[0].ExitedOn.IsZero() {
		t.Error("a refused batch recorded Ben's exit")
	}
}
