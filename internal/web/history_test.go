package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// HR uploads past survey results: a bad file lists every problem and
// stores nothing; a good one shows its rounds first and imports them on
// confirmation, as imported rounds of the program's results.
func TestHistoryUploadListsEveryProblemThenDryRunsThenImports(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	p := pulse.Defaults()
	p.Name = "Monthly pulse"
	p.AudienceUnitID = app.units["Acme"]
	p.Channel = pulse.ChannelLog
	p.Cadence, _ = pulse.PresetCadence("monthly", "2024-01-01", "UTC")
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login("hr@example.com")
	if r := c.get("/roster/import"); !strings.Contains(r.body, `href="/history/import"`) {
		t.Error("the roster import page does not link to the history import")
	}
	page := c.get("/history/import")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Monthly pulse") || !strings.Contains(page.body, `<label for="map">`) {
		t.Fatalf("form: %d\n%s", page.status, page.body)
	}

	month := tandem.PeriodStart(tandem.Month, timeNow()).AddDate(0, -2, 0)
	d := tandem.FormatDate(month.AddDate(0, 0, 2))
	fields := url.Values{"program": {fmt.Sprint(p.ID)}, "map": {"eng.proud=Proud"}}
	bad := "unit;date;Proud;enps\nAcme/Sales/EMEA;" + d + ";4;9\nAcme/Nowhere;" + d + ";4;9\nAcme/Support;" + d + ";0;\n"
	r := c.upload("/history/import", "history.csv", bad, fields)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad file: %d\n%s", r.status, r.body)
	}
	for _, want := range []string{"history.csv has 2 problems; nothing was imported.", `<td class="num">3</td><td>unit</td>`, "no unit has the path",
		`<td class="num">4</td><td>Proud</td>`, "is not on the question&#39;s scale"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the problems page lacks %q", want)
		}
	}
	if rs, _ := app.st.Rounds(ctx, p.ID); len(rs) != 0 {
		t.Fatalf("a bad file stored %d rounds", len(rs))
	}

	good := "unit;date;Proud;enps;comment\n"
	for i, u := range []string{"Acme/Sales/EMEA", "Acme/Sales/EMEA", "Acme/Support", "Acme/Support", "Acme/Support"} {
		good += fmt.Sprintf("%s;%s;%d;%d;\n", u, d, 1+i, 2*i)
	}
	r = c.upload("/history/import", "history.csv", good, fields)
	if r.status != http.StatusOK {
		t.Fatalf("good file: %d\n%s", r.status, r.body)
	}
	for _, want := range []string{"5 responses into 1 imported round of <strong>Monthly pulse</strong>, one a month", month.Format("January 2006"),
		"<td>Proud</td><td>eng.proud: ", "Import the history"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the dry run lacks %q:\n%s", want, r.body)
		}
	}
	if rs, _ := app.st.Rounds(ctx, p.ID); len(rs) != 0 {
		t.Fatalf("the dry run stored %d rounds", len(rs))
	}
	m := regexp.MustCompile(`action="(/history/import/[^"]+/apply)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no apply form on the dry-run page")
	}
	r = c.postForm("/history/import", m[1], nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != fmt.Sprintf("/results/%d", p.ID) {
		t.Fatalf("apply: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	rs, _ := app.st.Rounds(ctx, p.ID)
	if len(rs) != 1 || !rs[0].Imported || rs[0].Responded != 5 || rs[0].Period != tandem.FormatDate(month) {
		t.Fatalf("rounds stored: %+v", rs)
	}
	if r := c.get(fmt.Sprintf("/results/%d", p.ID)); !strings.Contains(r.body, "Imported</a>") {
		t.Errorf("the program's results do not list the imported round:\n%s", r.body)
	}
	if r := c.get(fmt.Sprintf("/rounds/%d", rs[0].ID)); r.status != http.StatusOK || !strings.Contains(r.body, "Imported history") {
		t.Errorf("the imported round's page: %d", r.status)
	}
	if r := c.postForm("/history/import", m[1], nil); r.status != http.StatusNotFound {
		t.Errorf("second apply: %d, want 404", r.status)
	}
}
