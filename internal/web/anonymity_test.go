package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// The anonymity attacks: every route that shows survey aggregates is asked,
// by HR, by leaders and by an API key, with every filter it takes, to tell
// something about two teams smaller than k (Secretteam, 2 people, and
// Hushteam, 3) who answered differently from everyone else — all 1s, eNPS
// 0, distinctive comments — and each answer is checked: no name, no
// comment, no group under k, nothing a subtraction turns into a group under
// k. The list of routes comes from the router: a new aggregate route fails
// TestNoReportRevealsAGroupBelowK until it is checked here or exempted with
// a reason.

const anonK = 5

var (
	// anonSmallTeams are the teams below k; their members' names contain
	// the team's name.
	anonSmallTeams = []string{"Secretteam", "Hushteam"}
	// anonSecrets is text only the small teams wrote.
	anonSecrets = []string{"SECRET-TEAM-X", "SECRET-TEAM-Y", "SECRET-TEXT"}
	// anonPrefixes are the paths of routes that show survey aggregates; a
	// GET route under one of them, or ending in .csv, is an aggregate route.
	anonPrefixes = []string{"/results", "/rounds", "/reports", "/api/v1/reports", "/service", "/risks", "/dashboard", "/programs"}
	// anonExempt are aggregate-looking routes that show no survey
	// aggregate, with the reason. They are still checked for the small
	// teams' comments.
	anonExempt = map[string]string{
		"GET /roster/export.csv":        "the roster (names, units, dates) is HR's own record, not survey data; leaders get their subtree only (authz_test.go)",
		"GET /programs/new":             "an empty program form",
		"GET /programs/:id/edit":        "the program's settings",
		"GET /programs/:id/preview":     "the questionnaire of the next round, no answers",
		"GET /programs/cadence-preview": "the words and next dates of a cadence being typed, no survey data",
	}
)

// anonOrg is the attacked organisation (k = 5):
//
//	Acme/Ops:  Alpha 6, Bravo 7, Secretteam 2
//	Acme/Care: Cedar 6, Dune 6, Hushteam 3
//	(and Sales/EMEA 2, Support 2 from newTestApp, invited, never answering)
//
// Four weekly rounds, closed. Everyone answers every round with the top
// answer, except: the small teams answer the bottom one (Likert 1, eNPS 0)
// with comments and free-text answers marked SECRET; two Bravo members skip
// round 3, so that complementary suppression, which hides the smaller of
// Alpha and Bravo beside Secretteam, shows Bravo in rounds 1, 2 and 4 and
// Alpha in round 3 (as one absence too many does in real weeks); Dune's
// scores fall in round 4 (a flight-risk signal). Alpha rates Bravo's
// internal service; Secretteam and one Cedar member rate Hushteam (3
// raters, below k). Every team, small or not, has customer ratings.
type anonOrg struct {
	*testApp
	program pulse.Program
	rounds  []pulse.Round // oldest first
	tree    *tandem.Tree
	viewers map[string]*client
	key     string
	// shown is what each view showed of a round: unit → respondents.
	shown map[string]map[string]int
}

const (
	anonViewHR         = "hr"
	anonViewOpsLead    = "leader of Ops"
	anonViewSecretLead = "leader of Secretteam"
)

func newAnonOrg(t *testing.T) *anonOrg {
	t.Helper()
	app := newTestApp(t)
	ctx := context.Background()
	now := timeNow()
	teams := []struct {
		path string
		size int
	}{{"Acme/Ops/Alpha", 6}, {"Acme/Ops/Bravo", 7}, {"Acme/Ops/Secretteam", 2},
		{"Acme/Care/Cedar", 6}, {"Acme/Care/Dune", 6}, {"Acme/Care/Hushteam", 3}}
	var b strings.Builder
	b.WriteString("email,name,team\n")
	for _, tm := range teams {
		name := tm.path[strings.LastIndex(tm.path, "/")+1:]
		for i := 1; i <= tm.size; i++ {
			fmt.Fprintf(&b, "%s%d@example.com,%s member %d,%s\n", strings.ToLower(name), i, name, i, tm.path)
		}
	}
	plan, err := app.st.PlanRoster(ctx, strings.NewReader(b.String()), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.ApplyRoster(ctx, plan, tandem.Today(now).AddDate(0, 0, -200)); err != nil {
		t.Fatal(err)
	}
	tree, _ := app.st.Tree(ctx)
	for _, u := range tree.Walk() {
		app.units[u.Name] = u.ID
	}
	a := &anonOrg{testApp: app, tree: tree, viewers: map[string]*client{}}

	svc := &pulse.Question{Text: "How well does this team support you?", Kind: pulse.Service,
		Providers: []int64{app.units["Bravo"], app.units["Hushteam"]}}
	txt := &pulse.Question{Text: "What should change?", Kind: pulse.Text}
	for _, q := range []*pulse.Question{svc, txt} {
		if err := app.st.CreateQuestion(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	p := pulse.Defaults()
	p.AudienceUnitID, p.Channel, p.QuestionsPerRound = app.units["Acme"], pulse.ChannelLog, 9
	qs, _ := app.st.Questions(ctx)
	for _, q := range qs {
		if q.Builtin || q.ID == svc.ID || q.ID == txt.ID {
			p.QuestionIDs = append(p.QuestionIDs, q.ID)
		}
	}
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	a.program = p

	// Who answers what depends on each person's own team; an invitation
	// names only the storage group the answers go to.
	emps, err := app.st.AllEmployees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	teamOf := map[int64]string{}
	for _, e := range emps {
		teamOf[e.ID] = tree.Unit(e.UnitID).Name
	}
	var ratings []tandem.Rating
	for w := 4; w >= 1; w-- {
		monday := tandem.PeriodStart(tandem.Week, now.AddDate(0, 0, -7*w))
		slot := monday.Add(9 * time.Hour)
		r, _, err := app.st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			t.Fatal(err)
		}
		ri := 4 - w // 0 … 3
		rqs, _ := app.st.RoundQuestions(ctx, r.ID)
		invs, _ := app.st.RoundInvitations(ctx, r.ID)
		var rs []store.RecordedResponse
		seen := map[string]int{}
		for _, inv := range invs {
			team := teamOf[inv.EmployeeID]
			seen[team]++
			likert, scale := 5.0, 10.0
			rec := store.RecordedResponse{InvitationID: inv.ID}
			var text string
			provider, rating := int64(0), 0.0
			switch team {
			case "Secretteam", "Hushteam":
				mark := map[string]string{"Secretteam": "X", "Hushteam": "Y"}[team]
				likert, scale = 1, 0
				rec.Comment = fmt.Sprintf("SECRET-TEAM-%s: round %d, member %d, our lead ignores us", mark, ri+1, seen[team])
				text = "SECRET-TEXT-" + mark
				if team == "Secretteam" {
					provider, rating = app.units["Hushteam"], 1
				}
			case "Bravo":
				if ri == 2 && seen[team] <= 2 {
					continue // two Bravo members skip round 3
				}
			case "Dune":
				if ri == 3 {
					likert, scale = 2, 4
				}
			case "Alpha":
				provider, rating = app.units["Bravo"], 5
				rec.Comment = "ordinary remark"
			case "Cedar":
				if seen[team] == 1 {
					provider, rating = app.units["Hushteam"], 2
				}
			default:
				continue // Sales and Support never answer
			}
			for _, q := range rqs {
				switch q.Kind {
				case pulse.Likert5:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: likert, HasValue: true})
				case pulse.Scale010:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: scale, HasValue: true})
				case pulse.Text:
					if text != "" {
						rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Text: text})
					}
				case pulse.Service:
					if provider != 0 {
						rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: rating, HasValue: true, ProviderUnitID: provider})
					}
				}
			}
			rs = append(rs, rec)
		}
		if err := app.st.RecordResponses(ctx, r.ID, rs); err != nil {
			t.Fatal(err)
		}
		for _, tm := range teams {
			u := app.units[tm.path[strings.LastIndex(tm.path, "/")+1:]]
			for i := 0; i < 8; i++ {
				ratings = append(ratings, tandem.Rating{Source: "anon", ExternalID: fmt.Sprintf("%d-%d-%d", w, u, i),
					OccurredAt: monday.AddDate(0, 0, 1+i%4).Add(10 * time.Hour), UnitID: u, Metric: tandem.MetricCSAT, Score: float64(4 + i%2)})
			}
		}
	}
	if _, err := app.st.IngestRatings(ctx, ratings, now); err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.CloseDueRounds(ctx, now); err != nil {
		t.Fatal(err)
	}
	rounds, _ := app.st.Rounds(ctx, p.ID)
	slices.Reverse(rounds)
	if len(rounds) != 4 {
		t.Fatalf("%d rounds, want 4", len(rounds))
	}
	a.rounds = rounds

	hash := tandemtest.PasswordHash(t, testPassword)
	for _, u := range []tandem.User{
		{Email: "ops.lead@example.com", Role: tandem.RoleLeader, ScopeUnitID: app.units["Ops"], PasswordHash: hash},
		{Email: "secret.lead@example.com", Role: tandem.RoleLeader, ScopeUnitID: app.units["Secretteam"], PasswordHash: hash},
	} {
		if err := app.st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	for who, email := range map[string]string{anonViewHR: "hr@example.com", anonViewOpsLead: "ops.lead@example.com", anonViewSecretLead: "secret.lead@example.com"} {
		c := app.client()
		c.login(email)
		a.viewers[who] = c
	}
	a.key = app.apiKey(store.ScopeReportsRead)
	return a
}

// anonView is one request of the attack: who asks (a viewer, or "key" for
// the API key) and the path with its query. names is false when the
// request or the viewer's own scope names a small team, so that the
// answer may quote the name (never a figure or a comment of it).
type anonView struct {
	who   string
	path  string
	names bool
	// small is true when the request filters on a small team: nothing
	// about its answers may come back.
	small bool
	// outside is true when a leader filters on a unit outside their
	// scope: the answer is 404.
	outside bool
}

func (a *anonOrg) get(t *testing.T, v anonView) response {
	t.Helper()
	if v.who == "key" {
		req, _ := http.NewRequest(http.MethodGet, a.http.URL+v.path, nil)
		req.Header.Set("Authorization", "Bearer "+a.key)
		return a.client().do(req)
	}
	return a.viewers[v.who].get(v.path)
}

// anonRoute is how one aggregate route is attacked: the requests, and the
// route's own reading of the answer (on top of the checks every answer
// gets).
type anonRoute struct {
	views func(a *anonOrg) []anonView
	check func(t *testing.T, a *anonOrg, v anonView, r response)
	// comments is true for the one route that shows comments; elsewhere
	// no comment text may appear at all.
	comments bool
}

// anonEveryViewer asks path as HR and both leaders.
func anonEveryViewer(path string) []anonView {
	return []anonView{{who: anonViewHR, path: path, names: true}, {who: anonViewOpsLead, path: path, names: true}, {who: anonViewSecretLead, path: path}}
}

func (a *anonOrg) eachRound(format string) []anonView {
	var out []anonView
	for _, r := range a.rounds {
		out = append(out, anonEveryViewer(fmt.Sprintf(format, r.ID))...)
	}
	return out
}

// correlationFilters are the filters an attacker tries on the correlation
// report: the small teams by path and id, their parent, one round's week,
// each measure and driver, each customer measure, months, a lag, the
// smallest min_ratings, the program.
func (a *anonOrg) correlationFilters() []url.Values {
	secret, hush := a.tree.Unit(a.units["Secretteam"]), a.tree.Unit(a.units["Hushteam"])
	r3, r4 := a.rounds[2].Period, a.rounds[3].Period
	fs := []url.Values{
		{},
		{"unit": {a.tree.Unit(a.units["Ops"]).Path}, "min_ratings": {"1"}},
		{"unit": {secret.Path}, "min_ratings": {"1"}},
		{"unit": {fmt.Sprint(secret.ID)}, "min_ratings": {"1"}, "measure": {"enps"}},
		{"unit": {hush.Path}, "min_ratings": {"1"}, "period": {"month"}},
		{"from": {r3}, "to": {r3}, "min_ratings": {"1"}},
		{"from": {r4}, "to": {r4}, "min_ratings": {"1"}, "unit": {a.tree.Unit(a.units["Ops"]).Path}},
		{"measure": {"enps"}, "min_ratings": {"1"}},
		{"customer": {"nps"}}, {"customer": {"ces"}},
		{"period": {"month"}, "min_ratings": {"1"}},
		{"lag": {"1"}, "min_ratings": {"1"}},
		{"program": {fmt.Sprint(a.program.ID)}, "min_ratings": {"1"}},
	}
	for _, d := range pulse.Drivers {
		fs = append(fs, url.Values{"measure": {"driver:" + d.Key}, "min_ratings": {"1"}})
	}
	return fs
}

// retentionFilters are the retention report's filters, likewise.
func (a *anonOrg) retentionFilters() []url.Values {
	today := tandem.Today(timeNow())
	return []url.Values{
		{},
		{"unit": {a.tree.Unit(a.units["Ops"]).Path}},
		{"unit": {a.tree.Unit(a.units["Secretteam"]).Path}},
		{"unit": {fmt.Sprint(a.units["Hushteam"])}},
		{"period": {"quarter"}},
		{"from": {tandem.FormatDate(today.AddDate(0, 0, -40))}, "to": {tandem.FormatDate(today)}},
		{"program": {fmt.Sprint(a.program.ID)}},
	}
}

// filtered makes the views of a report route: every filter as who.
func (a *anonOrg) filtered(path string, filters []url.Values, who ...string) []anonView {
	var out []anonView
	for _, f := range filters {
		p := path
		if len(f) > 0 {
			p += "?" + f.Encode()
		}
		var unit int64
		for _, u := range a.tree.Walk() {
			if ref := f.Get("unit"); ref != "" && (ref == u.Path || ref == fmt.Sprint(u.ID)) {
				unit = u.ID
			}
		}
		small := unit != 0 && slices.Contains(anonSmallTeams, a.tree.Unit(unit).Name)
		for _, w := range who {
			scope := map[string]int64{anonViewOpsLead: a.units["Ops"], anonViewSecretLead: a.units["Secretteam"]}[w]
			out = append(out, anonView{who: w, path: p, names: !small && w != anonViewSecretLead, small: small,
				outside: unit != 0 && scope != 0 && !a.tree.Contains(scope, unit)})
		}
	}
	return out
}

// anonRoutes lists every aggregate route the attack covers.
func anonRoutes() map[string]anonRoute {
	return map[string]anonRoute{
		"GET /dashboard": {views: func(a *anonOrg) []anonView { return anonEveryViewer("/dashboard") }, check: anonCheckDashboard},
		"GET /results":   {views: func(a *anonOrg) []anonView { return anonEveryViewer("/results") }},
		"GET /results/:id": {views: func(a *anonOrg) []anonView { return anonEveryViewer(fmt.Sprintf("/results/%d", a.program.ID)) },
			check: anonCheckHeatmap},
		"GET /rounds/:id": {views: func(a *anonOrg) []anonView { return a.eachRound("/rounds/%d") }, check: anonCheckRoundPage, comments: true},
		"GET /rounds/:id/export.csv": {views: func(a *anonOrg) []anonView { return a.eachRound("/rounds/%d/export.csv") },
			check: anonCheckRoundExport},
		"GET /service": {views: func(a *anonOrg) []anonView {
			out := anonEveryViewer("/service")
			for _, r := range a.rounds {
				out = append(out, anonEveryViewer(fmt.Sprintf("/service?round=%d", r.ID))...)
			}
			return out
		}, check: anonCheckService},
		"GET /risks": {views: func(a *anonOrg) []anonView { return anonEveryViewer("/risks") }, check: anonCheckRisks},
		"GET /reports/correlation": {views: func(a *anonOrg) []anonView {
			return append(a.filtered("/reports/correlation", a.correlationFilters(), anonViewHR), anonEveryViewer("/reports/correlation")...)
		}},
		"GET /reports/correlation.csv": {views: func(a *anonOrg) []anonView {
			return append(a.filtered("/reports/correlation.csv", a.correlationFilters(), anonViewHR), anonEveryViewer("/reports/correlation.csv")...)
		}, check: anonCheckCorrelationCSV},
		"GET /api/v1/reports/correlation": {views: func(a *anonOrg) []anonView {
			return a.filtered("/api/v1/reports/correlation", a.correlationFilters(), "key", anonViewOpsLead)
		}, check: anonCheckCorrelationJSON},
		"GET /api/v1/reports/correlation/pairs": {views: func(a *anonOrg) []anonView {
			return a.filtered("/api/v1/reports/correlation/pairs", a.correlationFilters(), "key", anonViewOpsLead)
		}, check: anonCheckCorrelationJSON},
		"GET /reports/retention": {views: func(a *anonOrg) []anonView {
			return append(a.filtered("/reports/retention", a.retentionFilters(), anonViewHR), anonEveryViewer("/reports/retention")...)
		}},
		"GET /reports/retention.csv": {views: func(a *anonOrg) []anonView {
			return append(a.filtered("/reports/retention.csv", a.retentionFilters(), anonViewHR), anonEveryViewer("/reports/retention.csv")...)
		}},
		"GET /api/v1/reports/retention": {views: func(a *anonOrg) []anonView {
			return a.filtered("/api/v1/reports/retention", a.retentionFilters(), "key", anonViewOpsLead)
		}, check: anonCheckRetentionJSON},
		"GET /programs": {views: func(a *anonOrg) []anonView { return []anonView{{who: anonViewHR, path: "/programs", names: true}} },
			check: anonCheckParticipationFigures},
		"GET /programs/:id": {views: func(a *anonOrg) []anonView {
			return []anonView{{who: anonViewHR, path: fmt.Sprintf("/programs/%d", a.program.ID), names: true}}
		}, check: anonCheckParticipationFigures},
	}
}

// anonAggregateRoutes lists the router's GET routes that may show survey
// aggregates: under anonPrefixes, or CSV exports.
func anonAggregateRoutes(s *Server) []string {
	var out []string
	for _, k := range authzRouteKeys(s) {
		method, path, _ := strings.Cut(k, " ")
		if method != http.MethodGet {
			continue
		}
		match := strings.HasSuffix(path, ".csv")
		for _, p := range anonPrefixes {
			match = match || path == p || strings.HasPrefix(path, p+"/") || strings.HasPrefix(path, p+".")
		}
		if match {
			out = append(out, k)
		}
	}
	return out
}

var (
	anonSelectRe    = regexp.MustCompile(`(?s)<select\b.*?</select>`)
	anonNEqualsRe   = regexp.MustCompile(`\bn=(\d+)`)
	anonTimeOfDayRe = regexp.MustCompile(`\b\d{1,2}:\d{2}\b`)
	anonISODateRe   = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
)

// anonCheckEveryAnswer is what every answer of every aggregate route must
// satisfy.
func anonCheckEveryAnswer(t *testing.T, v anonView, r response, comments bool) {
	t.Helper()
	if v.outside {
		if r.status != http.StatusNotFound {
			t.Errorf("a leader filtering on a unit outside their scope: %d, want 404", r.status)
		}
		return
	}
	if r.status != http.StatusOK {
		t.Errorf("status %d, want 200\n%.500s", r.status, r.body)
		return
	}
	shown := anonSelectRe.ReplaceAllString(r.body, "") // a unit picker is not a result
	if v.names {
		for _, n := range anonSmallTeams {
			if strings.Contains(shown, n) {
				t.Errorf("the answer names %s, a team below k: %s", n, anonAround(shown, n))
			}
		}
	}
	if !comments || v.small {
		for _, s := range anonSecrets {
			if strings.Contains(r.body, s) {
				t.Errorf("the answer shows %q, written by a team below k: %s", s, anonAround(r.body, s))
			}
		}
	}
	for _, m := range anonNEqualsRe.FindAllStringSubmatch(r.body, -1) {
		if n, _ := strconv.Atoi(m[1]); n < anonK {
			t.Errorf("a figure is shown for n=%d people, below k=%d: %s", n, anonK, anonAround(r.body, m[0]))
		}
	}
}

// anonAround quotes the text near the first s in body, for messages.
func anonAround(body, s string) string {
	i := strings.Index(body, s)
	if i < 0 {
		return ""
	}
	lo, hi := max(i-120, 0), min(i+len(s)+120, len(body))
	return strconv.Quote(body[lo:hi])
}

var (
	anonParticipationRowRe = regexp.MustCompile(`<tr><th scope="row"><span class="depth-(\d+)">([^<]+)</span></th><td class="num">(\d+)</td><td class="num">(\d+)</td>`)
	anonHeaderPartRe       = regexp.MustCompile(`id="participation">(\d+) / (\d+)<`)
	anonCommentCardRe      = regexp.MustCompile(`(?s)<div class="card"><h3>(.*?)</h3>\s*<ul class="comments">(.*?)</ul></div>`)
)

// anonSection returns body from the heading h to the next h2.
func anonSection(body, h string) string {
	i := strings.Index(body, h)
	if i < 0 {
		return ""
	}
	s := body[i+len(h):]
	if j := strings.Index(s, "<h2"); j >= 0 {
		s = s[:j]
	}
	return s
}

// anonParticipationRows reads a round page's participation table as rows
// whose n is the number invited.
func anonParticipationRows(body string) []shownRow {
	var out []shownRow
	for _, m := range anonParticipationRowRe.FindAllStringSubmatch(anonSection(body, "<h2>Participation</h2>"), -1) {
		var r shownRow
		fmt.Sscan(m[1], &r.depth)
		fmt.Sscan(m[3], &r.n)
		r.name = m[2]
		out = append(out, r)
	}
	return out
}

func anonCheckRoundPage(t *testing.T, a *anonOrg, v anonView, r response) {
	rows := unitRows(t, r.body)
	if v.who == anonViewHR && len(rows) == 0 {
		t.Fatal("HR sees no unit: the attack would prove nothing")
	}
	// (b) No shown unit minus its shown sub-units leaves 1 … k−1 people.
	checkNoSubtraction(t, rows, anonK)
	// (e) Participation: only units invited with k or more, and no
	// subtraction of invited counts either.
	part := anonParticipationRows(r.body)
	checkNoSubtraction(t, part, anonK)
	for _, p := range part {
		if slices.Contains(anonSmallTeams, p.name) || p.name == "EMEA" || p.name == "Sales" || p.name == "Support" {
			t.Errorf("participation of %s (invited %d, below k) is shown", p.name, p.n)
		}
	}
	if m := anonHeaderPartRe.FindStringSubmatch(r.body); m != nil {
		if inv, _ := strconv.Atoi(m[2]); inv < anonK {
			t.Errorf("round participation %s of %s invited is shown for a group below k", m[1], m[2])
		}
	}
	// (d) Comments: only under a unit shown with k or more respondents,
	// with no time near them.
	n := map[string]int{}
	for _, row := range rows {
		n[row.name] = row.n
	}
	comments := anonSection(r.body, "<h2>Comments</h2>")
	for _, m := range anonCommentCardRe.FindAllStringSubmatch(comments, -1) {
		head := m[1]
		if i := strings.Index(head, " <span"); i >= 0 {
			head = head[:i]
		}
		parts := strings.Split(head, " / ")
		unit := parts[len(parts)-1]
		if got, ok := n[unit]; !ok || got < anonK {
			t.Errorf("comments shown under %q, which is not shown with k or more respondents (%d)", head, got)
		}
	}
	if m := anonTimeOfDayRe.FindString(comments); m != "" {
		t.Errorf("a time of day (%s) appears among the comments", m)
	}
	if m := anonISODateRe.FindString(comments); m != "" {
		t.Errorf("a date (%s) appears among the comments", m)
	}
	a.remember(v, rows)
}

// remember keeps what each viewer was shown of each round, for the
// consistency check across views.
func (a *anonOrg) remember(v anonView, rows []shownRow) {
	if a.shown == nil {
		a.shown = map[string]map[string]int{}
	}
	key := v.who + " " + v.path
	m := map[string]int{}
	for _, r := range rows {
		m[r.name] = r.n
	}
	a.shown[key] = m
}

func anonCheckRoundExport(t *testing.T, a *anonOrg, v anonView, r response) {
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(recs) == 0 || recs[0][0] != "unit" || recs[0][1] != "respondents" {
		t.Fatalf("export is not the expected CSV (%v):\n%.300s", err, r.body)
	}
	var rows []shownRow
	for _, rec := range recs[1:] {
		var row shownRow
		row.depth = strings.Count(rec[0], " / ")
		parts := strings.Split(rec[0], " / ")
		row.name = parts[len(parts)-1]
		row.n, _ = strconv.Atoi(rec[1])
		rows = append(rows, row)
	}
	if v.who == anonViewHR && len(rows) == 0 {
		t.Fatal("HR's export has no unit: the attack would prove nothing")
	}
	// Leaders' exports start below the root: depths are relative anyway.
	checkNoSubtraction(t, rows, anonK)
	page := strings.Replace(v.path, "/export.csv", "", 1)
	a.remember(anonView{who: v.who + " (CSV)", path: page}, rows)
}

var (
	anonHeatTableRe = regexp.MustCompile(`(?s)<table class="heatmap">(.*?)</table>`)
	anonHeatHeadRe  = regexp.MustCompile(`<th class="num">([^<]*)</th>`)
	anonHeatRowRe   = regexp.MustCompile(`(?s)<tr><th scope="row"><span class="depth-(\d+)">([^<]+)</span></th>(.*?)</tr>`)
	anonHeatCellRe  = regexp.MustCompile(`<td class="num heat [^"]*" title="([^"]*)">`)
	anonHeatTitleRe = regexp.MustCompile(`^(.*) · (.*) · round of (\S+) · n=(\d+)$`)
)

// anonHeatCell is one filled cell of a heatmap: its row's unit and depth, the
// round it comes from and that round's respondents.
type anonHeatCell struct {
	depth  int
	unit   string
	period string
	n      int
}

// anonCheckHeatmap reads every column of the unit × measure heatmap as one
// view, the way a reader sees it, and asserts (b) on it: no unit minus its
// sub-units shown in the same column leaves 1 … k−1 people. Cells may come
// from different rounds (each unit's latest shown score); a subtraction
// across them is still a subtraction a reader can do.
func anonCheckHeatmap(t *testing.T, a *anonOrg, v anonView, r response) {
	m := anonHeatTableRe.FindStringSubmatch(r.body)
	if m == nil {
		if v.who == anonViewHR {
			t.Fatal("HR sees no heatmap: the attack would prove nothing")
		}
		return
	}
	head := m[1][:strings.Index(m[1], "</thead>")]
	cols := anonHeatHeadRe.FindAllStringSubmatch(head, -1)
	columns := make([][]anonHeatCell, len(cols))
	for _, row := range anonHeatRowRe.FindAllStringSubmatch(m[1], -1) {
		depth, _ := strconv.Atoi(row[1])
		for j, c := range anonHeatCellRe.FindAllStringSubmatch(row[3], -1) {
			if c[1] == "" {
				continue
			}
			tm := anonHeatTitleRe.FindStringSubmatch(c[1])
			if tm == nil {
				t.Fatalf("cannot read the heatmap cell title %q", c[1])
			}
			n, _ := strconv.Atoi(tm[4])
			if j < len(columns) {
				columns[j] = append(columns[j], anonHeatCell{depth: depth, unit: row[2], period: tm[3], n: n})
			}
		}
	}
	for j, col := range columns {
		for i, c := range col {
			if c.n < anonK {
				t.Errorf("heatmap column %q: %s shown with n=%d", cols[j][1], c.unit, c.n)
			}
			rest := c.n
			var kids []string
			for _, d := range col[i+1:] {
				if d.depth <= c.depth {
					break
				}
				if d.depth == c.depth+1 {
					rest -= d.n
					kids = append(kids, fmt.Sprintf("%s (n=%d, round of %s)", d.unit, d.n, d.period))
				}
			}
			if rest > 0 && rest < anonK {
				t.Errorf("heatmap column %q shows %s (n=%d, round of %s) and its sub-units %s: the difference is a group of %d, below k=%d",
					cols[j][1], c.unit, c.n, c.period, strings.Join(kids, ", "), rest, anonK)
			}
		}
	}
}

var anonAnsweredOfRe = regexp.MustCompile(`(\d+) of (\d+) answered`)

func anonCheckDashboard(t *testing.T, a *anonOrg, v anonView, r response) {
	anonCheckHeatmap(t, a, v, r)
	for _, m := range anonAnsweredOfRe.FindAllStringSubmatch(r.body, -1) {
		if inv, _ := strconv.Atoi(m[2]); inv < anonK {
			t.Errorf("participation %s of %s shown for a group below k", m[1], m[2])
		}
	}
}

var anonProviderRowRe = regexp.MustCompile(`<tr><td>([^<]+)</td><td class="num">(\d+)</td>`)

func anonCheckService(t *testing.T, a *anonOrg, v anonView, r response) {
	i := strings.Index(r.body, `id="providers"`)
	if i < 0 {
		if v.who == anonViewHR {
			t.Fatal("HR sees no provider: the attack would prove nothing")
		}
		return
	}
	table := r.body[i:]
	table = table[:strings.Index(table, "</table>")]
	for _, m := range anonProviderRowRe.FindAllStringSubmatch(table, -1) {
		if n, _ := strconv.Atoi(m[2]); n < anonK {
			t.Errorf("provider %s shown with %d raters, below k", m[1], n)
		}
	}
}

var anonEvidenceRe = regexp.MustCompile(`: [^;(]*\((\d+)\);`)

func anonCheckRisks(t *testing.T, a *anonOrg, v anonView, r response) {
	ev := anonEvidenceRe.FindAllStringSubmatch(r.body, -1)
	if v.who == anonViewHR && len(ev) == 0 {
		t.Fatal("HR sees no flight-risk signal (Dune's fall): the attack would prove nothing")
	}
	for _, m := range ev {
		if n, _ := strconv.Atoi(m[1]); n < anonK {
			t.Errorf("flight-risk evidence from %d respondents, below k: %s", n, anonAround(r.body, m[0]))
		}
	}
}

func anonCheckCorrelationCSV(t *testing.T, a *anonOrg, v anonView, r response) {
	recs, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(recs) == 0 || recs[0][0] != "team" || recs[0][7] != "respondents" {
		t.Fatalf("not the expected CSV (%v):\n%.300s", err, r.body)
	}
	if v.who == anonViewHR && v.path == "/reports/correlation.csv" && len(recs) < 2 {
		t.Fatal("HR's default correlation CSV has no pair: the attack would prove nothing")
	}
	for _, rec := range recs[1:] {
		if n, _ := strconv.Atoi(rec[7]); n < anonK {
			t.Errorf("pair %v from %d respondents, below k", rec, n)
		}
		if v.small {
			t.Errorf("filtered on a team below k, the CSV still has pair %v", rec)
		}
	}
}

func anonCheckCorrelationJSON(t *testing.T, a *anonOrg, v anonView, r response) {
	var body struct {
		NPairs int `json:"n_pairs"`
		Pairs  []struct {
			Team        string `json:"team"`
			Respondents int    `json:"respondents"`
		} `json:"pairs"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("not JSON: %v\n%.300s", err, r.body)
	}
	if (v.path == "/api/v1/reports/correlation" || v.path == "/api/v1/reports/correlation/pairs") && body.NPairs == 0 {
		t.Fatal("the default report has no pair: the attack would prove nothing")
	}
	for _, p := range body.Pairs {
		if p.Respondents < anonK {
			t.Errorf("pair of %s from %d respondents, below k", p.Team, p.Respondents)
		}
	}
	if strings.HasPrefix(v.path, "/api/v1/reports/correlation/pairs") && len(body.Pairs) != min(body.NPairs, report.DefaultPairsPerPage) {
		t.Errorf("the first page of pairs has %d of %d", len(body.Pairs), body.NPairs)
	}
	if v.small && body.NPairs != 0 {
		t.Errorf("filtered on a team below k, the report has %d pairs", body.NPairs)
	}
}

func anonCheckRetentionJSON(t *testing.T, a *anonOrg, v anonView, r response) {
	var body struct {
		Survival []struct {
			Unit   string `json:"unit"`
			Stints int    `json:"stints"`
		} `json:"survival"`
		Links []struct {
			NTeams int `json:"n_teams"`
		} `json:"engagement_and_turnover"`
	}
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("not JSON: %v\n%.300s", err, r.body)
	}
	for _, s := range body.Survival {
		if s.Stints < anonK {
			t.Errorf("retention curve of %s from %d people, below k", s.Unit, s.Stints)
		}
	}
}

var (
	anonProgramsAnsweredRe = regexp.MustCompile(`(\d+)/(\d+) answered`)
	anonProgramRoundRe     = regexp.MustCompile(`<td class="num">(\d+)</td><td class="num participation">(\d+)</td>`)
)

// anonCheckParticipationFigures asserts (e) on the program pages: a round's
// answered count is shown only for an audience of k or more.
func anonCheckParticipationFigures(t *testing.T, a *anonOrg, v anonView, r response) {
	for _, re := range []*regexp.Regexp{anonProgramsAnsweredRe, anonProgramRoundRe, anonAnsweredOfRe, anonHeaderPartRe} {
		for _, m := range re.FindAllStringSubmatch(r.body, -1) {
			a, b := m[1], m[2]
			if re == anonProgramRoundRe {
				a, b = m[2], m[1]
			}
			if inv, _ := strconv.Atoi(b); inv < anonK {
				t.Errorf("participation %s of %s invited is shown for a group below k: %s", a, b, anonAround(r.body, m[0]))
			}
		}
	}
}

func TestNoReportRevealsAGroupBelowK(t *testing.T) {
	t.Parallel() // its own server and database; among the slowest of the package
	a := newAnonOrg(t)
	routes := anonRoutes()
	for _, k := range anonAggregateRoutes(a.srv) {
		if _, ok := routes[k]; ok {
			continue
		}
		if _, ok := anonExempt[k]; ok {
			continue
		}
		t.Errorf("%s shows aggregates, or looks as if it does, and no anonymity attack covers it: add it to anonRoutes "+
			"in anonymity_test.go, or to anonExempt with the reason it shows no survey data", k)
	}
	// Exempt routes show no survey data: not even a comment.
	for k := range anonExempt {
		_, path, _ := strings.Cut(k, " ")
		if !slices.Contains(authzRouteKeys(a.srv), k) {
			continue
		}
		path = strings.ReplaceAll(path, ":id", fmt.Sprint(a.program.ID))
		r := a.viewers[anonViewHR].get(path)
		for _, s := range anonSecrets {
			if strings.Contains(r.body, s) {
				t.Errorf("%s (exempt) shows %q", path, s)
			}
		}
	}
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		rt := routes[k]
		for _, v := range rt.views(a) {
			t.Run(k+" as "+v.who+" "+v.path, func(t *testing.T) {
				r := a.get(t, v)
				anonCheckEveryAnswer(t, v, r, rt.comments)
				if rt.check != nil && r.status == http.StatusOK {
					rt.check(t, a, v, r)
				}
			})
		}
	}
	// Views are cut from one decision per round: whatever a leader or the
	// export shows of a round, HR's page shows with the same count, so
	// that no two views can be combined into a smaller group.
	for _, r := range a.rounds {
		page := fmt.Sprintf("/rounds/%d", r.ID)
		hr := a.shown[anonViewHR+" "+page]
		for key, rows := range a.shown {
			if !strings.HasSuffix(key, " "+page) {
				continue
			}
			for name, n := range rows {
				if got, ok := hr[name]; !ok || got != n {
					t.Errorf("round %d: %s shows %s with %d respondents, HR's page with %d (shown %v)", r.Seq, key, name, n, got, ok)
				}
			}
		}
	}
}

// anonRoster adds people to newTestApp's organisation from CSV rows of
// email,name,team,hired_on and records the units in app.units.
func anonRoster(t *testing.T, app *testApp, rows string) {
	t.Helper()
	ctx := context.Background()
	plan, err := app.st.PlanRoster(ctx, strings.NewReader("email,name,team,hired_on\n"+rows), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.ApplyRoster(ctx, plan, tandem.Today(timeNow())); err != nil {
		t.Fatal(err)
	}
	tree, _ := app.st.Tree(ctx)
	for _, u := range tree.Walk() {
		app.units[u.Name] = u.ID
	}
}

// anonAnswers records one response per invitation for which value gives a
// Likert answer (0: does not answer); 0–10 questions get twice the value.
func anonAnswers(t *testing.T, app *testApp, roundID int64, value func(inv store.InvitationRef) float64) {
	t.Helper()
	ctx := context.Background()
	qs, _ := app.st.RoundQuestions(ctx, roundID)
	invs, _ := app.st.RoundInvitations(ctx, roundID)
	var rs []store.RecordedResponse
	for _, inv := range invs {
		v := value(inv)
		if v == 0 {
			continue
		}
		rec := store.RecordedResponse{InvitationID: inv.ID}
		for _, q := range qs {
			switch q.Kind {
			case pulse.Likert5:
				rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: v, HasValue: true})
			case pulse.Scale010:
				rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: 2 * (v - 1), HasValue: true})
			}
		}
		rs = append(rs, rec)
	}
	if err := app.st.RecordResponses(ctx, roundID, rs); err != nil {
		t.Fatal(err)
	}
}

// anonExportRows reads a round's CSV export: unit path → record.
func anonExportRows(t *testing.T, body string) (map[string][]string, []shownRow) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("export: %v\n%s", err, body)
	}
	byPath := map[string][]string{}
	var rows []shownRow
	for _, rec := range recs[1:] {
		byPath[rec[0]] = rec
		parts := strings.Split(rec[0], " / ")
		n, _ := strconv.Atoi(rec[1])
		rows = append(rows, shownRow{depth: len(parts) - 1, name: parts[len(parts)-1], n: n})
	}
	return byPath, rows
}

// TestAdjacentRoundsAreThresholdedEachOnTheirOwn states what Tandem
// promises across rounds: k applies to each round on its own. Alpha has 5
// people in round 1, 6 in round 2 (one joined) and 4 in round 3 (two
// left). Rounds 1 and 2 both show Alpha, so their difference can reveal
// the joiner's answer when the others answer alike — the residual risk in
// docs/privacy.md; round 3 hides Alpha everywhere. In round 2 only one of
// Dune's six answers: the participation table may say so (6 invited), but
// no result may isolate that one answer.
func TestAdjacentRoundsAreThresholdedEachOnTheirOwn(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	now := timeNow()
	slot := func(weeksAgo int) time.Time {
		return tandem.PeriodStart(tandem.Week, now.AddDate(0, 0, -7*weeksAgo)).Add(9 * time.Hour)
	}
	long := tandem.FormatDate(now.AddDate(0, 0, -300))
	var b strings.Builder
	for i := 1; i <= 5; i++ {
		fmt.Fprintf(&b, "alpha%d@example.com,Alpha %d,Acme/Ops/Alpha,%s\n", i, i, long)
	}
	fmt.Fprintf(&b, "joiner@example.com,Jo Joiner,Acme/Ops/Alpha,%s\n", tandem.FormatDate(slot(2).AddDate(0, 0, -1)))
	for _, team := range []string{"Bravo", "Dune", "Elm"} {
		dept := map[string]string{"Bravo": "Ops", "Dune": "Care", "Elm": "Care"}[team]
		for i := 1; i <= 6; i++ {
			fmt.Fprintf(&b, "%s%d@example.com,%s %d,Acme/%s/%s,%s\n", strings.ToLower(team), i, team, i, dept, team, long)
		}
	}
	anonRoster(t, app, b.String())
	for _, who := range []string{"alpha1@example.com", "alpha2@example.com"} {
		if _, err := app.st.RecordExits(ctx, []store.Exit{{EmployeeRef: who, ExitedOn: tandem.Today(slot(1)).AddDate(0, 0, -1),
			Type: tandem.ExitVoluntary}}); err != nil {
			t.Fatal(err)
		}
	}
	emps, _ := app.st.AllEmployees(ctx)
	email := map[int64]string{}
	for _, e := range emps {
		email[e.ID] = e.Email
	}
	p := pulse.Defaults()
	p.AudienceUnitID, p.Channel = app.units["Acme"], pulse.ChannelLog
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	var rounds []pulse.Round
	for w := 3; w >= 1; w-- {
		r, _, err := app.st.CreateRound(ctx, &p, slot(w), false, slot(w))
		if err != nil {
			t.Fatal(err)
		}
		dune := 0
		anonAnswers(t, app, r.ID, func(inv store.InvitationRef) float64 {
			e := email[inv.EmployeeID]
			switch {
			case e == "joiner@example.com":
				return 1
			case strings.HasPrefix(e, "dune") && w == 2:
				if dune++; dune > 1 {
					return 0 // only one of Dune's six answers round 2
				}
			case !strings.HasPrefix(e, "alpha") && !strings.HasPrefix(e, "bravo") && !strings.HasPrefix(e, "dune") && !strings.HasPrefix(e, "elm"):
				return 0 // newTestApp's people (Sales, Support) do not answer
			}
			return 4
		})
		rounds = append(rounds, r)
	}
	if _, err := app.st.CloseDueRounds(ctx, now); err != nil {
		t.Fatal(err)
	}
	hr := app.client()
	hr.login("hr@example.com")

	alpha := make([]int, 3)        // Alpha's respondents as shown in each round, 0 if hidden
	alphaEng := make([]float64, 3) // and its engagement
	duneOne := false               // round 2's participation shows Dune's single answer
	for i, r := range rounds {
		page := hr.get(fmt.Sprintf("/rounds/%d", r.ID))
		rows := unitRows(t, page.body)
		checkNoSubtraction(t, rows, anonK)
		part := anonParticipationRows(page.body)
		checkNoSubtraction(t, part, anonK)
		shown := map[string]bool{}
		for _, row := range rows {
			shown[row.name] = true
		}
		// Participation may say that a unit of k or more invited had fewer
		// than k answers; then no result may isolate those answers.
		for _, m := range anonParticipationRowRe.FindAllStringSubmatch(anonSection(page.body, "<h2>Participation</h2>"), -1) {
			answered, _ := strconv.Atoi(m[4])
			if answered > 0 && answered < anonK && shown[m[2]] {
				t.Errorf("round %d: %s had %d answers and its results are shown", i+1, m[2], answered)
			}
			if i == 1 && m[2] == "Dune" && answered == 1 {
				duneOne = true
			}
		}
		byPath, erows := anonExportRows(t, hr.get(fmt.Sprintf("/rounds/%d/export.csv", r.ID)).body)
		checkNoSubtraction(t, erows, anonK)
		if rec, ok := byPath["Acme / Ops / Alpha"]; ok {
			alpha[i], _ = strconv.Atoi(rec[1])
			alphaEng[i], _ = strconv.ParseFloat(rec[2], 64)
		}
		if shown["Alpha"] != (alpha[i] > 0) {
			t.Errorf("round %d: the page and the export disagree on showing Alpha", i+1)
		}
	}
	if !duneOne {
		t.Error("round 2's participation does not show Dune's 1 answer of 6: the check above proved nothing")
	}
	if alpha[0] != 5 || alpha[1] != 6 {
		t.Errorf("Alpha shown with %d and %d respondents in rounds 1 and 2, want 5 and 6: k applies to each round", alpha[0], alpha[1])
	}
	if alpha[2] != 0 {
		t.Errorf("round 3: Alpha shown with %d respondents, below k", alpha[2])
	}
	if alpha[0] == 5 && alpha[1] == 6 {
		t.Logf("residual risk (docs/privacy.md): Alpha's engagement %.2f (n=5) then %.2f (n=6) gives the joiner's as 6×%.2f − 5×%.2f = %.2f",
			alphaEng[0], alphaEng[1], alphaEng[1], alphaEng[0], 6*alphaEng[1]-5*alphaEng[0])
	}
	// Round 3 hides Alpha everywhere: no change is reported for it, and
	// the heatmap has no Alpha cell from round 3.
	dash := hr.get("/dashboard")
	if i := strings.Index(dash.body, `id="changes"`); i >= 0 {
		changes := dash.body[i:]
		changes = changes[:strings.Index(changes, "</table>")]
		if strings.Contains(changes, "Alpha") {
			t.Error("the dashboard reports a change for Alpha, hidden in the latest round")
		}
	}
	for _, path := range []string{"/dashboard", fmt.Sprintf("/results/%d", p.ID)} {
		body := hr.get(path).body
		if strings.Contains(body, "Alpha · ") && strings.Contains(body, "round of "+rounds[2].Period+" · n=4") {
			t.Errorf("%s shows Alpha from round 3, where it had 4 respondents", path)
		}
	}
}

// TestCommentsAreShownInNoTellingOrderAndWithoutTimes answers through the
// answer links, in a known order, three rounds running, and reads the
// comments back: their order is not the order of submission (nor its
// reverse) in every round, the response ids that store them do not grow
// with it, and no time or date stands among them.
func TestCommentsAreShownInNoTellingOrderAndWithoutTimes(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	var b strings.Builder
	long := tandem.FormatDate(timeNow().AddDate(0, 0, -300))
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, "alpha%d@example.com,Alpha %d,Acme/Ops/Alpha,%s\n", i, i, long)
	}
	anonRoster(t, app, b.String())
	p := pulse.Defaults()
	p.AudienceUnitID, p.Channel = app.units["Alpha"], pulse.ChannelLog
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	hr := app.client()
	hr.login("hr@example.com")
	const runs, people = 3, 6
	inOrder, reversed, idsGrow := 0, 0, 0
	for run := 1; run <= runs; run++ {
		now := timeNow()
		// One round a day: a program starts no two on one day.
		r, _, err := app.st.CreateRound(ctx, &p, now.AddDate(0, 0, -run).Truncate(time.Second), false, now)
		if err != nil {
			t.Fatal(err)
		}
		invs, _ := app.st.RoundInvitations(ctx, r.ID)
		if len(invs) != people {
			t.Fatalf("round %d: %d invitations, want %d", run, len(invs), people)
		}
		for i, inv := range invs {
			token := auth.NewToken()
			if err := app.st.AddInvitationToken(ctx, inv.ID, auth.HashToken(token)); err != nil {
				t.Fatal(err)
			}
			c := app.client()
			page := c.get("/p/" + token)
			form := url.Values{"comment": {fmt.Sprintf("ORDER-%d-%d", run, i+1)}}
			for _, m := range regexp.MustCompile(`name="(q\d+)" value="(\d+)"`).FindAllStringSubmatch(page.body, -1) {
				form.Set(m[1], "4")
			}
			if res := c.post("/p/"+token, form); res.status != http.StatusOK {
				t.Fatalf("answer %d of round %d: %d\n%s", i+1, run, res.status, res.body)
			}
		}
		// Comments are released with the round, when it closes.
		if _, err := app.st.CloseDueRounds(ctx, r.ClosesAt); err != nil {
			t.Fatal(err)
		}
		page := hr.get(fmt.Sprintf("/rounds/%d", r.ID)).body
		comments := anonSection(page, "<h2>Comments</h2>")
		var shown []int
		for _, m := range regexp.MustCompile(fmt.Sprintf(`<li>ORDER-%d-(\d)</li>`, run)).FindAllStringSubmatch(comments, -1) {
			n, _ := strconv.Atoi(m[1])
			shown = append(shown, n)
		}
		if len(shown) != people {
			t.Fatalf("round %d: %d of %d comments shown:\n%s", run, len(shown), people, comments)
		}
		if slices.IsSorted(shown) {
			inOrder++
		}
		if slices.IsSortedFunc(shown, func(a, b int) int { return b - a }) {
			reversed++
		}
		if m := anonTimeOfDayRe.FindString(comments); m != "" {
			t.Errorf("round %d: a time of day (%s) appears among the comments", run, m)
		}
		if m := anonISODateRe.FindString(comments); m != "" {
			t.Errorf("round %d: a date (%s) appears among the comments", run, m)
		}
		if exp := hr.get(fmt.Sprintf("/rounds/%d/export.csv", r.ID)).body; strings.Contains(exp, "ORDER-") {
			t.Errorf("round %d: the export carries comments", run)
		}
		// The response ids, in order of submission.
		rows, err := app.st.DB().Query("SELECT id, comment FROM responses WHERE round_id = ?", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, people)
		for rows.Next() {
			var id int64
			var comment string
			rows.Scan(&id, &comment)
			var run2, i int
			fmt.Sscanf(comment, "ORDER-%d-%d", &run2, &i)
			ids[i-1] = id
		}
		rows.Close()
		if slices.IsSorted(ids) {
			idsGrow++
		}
		t.Logf("round %d: comments shown in submission positions %v", run, shown)
	}
	if inOrder == runs || reversed == runs {
		t.Errorf("in all %d rounds the comments were shown in (or against) the order they were written: a reader can match them to who answered when", runs)
	}
	if idsGrow == runs {
		t.Errorf("in all %d rounds the response ids grew with the order of submission: the ids carry time", runs)
	}
}

// TestARoundForAnAudienceBelowKIsRefused runs a program whose whole
// audience is a team of 3 (k = 5): no round could ever show anything, and
// its answers would be stored in a group below k, so "Send a round now"
// is refused with the reason and what to do, and nothing is stored.
func TestARoundForAnAudienceBelowKIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	long := tandem.FormatDate(timeNow().AddDate(0, 0, -300))
	anonRoster(t, app, fmt.Sprintf("h1@example.com,Hush 1,Acme/Hush,%[1]s\nh2@example.com,Hush 2,Acme/Hush,%[1]s\nh3@example.com,Hush 3,Acme/Hush,%[1]s\n", long))
	p := pulse.Defaults()
	p.Name, p.AudienceUnitID, p.Channel = "Hush pulse", app.units["Hush"], pulse.ChannelLog
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	now := timeNow()
	_, created, err := app.st.CreateRound(ctx, &p, now.Add(-time.Hour).Truncate(time.Second), true, now)
	if created || tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(tandem.ErrorMessage(err), "the audience has 3 people") {
		t.Fatalf("a round for 3 people with k 5: created %v, %v; want it refused, saying why", created, err)
	}
	var rounds, invitations, messages int
	app.st.DB().QueryRow("SELECT COUNT(*) FROM rounds").Scan(&rounds)
	app.st.DB().QueryRow("SELECT COUNT(*) FROM invitations").Scan(&invitations)
	app.st.DB().QueryRow("SELECT COUNT(*) FROM outbox").Scan(&messages)
	if rounds+invitations+messages != 0 {
		t.Errorf("after the refusal: %d rounds, %d invitations, %d messages; want nothing stored", rounds, invitations, messages)
	}
}

// TestAnswerTablesKeepNoPersonNoTimeAndNoRowOrder reads the SQLite schema:
// the tables that hold answers and participation have no column that
// names a person in the answers or a moment in either, and answers are
// stored WITHOUT ROWID (ordered by the random response id, so their
// physical order says nothing about when they came).
func TestAnswerTablesKeepNoPersonNoTimeAndNoRowOrder(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	db := app.st.DB()
	for table, forbidden := range map[string][]string{
		"responses":   {"employee", "invitation", "token", "_at", "time", "created", "submitted"},
		"answers":     {"employee", "invitation", "token", "_at", "time", "created", "submitted"},
		"invitations": {"_at", "time", "answered_", "response"},
	} {
		rows, err := db.Query("SELECT name FROM pragma_table_info(?)", table)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var col string
			rows.Scan(&col)
			n++
			for _, f := range forbidden {
				if strings.Contains(col, f) {
					t.Errorf("%s has column %q: it could tie an answer to a person or a moment", table, col)
				}
			}
		}
		rows.Close()
		if n == 0 {
			t.Fatalf("table %s not found", table)
		}
	}
	var ddl string
	if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'answers'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ToUpper(ddl), "WITHOUT ROWID") {
		t.Errorf("answers is a rowid table, whose rowids grow in order of insertion:\n%s", ddl)
	}
}
