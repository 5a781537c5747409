package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// newCorrelationApp is a testApp with eight weeks of pulse rounds and
// customer ratings for these teams under Acme (k = 5, everyone answers):
//
//	Ops/Alpha 6, Ops/Bravo 5, Ops/Tiny 2, Care/C1…C4 6 each.
//
// Tiny (4) is below k, so its people are stored with Ops' one direct
// member, as the group Ops. Ops' member does not answer, so in every round
// Ops' own respondents are Tiny's four, and Bravo, with 5 respondents, is
// hidden by complementary suppression: showing Ops, Alpha and Bravo would
// give those four answers as Ops − Alpha − Bravo. Every team, hidden or
// not, has customer ratings, so only the anonymity rule keeps Bravo and
// Tiny out.
func newCorrelationApp(t *testing.T) *testApp {
	t.Helper()
	app := newTestApp(t)
	ctx := context.Background()
	teams := []struct {
		path string
		size int
	}{{"Acme/Ops", 1}, {"Acme/Ops/Alpha", 6}, {"Acme/Ops/Bravo", 5}, {"Acme/Ops/Tiny", 4},
		{"Acme/Care/C1", 6}, {"Acme/Care/C2", 6}, {"Acme/Care/C3", 6}, {"Acme/Care/C4", 6}}
	var b strings.Builder
	b.WriteString("email,name,team\n")
	n := 0
	for _, tm := range teams {
		for i := 0; i < tm.size; i++ {
			n++
			fmt.Fprintf(&b, "c%d@example.com,Person %d,%s\n", n, n, tm.path)
		}
	}
	plan, err := app.st.PlanRoster(ctx, strings.NewReader(b.String()), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := timeNow()
	if _, err := app.st.ApplyRoster(ctx, plan, tandem.Today(now).AddDate(0, 0, -200)); err != nil {
		t.Fatal(err)
	}
	tree, _ := app.st.Tree(ctx)
	level := map[int64]float64{}
	rng := rand.New(rand.NewPCG(3, 5))
	for _, u := range tree.Walk() {
		app.units[u.Name] = u.ID
		level[u.ID] = 2.6 + 1.8*rng.Float64()
	}
	p := pulse.Defaults()
	p.AudienceUnitID = app.units["Acme"]
	p.Channel = pulse.ChannelLog
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	// Answers come by storage group (an invitation names its group); in
	// Ops all but one answer.
	answering := map[int64]bool{}
	for _, name := range []string{"Alpha", "Bravo", "Ops", "C1", "C2", "C3", "C4"} {
		answering[app.units[name]] = true
	}
	rated := []int64{app.units["Alpha"], app.units["Bravo"], app.units["Tiny"], app.units["C1"], app.units["C2"], app.units["C3"], app.units["C4"]}
	var ratings []tandem.Rating
	for w := 8; w >= 1; w-- {
		monday := tandem.PeriodStart(tandem.Week, now.AddDate(0, 0, -7*w))
		slot := monday.Add(9 * time.Hour)
		r, _, err := app.st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			t.Fatal(err)
		}
		qs, _ := app.st.RoundQuestions(ctx, r.ID)
		invs, _ := app.st.RoundInvitations(ctx, r.ID)
		week := map[int64]float64{}
		for _, u := range tree.Walk() {
			week[u.ID] = level[u.ID] + rng.NormFloat64()*0.3
		}
		var rs []store.RecordedResponse
		skipped := false
		for _, inv := range invs {
			if !answering[inv.UnitID] {
				continue
			}
			if inv.UnitID == app.units["Ops"] && !skipped {
				skipped = true
				continue
			}
			rec := store.RecordedResponse{InvitationID: inv.ID}
			for _, q := range qs {
				v := week[inv.UnitID] + rng.NormFloat64()*0.5
				switch q.Kind {
				case pulse.Likert5:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: math.Max(1, math.Min(5, math.Round(v))), HasValue: true})
				case pulse.Scale010:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: math.Max(0, math.Min(10, math.Round(2*v))), HasValue: true})
				}
			}
			rs = append(rs, rec)
		}
		if err := app.st.RecordResponses(ctx, r.ID, rs); err != nil {
			t.Fatal(err)
		}
		for _, u := range rated {
			for i := 0; i < 8; i++ {
				score := math.Max(1, math.Min(5, math.Round(week[u]+rng.NormFloat64()*0.6)))
				ratings = append(ratings, tandem.Rating{Source: "test", ExternalID: fmt.Sprintf("%d-%d-%d", w, u, i),
					OccurredAt: monday.AddDate(0, 0, 1+i%5).Add(10 * time.Hour), UnitID: u, Metric: tandem.MetricCSAT, Score: score})
			}
		}
	}
	if _, err := app.st.IngestRatings(ctx, ratings, now); err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.CloseDueRounds(ctx, now); err != nil {
		t.Fatal(err)
	}
	return app
}

// hiddenNames are the teams below k, or hidden by complementary
// suppression, in every round of newCorrelationApp.
var hiddenNames = []string{"Bravo", "Tiny"}

func assertNoHiddenTeam(t *testing.T, what, body string) {
	t.Helper()
	for _, name := range hiddenNames {
		if strings.Contains(body, name) {
			t.Errorf("%s names %s, a team hidden in every round", what, name)
		}
	}
}

func TestCorrelationReportShowsOnlyTeamsTheRoundsShowInEveryFormat(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	c := app.client()
	c.login("admin@example.com")

	page := c.get("/reports/correlation")
	if page.status != http.StatusOK {
		t.Fatalf("page: %d\n%s", page.status, page.body)
	}
	for _, want := range []string{"Across 5 teams over 8 weeks", "This is a correlation, not proof of cause.", "<svg", "<title>Acme / Care / C2, week ",
		"Pearson r", "Spearman", "rmcorr", "Benjamini", "Least-squares line", "Download the pairs (CSV)", "Acme / Ops / Alpha"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page.body, "style=") {
		t.Error("page carries inline style attributes; the CSP forbids them")
	}
	assertNoHiddenTeam(t, "page", page.body)

	csv := c.get("/reports/correlation.csv")
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", csv.status, csv.header.Get("Content-Type"))
	}
	lines := strings.Split(strings.TrimSpace(csv.body), "\n")
	if lines[0] != "team,team_id,period,customer_period,engagement,customer,ratings,respondents" {
		t.Errorf("csv header %q", lines[0])
	}
	if len(lines) != 1+5*8 {
		t.Errorf("csv has %d pairs, want 40 (5 shown teams × 8 weeks)", len(lines)-1)
	}
	assertNoHiddenTeam(t, "csv", csv.body)

	js := c.get("/api/v1/reports/correlation")
	if js.status != http.StatusOK {
		t.Fatalf("json: %d %s", js.status, js.body)
	}
	assertNoHiddenTeam(t, "json", js.body)
	var res report.Correlation
	if err := json.Unmarshal([]byte(js.body), &res); err != nil {
		t.Fatal(err)
	}
	if res.NPairs != 40 || res.NTeams != 5 || res.NPeriods != 8 || len(res.Lags) != 7 {
		t.Errorf("json: %d pairs, %d teams, %d periods, %d lags", res.NPairs, res.NTeams, res.NPeriods, len(res.Lags))
	}
	if strings.Contains(js.body, `"pairs"`) {
		t.Errorf("the report's JSON carries the pairs; they belong to the pairs API")
	}
	// The pairs, page by page: three pages of 15 hold the 40 pairs of the
	// CSV, in its order.
	var pairs []report.Pair
	for page := 1; page <= 3; page++ {
		r := c.get(fmt.Sprintf("/api/v1/reports/correlation/pairs?per_page=15&page=%d", page))
		if r.status != http.StatusOK {
			t.Fatalf("pairs page %d: %d %s", page, r.status, r.body)
		}
		assertNoHiddenTeam(t, "pairs", r.body)
		var pg report.PairsPage
		if err := json.Unmarshal([]byte(r.body), &pg); err != nil {
			t.Fatal(err)
		}
		if pg.NPairs != 40 || pg.Pages != 3 || pg.Page != page {
			t.Errorf("pairs page %d: n_pairs %d, pages %d, page %d", page, pg.NPairs, pg.Pages, pg.Page)
		}
		pairs = append(pairs, pg.Pairs...)
	}
	if len(pairs) != 40 {
		t.Errorf("the pages hold %d pairs, want 40", len(pairs))
	}
	for i, p := range pairs {
		if i+1 < len(lines) && !strings.HasPrefix(lines[i+1], p.Team+","+fmt.Sprint(p.TeamID)+","+p.Period+",") {
			t.Errorf("pair %d on the pages %+v, in the CSV %q", i, p, lines[i+1])
		}
	}
	if r := c.get("/api/v1/reports/correlation/pairs?per_page=0"); r.status != http.StatusBadRequest || !strings.Contains(r.body, "per_page") {
		t.Errorf("per_page=0: %d %s", r.status, r.body)
	}
	teams := map[string]bool{}
	for _, p := range pairs {
		teams[p.Team] = true
		if p.Respondents < 5 {
			t.Errorf("pair from %d respondents: %+v", p.Respondents, p)
		}
	}
	for _, want := range []string{"Acme / Ops / Alpha", "Acme / Care / C1", "Acme / Care / C4"} {
		if !teams[want] {
			t.Errorf("json pairs lack %s: %v", want, teams)
		}
	}
	for _, key := range []string{`"pearson":{"r":`, `"rmcorr":{"r":`, `"fit":{"intercept":`, `"drivers":[`, `"summary":"Across 5 teams`} {
		if !strings.Contains(js.body, key) {
			t.Errorf("json lacks %s", key)
		}
	}

	// Every measure, and the monthly view, keep the hidden teams out too.
	for _, q := range []string{"measure=enps", "measure=driver:manager", "period=month&customer=nps", "lag=2"} {
		for _, path := range []string{"/reports/correlation?", "/reports/correlation.csv?", "/api/v1/reports/correlation?"} {
			r := c.get(path + q)
			if r.status != http.StatusOK {
				t.Errorf("%s%s: %d", path, q, r.status)
			}
			assertNoHiddenTeam(t, path+q, r.body)
		}
	}
}

func TestLeaderCannotOpenTheCorrelationReportOfAnotherUnit(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	c := app.client()
	c.login("sales.lead@example.com")
	care := fmt.Sprint(app.units["Care"])
	for _, path := range []string{
		"/reports/correlation?unit=" + care, "/reports/correlation?unit=Acme/Care", "/reports/correlation.csv?unit=" + care,
		"/api/v1/reports/correlation?unit=" + care, "/reports/correlation?unit=Acme",
	} {
		r := c.get(path)
		if r.status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, r.status)
		}
		// Team names as the report writes them: a bare "C1" also turns up
		// in the page's random CSRF token and error reference now and then.
		if strings.Contains(r.body, "Alpha") || strings.Contains(r.body, "Care / C1") {
			t.Errorf("%s: the refusal shows data of another unit", path)
		}
	}
	// Their own scope: no data of other units, and an honest "no data".
	r := c.get("/reports/correlation")
	if r.status != http.StatusOK || !strings.Contains(r.body, "No data to correlate") {
		t.Errorf("own scope: %d, want 200 with a no-data warning", r.status)
	}
	if strings.Contains(r.body, "Alpha") || strings.Contains(r.body, "Care /") {
		t.Error("a leader of Sales sees teams outside Sales")
	}
	js := c.get("/api/v1/reports/correlation")
	if js.status != http.StatusOK || !strings.Contains(js.body, `"n_pairs":0`) || !strings.Contains(js.body, `"pearson":{"r":null`) {
		t.Errorf("own scope JSON: %d %s", js.status, js.body)
	}
}

func TestCorrelationReportRefusesBadParametersWithA400ThatSaysWhy(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("hr@example.com")
	for _, tc := range []struct{ query, field, want string }{
		{"measure=happiness", "measure", `measure must be index, enps or driver:&lt;key&gt;; got &#34;happiness&#34;`},
		{"customer=stars", "customer", `customer must be csat, nps or ces`},
		{"period=day", "period", `period must be week or month`},
		{"lag=9", "lag", `lag must be a whole number of periods from -6 to 6`},
		{"from=yesterday", "from", `from must be a date written YYYY-MM-DD`},
		{"from=2025-05-01&to=2025-04-01", "from", `must not be after to`},
		{"min_ratings=0", "min_ratings", `min_ratings must be a whole number of at least 1`},
	} {
		r := c.get("/reports/correlation?" + tc.query)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) {
			t.Errorf("page ?%s: %d, want 400 with %q", tc.query, r.status, tc.want)
		}
		if !strings.Contains(r.body, `action="/reports/correlation"`) {
			t.Errorf("page ?%s: the form is not shown again", tc.query)
		}
		js := c.get("/api/v1/reports/correlation?" + tc.query)
		var body struct {
			Error struct{ Code, Message, Field string }
		}
		json.Unmarshal([]byte(js.body), &body)
		if js.status != http.StatusBadRequest || body.Error.Field != tc.field || body.Error.Message == "" || body.Error.Code != tandem.EINVALID {
			t.Errorf("json ?%s: %d %s, want 400 on field %s", tc.query, js.status, js.body, tc.field)
		}
		if csv := c.get("/reports/correlation.csv?" + tc.query); csv.status != http.StatusBadRequest {
			t.Errorf("csv ?%s: %d, want 400", tc.query, csv.status)
		}
	}
	if r := c.get("/reports/correlation?unit=Nowhere/At/All"); r.status != http.StatusNotFound {
		t.Errorf("unknown unit: %d, want 404", r.status)
	}
	if r := c.get("/reports/correlation?program=999"); r.status != http.StatusNotFound {
		t.Errorf("unknown program: %d, want 404", r.status)
	}
}

func TestCorrelationAPIAnswersAKeyWithTheReportsScope(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	ctx := context.Background()
	read, _, err := app.st.CreateAPIKey(ctx, "bi", []string{store.ScopeReportsRead}, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	write, _, err := app.st.CreateAPIKey(ctx, "helpdesk", []string{store.ScopeRatingsWrite}, 0, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(key, query string) response {
		req, _ := http.NewRequest(http.MethodGet, app.http.URL+"/api/v1/reports/correlation"+query, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return app.client().do(req)
	}
	r := get(read, "?measure=driver:growth")
	if r.status != http.StatusOK || !strings.Contains(r.body, `"n_teams":5`) {
		t.Fatalf("reports key: %d %s", r.status, r.body)
	}
	assertNoHiddenTeam(t, "API with a key", r.body)
	if r := get(write, ""); r.status != http.StatusForbidden {
		t.Errorf("ratings-only key: %d, want 403", r.status)
	}
	if r := get(read, "?lag=x"); r.status != http.StatusBadRequest || !strings.Contains(r.body, `"field":"lag"`) {
		t.Errorf("bad lag with a key: %d %s", r.status, r.body)
	}
}

func TestCorrelationReportNeedsASignIn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	if r := c.get("/reports/correlation"); r.status != http.StatusSeeOther {
		t.Errorf("page without a session: %d, want a redirect to sign in", r.status)
	}
	if r := c.get("/api/v1/reports/correlation"); r.status != http.StatusUnauthorized {
		t.Errorf("API without a key or session: %d, want 401", r.status)
	}
}

// The page shows the plain-words headline, the lag scan both ways with its
// correction, power, agreement and the drivers' score, change and
// priority; the JSON carries the same, and the agreement summary only.
func TestCorrelationPageShowsTheWithinViewLagsPowerAgreementAndPriority(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	c := app.client()
	c.login("admin@example.com")
	page := c.get("/reports/correlation")
	if page.status != http.StatusOK {
		t.Fatalf("page: %d\n%s", page.status, page.body)
	}
	js := c.get("/api/v1/reports/correlation")
	var res report.Correlation
	if err := json.Unmarshal([]byte(js.body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Headline == "" || len(res.LagScan.Lags) != 13 || res.LagScan.Lags[0].Periods != -6 || res.Power.BetweenN != 5 || res.Agreement.ICCGroups == 0 {
		t.Fatalf("json: headline %q, %d lags, power %+v, agreement %+v", res.Headline, len(res.LagScan.Lags), res.Power, res.Agreement)
	}
	for _, want := range []string{
		`<p id="headline">` + template.HTMLEscapeString(res.Headline) + `</p>`,
		"Within teams and periods (two-way within r)", "Between teams (team means)", "What the data could find",
		"between teams, with 5 teams: r ≥", "<table id=\"within-lags\">", "<td>-6", "Bonferroni", "adjusted p",
		"Do team averages stand for their members?", "<th class=\"num\">Priority</th>", "<dt>Driver priority</dt>",
		template.HTMLEscapeString(res.LagScan.Sentence), "(negative: before)",
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if got := strings.Count(page.body, "<td>") - strings.Count(strings.Split(page.body, `<table id="within-lags">`)[0], "<td>"); got < 13 {
		t.Errorf("the within-lag table has %d rows, want 13", got)
	}
	assertNoHiddenTeam(t, "page", page.body)
	for _, key := range []string{`"within":{"r":`, `"between_teams":{"r":`, `"lag_scan":{"step":1`, `"correction":"bonferroni"`, `"power":{"power":0.8`,
		`"agreement":{"icc1":`, `"rwg_bands":{`, `"priority":`, `"score":`, `"change":`, `"headline":"`, `"details":[{"term":`} {
		if !strings.Contains(js.body, key) {
			t.Errorf("json lacks %s", key)
		}
	}
	if strings.Contains(js.body, `"rwg":`) {
		t.Error("json carries a team-round's rwg; only the summary belongs there")
	}
	// A negative lag: customers before engagement, chosen in the form.
	neg := c.get("/reports/correlation?lag=-2")
	if neg.status != http.StatusOK || !strings.Contains(neg.body, `<option value="-2" selected>-2</option>`) || !strings.Contains(neg.body, "2 weeks earlier") {
		t.Errorf("lag=-2: %d; the form should keep -2 and the page say 2 weeks earlier", neg.status)
	}
	assertNoHiddenTeam(t, "lag=-2", neg.body)
}
