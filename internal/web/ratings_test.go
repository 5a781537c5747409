package web

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
)

// zendeskExport is a Zendesk ticket export with satisfaction ratings of the
// test roster's agents (see internal/ratings/testdata): 6 rated tickets and
// 2 whose survey was not answered.
func zendeskExport(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../ratings/testdata/zendesk.csv")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func datetimeOf(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

var applyRe = regexp.MustCompile(`action="(/ratings/import/[^"]+/apply)"`)
var checkRe = regexp.MustCompile(`action="(/ratings/import/[^"]+/check)"`)

func TestRatingsUploadShowsADryRunThenImportsOnConfirm(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("hr@example.com")
	r := c.upload("/ratings/import", "zendesk-export.csv", zendeskExport(t), url.Values{"source": {"zendesk"}})
	if r.status != http.StatusOK {
		t.Fatalf("dry run: %d\n%s", r.status, r.body)
	}
	for _, want := range []string{`6<small>to add`, `2<small>unrated rows`, "6 CSAT", "2026-01-05 – 2026-02-02", "Satisfaction Score",
		"Assignee email", "Acme / Sales / EMEA", "Great help.", "Import 6 ratings"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dry run page lacks %q", want)
		}
	}
	if n := app.ratingsStored(); n != 0 {
		t.Fatalf("the dry run stored %d ratings", n)
	}
	m := applyRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no apply form on the dry-run page")
	}
	r = c.postForm("/ratings/import", m[1], nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	if n := app.ratingsStored(); n != 6 {
		t.Errorf("%d ratings stored, want 6", n)
	}
	if r := c.get("/ratings/import"); !strings.Contains(r.body, "6 ratings added") {
		t.Error("no confirmation after the import")
	}
	if r := c.postForm("/ratings/import", m[1], nil); r.status != http.StatusNotFound {
		t.Errorf("second apply of one upload: %d, want 404", r.status)
	}
	// The same export again: nothing to add.
	r = c.upload("/ratings/import", "zendesk-export.csv", zendeskExport(t), url.Values{"source": {"zendesk"}})
	if !strings.Contains(r.body, "0<small>to add") || !strings.Contains(r.body, "6 stored already") || !strings.Contains(r.body, "adds nothing") {
		t.Errorf("re-upload dry run does not say it adds nothing:\n%s", r.body)
	}
	if m := applyRe.FindStringSubmatch(r.body); m != nil {
		c.postForm("/ratings/import", m[1], nil)
	}
	if n := app.ratingsStored(); n != 6 {
		t.Errorf("%d ratings after importing the export twice, want 6", n)
	}
	audit, _ := app.st.AuditLog(context.Background(), 10)
	if len(audit) == 0 || audit[0].Action != "ratings.import" {
		t.Errorf("audit %v, want a ratings.import entry", audit)
	}
}

func TestRatingsUploadWithBadRowsListsThemByLineAndColumnAndStoresNothing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("admin@example.com")
	file := "Rated at;Agent email;Rating;Comment\n" +
		"2026-02-01 10:00;ana@example.com;5;fine\n" +
		"2026-02-01 10:00;zoe@example.com;5;\n" +
		"2021-01-01 10:00;dev@example.com;4;\n" +
		"2026-02-02 10:00;ben@example.com;11;\n"
	r := c.upload("/ratings/import", "freshdesk.csv", file, url.Values{"source": {"freshdesk"}, "metric": {"csat"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%s", r.status, r.body)
	}
	for _, want := range []string{"3 problems in 3 rows; nothing was imported", `<td class="num">3</td><td>Agent email</td>`,
		"no employee has email zoe@example.com", "before dev@example.com joined on 2022-06-01", `<td class="num">5</td><td>Rating</td>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("error page lacks %q", want)
		}
	}
	if n := app.ratingsStored(); n != 0 {
		t.Errorf("%d ratings stored from a file with bad rows, want 0", n)
	}
}

func TestRatingsUploadCanBeReadAgainWithAnotherColumnMapping(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("hr@example.com")
	file := "Case,When,Handled by,Stars\nC-1,2026-02-01T10:00:00Z,ana@example.com,4\nC-2,2026-02-01T11:00:00Z,cara@example.com,2\n"
	r := c.upload("/ratings/import", "cases.csv", file, url.Values{"source": {"crm"}, "metric": {"csat"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "no score column") {
		t.Fatalf("unknown headers: %d, want 422 naming the missing columns\n%s", r.status, r.body)
	}
	m := checkRe.FindStringSubmatch(r.body)
	if m == nil || !strings.Contains(r.body, `<option value="Handled by">`) {
		t.Fatalf("no column choice on the error page:\n%s", r.body)
	}
	r = c.postForm("/ratings/import", m[1], url.Values{"map_time": {"When"}, "map_agent": {"Handled by"}, "map_score": {"Stars"},
		"map_id": {"Case"}, "source": {"crm"}, "metric": {"csat"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "2<small>to add") {
		t.Fatalf("with the mapping: %d\n%s", r.status, r.body)
	}
	if m := applyRe.FindStringSubmatch(r.body); m == nil {
		t.Fatal("no apply form")
	} else if r := c.postForm("/ratings/import", m[1], nil); r.status != http.StatusSeeOther {
		t.Fatalf("apply: %d", r.status)
	}
	if n := app.ratingsStored(); n != 2 {
		t.Errorf("%d stored, want 2", n)
	}
}

func TestOnlyHRAndAdminsImportRatings(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("sales.lead@example.com")
	if r := c.get("/ratings/import"); r.status != http.StatusForbidden {
		t.Errorf("leader GET /ratings/import: %d, want 403", r.status)
	}
}

func TestAdminsCreateAPIKeysThatAreShownOnceAndRevokeThem(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	hr := app.client()
	hr.login("hr@example.com")
	if r := hr.get("/settings/api-keys"); r.status != http.StatusForbidden {
		t.Errorf("hr GET /settings/api-keys: %d, want 403", r.status)
	}
	c := app.client()
	c.login("admin@example.com")
	r := c.postForm("/settings/api-keys", "/settings/api-keys", url.Values{"name": {"Zendesk webhook"}, "scopes": {"ratings:write"}})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d\n%s", r.status, r.body)
	}
	token := regexp.MustCompile(`tdm_[A-Za-z0-9_-]{43}`).FindString(r.body)
	if token == "" || !strings.Contains(r.body, "shown only this once") {
		t.Fatalf("the new key is not shown:\n%s", r.body)
	}
	if r := c.get("/settings/api-keys"); strings.Contains(r.body, token) || !strings.Contains(r.body, "tdm_"+token[4:12]+"…") {
		t.Error("the list shows the whole key, or not its prefix")
	}
	body := `{"source":"zendesk","id":"1","occurred_at":"` + recent(1) + `","metric":"csat","score":5,"unit_path":"Acme/Support"}`
	if r := app.postRatings(token, body); r.status != http.StatusOK {
		t.Fatalf("the new key was refused: %d %s", r.status, r.body)
	}
	keys, _ := app.st.APIKeys(context.Background())
	if len(keys) != 1 || keys[0].LastUsedAt.IsZero() {
		t.Fatalf("keys %+v, want one, used", keys)
	}
	if r := c.get("/settings/api-keys"); !strings.Contains(r.body, datetimeOf(keys[0].LastUsedAt)) {
		t.Error("the list does not show when the key was last used")
	}
	r = c.postForm("/settings/api-keys", "/settings/api-keys/"+itoa64(keys[0].ID)+"/revoke", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if r := app.postRatings(token, body); r.status != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", r.status)
	}
	if r := c.post("/settings/api-keys/"+itoa64(keys[0].ID)+"/revoke", nil); r.status != http.StatusForbidden {
		t.Errorf("revoke without the CSRF token: %d, want 403", r.status)
	}
	audit, _ := app.st.AuditLog(context.Background(), 10)
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action)
		if strings.Contains(a.Detail, token[12:]) {
			t.Error("the audit log holds the key")
		}
	}
	if got := strings.Join(actions, " "); !strings.Contains(got, "apikey.revoke apikey.create") {
		t.Errorf("audit actions %q, want apikey.create then apikey.revoke", got)
	}
	// A bad form says what is wrong and keeps what was typed.
	r = c.postForm("/settings/api-keys", "/settings/api-keys", url.Values{"name": {"Nightly report"}, "expires": {"2001-01-01"}, "scopes": {store.ScopeReportsRead}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "has passed") || !strings.Contains(r.body, `value="Nightly report"`) {
		t.Errorf("past expiry: %d, want 400 explaining it", r.status)
	}
	r = c.postForm("/settings/api-keys", "/settings/api-keys", url.Values{"name": {"No scope"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "at least one scope") {
		t.Errorf("no scope: %d, want 400", r.status)
	}
}
