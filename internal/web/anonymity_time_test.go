package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The time-series attack: someone who saves a figure before and after one
// more answer gets that answer as n2·mean2 − n1·mean1, and a comment list
// that gains a line gives its writer's words. With the attacked
// organisation's four closed rounds in place, a fifth round is opened and
// answered one person at a time through the answer links; after every
// answer every aggregate route (pages, CSV, JSON API, as HR, leaders and
// an API key) is asked again. While the round is open each answer must be
// identical to the one before, participation counts aside. When the round
// closes, its released results are those of all the answers given.
func TestAnOpenRoundChangesNoFigureWhileAnswersArrive(t *testing.T) {
	t.Parallel() // its own server and database; among the slowest of the package
	a := newAnonOrg(t)
	ctx := context.Background()
	now := timeNow()
	open, created, err := a.st.CreateRound(ctx, &a.program, now.Truncate(time.Second), true, now)
	if err != nil || !created {
		t.Fatalf("open round: created %v, %v", created, err)
	}
	a.rounds = append(a.rounds, open)
	invs, _ := a.st.RoundInvitations(ctx, open.ID)
	emps, _ := a.st.AllEmployees(ctx)
	teamOf := map[int64]string{}
	for _, e := range emps {
		teamOf[e.ID] = a.tree.Unit(e.UnitID).Name
	}
	// Answerers from several teams, small ones included, each with their
	// own answer, so that any figure built from them would move.
	type answerer struct {
		token string
		value int // 1–5 on agreement items, 2·(v−1) on 0–10 items
		team  string
	}
	var people []answerer
	perTeam := map[string]int{}
	for _, inv := range invs {
		team := teamOf[inv.EmployeeID]
		if perTeam[team] >= 2 || team == "Sales" || team == "EMEA" || team == "Support" {
			continue
		}
		perTeam[team]++
		token := auth.NewToken()
		if err := a.st.AddInvitationToken(ctx, inv.ID, auth.HashToken(token)); err != nil {
			t.Fatal(err)
		}
		people = append(people, answerer{token, 1 + len(people)%5, team})
	}
	if len(people) < 8 {
		t.Fatalf("only %d answerers", len(people))
	}

	views := a.timeSeriesViews(open)
	snapshot := func() map[string]string {
		out := make(map[string]string, len(views))
		for _, v := range views {
			r := a.get(t, v)
			out[v.who+" "+v.path] = fmt.Sprintf("%d\n%s", r.status, withoutParticipation(r.body))
		}
		return out
	}
	before := snapshot()
	qs, _ := a.st.RoundQuestions(ctx, open.ID)
	var answered []int
	for i, p := range people {
		form := url.Values{"comment": {fmt.Sprintf("TIMESERIES-%d from %s", i, p.team)}}
		for _, q := range qs {
			name := "q" + strconv.FormatInt(q.ID, 10)
			switch q.Kind {
			case pulse.Likert5:
				form.Set(name, strconv.Itoa(p.value))
			case pulse.Scale010:
				form.Set(name, strconv.Itoa(2*(p.value-1)))
			}
		}
		if res := a.client().post("/p/"+p.token, form); res.status != http.StatusOK {
			t.Fatalf("answer %d: %d\n%.500s", i, res.status, res.body)
		}
		answered = append(answered, p.value)
		after := snapshot()
		for k, b := range before {
			if after[k] != b {
				t.Errorf("after answer %d of the open round, %s changed:\n%s", i+1, k, firstDifference(b, after[k]))
			}
		}
		for k, body := range after {
			if strings.Contains(body, "TIMESERIES-") {
				t.Errorf("after answer %d, %s shows a comment of the open round", i+1, k)
			}
		}
		if t.Failed() {
			return
		}
	}

	// Released at close: the whole organisation's figures are those of
	// every answer given.
	if _, err := a.st.CloseDueRounds(ctx, open.ClosesAt); err != nil {
		t.Fatal(err)
	}
	hr := a.viewers[anonViewHR]
	exp := hr.get(fmt.Sprintf("/rounds/%d/export.csv", open.ID))
	rows, err := csv.NewReader(strings.NewReader(exp.body)).ReadAll()
	if exp.status != http.StatusOK || err != nil || len(rows) < 2 {
		t.Fatalf("export of the closed round: %d %v\n%s", exp.status, err, exp.body)
	}
	var sum float64
	for _, v := range answered {
		sum += pulse.Score0to100(float64(v))
	}
	want := sum / float64(len(answered))
	top := rows[1] // the first unit is the whole organisation
	if n, _ := strconv.Atoi(top[1]); n != len(answered) {
		t.Errorf("the released round counts %s respondents at %s, want %d", top[1], top[0], len(answered))
	}
	if got, _ := strconv.ParseFloat(top[2], 64); math.Abs(got-want) > 0.006 {
		t.Errorf("the released engagement of %s is %s, want %.2f from the %d answers", top[0], top[2], want, len(answered))
	}
	if page := hr.get(fmt.Sprintf("/rounds/%d", open.ID)).body; !strings.Contains(page, "TIMESERIES-") {
		t.Errorf("the released round shows none of its comments")
	}
}

// timeSeriesViews are the requests of the time-series attack: every
// aggregate route's first views, and every view that names the open round.
func (a *anonOrg) timeSeriesViews(open pulse.Round) []anonView {
	var out []anonView
	for _, route := range anonRoutes() {
		vs := route.views(a)
		n := 0
		for _, v := range vs {
			names := strings.Contains(v.path, "/"+strconv.FormatInt(open.ID, 10)) || strings.Contains(v.path, "="+strconv.FormatInt(open.ID, 10))
			if names || n < 4 {
				out = append(out, v)
				n++
			}
		}
	}
	return out
}

// participationRes match how pages show participation, the one thing that
// may change while a round is open.
var participationRes = []*regexp.Regexp{
	regexp.MustCompile(`(?s)<div class="stat" id="participation">.*?</div>`),
	regexp.MustCompile(`(?s)<h2>Participation</h2>.*?(<h2|$)`),
	regexp.MustCompile(`\d+ (of|/) \d+ answered`),
	regexp.MustCompile(`\d+/\d+ answered`),
	regexp.MustCompile(`\d+(\.\d+)?%`),
	regexp.MustCompile(`<td class="num participation">\d+</td>`),
	// Not participation, but different in every answer: an error page's
	// request reference.
	regexp.MustCompile(`Reference: <span class="mono">\w+</span>`),
}

func withoutParticipation(body string) string {
	for _, re := range participationRes {
		body = re.ReplaceAllString(body, "…")
	}
	return body
}

// firstDifference quotes where two answers part.
func firstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	lo := max(i-200, 0)
	return fmt.Sprintf("before: %q\nafter:  %q", a[lo:min(i+200, len(a))], b[lo:min(i+200, len(b))])
}

// A round page once counted "N unit(s) are not shown on their own", and
// the count went up when the one member of a one-person unit answered.
// Answers are stored by storage group now, so whether that person answered
// changes no unit count: two rounds, the same but for that one answer,
// show the same units and the same count.
func TestWhetherTheOnePersonOfAUnitAnsweredChangesNoCount(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	long := timeNow().AddDate(0, 0, -300).Format(time.DateOnly)
	var b strings.Builder
	fmt.Fprintf(&b, "solo@example.com,Solo One,Acme/Solo,%s\n", long)
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, "team%d@example.com,Team %d,Acme/Team,%s\nother%d@example.com,Other %d,Acme/Other,%s\n", i, i, long, i, i, long)
	}
	anonRoster(t, app, b.String())
	p := pulse.Defaults()
	p.AudienceUnitID, p.Channel = app.units["Acme"], pulse.ChannelLog
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	emps, _ := app.st.AllEmployees(ctx)
	solo := int64(0)
	for _, e := range emps {
		if e.Email == "solo@example.com" {
			solo = e.ID
		}
	}
	hr := app.client()
	hr.login("hr@example.com")
	var pages []string
	// Two weekly rounds in the last weeks, long after everyone started.
	first := tandem.PeriodStart(tandem.Week, timeNow()).AddDate(0, 0, -14).Add(9 * time.Hour)
	for i, soloAnswers := range []bool{true, false} {
		slot := first.AddDate(0, 0, 7*i)
		r, _, err := app.st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			t.Fatal(err)
		}
		anonAnswers(t, app, r.ID, func(inv store.InvitationRef) float64 {
			if inv.EmployeeID == solo && !soloAnswers {
				return 0
			}
			return 4
		})
		if _, err := app.st.CloseDueRounds(ctx, r.ClosesAt); err != nil {
			t.Fatal(err)
		}
		page := hr.get(fmt.Sprintf("/rounds/%d", r.ID)).body
		if strings.Contains(page, "Solo") {
			t.Errorf("round %d names the one-person unit", i+1)
		}
		pages = append(pages, page)
	}
	// The count in its wording now and before (it named units then).
	counted := regexp.MustCompile(`\d+ (group\(s\) are counted in a unit above them|unit\(s\) are not shown on their own)`)
	if a, b := counted.FindString(pages[0]), counted.FindString(pages[1]); a != b {
		t.Errorf("with the one person answering the page says %q, without %q", a, b)
	}
	var shown [2][]string
	for i, page := range pages {
		for _, r := range unitRows(t, page) {
			shown[i] = append(shown[i], r.name)
		}
	}
	if strings.Join(shown[0], ",") != strings.Join(shown[1], ",") {
		t.Errorf("units shown with the one person answering %v, without %v", shown[0], shown[1])
	}
}

// A leader's participation figures are their own scope's: the dashboard
// once told the leader of a 6-person team "146 of 413 answered", the whole
// company's count.
func TestALeaderSeesTheParticipationOfTheirOwnScope(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6, "Acme/Support": 9})
	r, links := app.sendRound()
	emps, _ := app.st.AllEmployees(context.Background())
	answeredSales, answeredAll := 0, 0
	for i, e := range emps {
		link, ok := links[e.Email]
		if !ok || i%3 == 0 {
			continue
		}
		app.answer(link, 4, "")
		answeredAll++
		if strings.Contains(e.UnitPath, "Sales") {
			answeredSales++
		}
	}
	leader := app.client()
	leader.login("sales.lead@example.com")
	hr := app.client()
	hr.login("hr@example.com")
	invitedAll, invitedSales := 0, 0
	for _, e := range emps {
		if _, ok := links[e.Email]; ok {
			invitedAll++
			if strings.Contains(e.UnitPath, "Sales") {
				invitedSales++
			}
		}
	}
	for _, c := range []struct {
		who       *client
		name      string
		inv, resp int
	}{{hr, "HR", invitedAll, answeredAll}, {leader, "the Sales leader", invitedSales, answeredSales}} {
		want := fmt.Sprintf("%d / %d", c.resp, c.inv)
		if page := c.who.get(fmt.Sprintf("/rounds/%d", r.ID)).body; !strings.Contains(page, `id="participation">`+want) {
			t.Errorf("%s's round page: participation %q, want %s", c.name, regexp.MustCompile(`id="participation">[^<]*`).FindString(page), want)
		}
		want = fmt.Sprintf("%d of %d answered", c.resp, c.inv)
		if page := c.who.get("/dashboard").body; !strings.Contains(page, want) {
			t.Errorf("%s's dashboard lacks %q: %s", c.name, want, regexp.MustCompile(`\d+ of \d+ answered[^<]*`).FindString(page))
		}
	}
}
