package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
)

// formNow is the web server's clock in the program form tests: Friday
// 4 December 2026, 10:00 UTC.
var formNow = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// fortnightlyForm is a valid program form: every two weeks on Monday at
// 09:00 Berlin time from Monday 7 December 2026, by the fields.
func fortnightlyForm(app *testApp) url.Values {
	return url.Values{"name": {"Mobile pulse"}, "audience": {fmt.Sprint(app.units["Acme"])}, "preset": {""}, "repeat": {"weekly"},
		"weeks": {"2"}, "weekday": {"1"}, "on": {"weekday"}, "nth": {"1"}, "day": {"1"}, "start": {"2026-12-07"}, "at": {"09:00"},
		"timezone": {"Europe/Berlin"}, "window_days": {"5"}, "reminder_days": {"2"}, "questions_per_round": {"7"},
		"driver_cycle": {"3"}, "core_every": {"1"}, "min_group": {"5"}, "channel": {"log"}}
}

var fieldErrorRe = regexp.MustCompile(`<p class="field-error" id="([a-z_]+)-error" data-error-for="[a-z_]+">([^<]*)</p>`)

// fieldErrors reads the problems a form page shows beside its fields.
func fieldErrors(body string) map[string]string {
	out := map[string]string{}
	for _, m := range fieldErrorRe.FindAllStringSubmatch(body, -1) {
		if m[2] != "" {
			out[m[1]] = html.UnescapeString(m[2])
		}
	}
	return out
}

func TestProgramFormRefusesEachProblemBesideItsFieldAndSavesNothing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.srv.now = func() time.Time { return formNow }
	ctx := context.Background()
	existing := pulse.Defaults()
	existing.Name, existing.AudienceUnitID, existing.Channel = "Engineering pulse", app.units["Acme"], pulse.ChannelLog
	if err := app.st.SaveProgram(ctx, &existing); err != nil {
		t.Fatal(err)
	}
	hr, admin := app.client(), app.client()
	hr.login("hr@example.com")
	admin.login("admin@example.com")
	tests := []struct {
		name   string
		who    *client
		change url.Values
		// want is the problem beside each field, by fragment.
		want map[string]string
	}{
		{"duplicate name", hr, url.Values{"name": {"engineering PULSE"}}, map[string]string{"name": `"Engineering pulse" exists already`}},
		{"bad zone", hr, url.Values{"timezone": {"Mars/Olympus"}}, map[string]string{"timezone": `"Mars/Olympus" is not a time zone`}},
		{"too frequent: two rounds a day", admin, url.Values{"repeat": {"cron"}, "cron": {"0 9,15 * * *"}, "window_days": {"1"}, "reminder_days": {"0"}},
			map[string]string{"cron": "two rounds on Mon 7 Dec 2026 (09:00 and 15:00)"}},
		{"too frequent: seconds", admin, url.Values{"repeat": {"cron"}, "cron": {"*/4 * * * * *"}}, map[string]string{"cron": "seconds"}},
		{"too frequent: @every", admin, url.Values{"repeat": {"cron"}, "cron": {"@every 1m"}}, map[string]string{"cron": "@every"}},
		{"cron is for admins", hr, url.Values{"repeat": {"cron"}, "cron": {"0 9 * * 1"}}, map[string]string{"cron": "only an admin"}},
		{"overlapping window", hr, url.Values{"window_days": {"15"}, "reminder_days": {"2"}},
			map[string]string{"window_days": "rounds would overlap: the round of Mon 7 Dec 2026 would still be open when the next starts on Mon 21 Dec 2026. Keep rounds open at most 14 day(s)"}},
		{"lowering the threshold is for admins", hr, url.Values{"min_group": {"4"}}, map[string]string{"min_group": "only an admin may lower the anonymity threshold (from 5 to 4)"}},
		{"several at once", hr, url.Values{"name": {" "}, "weeks": {"9"}, "at": {"9 o'clock"}, "min_group": {"2"}},
			map[string]string{"name": "give the program a name", "weeks": "1 to 8", "at": "HH:MM", "min_group": "at least 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := fortnightlyForm(app)
			for k, v := range tt.change {
				form[k] = v
			}
			res := tt.who.postForm("/programs/new", "/programs", form)
			if res.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", res.status)
			}
			got := fieldErrors(res.body)
			for field, fragment := range tt.want {
				if !strings.Contains(got[field], fragment) {
					t.Errorf("beside %s: %q, want it to say %q (all: %v)", field, got[field], fragment, got)
				}
				if !strings.Contains(res.body, fmt.Sprintf(`aria-invalid="true" aria-describedby="%s-error"`, field)) {
					t.Errorf("field %s is not marked invalid", field)
				}
			}
			if len(got) != len(tt.want) {
				t.Errorf("problems beside %d fields %v, want %d", len(got), got, len(tt.want))
			}
			if len(tt.want) > 1 && !strings.Contains(res.body, fmt.Sprintf("fix the %d problems marked below", len(tt.want))) {
				t.Errorf("no summary of the %d problems at the top", len(tt.want))
			}
			// What was typed is still there.
			for k, v := range tt.change {
				if k != "repeat" && strings.TrimSpace(v[0]) != "" && !strings.Contains(res.body, `value="`+html.EscapeString(v[0])+`"`) {
					t.Errorf("the form lost %s = %q", k, v[0])
				}
			}
			if ps, _ := app.st.Programs(ctx); len(ps) != 1 {
				t.Errorf("%d programs after a refused form, want only the existing one", len(ps))
			}
		})
	}
}

func TestProgramFormSavesAFortnightlyProgramThatEveryPageSaysInWords(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.srv.now = func() time.Time { return formNow }
	hr := app.client()
	hr.login("hr@example.com")
	res := hr.postForm("/programs/new", "/programs", fortnightlyForm(app))
	if res.status != http.StatusSeeOther {
		t.Fatalf("save: %d, want 303; problems %v", res.status, fieldErrors(res.body))
	}
	ps, _ := app.st.Programs(context.Background())
	if len(ps) != 1 {
		t.Fatalf("%d programs, want 1", len(ps))
	}
	want := pulse.Cadence{Kind: pulse.Weekly, Weeks: 2, Weekday: time.Monday, Hour: 9, Start: "2026-12-07", Zone: "Europe/Berlin"}
	if ps[0].Cadence != want {
		t.Errorf("saved cadence %+v, want %+v", ps[0].Cadence, want)
	}
	const words = "Every 2 weeks on Monday at 09:00 Europe/Berlin, starting 7 Dec 2026"
	page := hr.get(res.header.Get("Location")).body
	for _, path := range []string{"/programs", res.header.Get("Location"), res.header.Get("Location") + "/edit"} {
		if body := hr.get(path).body; !strings.Contains(body, words) {
			t.Errorf("%s does not say %q", path, words)
		}
	}
	// The calendar of the next rounds: every other Monday from 7 December.
	var days []string
	for _, m := range regexp.MustCompile(`<tr><td>(\w{3} \d+ \w{3} \d{4})</td><td>(\d\d:\d\d \w+)</td>`).FindAllStringSubmatch(page, -1) {
		days = append(days, m[1]+" "+m[2])
	}
	wantDays := []string{"Mon 7 Dec 2026 09:00 CET", "Mon 21 Dec 2026 09:00 CET", "Mon 4 Jan 2027 09:00 CET", "Mon 18 Jan 2027 09:00 CET"}
	if len(days) < len(wantDays) || strings.Join(days[:len(wantDays)], "|") != strings.Join(wantDays, "|") {
		t.Errorf("calendar %v, want it to start %v", days, wantDays)
	}
	// A preset saves the same cadence as its fields.
	form := fortnightlyForm(app)
	form.Set("name", "Preset pulse")
	form.Set("preset", "fortnightly")
	form.Set("weeks", "5") // overridden by the preset
	if res := hr.postForm("/programs/new", "/programs", form); res.status != http.StatusSeeOther {
		t.Fatalf("save with the preset: %d; problems %v", res.status, fieldErrors(res.body))
	}
	ps, _ = app.st.Programs(context.Background())
	for _, p := range ps {
		if p.Name == "Preset pulse" && p.Cadence != want {
			t.Errorf("the fortnightly preset saved %+v, want %+v", p.Cadence, want)
		}
	}
}

func TestCadencePreviewGivesTheNextFiveRoundsAndTheProblems(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.srv.now = func() time.Time { return formNow }
	hr := app.client()
	hr.login("hr@example.com")
	ask := func(q url.Values) cadencePreview {
		t.Helper()
		res := hr.get("/programs/cadence-preview?" + q.Encode())
		if res.status != http.StatusOK {
			t.Fatalf("preview: %d", res.status)
		}
		var p cadencePreview
		if err := json.Unmarshal([]byte(res.body), &p); err != nil {
			t.Fatalf("preview body %q: %v", res.body, err)
		}
		return p
	}
	q := url.Values{"repeat": {"monthly"}, "on": {"weekday"}, "nth": {"-1"}, "weekday": {"5"}, "at": {"16:30"}, "timezone": {"Australia/Sydney"}, "window_days": {"5"}}
	got := ask(q)
	want := []string{"Fri 25 Dec 2026 16:30 AEDT", "Fri 29 Jan 2027 16:30 AEDT", "Fri 26 Feb 2027 16:30 AEDT", "Fri 26 Mar 2027 16:30 AEDT", "Fri 30 Apr 2027 16:30 AEST"}
	if got.Words != "Monthly on the last Friday at 16:30 Australia/Sydney" || strings.Join(got.Next, "|") != strings.Join(want, "|") || len(got.Problems) != 0 {
		t.Errorf("preview = %+v, want the last Fridays %v", got, want)
	}
	q.Set("window_days", "30")
	if got := ask(q); !strings.Contains(got.Problems["window_days"], "at most 28 day(s)") {
		t.Errorf("window of 30 days: problems %v, want one on window_days", got.Problems)
	}
	if got := ask(url.Values{"repeat": {"weekly"}, "weeks": {"0"}, "weekday": {"1"}, "start": {""}, "at": {"25:00"}, "timezone": {"Nowhere"}}); got.Problems["weeks"] == "" ||
		got.Problems["start"] == "" || got.Problems["at"] == "" || got.Problems["timezone"] == "" || len(got.Next) != 0 {
		t.Errorf("a bad cadence: %+v, want problems beside weeks, start, at and timezone and no dates", got)
	}
}

func TestNewProgramFormIsEmptyAndInTheOrganisationsZone(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.srv.now = func() time.Time { return formNow }
	hr := app.client()
	hr.login("hr@example.com")
	existing := pulse.Defaults()
	existing.AudienceUnitID, existing.Channel = app.units["Acme"], pulse.ChannelLog
	if err := app.st.SaveProgram(context.Background(), &existing); err != nil {
		t.Fatal(err)
	}
	if res := hr.postForm("/programs", "/settings/timezone", url.Values{"timezone": {"Asia/Kolkata"}}); res.status != http.StatusSeeOther {
		t.Fatalf("set the organisation's zone: %d", res.status)
	}
	body := hr.get("/programs/new").body
	for _, want := range []string{`id="name" name="name" type="text" required placeholder="for example Engineering pulse" value=""`,
		`id="timezone" name="timezone" type="text" list="zones" required autocomplete="off" value="Asia/Kolkata"`,
		`id="start" name="start" type="date" value="2026-12-04"`, `<option value="Pacific/Chatham">`, `type="checkbox" name="excluded"`} {
		if !strings.Contains(body, want) {
			t.Errorf("new program form lacks %s", want)
		}
	}
	if res := hr.postForm("/programs", "/settings/timezone", url.Values{"timezone": {"Mars/Olympus"}}); res.status != http.StatusSeeOther {
		t.Fatalf("set a bad zone: %d", res.status)
	}
	if z := app.srv.orgZone(context.Background()); z != "Asia/Kolkata" {
		t.Errorf("organisation zone after a bad one = %q, want Asia/Kolkata kept", z)
	}
}

func TestSendNowWhileARoundIsOpenIsRefusedOnTheProgramPage(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	sched, err := schedule.New(app.runner, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)), schedule.Options{})
	if err != nil {
		t.Fatal(err)
	}
	app.srv.SetJobs(sched)
	app.srv.now = func() time.Time { return formNow }
	ctx := context.Background()
	yesterday := formNow.AddDate(0, 0, -1)
	if _, _, err := app.st.CreateRound(ctx, &app.program, yesterday, false, yesterday); err != nil {
		t.Fatal(err)
	}
	hr := app.client()
	hr.login("hr@example.com")
	page := fmt.Sprintf("/programs/%d", app.program.ID)
	res := hr.postForm(page, page+"/send", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != page {
		t.Fatalf("send now while round 1 is open: %d to %q, want 303 back to %s", res.status, res.header.Get("Location"), page)
	}
	m := flashRe.FindStringSubmatch(hr.get(page).body)
	if m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), "Round 1 is still open until") {
		t.Errorf("flash %q, want it to say round 1 is still open", m)
	}
	if rs, _ := app.st.Rounds(ctx, app.program.ID); len(rs) != 1 {
		t.Errorf("%d rounds, want 1", len(rs))
	}
}

func TestProgramPageSaysTheMoveToCadencesOnce(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	app.srv.now = func() time.Time { return formNow }
	db, err := sql.Open("sqlite3", "file:"+app.st.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const note = "Tandem now keeps schedules as cadences. This program's cron expression \"0 9 1-7,15-21 * 1\" meant every day of the first and third weeks"
	if _, err := db.Exec("UPDATE programs SET cadence_note = ? WHERE id = ?", note, app.program.ID); err != nil {
		t.Fatal(err)
	}
	hr := app.client()
	hr.login("hr@example.com")
	page := fmt.Sprintf("/programs/%d", app.program.ID)
	if body := html.UnescapeString(hr.get(page).body); !strings.Contains(body, note) {
		t.Errorf("first view: the note is not shown")
	}
	if body := html.UnescapeString(hr.get(page).body); strings.Contains(body, note) {
		t.Errorf("second view: the note is shown again")
	}
}

func TestSkippingADateTakesItOutOfTheScheduleUntilRestored(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 5})
	app.srv.now = func() time.Time { return formNow }
	hr := app.client()
	hr.login("hr@example.com")
	page := fmt.Sprintf("/programs/%d", app.program.ID)
	// The program is weekly on Mondays 09:00 Berlin; Monday 14 December
	// is the second round from Friday 4 December.
	if res := hr.postForm(page, page+"/skip", url.Values{"day": {"2026-12-14"}}); res.status != http.StatusSeeOther {
		t.Fatalf("skip: %d", res.status)
	}
	p, _ := app.st.Program(context.Background(), app.program.ID)
	s, err := p.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Upcoming(formNow, 2); len(got) != 2 || got[1].Format(time.DateOnly) != "2026-12-21" {
		t.Errorf("next rounds after skipping 14 Dec: %v, want 7 and 21 Dec", got)
	}
	body := hr.get(page).body
	if !regexp.MustCompile(`Mon 14 Dec 2026</td><td>09:00 CET <span class="badge">skipped</span>`).MatchString(body) ||
		!strings.Contains(body, `action="`+page+`/unskip"`) {
		t.Errorf("the calendar does not show 14 Dec as skipped with a way to restore it")
	}
	if res := hr.postForm(page, page+"/unskip", url.Values{"day": {"2026-12-14"}}); res.status != http.StatusSeeOther {
		t.Fatalf("restore: %d", res.status)
	}
	if p, _ := app.st.Program(context.Background(), app.program.ID); len(p.Skips) != 0 {
		t.Errorf("skips after restoring: %v", p.Skips)
	}
}

func TestSetupKeepsTheOrganisationsTimeZoneFromTheBrowser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A new installation: no account yet.
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tandem.db"), store.Options{Now: timeNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := New(Config{Addr: "127.0.0.1:0", Now: timeNow}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	app := &testApp{t: t, st: st, srv: srv, http: hs}
	token := auth.NewToken()
	if err := app.st.CreateSetupToken(ctx, auth.HashToken(token), timeNow().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	page := "/setup/" + token
	if body := c.get(page).body; !strings.Contains(body, `data-browser-zone`) || !strings.Contains(body, `<option value="America/New_York">`) {
		t.Fatalf("the setup form has no time zone field the script fills in")
	}
	form := url.Values{"email": {"first@example.com"}, "password": {"a long password"}, "password2": {"a long password"}, "timezone": {"Mars/Olympus"}}
	if res := c.postForm(page, page, form); res.status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(res.body), `"Mars/Olympus" is not a time zone`) {
		t.Errorf("setup with a bad zone: %d, want 400 naming the zone", res.status)
	}
	form.Set("timezone", "America/New_York")
	if res := c.postForm(page, page, form); res.status != http.StatusSeeOther {
		t.Fatalf("setup: %d", res.status)
	}
	if z := app.srv.orgZone(ctx); z != "America/New_York" {
		t.Errorf("organisation zone %q after setup, want America/New_York", z)
	}
}

// Lowering a program's anonymity threshold is an admin's decision, and the
// audit log records it; HR may raise it.
func TestOnlyAnAdminLowersTheThresholdAndItIsAudited(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.srv.now = func() time.Time { return formNow }
	hr, admin := app.client(), app.client()
	hr.login("hr@example.com")
	admin.login("admin@example.com")
	form := fortnightlyForm(app)
	form.Set("min_group", "6")
	if res := hr.postForm("/programs/new", "/programs", form); res.status != http.StatusSeeOther {
		t.Fatalf("HR raising k to 6: %d, want 303\n%.600s", res.status, res.body)
	}
	programs, _ := app.st.Programs(context.Background())
	if len(programs) != 1 || programs[0].MinGroup != 6 {
		t.Fatalf("programs %+v, want one with k 6", programs)
	}
	page := fmt.Sprintf("/programs/%d/edit", programs[0].ID)
	action := fmt.Sprintf("/programs/%d", programs[0].ID)
	form.Set("min_group", "5")
	if res := hr.postForm(page, action, form); res.status != http.StatusBadRequest || !strings.Contains(fieldErrors(res.body)["min_group"], "only an admin") {
		t.Errorf("HR lowering k from 6 to 5: %d %v, want refused beside the field", res.status, fieldErrors(res.body))
	}
	form.Set("min_group", "3")
	if res := admin.postForm(page, action, form); res.status != http.StatusSeeOther {
		t.Fatalf("an admin lowering k to 3: %d\n%.600s", res.status, res.body)
	}
	entries, err := app.st.AuditLog(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		if e.Action == "program.threshold" {
			found = append(found, e.UserEmail+": "+e.Detail)
		}
	}
	if len(found) != 2 || !strings.Contains(strings.Join(found, "\n"), "admin@example.com: ") || !strings.Contains(strings.Join(found, "\n"), "6 → 3") {
		t.Errorf("threshold audit entries %q, want HR's 6 and the admin's 6 → 3", found)
	}
}
