package e2e

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// pick chooses a value in a select or sets an input the way a person's
// choice does: the value changes and the page hears input and change.
func pick(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	run(t, ctx, "set "+sel+" to "+value, chromedp.Evaluate[bool](fmt.Sprintf(`(el => { el.value = %q;
		el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return el.value === %q })(document.querySelector(%q))`,
		value, value, sel)))
}

// previewDates waits until the form's live preview lists want and
// returns what it lists.
func previewDates(t *testing.T, ctx context.Context, step string, want []string) []string {
	t.Helper()
	js := fmt.Sprintf(`Array.from(document.querySelectorAll("#cadence-next li")).map(li => li.textContent).join("|") === %q`, strings.Join(want, "|"))
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		got := run(t, ctx, step+": read the preview", chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("#cadence-next li")).map(li => li.textContent)`))
		t.Fatalf("%s: the preview lists %q, want %q", step, got, want)
	}
	return want
}

func TestHRCreatesAFortnightlyProgramAndSeesTheRightNextDates(t *testing.T) {
	t.Parallel()
	skipJourneyIfShort(t)
	// Friday 4 December 2026, 10:00 UTC, on the server.
	a := newAppAt(t, time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	importRoster(t, a, pulseRoster)
	audience := unitByPath(t, a, "Lumen & Co/Product/Mobile")
	a.addUser(t, "hr@example.com", tandem.RoleHR, 0)
	hr := newBrowser(t)
	signIn(t, hr, a, "hr@example.com")

	navigate(t, hr, "open the new program form", 200, chromedp.Navigate(a.URL+"/programs/new"))
	if v := run(t, hr, "read the name", chromedp.Value(chromedp.CSS("#name"))); v != "" {
		t.Errorf("the new program's name is %q, want it empty", v)
	}
	typeInto(t, hr, "#name", "Mobile fortnightly")
	do(t, hr, "choose the audience", chromedp.SetValue(chromedp.CSS("#audience"), fmt.Sprint(audience)))

	// A preset fills in the fields; fields of other cadences hide.
	pick(t, hr, "#preset", "monthly")
	if v := run(t, hr, "read #on", chromedp.Value(chromedp.CSS("#on"))); v != "weekday" {
		t.Errorf("after choosing the monthly preset #on = %q, want weekday", v)
	}
	if hidden := run(t, hr, "is the week of the month shown", chromedp.Evaluate[bool](`document.querySelector("#nth").closest("[data-for]").hidden`)); hidden {
		t.Errorf("the week of the month is hidden for the monthly preset")
	}
	pick(t, hr, "#preset", "fortnightly")
	for sel, want := range map[string]string{"#repeat": "weekly", "#weeks": "2", "#weekday": "1", "#at": "09:00"} {
		if v := run(t, hr, "read "+sel, chromedp.Value(chromedp.CSS(sel))); v != want {
			t.Errorf("after choosing the fortnightly preset %s = %q, want %q", sel, v, want)
		}
	}
	if hidden := run(t, hr, "is the day of the month hidden", chromedp.Evaluate[bool](`document.querySelector("#day").closest("[data-for]").hidden`)); !hidden {
		t.Errorf("the day of the month shows for a weekly cadence")
	}
	pick(t, hr, "#start", "2026-12-07")
	typeInto(t, hr, "#timezone", "Europe/Berlin")

	// The next five rounds, asked of the server as the cadence changed:
	// every other Monday from 7 December, 09:00 in Berlin.
	previewDates(t, hr, "the fortnightly preview", []string{"Mon 7 Dec 2026 09:00 CET", "Mon 21 Dec 2026 09:00 CET", "Mon 4 Jan 2027 09:00 CET",
		"Mon 18 Jan 2027 09:00 CET", "Mon 1 Feb 2027 09:00 CET"})
	const words = "Every 2 weeks on Monday at 09:00 Europe/Berlin, starting 7 Dec 2026"
	if got := run(t, hr, "read the words", chromedp.Text(chromedp.CSS("#cadence-words"))); got != words {
		t.Errorf("the form says %q, want %q", got, words)
	}

	// A window longer than the two weeks between rounds is refused beside
	// it as soon as it is typed.
	typeInto(t, hr, "#window_days", "15")
	if _, err := chromedp.Run(hr, chromedp.Poll[bool](`document.querySelector("#window_days-error").textContent.includes("at most 14 day(s)")`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("a 15-day window: no problem shown beside it: %v", err)
	}
	typeInto(t, hr, "#window_days", "5")

	got := navigate(t, hr, "save the program", 200, chromedp.Click(chromedp.CSS(`form[action="/programs"] button[type=submit]`)))
	if !regexp.MustCompile(`^/programs/\d+$`).MatchString(got) {
		t.Fatalf("after saving the browser is at %s, want the program's page", got)
	}
	if c := run(t, hr, "read the cadence", chromedp.Text(chromedp.CSS("#cadence"))); !strings.HasPrefix(c, words) {
		t.Errorf("the program page says %q, want %q…", c, words)
	}
	rows := run(t, hr, "read the calendar", chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#calendar tbody tr")).map(tr => tr.cells[0].textContent + " " + tr.cells[1].textContent.trim())`))
	want := []string{"Mon 7 Dec 2026 09:00 CET", "Mon 21 Dec 2026 09:00 CET", "Mon 4 Jan 2027 09:00 CET", "Mon 18 Jan 2027 09:00 CET"}
	if len(rows) < len(want) || strings.Join(rows[:len(want)], "|") != strings.Join(want, "|") {
		t.Errorf("the calendar of next rounds is %q, want it to start %q", rows, want)
	}
	ps, err := a.Store.Programs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantCadence := pulse.Cadence{Kind: pulse.Weekly, Weeks: 2, Weekday: time.Monday, Hour: 9, Start: "2026-12-07", Zone: "Europe/Berlin"}
	if len(ps) != 1 || ps[0].Cadence != wantCadence || ps[0].WindowDays != 5 {
		t.Errorf("saved %+v, want one program every 2 weeks from 7 Dec, open 5 days", ps)
	}
}
