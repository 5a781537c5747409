package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
)

// TestQuestionKindsAreShownInWords: the question bank says "Agreement 1–5",
// not the stored key likert5.
func TestQuestionKindsAreShownInWords(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("admin@example.com")
	r := c.get("/questions")
	if r.status != http.StatusOK {
		t.Fatalf("questions page: %d", r.status)
	}
	cells := regexp.MustCompile(`(?s)<td class="small">(.*?)</td>`).FindAllStringSubmatch(r.body, -1)
	if len(cells) == 0 {
		t.Fatalf("no question rows:\n%s", r.body)
	}
	words := map[string]bool{}
	for _, m := range cells {
		for _, key := range []pulse.Kind{pulse.Likert5, pulse.Scale010, pulse.Choice, pulse.Text, pulse.Service} {
			if strings.Contains(m[1], string(key)) {
				t.Errorf("a question row shows the kind as %q: %q", key, m[1])
			}
		}
		words[strings.TrimSuffix(m[1], " · custom")] = true
	}
	for _, want := range []string{"Agreement 1–5", "Scale 0–10"} {
		if !words[want] {
			t.Errorf("no question row says %q; kinds shown: %v", want, words)
		}
	}
}

// TestRoundExportNamesQuestionsByKeyAndTextWithOneENPSColumn: each question
// column of the round CSV is headed "key: text", and eNPS is one column
// (the net promoter score), not also the eNPS question's mean.
func TestRoundExportNamesQuestionsByKeyAndTextWithOneENPSColumn(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6})
	r, links := app.sendRound()
	for _, link := range links {
		app.answer(link, 4, "")
	}
	app.closeRound(r)
	hr := app.client()
	hr.login("hr@example.com")
	res := hr.get(fmt.Sprintf("/rounds/%d/export.csv", r.ID))
	if res.status != http.StatusOK {
		t.Fatalf("export: %d %s", res.status, res.body)
	}
	rows, err := csv.NewReader(strings.NewReader(res.body)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("export is not a CSV with rows (%v):\n%s", err, res.body)
	}
	head := rows[0]
	qs, err := app.st.RoundQuestions(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	enps := 0
	for _, h := range head {
		if strings.Contains(strings.ToLower(h), "enps") {
			enps++
		}
	}
	if enps != 1 {
		t.Errorf("%d columns name eNPS, want 1: %q", enps, head)
	}
	rated := 0
	for _, q := range qs {
		if (q.Kind != pulse.Likert5 && q.Kind != pulse.Scale010) || q.Driver == pulse.DriverENPS {
			continue
		}
		rated++
		want := q.Key + ": " + q.Text
		found := false
		for _, h := range head {
			found = found || h == want
		}
		if !found {
			t.Errorf("no column %q in %q", want, head)
		}
	}
	if rated == 0 {
		t.Fatal("the round has no rated question to check")
	}
	for i, row := range rows[1:] {
		if len(row) != len(head) {
			t.Errorf("row %d has %d cells for %d columns", i+1, len(row), len(head))
		}
	}
}

// TestEmployeeFormNamesTheManagerNotAnInternalID: the manager field holds
// the manager's email, and saving it unchanged keeps the manager.
func TestEmployeeFormNamesTheManagerNotAnInternalID(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	bens, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "ben@"})
	anas, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "ana@"})
	if len(bens) != 1 || len(anas) != 1 || bens[0].ManagerID != anas[0].ID {
		t.Fatalf("test roster: Ben %v, Ana %v; want Ana as Ben's manager", bens, anas)
	}
	c := app.client()
	c.login("hr@example.com")
	page := fmt.Sprintf("/employees/%d", bens[0].ID)
	r := c.get(page)
	m := regexp.MustCompile(`<input id="manager" name="manager" type="text" value="([^"]*)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no manager field on %s:\n%s", page, r.body)
	}
	if m[1] != "ana@example.com" {
		t.Errorf("manager field %q, want Ana's email ana@example.com (not her internal id %d)", m[1], anas[0].ID)
	}
	if !strings.Contains(r.body, "Now: Ana Silva") {
		t.Errorf("the page does not name the manager Ana Silva")
	}
	form := url.Values{"name": {"Ben Okafor"}, "email": {"ben@example.com"}, "external_id": {"E2"},
		"unit": {fmt.Sprint(bens[0].UnitID)}, "manager": {m[1]}, "hired_on": {"2020-01-15"}}
	if r := c.postForm(page, page, form); r.status != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.status, r.body)
	}
	if ben, _ := app.st.Employee(ctx, bens[0].ID); ben.ManagerID != anas[0].ID {
		t.Errorf("after saving the form as shown, Ben's manager is %d, want Ana (%d)", ben.ManagerID, anas[0].ID)
	}
}

// TestRevokingAnAPIKeyAsksFirst: the list links to a page that asks; only
// its form revokes.
func TestRevokingAnAPIKeyAsksFirst(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	token := app.apiKey("ratings:write")
	c := app.client()
	c.login("admin@example.com")
	keys, err := app.st.APIKeys(context.Background())
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	k := keys[0]
	list := c.get("/settings/api-keys")
	confirm := fmt.Sprintf("/settings/api-keys/%d/revoke", k.ID)
	if !strings.Contains(list.body, `href="`+confirm+`"`) || strings.Contains(list.body, `action="`+confirm+`"`) {
		t.Errorf("the list should link to the confirmation %s, not revoke at once:\n%s", confirm, list.body)
	}
	r := c.get(confirm)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Revoke key") || !strings.Contains(r.body, `action="`+confirm+`"`) {
		t.Fatalf("confirmation page: %d\n%s", r.status, r.body)
	}
	if got := app.postRatings(token, `{"source":"s","metric":"csat","ratings":[]}`); got.status == http.StatusUnauthorized {
		t.Fatal("opening the confirmation page revoked the key")
	}
	if r := c.postForm(confirm, confirm, nil); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if got := app.postRatings(token, `{"source":"s","metric":"csat","ratings":[]}`); got.status != http.StatusUnauthorized {
		t.Errorf("after revoking, the key gets %d, want 401", got.status)
	}
	if r := c.get(confirm); !strings.Contains(r.body, "was revoked") || strings.Contains(r.body, `action="`+confirm+`"`) {
		t.Errorf("the page of a revoked key should say so and offer no form:\n%s", r.body)
	}
}
