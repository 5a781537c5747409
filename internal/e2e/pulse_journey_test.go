package e2e

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// pulseRoster has a team of seven (the program's audience), their manager
// one level up, and two people in another team who are not asked.
const pulseRoster = `employee_id,email,name,team,manager
M001,mia.lund@example.com,Mia Lund,Lumen & Co/Product,
E101,ana.silva@example.com,Ana Silva,Lumen & Co/Product/Mobile,M001
E102,ben.okafor@example.com,Ben Okafor,Lumen & Co/Product/Mobile,M001
E103,chloe.martin@example.com,Chloé Martin,Lumen & Co/Product/Mobile,M001
E104,dmitri.petrov@example.com,Dmitri Petrov,Lumen & Co/Product/Mobile,M001
E105,emeka.eze@example.com,Emeka Eze,Lumen & Co/Product/Mobile,M001
E106,fatima.haddad@example.com,Fatima Haddad,Lumen & Co/Product/Mobile,M001
E107,giulia.rossi@example.com,Giulia Rossi,Lumen & Co/Product/Mobile,M001
E201,hiro.tanaka@example.com,Hiro Tanaka,Lumen & Co/Sales,
E202,ines.garcia@example.com,Inés García,Lumen & Co/Sales,E201
`

// mobileTeam is who the program's rounds invite.
var mobileTeam = []string{"ana.silva@example.com", "ben.okafor@example.com", "chloe.martin@example.com",
	"dmitri.petrov@example.com", "emeka.eze@example.com", "fatima.haddad@example.com", "giulia.rossi@example.com"}

// mailWait bounds the wait for the invitations of a round to arrive.
const mailWait = 20 * time.Second

func TestHRCreatesProgramEmployeeAnswersOnPhoneHRSeesParticipationRise(t *testing.T) {
	t.Parallel()
	skipJourneyIfShort(t)
	// The machine's clock: the scheduler and the outbox worker of
	// startJobs run on it, and the rounds they deliver must be open then.
	a := newApp(t)
	j := a.startJobs(t)
	importRoster(t, a, pulseRoster)
	audience := unitByPath(t, a, "Lumen & Co/Product/Mobile")
	a.addUser(t, "hr@example.com", tandem.RoleHR, 0)
	hr := newBrowser(t)
	signIn(t, hr, a, "hr@example.com")

	// HR creates a weekly program for the mobile team, in Berlin time,
	// by email, keeping the other defaults.
	navigate(t, hr, "open the new program form", 200, chromedp.Navigate(a.URL+"/programs/new"))
	typeInto(t, hr, "#name", "Mobile team pulse")
	do(t, hr, "choose the audience Lumen & Co/Product/Mobile", chromedp.SetValue(chromedp.CSS("#audience"), fmt.Sprint(audience)))
	do(t, hr, "choose the weekly schedule", chromedp.SetValue(chromedp.CSS("#preset"), "weekly"))
	typeInto(t, hr, "#timezone", "Europe/Berlin")
	do(t, hr, "choose email", chromedp.SetValue(chromedp.CSS("#channel"), "email"))
	got := navigate(t, hr, "save the program", 200,
		chromedp.Click(chromedp.CSS(`form[action="/programs"] button[type=submit]`)))
	m := regexp.MustCompile(`^/programs/(\d+)$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("after saving the program the browser is at %s, want /programs/ID", got)
	}
	programPath := got
	if flash := run(t, hr, "read the flash", chromedp.Text(chromedp.CSS(".flash"))); !strings.HasPrefix(flash, "Created Mobile team pulse.") {
		t.Errorf("flash = %q, want it to start with %q", flash, "Created Mobile team pulse.")
	}
	programs, err := a.Store.Programs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(programs) != 1 {
		t.Fatalf("%d programs saved, want 1", len(programs))
	}
	p := programs[0]
	c := p.Cadence
	if fmt.Sprint(p.ID) != m[1] || p.Name != "Mobile team pulse" || p.AudienceUnitID != audience || c.Kind != pulse.Weekly || c.Weeks != 1 ||
		c.Weekday != time.Monday || c.Hour != 9 || c.Minute != 0 || c.Zone != "Europe/Berlin" || p.Channel != "email" || !p.Active || p.MinGroup != 5 || p.WindowDays != 5 {
		t.Errorf("program saved as %+v, want Mobile team pulse for unit %d, every week on Monday 09:00 Europe/Berlin, email, active, defaults k=5 and 5 days", p, audience)
	}
	if len(p.QuestionIDs) == 0 {
		t.Errorf("program saved with no questions in its pool; the form's default is the built-in bank")
	}

	// "Send a round now" asks for confirmation first; HR accepts.
	dialog := acceptNextDialog(t, hr)
	got = navigate(t, hr, "send a round now", 200,
		chromedp.Click(chromedp.CSS(`form[action="`+programPath+`/send"] button[type=submit]`)))
	// The page could only move on once the dialog was answered, so its
	// message is in by now.
	select {
	case msg := <-dialog:
		if msg != "Start a round now and send invitations to everyone in the audience?" {
			t.Errorf("confirmation asked %q, want the button's data-confirm text", msg)
		}
	case <-time.After(2 * time.Second):
		t.Errorf("sending a round asked for no confirmation; want the button's data-confirm dialog")
	}
	rm := regexp.MustCompile(`^/rounds/(\d+)$`).FindStringSubmatch(got)
	if rm == nil {
		t.Fatalf("after sending a round the browser is at %s, want /rounds/ID", got)
	}
	roundPath := got
	if flash := run(t, hr, "read the flash", chromedp.Text(chromedp.CSS(".flash"))); !strings.HasPrefix(flash, "Round 1 is open until") {
		t.Errorf("flash = %q, want it to start with %q", flash, "Round 1 is open until")
	}
	if h := run(t, hr, "read the heading", chromedp.Text(chromedp.CSS("main h1"))); !strings.HasPrefix(h, "Round 1") {
		t.Errorf("round page heading = %q, want Round 1…", h)
	}
	want0 := fmt.Sprintf("0 / %d", len(mobileTeam))
	if s := participationStat(t, hr); !strings.HasPrefix(s, want0) {
		t.Errorf("round page #participation = %q before anyone answered, want %q…", s, want0)
	}
	navigate(t, hr, "open the program page", 200, chromedp.Navigate(a.URL+programPath))
	if got := roundParticipation(t, hr); !slices.Equal(got, []string{"0"}) {
		t.Errorf("program page rounds table answered = %q, want [0]", got)
	}

	// The outbox delivers one invitation to each member of the team.
	msgs := j.SMTP.WaitFor(len(mobileTeam), mailWait)
	if len(msgs) != len(mobileTeam) {
		t.Fatalf("%d invitations arrived at the SMTP listener within %s, want %d", len(msgs), mailWait, len(mobileTeam))
	}
	var to, links []string
	for _, msg := range msgs {
		to = append(to, msg.To...)
		links = append(links, msg.Link())
	}
	slices.Sort(to)
	if want := slices.Sorted(slices.Values(mobileTeam)); !slices.Equal(to, want) {
		t.Errorf("invitations went to %q, want %q", to, want)
	}
	link := links[0]
	if !strings.HasPrefix(link, a.URL+"/p/") {
		t.Fatalf("invitation to %v links to %q, want %s/p/TOKEN; text:\n%s", msgs[0].To, link, a.URL, msgs[0].Text)
	}
	if distinct := slices.Compact(slices.Sorted(slices.Values(links))); len(distinct) != len(links) {
		t.Errorf("invitation links are not all different: %q", links)
	}

	// An employee opens the link on a phone: a browser with none of HR's
	// cookies.
	phone := newPrivateTab(t, hr)
	do(t, phone, "emulate a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	if got := navigate(t, phone, "open the program page without signing in", 200, chromedp.Navigate(a.URL+programPath)); !strings.HasPrefix(got, "/login") {
		t.Fatalf("the phone's tab opened %s at %s, want the sign-in page: it must not share HR's session", programPath, got)
	}
	resp, err := chromedp.RunResponse(phone, chromedp.Navigate(link))
	if err != nil {
		t.Fatalf("open the answer link: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("answer link answered %d, want 200", resp.Status)
	}
	if rp := resp.Headers["Referrer-Policy"]; rp != "no-referrer" {
		t.Errorf("answer page Referrer-Policy = %v, want no-referrer", rp)
	}
	var knownBugs []string
	knownBugs = append(knownBugs, checkFitsWidth(t, phone, "answer page", phoneWidth)...)
	checkAnswerFormAccessible(t, phone)

	questions := run(t, phone, "list the questions", chromedp.Evaluate[[]answerQuestion](answerQuestionsJS))
	if len(questions) == 0 {
		t.Fatal("the answer page asks no questions")
	}
	for _, q := range questions {
		switch {
		case q.Text:
			do(t, phone, "answer "+q.ID, chromedp.SendKeys(chromedp.CSS("#"+q.ID+" textarea"), "Good week."))
		case len(q.Values) == 0:
			t.Fatalf("question %s has no options and no text box", q.ID)
		default:
			v := q.Values[len(q.Values)*3/4] // "Agree", 8 of 0–10
			do(t, phone, "answer "+q.ID+" by its label",
				chromedp.Click(chromedp.CSS(fmt.Sprintf(`#%s label:has(> input[type=radio][value="%s"])`, q.ID, v))))
			checked := run(t, phone, "read the answer to "+q.ID, chromedp.Evaluate[string](
				fmt.Sprintf(`(document.querySelector("#%s input[type=radio]:checked") || {value: ""}).value`, q.ID)))
			if checked != v {
				t.Errorf("after a tap on the label of %q in %s, the checked option is %q", v, q.ID, checked)
			}
		}
	}
	knownBugs = append(knownBugs, checkFitsWidth(t, phone, "answered form", phoneWidth)...)

	// Tab from the comment box reaches the submit button; Enter sends.
	do(t, phone, "focus the comment box", chromedp.Focus(chromedp.CSS("#comment")))
	do(t, phone, "press Tab", chromedp.KeyEvent(kb.Tab))
	if focused := run(t, phone, "read the focused element", chromedp.Evaluate[string](
		`document.activeElement.matches('form.answer button[type=submit]') ? "submit" : document.activeElement.outerHTML.slice(0, 120)`)); focused != "submit" {
		t.Fatalf("Tab from the comment box focused %s, want the submit button", focused)
	}
	navigate(t, phone, "send the answers with Enter", 200, chromedp.KeyEvent(kb.Enter))
	if h := run(t, phone, "read the heading", chromedp.Text(chromedp.CSS("main h1"))); h != "Thank you!" {
		body := run(t, phone, "read the page", chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("after sending, the page heading is %q, want Thank you!; the page says: %s", h, body)
	}
	knownBugs = append(knownBugs, checkFitsWidth(t, phone, "thank-you page", phoneWidth)...)

	// HR sees the answer counted, on the program page and the round page.
	navigate(t, hr, "reload the program page", 200, chromedp.Reload())
	if got := roundParticipation(t, hr); !slices.Equal(got, []string{"1"}) {
		t.Errorf("program page rounds table answered = %q after one answer, want [1]", got)
	}
	navigate(t, hr, "open the round page", 200, chromedp.Navigate(a.URL+roundPath))
	want1 := fmt.Sprintf("1 / %d", len(mobileTeam))
	if s := participationStat(t, hr); !strings.HasPrefix(s, want1) {
		t.Errorf("round page #participation = %q after one answer, want %q…", s, want1)
	}

	if len(knownBugs) > 0 {
		slices.Sort(knownBugs)
		t.Skipf("everything else passed; skipped for known app bugs: %s", strings.Join(slices.Compact(knownBugs), "; "))
	}
}

// importRoster applies a roster CSV straight to the store, as of 30 days
// before the app's today, so everyone in it is on the roster today.
func importRoster(t *testing.T, a *app, csv string) {
	t.Helper()
	ctx := context.Background()
	plan, err := a.Store.PlanRoster(ctx, strings.NewReader(csv), roster.Options{})
	if err != nil {
		t.Fatalf("plan roster: %v", err)
	}
	if _, err := a.Store.ApplyRoster(ctx, plan, tandem.Today(a.Now()).AddDate(0, 0, -30)); err != nil {
		t.Fatalf("apply roster: %v", err)
	}
}

// unitByPath returns the id of the unit with the path "A/B/C".
func unitByPath(t *testing.T, a *app, path string) int64 {
	t.Helper()
	tree, err := a.Store.Tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u := tree.ByPath(strings.Split(path, "/"))
	if u == nil {
		t.Fatalf("no unit %q on the roster", path)
	}
	return u.ID
}

// acceptNextDialog accepts the next JavaScript dialog (confirm, alert) the
// tab opens, and sends its message on the returned channel. A dialog
// blocks the page and the click that opened it, so the answer comes from
// another goroutine.
func acceptNextDialog(t *testing.T, ctx context.Context) <-chan string {
	t.Helper()
	dctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	// Subscribe now, so a dialog that opens before the goroutine runs is
	// not missed.
	dialogs := chromedp.Events(dctx, page.JavascriptDialogOpening)
	msg := make(chan string, 1)
	go func() {
		defer stop()
		for ev, err := range dialogs {
			if err != nil {
				msg <- "(no dialog: " + err.Error() + ")"
				return
			}
			if _, err := chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true}); err != nil {
				msg <- "(could not accept the dialog: " + err.Error() + ")"
				return
			}
			msg <- ev.Message
			return
		}
	}()
	return msg
}

// typeInto empties a text field and types text into it. (SetValue with ""
// cannot empty it: chromedp v0.23.0 leaves the empty argument out, and the
// field gets the text "undefined".)
func typeInto(t *testing.T, ctx context.Context, sel, text string) {
	t.Helper()
	run(t, ctx, "empty "+sel, chromedp.Evaluate[bool](fmt.Sprintf(`(f => { f.value = ""; return true })(document.querySelector(%q))`, sel)))
	do(t, ctx, "type into "+sel, chromedp.SendKeys(chromedp.CSS(sel), text))
	if v := run(t, ctx, "read "+sel, chromedp.Value(chromedp.CSS(sel))); v != text {
		t.Fatalf("%s holds %q after typing, want %q", sel, v, text)
	}
}

// participationStat reads the round page's "answered / invited" figure.
func participationStat(t *testing.T, ctx context.Context) string {
	t.Helper()
	return run(t, ctx, "read the participation figure", chromedp.Evaluate[string](
		`document.querySelector("#participation").innerText.replace(/\s+/g, " ").trim()`))
}

// roundParticipation reads the "answered" column of the program page's
// rounds table, newest round first.
func roundParticipation(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return run(t, ctx, "read the rounds table", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#rounds td.participation")].map(td => td.textContent.trim())`))
}

// answerQuestion is one fieldset of the answer form.
type answerQuestion struct {
	ID     string   `json:"id"`
	Values []string `json:"values"`
	Text   bool     `json:"text"`
}

const answerQuestionsJS = `[...document.querySelectorAll("form.answer fieldset")].map(f => ({
  id: f.id,
  values: [...f.querySelectorAll("input[type=radio]")].map(i => i.value),
  text: !!f.querySelector("textarea"),
}))`

// checkAnswerFormAccessible checks what a screen reader or keyboard user
// needs from the answer form: each radio button inside a label with text
// (so the label is its name and a tap target), each group of options a
// fieldset named by a legend, each text box labelled, and a submit button
// that is enabled and in the tab order.
func checkAnswerFormAccessible(t *testing.T, ctx context.Context) {
	t.Helper()
	problems := run(t, ctx, "check the form's accessibility", chromedp.Evaluate[[]string](`(() => {
  const out = [];
  const form = document.querySelector("form.answer");
  if (!form) return ["no form.answer on the page"];
  for (const i of form.querySelectorAll("input[type=radio]")) {
    const l = i.closest("label");
    if (!l) out.push("radio " + i.name + "=" + i.value + " is not inside a <label>");
    else if (!l.textContent.trim()) out.push("the label of radio " + i.name + "=" + i.value + " has no text");
    if (!i.closest("fieldset")) out.push("radio " + i.name + " is not inside a fieldset");
  }
  for (const f of form.querySelectorAll("fieldset")) {
    const first = f.firstElementChild;
    if (!first || first.tagName !== "LEGEND" || !first.textContent.trim()) out.push("fieldset #" + f.id + " does not start with a legend with text");
  }
  for (const ta of form.querySelectorAll("textarea")) {
    if (!ta.labels || ta.labels.length === 0) out.push("textarea #" + ta.id + " has no label");
  }
  const b = form.querySelector("button[type=submit]");
  if (!b) out.push("no submit button");
  else {
    if (b.disabled) out.push("the submit button is disabled");
    if (b.tabIndex < 0) out.push("the submit button is out of the tab order (tabIndex " + b.tabIndex + ")");
    if (!b.textContent.trim()) out.push("the submit button has no text");
  }
  return out;
})()`))
	for _, p := range problems {
		t.Errorf("answer form: %s", p)
	}
}
