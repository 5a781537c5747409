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
)

func TestInternalServiceShowsOnlyProvidersRatedByKOrMore(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 7, "Acme/IT": 2, "Acme/Facilities": 2})
	ctx := context.Background()
	q := &pulse.Question{Text: "How well does this team support your work?", Kind: pulse.Service,
		Providers: []int64{app.units["IT"], app.units["Facilities"]}}
	if err := app.st.CreateQuestion(ctx, q); err != nil {
		t.Fatal(err)
	}
	qs, _ := app.st.Questions(ctx)
	app.program.QuestionIDs = nil
	for _, x := range qs {
		if x.Builtin || x.ID == q.ID {
			app.program.QuestionIDs = append(app.program.QuestionIDs, x.ID)
		}
	}
	app.program.QuestionsPerRound = 8
	if err := app.st.SaveProgram(ctx, &app.program); err != nil {
		t.Fatal(err)
	}
	r, links := app.sendRound()
	emps, _ := app.st.AllEmployees(ctx)
	n := 0
	for _, e := range emps {
		link, ok := links[e.Email]
		if !ok || !strings.HasSuffix(e.UnitPath, "EMEA") {
			continue
		}
		// Everyone in EMEA rates IT; only three of them rate Facilities.
		c := app.client()
		path := strings.TrimPrefix(link, app.http.URL)
		page := c.get(path)
		form := url.Values{}
		for _, m := range regexp.MustCompile(`name="(q\d+)" value="(\d+)"`).FindAllStringSubmatch(page.body, -1) {
			form.Set(m[1], "4")
		}
		name := fmt.Sprintf("q%d", q.ID)
		provider := app.units["IT"]
		if n%3 == 0 {
			provider = app.units["Facilities"]
		}
		form.Set(name+"_provider", fmt.Sprint(provider))
		form.Set(name, "5")
		if res := c.post(path, form); res.status != http.StatusOK {
			t.Fatalf("answer: %d\n%s", res.status, res.body)
		}
		n++
	}
	// A question refusing an unknown provider keeps the answers.
	c := app.client()
	var other string
	for _, e := range emps {
		if l, ok := links[e.Email]; ok && strings.HasSuffix(e.UnitPath, "IT") {
			other = strings.TrimPrefix(l, app.http.URL)
		}
	}
	res := c.post(other, url.Values{fmt.Sprintf("q%d_provider", q.ID): {"999999"}, fmt.Sprintf("q%d", q.ID): {"3"}})
	if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "choose the team you are rating") {
		t.Errorf("unknown provider: %d", res.status)
	}
	app.closeRound(r)
	rows, _ := app.st.ServiceScores(ctx, []int64{r.ID})
	total := 0
	for _, row := range rows {
		total += row.N
	}
	if total != 9 { // Ana, Ben and the seven
		t.Fatalf("%d service ratings stored, want 9", total)
	}
	hr := app.client()
	hr.login("hr@example.com")
	page := hr.get(fmt.Sprintf("/service?round=%d", r.ID))
	if page.status != http.StatusOK {
		t.Fatalf("service page: %d", page.status)
	}
	i := strings.Index(page.body, `id="providers"`)
	if i < 0 {
		t.Fatalf("no providers table:\n%s", page.body)
	}
	table := page.body[i : strings.Index(page.body[i:], "</table>")+i]
	if !strings.Contains(table, "Acme / IT") {
		t.Error("IT, rated by 6, is not shown")
	}
	if strings.Contains(page.body, "Facilities") {
		t.Error("Facilities, rated by 3 (below k), is shown")
	}
}
