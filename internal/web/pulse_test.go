package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/mail/mailtest"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// pulseApp is a testApp with the scheduler's runner and an outbox worker
// delivering to a real SMTP listener.
type pulseApp struct {
	*testApp
	smtp    *mailtest.Server
	runner  *schedule.Runner
	worker  *schedule.Worker
	program pulse.Program
}

// newPulseApp adds teams of the given sizes under Acme (paths such as
// "Acme/Sales/EMEA") and a program for all of Acme delivering by email.
func newPulseApp(t *testing.T, teams map[string]int) *pulseApp {
	t.Helper()
	return newPulseAppOn(t, teams, store.Options{})
}

// newPulseAppOn is newPulseApp over a store opened with opt.
func newPulseAppOn(t *testing.T, teams map[string]int, opt store.Options) *pulseApp {
	t.Helper()
	app := newTestAppOn(t, opt, nil)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("email,name,team\n")
	n := 0
	for team, size := range teams {
		for i := 0; i < size; i++ {
			n++
			fmt.Fprintf(&b, "p%d@example.com,Person %d,%s\n", n, n, team)
		}
	}
	plan, err := app.st.PlanRoster(ctx, strings.NewReader(b.String()), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.ApplyRoster(ctx, plan, tandem.Today(timeNow()).AddDate(0, 0, -30)); err != nil {
		t.Fatal(err)
	}
	tree, _ := app.st.Tree(ctx)
	for _, u := range tree.Walk() {
		app.units[u.Name] = u.ID
	}
	srv := mailtest.NewServer(t)
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: srv.Port, Security: "none", From: "Tandem <pulse@example.com>"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The worker renders invitations at the rounds' "now": on the machine's
	// clock a round built at timeNow may already have closed.
	worker := schedule.NewWorker(app.st, map[string]mail.Sender{pulse.ChannelEmail: sender}, app.http.URL, log, clockwork.NewFakeClockAt(timeNow()))
	runner := schedule.NewRunner(app.st, log)
	p := pulse.Defaults()
	p.AudienceUnitID = app.units["Acme"]
	p.Cadence.Zone = "Europe/Berlin"
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	return &pulseApp{testApp: app, smtp: srv, runner: runner, worker: worker, program: p}
}

// closeRound closes r at its closing time, which releases its results.
func (a *pulseApp) closeRound(r pulse.Round) {
	a.t.Helper()
	if _, err := a.st.CloseDueRounds(context.Background(), r.ClosesAt); err != nil {
		a.t.Fatal(err)
	}
}

// sendRound starts a round now and delivers its invitations; it returns
// the round and the answer links by recipient address.
func (a *pulseApp) sendRound() (pulse.Round, map[string]string) {
	a.t.Helper()
	ctx := context.Background()
	before := len(a.smtp.Messages())
	r, created, err := a.runner.SendNow(ctx, a.program.ID, timeNow())
	if err != nil || !created {
		a.t.Fatalf("send now: created %v, %v", created, err)
	}
	for {
		n, err := a.worker.RunOnce(ctx)
		if err != nil {
			a.t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	links := map[string]string{}
	for _, m := range a.smtp.Messages()[before:] {
		links[m.To[0]] = m.Link()
	}
	if len(links) != r.Invited && r.Invited != 0 {
		a.t.Logf("round %d: %d links", r.ID, len(links))
	}
	return r, links
}

// answer posts a full set of answers (every rated question = value) and a
// comment through a link; it returns the response.
func (a *pulseApp) answer(link string, value int, comment string) response {
	a.t.Helper()
	c := a.client()
	page := c.get(strings.TrimPrefix(link, a.http.URL))
	names := regexp.MustCompile(`name="(q\d+)" value="(\d+)"`).FindAllStringSubmatch(page.body, -1)
	form := url.Values{"comment": {comment}}
	for _, m := range names {
		form.Set(m[1], fmt.Sprint(value))
		if strings.Contains(page.body, `name="`+m[1]+`" value="10"`) {
			form.Set(m[1], fmt.Sprint(value*2))
		}
	}
	return c.post(strings.TrimPrefix(link, a.http.URL), form)
}

func TestInvitationArrivesBySMTPAndItsLinkRecordsAnAnonymousAnswer(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6})
	r, links := app.sendRound()
	msgs := app.smtp.Messages()
	if len(msgs) != 11 { // 5 people from the base roster + 6
		t.Fatalf("%d messages arrived, want 10", len(msgs))
	}
	m := msgs[0]
	if m.Text == "" || m.HTML == "" || !strings.Contains(m.Text, "anonymous") || !strings.Contains(m.Text, "at least 5 people") {
		t.Errorf("invitation lacks a text and HTML part with the anonymity sentence:\n%s", m.Text)
	}
	link := links["p1@example.com"]
	if link == "" {
		t.Fatalf("no link for p1 in %v", links)
	}
	c := app.client()
	page := c.get(strings.TrimPrefix(link, app.http.URL))
	if page.status != http.StatusOK || page.header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("answer page: %d, referrer policy %q", page.status, page.header.Get("Referrer-Policy"))
	}
	if res := app.answer(link, 4, "More coffee, please"); res.status != http.StatusOK || !strings.Contains(res.body, "Thank you") {
		t.Fatalf("answering: %d\n%s", res.status, res.body)
	}
	got, _ := app.st.Round(context.Background(), r.ID)
	if got.Responded != 1 {
		t.Errorf("participation %d, want 1", got.Responded)
	}
	// The answer rows hold no employee and no invitation: check the schema
	// of the tables that store answers.
	for _, table := range []string{"responses", "answers"} {
		cols := columns(t, app, table)
		for _, c := range cols {
			if strings.Contains(c, "employee") || strings.Contains(c, "invitation") || strings.HasSuffix(c, "_at") {
				t.Errorf("%s has column %q that could link an answer to a person or a moment", table, c)
			}
		}
	}
	// A second submission changes nothing.
	if res := app.answer(link, 1, "changed my mind"); res.status != http.StatusConflict || !strings.Contains(res.body, "already answered") {
		t.Errorf("second submission: %d", res.status)
	}
	app.closeRound(r)
	texts, _ := app.st.TextAnswers(context.Background(), r.ID)
	if len(texts) != 1 || texts[0].Text != "More coffee, please" {
		t.Errorf("comments after a second submission: %+v", texts)
	}
}

func columns(t *testing.T, app *pulseApp, table string) []string {
	t.Helper()
	rows, err := app.st.DB().Query("SELECT name FROM pragma_table_info(?)", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out = append(out, n)
	}
	return out
}

func TestAnswerFormRefusesBadInputAndKeepsWhatWasEntered(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	_, links := app.sendRound()
	link := strings.TrimPrefix(links["p1@example.com"], app.http.URL)
	c := app.client()
	page := c.get(link)
	names := regexp.MustCompile(`name="(q\d+)"`).FindAllStringSubmatch(page.body, -1)
	if len(names) < 2 {
		t.Fatalf("answer form has %d questions", len(names))
	}
	first, second := names[0][1], ""
	for _, n := range names {
		if n[1] != first {
			second = n[1]
			break
		}
	}
	res := c.post(link, url.Values{first: {"9"}, second: {"4"}, "comment": {"keep me"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("out-of-range answer: %d, want 422", res.status)
	}
	if !strings.Contains(res.body, "choose a whole number from") || !strings.Contains(res.body, "please answer this question") {
		t.Error("the form does not say what is wrong")
	}
	if !strings.Contains(res.body, `name="`+second+`" value="4" checked`) || !strings.Contains(res.body, "keep me") {
		t.Error("the form lost what was entered")
	}
	r, _ := app.st.Round(context.Background(), mustRound(t, app))
	if r.Responded != 0 {
		t.Error("a refused form was counted as an answer")
	}
	for _, bad := range []string{"/p/not-a-token", link + "x", "/p/" + strings.Repeat("A", 43)} {
		if res := c.get(bad); res.status != http.StatusNotFound || !strings.Contains(res.body, "does not work") {
			t.Errorf("GET %s: %d, want the not-found page", bad, res.status)
		}
		if res := c.post(bad, url.Values{first: {"3"}}); res.status != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", bad, res.status)
		}
	}
}

func mustRound(t *testing.T, app *pulseApp) int64 {
	rs, err := app.st.Rounds(context.Background(), app.program.ID)
	if err != nil || len(rs) == 0 {
		t.Fatal("no round", err)
	}
	return rs[0].ID
}

func TestClosedRoundTakesNoAnswers(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	r, links := app.sendRound()
	if _, err := app.st.CloseDueRounds(context.Background(), r.ClosesAt.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	res := app.answer(links["p1@example.com"], 3, "")
	if res.status != http.StatusGone || !strings.Contains(res.body, "closed") {
		t.Errorf("answer to a closed round: %d", res.status)
	}
	got, _ := app.st.Round(context.Background(), r.ID)
	if got.Responded != 0 {
		t.Error("a closed round took an answer")
	}
}

func TestASecondAnswerIsRefusedWhetherOrNotItHasMistakes(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	r, links := app.sendRound()
	link := links["p1@example.com"]
	if res := app.answer(link, 4, "first"); res.status != http.StatusOK {
		t.Fatalf("first answer: %d", res.status)
	}
	// The link was minted by this server, which remembers it: the second
	// answer is refused by the write, and a form with mistakes by the
	// full read, never shown again to be corrected.
	for name, value := range map[string]int{"complete": 2, "out of range": 9} {
		res := app.answer(link, value, "second")
		if res.status != http.StatusConflict || !strings.Contains(res.body, "already answered") {
			t.Errorf("%s second answer: %d, want 409 and the already-answered page", name, res.status)
		}
	}
	got, _ := app.st.Round(context.Background(), r.ID)
	if got.Responded != 1 {
		t.Errorf("%d answered, want 1", got.Responded)
	}
}

func TestSmallUnitNeverShowsItsScoresOrComments(t *testing.T) {
	t.Parallel()
	// EMEA has 6 people, APAC 2: APAC's answers must never be shown on
	// their own, in the page or the export; Sales (8) and Acme show.
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6, "Acme/Sales/APAC": 2})
	r, links := app.sendRound()
	ctx := context.Background()
	emps, _ := app.st.AllEmployees(ctx)
	for _, e := range emps {
		link, ok := links[e.Email]
		if !ok {
			continue
		}
		switch {
		case strings.HasSuffix(e.UnitPath, "APAC"):
			app.answer(link, 1, "apac secret from "+e.Name)
		case strings.HasSuffix(e.UnitPath, "EMEA"):
			app.answer(link, 5, "")
		}
	}
	app.closeRound(r)
	hr := app.client()
	hr.login("hr@example.com")
	page := hr.get(fmt.Sprintf("/rounds/%d", r.ID))
	if page.status != http.StatusOK {
		t.Fatalf("results: %d", page.status)
	}
	if strings.Contains(page.body, "APAC") {
		t.Error("the results page names APAC (2 respondents)")
	}
	rows := unitRows(t, page.body)
	if len(rows) == 0 {
		t.Fatal("no unit is shown although 10 people in Sales answered")
	}
	checkNoSubtraction(t, rows, 5)
	// Comments are shown only under a unit of at least k respondents.
	if strings.Contains(page.body, "apac secret") {
		shownN := map[string]int{}
		for _, r := range rows {
			shownN[r.name] = r.n
		}
		for _, m := range regexp.MustCompile(`<h3>([^<]*?)(?: <span|</h3>)`).FindAllStringSubmatch(page.body, -1) {
			parts := strings.Split(m[1], " / ")
			if n := shownN[parts[len(parts)-1]]; n < 5 {
				t.Errorf("comments shown under %q with %d respondents", m[1], n)
			}
		}
	}
	export := hr.get(fmt.Sprintf("/rounds/%d/export.csv", r.ID))
	if export.status != http.StatusOK || strings.Contains(export.body, "APAC") {
		t.Errorf("export: %d, mentions APAC: %v\n%s", export.status, strings.Contains(export.body, "APAC"), export.body)
	}
	for _, line := range strings.Split(strings.TrimSpace(export.body), "\n")[1:] {
		f := strings.Split(line, ",")
		if n := f[1]; n < "5" && len(n) == 1 {
			t.Errorf("export row %q has fewer than 5 respondents", line)
		}
	}
}

func TestLeaderSeesOnlyTheirSubtreesResults(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6, "Acme/Support/Tier 1": 6})
	r, links := app.sendRound()
	ctx := context.Background()
	emps, _ := app.st.AllEmployees(ctx)
	for _, e := range emps {
		if link, ok := links[e.Email]; ok {
			c := ""
			if strings.Contains(e.UnitPath, "Support") {
				c = "support only remark"
			}
			app.answer(link, 4, c)
		}
	}
	lead := app.client()
	lead.login("sales.lead@example.com")
	page := lead.get(fmt.Sprintf("/rounds/%d", r.ID))
	if page.status != http.StatusOK {
		t.Fatalf("leader results: %d", page.status)
	}
	if strings.Contains(page.body, "Support") || strings.Contains(page.body, "support only remark") || strings.Contains(page.body, ">Acme<") {
		t.Error("a Sales leader sees Support or the whole company")
	}
	export := lead.get(fmt.Sprintf("/rounds/%d/export.csv", r.ID))
	if strings.Contains(export.body, "Support") || strings.Contains(export.body, "Acme,") {
		t.Errorf("leader export shows units outside Sales:\n%s", export.body)
	}
	if res := lead.get(fmt.Sprintf("/programs/%d", app.program.ID)); res.status != http.StatusForbidden {
		t.Errorf("leader opening the program settings: %d, want 403", res.status)
	}
}

type shownRow struct {
	depth int
	name  string
	n     int
}

var unitRowRe = regexp.MustCompile(`<tr><th scope="row"><span class="depth-(\d+)">([^<]+)</span></th><td class="num">(\d+)</td>`)

// unitRows reads the "By unit" table of a round's results: depth, name and
// respondents of each shown unit, in tree order.
func unitRows(t *testing.T, body string) []shownRow {
	i := strings.Index(body, `id="units"`)
	if i < 0 {
		return nil
	}
	body = body[i:]
	body = body[:strings.Index(body, "</table>")]
	var out []shownRow
	for _, m := range unitRowRe.FindAllStringSubmatch(body, -1) {
		var r shownRow
		fmt.Sscan(m[1], &r.depth)
		fmt.Sscan(m[3], &r.n)
		r.name = m[2]
		out = append(out, r)
	}
	return out
}

// checkNoSubtraction asserts that no shown unit minus its shown children
// leaves a group of 1 to k−1 people.
func checkNoSubtraction(t *testing.T, rows []shownRow, k int) {
	t.Helper()
	for i, r := range rows {
		if r.n < k {
			t.Errorf("unit %s shown with %d respondents", r.name, r.n)
		}
		rest := r.n
		for _, c := range rows[i+1:] {
			if c.depth <= r.depth {
				break
			}
			if c.depth == r.depth+1 {
				rest -= c.n
			}
		}
		if rest > 0 && rest < k {
			t.Errorf("%s (%d) minus its shown sub-units leaves %d people: a group below %d is revealed", r.name, r.n, rest, k)
		}
	}
}

func TestComplementarySuppressionHidesASiblingThatWouldRevealASmallTeam(t *testing.T) {
	t.Parallel()
	// Sales: EMEA 8 (incl. Ana, Ben), DACH 6, APAC 2; Support is not
	// asked. Showing Sales, EMEA and DACH would reveal APAC = 16 − 8 − 6.
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6, "Acme/Sales/DACH": 6, "Acme/Sales/APAC": 2})
	app.program.AudienceUnitID = app.units["Sales"]
	if err := app.st.SaveProgram(context.Background(), &app.program); err != nil {
		t.Fatal(err)
	}
	r, links := app.sendRound()
	for _, l := range links {
		app.answer(l, 4, "")
	}
	app.closeRound(r)
	hr := app.client()
	hr.login("hr@example.com")
	rows := unitRows(t, hr.get(fmt.Sprintf("/rounds/%d", r.ID)).body)
	names := map[string]bool{}
	for _, r := range rows {
		names[r.name] = true
	}
	if !names["Sales"] || names["APAC"] {
		t.Fatalf("shown %v: want Sales and never APAC", rows)
	}
	if names["EMEA"] && names["DACH"] {
		t.Errorf("EMEA and DACH both shown beside Sales: Sales − EMEA − DACH reveals APAC's 2")
	}
	if !names["EMEA"] && !names["DACH"] {
		t.Errorf("both EMEA and DACH hidden; hiding the smaller one is enough")
	}
	checkNoSubtraction(t, rows, 5)
}

var flashRe = regexp.MustCompile(`<div class="flash" role="status">([^<]*)</div>`)

func TestASecondSendNowClickInvitesNobodyTwice(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	// The server's clock, which the test moves to the next second.
	clock := &testClock{t: timeNow().Add(100 * time.Millisecond)}
	app.srv.now = clock.Now
	sched, err := schedule.New(app.runner, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)), schedule.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app.srv.SetJobs(sched)
	hr := app.client()
	hr.login("hr@example.com")
	page := fmt.Sprintf("/programs/%d", app.program.ID)
	send := page + "/send"

	first := hr.postForm(page, send, nil)
	if first.status != http.StatusSeeOther {
		t.Fatalf("first click: %d, want 303", first.status)
	}
	shown := hr.get(first.header.Get("Location")).body
	m := flashRe.FindStringSubmatch(shown)
	if m == nil || !strings.HasPrefix(m[1], "Round 1 is open until") {
		t.Fatalf("after the first click the flash is %q, want \"Round 1 is open until …\"", m)
	}
	// The zone's abbreviation at the closing time, not now: a round
	// started in the week before a DST change closes after it.
	started, _ := app.st.Rounds(context.Background(), app.program.ID)
	if len(started) != 1 {
		t.Fatalf("%d rounds after the first click, want 1", len(started))
	}
	if zone := tandem.InZone(started[0].ClosesAt, "Europe/Berlin").Format("MST"); !strings.Contains(m[1], zone) {
		t.Errorf("flash %q does not give the closing time in the program's zone (%s)", m[1], zone)
	}

	// The second click lands in a later second: a different slot.
	clock.Advance(time.Second)
	second := hr.postForm(page, send, nil)
	if second.status != http.StatusSeeOther || second.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("second click: %d to %q, want 303 to the same round %q", second.status, second.header.Get("Location"), first.header.Get("Location"))
	}
	m = flashRe.FindStringSubmatch(hr.get(second.header.Get("Location")).body)
	if m == nil || m[1] != "A round was started a moment ago already." {
		t.Errorf("after the second click the flash is %q", m)
	}
	rounds, _ := app.st.Rounds(context.Background(), app.program.ID)
	if len(rounds) != 1 {
		t.Errorf("%d rounds after two clicks, want 1", len(rounds))
	}
	if msgs, _ := app.st.OutboxMessages(context.Background(), "pending", 100); len(rounds) == 1 && len(msgs) != rounds[0].Invited {
		t.Errorf("%d invitations queued after two clicks, want %d (one each)", len(msgs), rounds[0].Invited)
	}
}

func TestResultsListCountsEachProgramsRounds(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	ctx := context.Background()
	quiet := pulse.Defaults()
	quiet.Name = "Quiet program"
	quiet.AudienceUnitID = app.units["Acme"]
	if err := app.st.SaveProgram(ctx, &quiet); err != nil {
		t.Fatal(err)
	}
	for _, ago := range []time.Duration{14 * 24 * time.Hour, 7 * 24 * time.Hour} {
		slot := timeNow().Add(-ago).Truncate(time.Second)
		if _, _, err := app.st.CreateRound(ctx, &app.program, slot, false, slot); err != nil {
			t.Fatal(err)
		}
	}
	hr := app.client()
	hr.login("hr@example.com")
	body := hr.get("/results").body
	for name, want := range map[string]string{app.program.Name: "2", quiet.Name: "0"} {
		re := regexp.MustCompile(`>` + regexp.QuoteMeta(name) + `</a></td><td>[^<]*</td><td class="num">(\d+)</td>`)
		m := re.FindStringSubmatch(body)
		if m == nil || m[1] != want {
			t.Errorf("/results row of %q shows %v rounds, want %s", name, m, want)
		}
	}
}

func TestQuestionFormRefusesBadInputAndKeepsWhatWasEntered(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	hr := app.client()
	hr.login("hr@example.com")
	before, _ := app.st.Questions(context.Background())
	support := fmt.Sprint(app.units["Support"])
	for name, tc := range map[string]struct {
		form      url.Values
		want      string
		keepsText string
	}{
		"one option": {url.Values{"text": {"Where do you mostly work?"}, "kind": {"choice"}, "choices": {"Office\n\n  "}},
			"2 to 12 options", "Where do you mostly work?"},
		"repeated option": {url.Values{"text": {"Where do you mostly work?"}, "kind": {"choice"}, "choices": {"Office\nHome\noffice"}},
			`option &#34;office&#34; is listed twice`, "Office\nHome\noffice"},
		"service without teams": {url.Values{"text": {"How well does Support help you?"}, "kind": {"service"}},
			"1 to 50 provider teams", "How well does Support help you?"},
		"service with a driver": {url.Values{"text": {"How well does Support help you?"}, "kind": {"service"}, "providers": {support}, "driver": {"growth"}},
			"has no driver", `<option value="` + support + `" selected>`},
		"a team that does not exist": {url.Values{"text": {"How well does Support help you?"}, "kind": {"service"}, "providers": {support, "987654"}},
			"unit 987654 does not exist", `<option value="` + support + `" selected>`},
		"a provider that is not a number": {url.Values{"text": {"How well does Support help you?"}, "kind": {"service"}, "providers": {"Support"}},
			"not a team", "How well does Support help you?"},
		"no text":      {url.Values{"kind": {"likert5"}, "text": {"   "}}, "write the question", ""},
		"unknown kind": {url.Values{"text": {"Do you like it here?"}, "kind": {"stars"}}, "not a question kind", "Do you like it here?"},
	} {
		res := hr.postForm("/questions", "/questions", tc.form)
		if res.status != http.StatusBadRequest || !strings.Contains(res.body, tc.want) {
			t.Errorf("%s: %d, want 400 saying %q", name, res.status, tc.want)
		}
		if !strings.Contains(res.body, tc.keepsText) {
			t.Errorf("%s: the form lost %q", name, tc.keepsText)
		}
	}
	after, _ := app.st.Questions(context.Background())
	if len(after) != len(before) {
		t.Errorf("%d questions added by bad forms", len(after)-len(before))
	}
	ok := hr.postForm("/questions", "/questions", url.Values{"text": {"Where do you mostly work?"}, "kind": {"choice"}, "choices": {"Office\nHome\nBoth"}})
	if ok.status != http.StatusSeeOther {
		t.Fatalf("a good choice question: %d", ok.status)
	}
	if after, _ := app.st.Questions(context.Background()); len(after) != len(before)+1 || after[len(after)-1].Text != "Where do you mostly work?" || len(after[len(after)-1].Choices) != 3 {
		t.Errorf("the good question was not stored with its 3 options")
	}
}
