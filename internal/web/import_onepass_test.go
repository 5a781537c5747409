package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/store"
)

// TestRosterUploadReportsEveryProblemInOnePass: a file with three row
// problems and a manager who is nobody lists all four on the first upload
// (it used to say "3 problems" and name the manager on the next one). A
// row whose manager is a row with a problem is not a fifth problem.
func TestRosterUploadReportsEveryProblemInOnePass(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("hr@example.com")
	file := "EmployeeNumber,WorkEmail,Name,Team,Manager,HireDate\r\n" +
		"E20,zed@example.com,Zed Moor,Acme/Sales,E999,2020-01-01\r\n" + // line 2: unknown manager
		"E21,bad@,Bad Email,Acme/Sales,,2020-01-01\r\n" + // line 3: email
		"E22,yan@example.com,,Acme/Sales,,2020-01-01\r\n" + // line 4: no name
		"E23,xia@example.com,Xia Lin,Acme/Sales,E21,01/02/2020\r\n" + // line 5: date; E21 is line 3
		"E24,wu@example.com,Wu Chen,Acme/Sales,E1,2021-06-01\r\n" // fine: E1 is on the roster
	r := c.upload("/roster/import", "four.csv", file, nil)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%s", r.status, r.body)
	}
	if !strings.Contains(r.body, "four.csv has 4 problems") {
		t.Errorf("page does not say \"four.csv has 4 problems\":\n%s", r.body)
	}
	rows := regexp.MustCompile(`<tr><td class="num">(\d+)</td><td>([^<]*)</td>`).FindAllStringSubmatch(r.body, -1)
	var got []string
	for _, m := range rows {
		got = append(got, m[1]+" "+m[2])
	}
	want := []string{"2 Manager", "3 WorkEmail", "4 Name", "5 HireDate"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("problems at %q, want %q", got, want)
	}
	if !strings.Contains(r.body, `manager &#34;E999&#34; is neither in this file nor on the roster`) {
		t.Errorf("the unknown manager is not named:\n%s", r.body)
	}
	if zed, _, _ := app.st.Employees(context.Background(), store.EmployeeFilter{Query: "zed@"}); len(zed) != 0 {
		t.Error("a file with problems imported a row")
	}
}

// TestImportPagesShowNoCommandLineSyntax: people on the import pages
// choose columns in the form; no page or message there tells them to
// type field="header" mappings, flags or tandem commands.
func TestImportPagesShowNoCommandLineSyntax(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("admin@example.com")
	tags := regexp.MustCompile(`(?s)<[^>]*>`)
	cli := regexp.MustCompile(`[a-z_]=(&#34;|")|tandem (import|serve|user)|\s--[a-z]`)
	check := func(what string, r response) {
		t.Helper()
		text := tags.ReplaceAllString(r.body, " ")
		if m := cli.FindString(text); m != "" {
			i := strings.Index(text, m)
			t.Errorf("%s shows command-line syntax %q: …%s…", what, m, text[max(0, i-120):min(len(text), i+120)])
		}
	}
	check("the roster import page", c.get("/roster/import"))
	check("the ratings import page", c.get("/ratings/import"))
	for _, f := range []struct{ file, want string }{
		{"Ticket ID,Agent,Assignee,Rating,Date\n1,ana@example.com,ana@example.com,5,2026-01-05\n", "could each be"},
		{"Ticket ID,Agent email,Rating\n1,ana@example.com,5\n", "no date column"},
		{"Ticket ID,Agent email,Date\n1,ana@example.com,2026-01-05\n", "no score column"},
		{"Ticket ID,Rating,Date\n1,5,2026-01-05\n", "who served the customer"},
	} {
		r := c.upload("/ratings/import", "ratings.csv", f.file, url.Values{"source": {"zendesk"}, "metric": {"csat"}})
		if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, f.want) {
			t.Fatalf("ratings upload %q: %d, want 422 and %q\n%s", f.file, r.status, f.want, r.body)
		}
		check("the ratings problem "+f.want, r)
	}
	check("the roster problems", c.upload("/roster/import", "bad.csv", "email,name\nzed@example.com,Zed\n", nil))
}
