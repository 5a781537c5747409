package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/mail/mailtest"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
)

// commentsApp is a pulse app with two teams big enough to be shown: EMEA
// (in Sales, which sales.lead@example.com leads; 8 people) and Support
// (outside the leader's scope; 7 people), and each person's team.
type commentsApp struct {
	*pulseApp
	team map[string]string // email → team name
}

func newCommentsApp(t *testing.T) *commentsApp {
	t.Helper()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6, "Acme/Support": 4})
	rows, err := app.st.DB().Query("SELECT e.email, u.name FROM employees e JOIN org_units u ON u.id = e.unit_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	team := map[string]string{}
	for rows.Next() {
		var email, unit string
		if err := rows.Scan(&email, &unit); err != nil {
			t.Fatal(err)
		}
		team[email] = unit
	}
	return &commentsApp{pulseApp: app, team: team}
}

// deliver starts a round of the program at slot (a manual "send now")
// and delivers its invitations; it returns the round and each person's
// message by address.
func (a *commentsApp) deliver(slot time.Time) (pulse.Round, map[string]mailtest.Message) {
	a.t.Helper()
	ctx := context.Background()
	before := len(a.smtp.Messages())
	r, created, err := a.runner.SendNow(ctx, a.program.ID, slot.Truncate(time.Second))
	if err != nil || !created {
		a.t.Fatalf("send the round of %s: created %v, %v", slot, created, err)
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
	msgs := map[string]mailtest.Message{}
	for _, m := range a.smtp.Messages()[before:] {
		msgs[m.To[0]] = m
	}
	if len(msgs) != len(a.team) {
		a.t.Fatalf("round %d: %d messages for %d people", r.ID, len(msgs), len(a.team))
	}
	return r, msgs
}

// answerIn has up to n people of team answer, each with comment and a
// number.
func (a *commentsApp) answerIn(msgs map[string]mailtest.Message, team string, n int, comment string) {
	a.t.Helper()
	i := 0
	for email, m := range msgs {
		if a.team[email] != team || i == n {
			continue
		}
		i++
		if res := a.answer(m.Link(), 4, fmt.Sprintf("%s (%d)", comment, i)); res.status != http.StatusOK {
			a.t.Fatalf("%s answers: %d", email, res.status)
		}
	}
	if i != n {
		a.t.Fatalf("only %d people of %s to answer, want %d", i, team, n)
	}
}

var commentKeyRe = regexp.MustCompile(`<li id="c-([0-9a-f]+)">`)

// commentKeys lists the comment keys on a comments page.
func commentKeys(body string) []string {
	var out []string
	for _, m := range commentKeyRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// keyOf is the key of the comment on a page whose text contains marker.
func keyOf(t *testing.T, body, marker string) string {
	t.Helper()
	for _, li := range strings.Split(body, "<li ")[1:] {
		if strings.Contains(li, marker) {
			if m := commentKeyRe.FindStringSubmatch("<li " + li); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no comment %q on the page", marker)
	return ""
}

func TestCommentsPageShowsReleasedCommentsOfGroupsOfAtLeastKAndSearchFindsNoOthers(t *testing.T) {
	t.Parallel()
	app := newCommentsApp(t)
	now := timeNow()
	// Round 1: EMEA (6 answers) and Support (5) are each shown.
	r1, m1 := app.deliver(now.AddDate(0, 0, -3))
	app.answerIn(m1, "EMEA", 6, "The coffee machine in EMEA is broken")
	app.answerIn(m1, "Support", 5, "Support rota is unfair")
	app.closeRound(r1)
	// Round 2: three answers in all, fewer than k anywhere: nothing of it
	// may be shown, to anyone.
	r2, m2 := app.deliver(now.AddDate(0, 0, -2))
	app.answerIn(m2, "EMEA", 2, "WHISPER from a small group")
	app.answerIn(m2, "Support", 1, "WHISPER from one person")
	app.closeRound(r2)
	// Round 3 stays open: its comments wait for the close.
	_, m3 := app.deliver(now.AddDate(0, 0, -1))
	app.answerIn(m3, "EMEA", 6, "OPENROUND remark")

	admin := app.client()
	admin.login("admin@example.com")
	lead := app.client()
	lead.login("sales.lead@example.com")

	page := admin.get("/comments")
	if page.status != http.StatusOK {
		t.Fatalf("GET /comments: %d\n%s", page.status, page.body)
	}
	if got := strings.Count(page.body, "The coffee machine in EMEA is broken"); got != 6 {
		t.Errorf("admin sees %d EMEA comments, want 6", got)
	}
	if got := strings.Count(page.body, "Support rota is unfair"); got != 5 {
		t.Errorf("admin sees %d Support comments, want 5", got)
	}
	if !strings.Contains(page.body, "<h3>Acme / Sales / EMEA") && !strings.Contains(page.body, "EMEA</h3>") {
		t.Errorf("comments are not grouped under their unit:\n%s", page.body)
	}
	if !strings.Contains(page.body, fmt.Sprintf(`id="round-h-%d"`, r1.ID)) || !strings.Contains(page.body, fmt.Sprintf(`id="round-h-%d"`, r2.ID)) {
		t.Errorf("the closed rounds lack their sections")
	}
	if !strings.Contains(page.body, `id="open-round"`) || !strings.Contains(page.body, "its comments appear here when it closes") {
		t.Errorf("the page does not say when the open round's comments appear")
	}
	for _, c := range []*client{admin, lead} {
		for _, path := range []string{"/comments", "/comments?q=whisper", "/comments?q=OPENROUND", "/comments?q=remark", "/comments?q=group"} {
			body := c.get(path).body
			if strings.Contains(body, "WHISPER from") || strings.Contains(body, "OPENROUND remark") {
				t.Errorf("GET %s shows a comment below k or of an open round", path)
			}
		}
	}
	// A search is done on the server, ignoring case, and says how many
	// comments match.
	found := admin.get("/comments?" + url.Values{"q": {"COFFEE machine"}}.Encode())
	if got := strings.Count(found.body, "The coffee machine in EMEA is broken"); got != 6 || strings.Contains(found.body, "Support rota") {
		t.Errorf("search for coffee: %d coffee comments, Support shown %v", got, strings.Contains(found.body, "Support rota"))
	}
	if !strings.Contains(found.body, "6 comments match") {
		t.Errorf("search result lacks its count")
	}
	if none := admin.get("/comments?q=whisper"); !strings.Contains(none.body, "0 comments match") {
		t.Errorf("a search for a comment below k does not say 0 matches")
	}
	// The leader sees their own units' comments only.
	mine := lead.get("/comments")
	if got := strings.Count(mine.body, "The coffee machine in EMEA is broken"); got != 6 {
		t.Errorf("the leader sees %d EMEA comments, want 6", got)
	}
	if strings.Contains(mine.body, "Support") {
		t.Errorf("the leader of Sales sees Support on the comments page")
	}
	if r := lead.get("/comments?q=rota"); strings.Contains(r.body, "rota is unfair") || !strings.Contains(r.body, "0 comments match") {
		t.Errorf("the leader's search reaches another unit's comments")
	}
	// The keys on the page are the comments a person may act on: 6 + 5
	// for the admin, 6 for the leader.
	if got, want := len(commentKeys(page.body)), 11; got != want {
		t.Errorf("admin's page names %d comments, want %d", got, want)
	}
	if got, want := len(commentKeys(mine.body)), 6; got != want {
		t.Errorf("leader's page names %d comments, want %d", got, want)
	}
	// A search longer than the box allows is refused with a message.
	if r := admin.get("/comments?q=" + strings.Repeat("x", 201)); r.status != http.StatusBadRequest || !strings.Contains(r.body, "at most 200") {
		t.Errorf("an overlong search: %d", r.status)
	}
}

func TestALeaderAcknowledgesCommentsOfTheirOwnUnitsOnly(t *testing.T) {
	t.Parallel()
	app := newCommentsApp(t)
	ctx := context.Background()
	now := timeNow()
	r1, m1 := app.deliver(now.AddDate(0, 0, -3))
	app.answerIn(m1, "EMEA", 6, "Too many meetings in EMEA")
	app.answerIn(m1, "Support", 5, "Support needs a second queue")
	app.closeRound(r1)
	r2, m2 := app.deliver(now.AddDate(0, 0, -2))
	app.answerIn(m2, "EMEA", 3, "WHISPER below k")
	app.closeRound(r2)
	r3, m3 := app.deliver(now.AddDate(0, 0, -1))
	app.answerIn(m3, "EMEA", 6, "OPENROUND remark")

	admin := app.client()
	admin.login("admin@example.com")
	lead := app.client()
	lead.login("sales.lead@example.com")
	all := admin.get("/comments").body
	own := keyOf(t, all, "Too many meetings in EMEA (1)")
	other := keyOf(t, all, "Support needs a second queue (1)")

	ack := func(c *client, round pulse.Round, key string) response {
		return c.postForm("/comments", "/comments/ack", url.Values{"round": {fmt.Sprint(round.ID)}, "comment": {key}, "q": {"meetings"}})
	}
	// Another unit's comment: forbidden, and nothing is stored.
	if r := ack(lead, r1, other); r.status != http.StatusForbidden {
		t.Errorf("the leader acknowledges a Support comment: %d, want 403", r.status)
	} else if strings.Contains(r.body, "Support") {
		t.Errorf("the refusal names the other unit")
	}
	// Their own: stored with who and when, back to the same search.
	r := ack(lead, r1, own)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != fmt.Sprintf("/comments?program=%d&q=meetings#c-%s", app.program.ID, own) {
		t.Fatalf("acknowledging: %d, Location %q", r.status, r.header.Get("Location"))
	}
	var n int
	app.st.DB().QueryRow("SELECT COUNT(*) FROM comment_acks").Scan(&n)
	if n != 1 {
		t.Fatalf("%d acknowledgements stored, want 1", n)
	}
	// The acknowledgement names the leader and nobody else.
	for _, col := range columns(t, app.pulseApp, "comment_acks") {
		if strings.Contains(col, "employee") || strings.Contains(col, "invitation") || strings.Contains(col, "author") {
			t.Errorf("comment_acks has column %q", col)
		}
	}
	page := lead.get("/comments").body
	li := page[strings.Index(page, `<li id="c-`+own+`"`):]
	li = li[:strings.Index(li, "</li>")]
	if !strings.Contains(li, "Acknowledged</span> by sales.lead@example.com") || strings.Contains(li, "Mark as acknowledged") {
		t.Errorf("the acknowledged comment reads:\n%s", li)
	}
	if got := strings.Count(page, "Mark as acknowledged"); got != 5 {
		t.Errorf("%d comments still offer the button, want 5", got)
	}
	// Only what is left to acknowledge, kept through the next
	// acknowledgement.
	left := lead.get("/comments?pending=1")
	if keys := commentKeys(left.body); len(keys) != 5 || strings.Contains(left.body, `id="c-`+own+`"`) {
		t.Errorf("unacknowledged comments: %d listed, the acknowledged one among them %v", len(keys), strings.Contains(left.body, `id="c-`+own+`"`))
	}
	if !strings.Contains(left.body, "5 comments not yet acknowledged.") {
		t.Errorf("the unacknowledged list does not say how many")
	}
	next := keyOf(t, left.body, "Too many meetings in EMEA")
	if r := lead.postForm("/comments?pending=1", "/comments/ack", url.Values{"round": {fmt.Sprint(r1.ID)}, "comment": {next}, "pending": {"1"}}); r.status != http.StatusSeeOther ||
		r.header.Get("Location") != fmt.Sprintf("/comments?pending=1&program=%d#c-%s", app.program.ID, next) {
		t.Errorf("acknowledging from the unacknowledged list: %d, Location %q", r.status, r.header.Get("Location"))
	}
	// HR sees who acknowledged it too.
	hr := app.client()
	hr.login("hr@example.com")
	if !strings.Contains(hr.get("/comments").body, "by sales.lead@example.com") {
		t.Errorf("HR does not see the acknowledgement")
	}
	// A second acknowledgement keeps the first.
	if r := ack(admin, r1, own); r.status != http.StatusSeeOther {
		t.Errorf("acknowledging again: %d", r.status)
	}
	var who string
	app.st.DB().QueryRow("SELECT user_email FROM comment_acks").Scan(&who)
	if who != "sales.lead@example.com" {
		t.Errorf("acknowledged by %q after a second acknowledgement, want the first", who)
	}
	// A comment below k is not there to acknowledge, even for an admin;
	// an open round's comments cannot be acknowledged before they show.
	texts, err := app.st.TextAnswers(ctx, r2.ID)
	if err != nil || len(texts) == 0 {
		t.Fatalf("round 2's comments: %v %v", texts, err)
	}
	if r := ack(admin, r2, texts[0].Key); r.status != http.StatusNotFound {
		t.Errorf("acknowledging a comment below k: %d, want 404", r.status)
	}
	if r := ack(admin, r3, own); r.status != http.StatusConflict || !strings.Contains(r.body, "still open") {
		t.Errorf("acknowledging in an open round: %d, want 409", r.status)
	}
	// The audit log records the acknowledgement (the leader's).
	entries, err := app.st.AuditLog(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	acks := 0
	for _, e := range entries {
		if e.Action == "comment.acknowledge" {
			acks++
			if e.UserEmail != "sales.lead@example.com" || !strings.Contains(e.Detail, "Acme / Sales") && !strings.Contains(e.Detail, "Sales") {
				t.Errorf("audit entry %+v", e)
			}
		}
	}
	if acks != 2 {
		t.Errorf("%d acknowledgements in the audit log, want 2", acks)
	}
}

func TestYouSaidWeDidNoteReachesTheUnitsNextInvitationAndAnswerPage(t *testing.T) {
	t.Parallel()
	app := newCommentsApp(t)
	ctx := context.Background()
	now := timeNow()
	r1, m1 := app.deliver(now.AddDate(0, 0, -3))
	app.answerIn(m1, "EMEA", 6, "The coffee machine is broken")
	app.closeRound(r1)

	lead := app.client()
	lead.login("sales.lead@example.com")
	note := func(round pulse.Round, unit, text string) response {
		return lead.postForm("/comments", "/comments/note", url.Values{"round": {fmt.Sprint(round.ID)}, "unit": {itoa64(app.units[unit])}, "note": {text}})
	}
	if r := note(r1, "Support", "We hired two people."); r.status != http.StatusForbidden {
		t.Errorf("a note for Support by the leader of Sales: %d, want 403", r.status)
	}
	if r := note(r1, "Sales", "   "); r.status != http.StatusBadRequest || !strings.Contains(r.body, "the note is empty") {
		t.Errorf("an empty note: %d", r.status)
	}
	if r := note(r1, "Sales", "A first draft."); r.status != http.StatusSeeOther {
		t.Fatalf("saving a note: %d\n%s", r.status, r.body)
	}
	const text = "We ordered a new coffee machine & it arrives Monday."
	if r := note(r1, "Sales", text); r.status != http.StatusSeeOther {
		t.Fatalf("replacing the note: %d\n%s", r.status, r.body)
	}
	notes, err := app.st.RoundNotes(ctx, []int64{r1.ID})
	if err != nil || len(notes) != 1 || notes[0].Text != text || notes[0].UserEmail != "sales.lead@example.com" {
		t.Fatalf("stored notes: %+v, %v", notes, err)
	}
	if page := lead.get("/comments").body; !strings.Contains(html.UnescapeString(page), text) {
		t.Errorf("the comments page does not show the note")
	}
	saves := 0
	entries, _ := app.st.AuditLog(ctx, 50)
	for _, e := range entries {
		if e.Action == "round.note.save" && e.UserEmail == "sales.lead@example.com" {
			saves++
		}
	}
	if saves != 2 {
		t.Errorf("%d note saves in the audit log, want 2", saves)
	}

	// The next round: EMEA's people (in Sales) read it in the email and
	// on the answer page; Support's people do not.
	r2, m2 := app.deliver(now.AddDate(0, 0, -2))
	checked := map[string]bool{}
	for email, m := range m2 {
		inSales := app.team[email] == "EMEA"
		if got := strings.Contains(m.Text, text) && strings.Contains(m.Text, "You said, we did") && strings.Contains(m.Text, "For Sales:"); got != inSales {
			t.Errorf("%s (%s): note in the email text %v, want %v\n%s", email, app.team[email], got, inSales, m.Text)
		}
		if got := strings.Contains(m.HTML, html.EscapeString(text)); got != inSales {
			t.Errorf("%s: note in the email HTML %v, want %v", email, got, inSales)
		}
		if !checked[app.team[email]] {
			checked[app.team[email]] = true
			page := app.client().get(strings.TrimPrefix(m.Link(), app.http.URL))
			if page.status != http.StatusOK {
				t.Fatalf("answer page: %d", page.status)
			}
			body := html.UnescapeString(page.body)
			if got := strings.Contains(body, text) && strings.Contains(body, `<h2 id="you-said-h">You said, we did</h2>`); got != inSales {
				t.Errorf("%s: note on the answer page %v, want %v", email, got, inSales)
			}
		}
	}
	if !checked["EMEA"] || !checked["Support"] {
		t.Fatalf("checked the pages of %v", checked)
	}
	// A note for a round still open is refused.
	if r := note(r2, "Sales", "Too early."); r.status != http.StatusConflict {
		t.Errorf("a note on an open round: %d, want 409", r.status)
	}
	// The round after next: the note was for one invitation, not forever.
	app.closeRound(r2)
	_, m3 := app.deliver(now.AddDate(0, 0, -1))
	for email, m := range m3 {
		if strings.Contains(m.Text, text) {
			t.Errorf("%s reads round 1's note again two rounds later", email)
		}
	}
	// The note can be removed.
	if r := lead.postForm("/comments", "/comments/note", url.Values{"round": {fmt.Sprint(r1.ID)}, "unit": {itoa64(app.units["Sales"])}, "remove": {"1"}}); r.status != http.StatusSeeOther {
		t.Errorf("removing the note: %d", r.status)
	}
	if notes, _ := app.st.RoundNotes(ctx, []int64{r1.ID}); len(notes) != 0 {
		t.Errorf("notes after removal: %+v", notes)
	}
}

func TestDashboardAndRisksSayWhichClosedRoundTheyShowAndCardsShowNumbers(t *testing.T) {
	t.Parallel()
	app := newCommentsApp(t)
	ctx := context.Background()
	now := timeNow()
	// Two voluntary leavers in the last twelve months, for the turnover
	// card.
	leavers := fmt.Sprintf("email,name,team,hired_on,exited_on,exit_type\nleaver1@example.com,Leaver One,Acme/Support,2019-01-01,%s,voluntary\nleaver2@example.com,Leaver Two,Acme/Sales/EMEA,2019-01-01,%s,voluntary\n",
		now.AddDate(0, -2, 0).Format("2006-01-02"), now.AddDate(0, -5, 0).Format("2006-01-02"))
	plan, err := app.st.PlanRoster(ctx, strings.NewReader(leavers), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.st.ApplyRoster(ctx, plan, now.AddDate(-2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	r1, m1 := app.deliver(now.AddDate(0, 0, -3))
	app.answerIn(m1, "EMEA", 6, "fine")
	app.answerIn(m1, "Support", 5, "fine")
	app.closeRound(r1)
	r2, m2 := app.deliver(now.AddDate(0, 0, -2))
	app.answerIn(m2, "EMEA", 6, "better")
	app.answerIn(m2, "Support", 5, "better")
	app.closeRound(r2)
	r3, _ := app.deliver(now.AddDate(0, 0, -1))

	admin := app.client()
	admin.login("admin@example.com")
	dash := admin.get(fmt.Sprintf("/dashboard?program=%d", app.program.ID))
	if dash.status != http.StatusOK {
		t.Fatalf("dashboard: %d", dash.status)
	}
	body := html.UnescapeString(dash.body)
	want := []string{
		fmt.Sprintf("Engagement index in round %d (%s) against round %d (%s), both closed.", r2.Seq, r2.Period, r1.Seq, r1.Period),
		fmt.Sprintf("Round %d (%s) is still open: no figure on this page includes it. Its results appear when it closes on", r3.Seq, r3.Period),
		fmt.Sprintf("Round %d joins them when it closes on", r3.Seq),
		fmt.Sprintf("to round %d (%s), closed", r2.Seq, r2.Period),
		"voluntary turnover, 12 months</a>",
		fmt.Sprintf(`<a href="/results/%d?unit=%d">`, app.program.ID, app.units["EMEA"]),
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("dashboard lacks %q", w)
		}
	}
	for _, card := range []string{"card-risks", "card-retention", "card-service"} {
		i := strings.Index(dash.body, `id="`+card+`"`)
		if i < 0 {
			t.Fatalf("no %s card", card)
		}
		c := dash.body[i : i+strings.Index(dash.body[i:], "</div></div>")]
		if strings.Contains(c, "→") {
			t.Errorf("%s shows an arrow, want a number: %s", card, c)
		}
	}
	// The turnover card's number is the retention report's.
	ret := html.UnescapeString(admin.get("/reports/retention").body)
	m := regexp.MustCompile(`<div class="stat">([0-9.]+%)<small>voluntary \((\d+)\)`).FindStringSubmatch(ret)
	if m == nil || m[2] != "2" {
		t.Fatalf("the retention report's voluntary rate: %v", m)
	}
	if !strings.Contains(body, `<div class="stat">`+m[1]+`<small><a href="/reports/retention">voluntary turnover, 12 months</a> (2 of 2 exits)`) {
		t.Errorf("the turnover card does not show the report's %s", m[1])
	}
	// The flight-risk page says the same about its rounds, and links units.
	risks := html.UnescapeString(admin.get("/risks").body)
	for _, w := range []string{
		fmt.Sprintf("Up to round %d (%s), the latest closed round.", r2.Seq, r2.Period),
		fmt.Sprintf("Round %d is still open; its answers count here when it closes on", r3.Seq),
	} {
		if !strings.Contains(risks, w) {
			t.Errorf("risks page lacks %q", w)
		}
	}
}

func TestDashboardServiceCardShowsTheScoreOfTheTeamsInScope(t *testing.T) {
	t.Parallel()
	// Every rater gave 4 of 5: (4−1)/4·100 = 75 on the 0–100 scale.
	o := newAuthzOrg(t)
	for _, c := range []struct {
		who  authzPrincipal
		want string
	}{{pHR, "75<small>"}, {pLeaderA, "75<small>"}} {
		r := o.do(t, c.who, http.MethodGet, fmt.Sprintf("/dashboard?program=%d", o.progAll), authzCase{})
		i := strings.Index(r.body, `id="card-service"`)
		if r.status != http.StatusOK || i < 0 {
			t.Fatalf("%s: dashboard %d, service card found %v", c.who, r.status, i >= 0)
		}
		card := html.UnescapeString(r.body[i : i+strings.Index(r.body[i:], "</div></div>")])
		teams := "2 teams rated"
		if c.who == pLeaderA {
			teams = "1 team rated"
		}
		if !strings.Contains(card, c.want) || !strings.Contains(card, "internal service (0–100)</a>, "+teams+", round 1") {
			t.Errorf("%s: service card reads %s", c.who, card)
		}
	}
}
