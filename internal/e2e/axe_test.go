package e2e

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/demo"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// axeSource is axe-core, vendored in testdata (see its README): the test
// needs no network.
const axeSource = "testdata/axe-core/axe.min.js"

// The two widths every page must work at: a small phone (phoneWidth) and a
// wide desktop screen.
const desktopWidth, desktopHeight = 1440, 900

// minChartText is the smallest chart text a person must be able to read,
// in CSS pixels as drawn, at any width.
const minChartText = 11

// notPages are the GET routes that are not pages a person reads, and why.
// Besides these, downloads (*.csv) and the JSON API (/api/…) are left out.
// Every other GET route is a page and is checked: a new page is covered as
// soon as it is in the route table (one with a parameter needs an entry in
// demoPagePaths).
var notPages = map[string]string{
	"/healthz":                  "health check, plain text",
	"/readyz":                   "readiness check, plain text",
	"/metrics":                  "Prometheus metrics, plain text",
	"/static/*":                 "static files",
	"/favicon.ico":              "a redirect to an image",
	"/programs/cadence-preview": "JSON for the program form's script",
	"/p/:token":                 "the answer page, checked with a real answer link",
}

// pageRoute is a GET route of the server that renders a page.
type pageRoute struct {
	Route string // as in the route table: /units/:id
	Path  string // what the browser opens: /units/12
}

// pageRoutes lists the page routes of the app's route table, with the
// address to open for each (paths fills in routes with parameters, and
// adds variants of a route: "/results/:id?view=difference"). A route with
// a parameter that paths does not know fails the test.
func pageRoutes(t *testing.T, a *app, paths map[string]string) []pageRoute {
	t.Helper()
	var out []pageRoute
	for _, r := range a.Server.Echo().Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		if _, skip := notPages[r.Path]; skip || strings.HasSuffix(r.Path, ".csv") || strings.HasPrefix(r.Path, "/api/") {
			continue
		}
		p := r.Path
		if strings.ContainsAny(p, ":*") {
			var ok bool
			if p, ok = paths[r.Path]; !ok {
				t.Errorf("page route %s has a parameter: give it an address in demoPagePaths (or list it in notPages if it is no page)", r.Path)
				continue
			}
		}
		out = append(out, pageRoute{Route: r.Path, Path: p})
		for k, v := range paths {
			if variantOf(k) == r.Path {
				out = append(out, pageRoute{Route: k, Path: v})
			}
		}
	}
	// In address order, except that / comes last: it redirects a
	// signed-in person to a page checked by then.
	slices.SortFunc(out, func(x, y pageRoute) int {
		if (x.Route == "/") != (y.Route == "/") {
			if x.Route == "/" {
				return 1
			}
			return -1
		}
		return strings.Compare(x.Route, y.Route)
	})
	out = slices.CompactFunc(out, func(x, y pageRoute) bool { return x.Route == y.Route })
	for k := range paths {
		if !slices.ContainsFunc(out, func(r pageRoute) bool { return r.Route == k }) {
			t.Errorf("demoPagePaths names %s, which is no page of the route table: remove it", k)
		}
	}
	return out
}

// variantOf is the route of a page variant in demoPagePaths: the route before
// its "?" or " (".
func variantOf(key string) string {
	if i := strings.IndexAny(key, "? "); i >= 0 {
		return key[:i]
	}
	return ""
}

// TestEveryPageIsAccessibleAndFitsPhoneAndDesktop signs in as an admin, an
// HR person, the leader of a department and the leader of a team of the
// demo organisation, and
// opens every page each can reach (every GET page of the route table, some
// in more than one state, and as HR the previews and problem lists of the
// imports and a form with an error), plus the signed-out pages, the answer
// page (with and without its errors) and the thank-you page. At 375 px and
// at 1440 px (and once with the phone menu open) every page must pass
// axe-core's default rules (WCAG 2 A and AA and its best practices, such as
// heading order and table headers with text) with no violation, must not
// scroll sideways (wide tables scroll in their own focusable box), and its
// charts' text must be drawn at 11 px or more. A page another person gets
// exactly as the admin does below the header (see pageKey) is checked once,
// in the admin's tab; that person's header is checked on their other pages.
//
// That is the check with TANDEM_TEST_EVERY_PAGE=1, as CI runs it (about
// 210 page views, over half the CPU time of the whole suite). Without it,
// so that go test ./... stays quick, the journey opens the signed-out, the
// employee's and the admin's pages (about half of the views), makes the
// width and chart checks at both widths and catches any exception, console
// error, CSP violation or failed asset on every one; axe-core checks the
// signed-out and employee's pages at one width a page, alternating between
// the two, and the admin's pages not at all (axe-core was over half of the
// journey's browser CPU). TestPageCheckFindsWhatIsWrong keeps axe-core's
// own findings checked on every run.
func TestEveryPageIsAccessibleAndFitsPhoneAndDesktop(t *testing.T) {
	t.Parallel()
	skipJourneyIfShort(t)
	axe, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	start := time.Now()
	now := tandemtest.Date
	a := newAppAt(t, now)
	ctx := context.Background()
	sum, err := demo.Generate(ctx, a.Store, demo.Options{Now: now, BaseURL: a.URL})
	if err != nil {
		t.Fatalf("build the demo organisation: %v", err)
	}
	paths := demoPagePaths(t, a, sum, now)
	routes := pageRoutes(t, a, paths)
	t.Logf("demo organisation built in %s; %d page routes", time.Since(start).Round(time.Millisecond), len(routes))

	// About 210 page views with every person: a minute and a half on two
	// idle cores, several on a busy machine.
	browser := newBrowserFor(t, 8*time.Minute)
	full := os.Getenv(everyPageEnv) == "1"
	var counts checkCounts
	t.Cleanup(func() {
		t.Logf("%d page views checked (each page at %d and at %d px, and the phone menu open), %d of them with axe-core, in %s",
			counts.views.Load(), phoneWidth, desktopWidth, counts.axe.Load(), time.Since(start).Round(time.Millisecond))
	})

	// The pages that answer without a session.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var public []pageRoute
	for _, r := range routes {
		resp, err := client.Get(a.URL + r.Path)
		if err != nil {
			t.Fatalf("GET %s: %v", r.Path, err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			public = append(public, r)
		}
	}

	// Each person in their own tab and browser context, side by side.
	t.Run("signed out", func(t *testing.T) {
		t.Parallel()
		tab := newPrivateTab(t, browser)
		c := newPageChecker(axe, &counts, axeWidths(full, 1))
		for _, r := range public {
			c.open(t, tab, a.URL+r.Path, r.Route, http.StatusOK)
		}
		c.open(t, tab, a.URL+"/p/not-a-real-token", "an answer link that does not exist", http.StatusNotFound)
		checkAnswerPages(t, tab, c, sum.Pulse.Links)
	})
	// The page each address gives the admin, to check once a page another
	// person gets exactly as the admin does (see pageKey).
	adminClient := httpSignIn(t, a, "admin@example.com", demo.Password)
	adminPages := map[string]string{}
	for _, r := range routes {
		if body, status := httpGet(t, adminClient, a.URL+r.Path); status == http.StatusOK {
			adminPages[r.Path] = pageKey(body)
		}
	}
	teamPaths := maps.Clone(paths)
	maps.Copy(teamPaths, scopedPaths(t, a, sum.Pulse.Program.ID, now, demo.Company+"/Customer Experience/Support/Tier 1 EMEA"))
	for _, role := range []struct {
		name, email string
		// routes are the pages to open, with addresses in the person's scope.
		routes []pageRoute
		leader bool
	}{
		{"admin", "admin@example.com", routes, false},
		{"hr", "hr@example.com", routes, false},
		{"leader of a department", "cx.leader@example.com", routes, true},
		{"leader of a team", "support.lead@example.com", pageRoutes(t, a, teamPaths), true},
	} {
		if role.name != "admin" && !full {
			t.Logf("%s: not checked (%s=1 checks them, as CI does)", role.name, everyPageEnv)
			continue
		}
		t.Run(role.name, func(t *testing.T) {
			t.Parallel()
			tab := newPrivateTab(t, browser)
			c := newPageChecker(axe, &counts, axeWidths(full, 0))
			signInWith(t, tab, a, role.email, demo.Password)
			client := adminClient
			if role.name != "admin" {
				client = httpSignIn(t, a, role.email, demo.Password)
			}
			var reached, refused, asAdmins []string
			for _, r := range role.routes {
				if slices.ContainsFunc(public, func(p pageRoute) bool { return p.Route == r.Route }) {
					continue
				}
				// A page that is the admin's but for the header is checked in
				// the admin's tab; this person's header is checked on their
				// other pages.
				if key, ok := adminPages[r.Path]; ok && role.name != "admin" {
					if body, status := httpGet(t, client, a.URL+r.Path); status == http.StatusOK && pageKey(body) == key {
						reached = append(reached, r.Route)
						asAdmins = append(asAdmins, r.Route)
						continue
					}
				}
				switch c.open(t, tab, a.URL+r.Path, r.Route, http.StatusOK, http.StatusForbidden) {
				case http.StatusForbidden:
					refused = append(refused, r.Route)
				case http.StatusOK:
					reached = append(reached, r.Route)
				}
			}
			c.open(t, tab, a.URL+"/no-such-page", "a page that does not exist", http.StatusNotFound)
			switch role.name {
			case "hr":
				checkFormPages(t, tab, c, a)
			case "leader of a department":
				checkCommentActions(t, tab, c, a)
			}
			t.Logf("%s reached %d pages (%d the same as the admin's but for the header: %s); refused (not theirs): %s",
				role.name, len(reached), len(asAdmins), strings.Join(asAdmins, " "), strings.Join(refused, " "))
			if role.name == "admin" && len(refused) > 0 {
				t.Errorf("an admin was refused %s; an admin reaches every page", strings.Join(refused, ", "))
			}
			if role.leader {
				for _, want := range []string{"/dashboard", "/units/:id", "/employees/:id", "/results/:id", "/rounds/:id", "/results/:id?unit"} {
					if !slices.Contains(reached, want) {
						t.Errorf("the %s did not reach %s in their own part of the organisation", role.name, want)
					}
				}
			}
		})
	}
}

// headerHTML is the page header: the brand, the person's menu and name.
var headerHTML = regexp.MustCompile(`(?s)<header class="top">.*?</header>`)

// csrfHTML is a form's CSRF token, which differs between sessions.
var csrfHTML = regexp.MustCompile(`(name="_csrf" value=")[^"]*"`)

// pageKey is what checking a page depends on besides the width: its HTML
// without the header (which differs between people on every page) and with
// the session's CSRF token blanked. Two people whose pages have the same
// key get the same document below the header, so axe-core and the width
// and chart checks find the same in both.
func pageKey(body []byte) string {
	b := headerHTML.ReplaceAll(body, nil)
	return string(csrfHTML.ReplaceAll(b, []byte(`${1}"`)))
}

// httpSignIn signs in through the sign-in form over plain HTTP and returns
// a client with the session, which follows no redirects.
func httpSignIn(t *testing.T, a *app, email, password string) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body, status := httpGet(t, c, a.URL+"/login")
	m := csrfValue.FindSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("GET /login answered %d, CSRF token found: %t", status, m != nil)
	}
	resp, err := c.PostForm(a.URL+"/login", url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatalf("sign in as %s over HTTP: %v", email, err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || strings.HasPrefix(loc, "/login") {
		t.Fatalf("sign in as %s over HTTP: %d to %q, want 303 away from /login", email, resp.StatusCode, loc)
	}
	return c
}

// csrfValue finds the CSRF token of a form.
var csrfValue = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// httpGet gets url with c and returns the body and status.
func httpGet(t *testing.T, c *http.Client, url string) ([]byte, int) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read the body: %v", url, err)
	}
	return body, resp.StatusCode
}

// demoPagePaths gives the pages with a parameter an address in the demo
// organisation: ids in Customer Experience, the department of the first
// leader, so that admin, HR and that leader can open them (see
// scopedPaths).
func demoPagePaths(t *testing.T, a *app, sum demo.Summary, now time.Time) map[string]string {
	t.Helper()
	ctx := context.Background()
	program := sum.Pulse.Program.ID
	rounds, err := a.Store.Rounds(ctx, program)
	if err != nil {
		t.Fatal(err)
	}
	var closed int64
	for _, r := range rounds { // newest first
		if r.Closed {
			closed = r.ID
			break
		}
	}
	if closed == 0 {
		t.Fatal("the demo has no closed round")
	}
	users, err := a.Store.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var leader, admin int64
	for _, u := range users {
		switch u.Email {
		case "cx.leader@example.com":
			leader = u.ID
		case "admin@example.com":
			admin = u.ID
		}
	}
	_, key, err := a.Store.CreateAPIKey(ctx, "Zendesk webhook", []string{store.ScopeRatingsWrite}, admin, time.Time{})
	if err != nil {
		t.Fatalf("create an API key: %v", err)
	}
	conn := &store.HelpdeskConnector{Kind: "zendesk", Name: "Zendesk", Source: "zendesk:lumen", BaseURL: "https://lumen.zendesk.com",
		Active: true, Every: time.Hour, Lookback: 14, StartAt: now.AddDate(0, -6, 0)}
	if err := a.Store.CreateHelpdeskConnector(ctx, conn, now); err != nil {
		t.Fatalf("create a helpdesk connector: %v", err)
	}
	setup := auth.NewToken()
	if err := a.Store.CreateSetupToken(ctx, auth.HashToken(setup), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var open int64
	for _, r := range rounds {
		if !r.Closed {
			open = r.ID
			break
		}
	}
	paths := map[string]string{
		// Other states of pages, checked like the pages themselves (see
		// pageRoutes).
		"/results/:id?view=difference": fmt.Sprintf("/results/%d?view=difference", program),
		"/rounds/:id (open)":           fmt.Sprintf("/rounds/%d", open),
		"/reports/correlation?lag=-2":  "/reports/correlation?lag=-2",
		"/comments?q":                  "/comments?q=feedback&pending=1",

		"/results/:id":                  fmt.Sprintf("/results/%d", program),
		"/rounds/:id":                   fmt.Sprintf("/rounds/%d", closed),
		"/programs/:id":                 fmt.Sprintf("/programs/%d", program),
		"/programs/:id/edit":            fmt.Sprintf("/programs/%d/edit", program),
		"/programs/:id/preview":         fmt.Sprintf("/programs/%d/preview", program),
		"/users/:id":                    fmt.Sprintf("/users/%d", leader),
		"/helpdesk/:id":                 fmt.Sprintf("/helpdesk/%d", conn.ID),
		"/settings/api-keys/:id/revoke": fmt.Sprintf("/settings/api-keys/%d/revoke", key.ID),
		"/setup/:token":                 "/setup/" + setup,
	}
	maps.Copy(paths, scopedPaths(t, a, program, now, demo.Company+"/Customer Experience"))
	return paths
}

// scopedPaths are the addresses of pages about one unit (a path as the
// roster writes it) and the people in it.
func scopedPaths(t *testing.T, a *app, program int64, now time.Time, unit string) map[string]string {
	t.Helper()
	id := unitByPath(t, a, unit)
	emps, _, err := a.Store.Employees(context.Background(), store.EmployeeFilter{UnitID: id, Today: tandem.Today(now), Limit: 1})
	if err != nil || len(emps) == 0 {
		t.Fatalf("an employee in %s: %v (%d found)", unit, err, len(emps))
	}
	return map[string]string{
		"/units/:id":               fmt.Sprintf("/units/%d", id),
		"/employees/:id":           fmt.Sprintf("/employees/%d", emps[0].ID),
		"/results/:id?unit":        fmt.Sprintf("/results/%d?unit=%d", program, id),
		"/employees?status=exited": fmt.Sprintf("/employees?status=exited&unit=%d", id),
		"/reports/retention?unit":  fmt.Sprintf("/reports/retention?unit=%d", id),
	}
}

// checkAnswerPages answers the demo's open round as an employee: the form,
// the form sent empty (its errors), and the thank-you page.
func checkAnswerPages(t *testing.T, tab context.Context, c *pageChecker, links []string) {
	t.Helper()
	if len(links) == 0 {
		t.Fatal("the demo printed no answer links")
	}
	c.open(t, tab, links[0], "employee: the answer page", http.StatusOK)
	c.submit(t, tab, "employee: the answer page sent empty", `form.answer button[type=submit]`, http.StatusBadRequest, http.StatusUnprocessableEntity)
	questions := run(t, tab, "list the questions", chromedp.Evaluate[[]answerQuestion](answerQuestionsJS))
	for _, q := range questions {
		switch {
		case q.Text:
			do(t, tab, "answer "+q.ID, chromedp.SendKeys(chromedp.CSS("#"+q.ID+" textarea"), "Good week."))
		case len(q.Values) > 0:
			do(t, tab, "answer "+q.ID, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#%s label:has(> input[type=radio][value="%s"])`, q.ID, q.Values[len(q.Values)-1]))))
		}
	}
	// A rating of a service names the team rated.
	run(t, tab, "choose the teams rated", chromedp.Evaluate[int](`[...document.querySelectorAll("form.answer select")].filter(s => s.options.length > 1).map(s => s.selectedIndex = 1).length`))
	c.submit(t, tab, "employee: the thank-you page", `form.answer button[type=submit]`, http.StatusOK)
	c.open(t, tab, links[0], "employee: the answer link once answered", http.StatusOK, http.StatusGone, http.StatusConflict)
	if len(links) > 1 {
		c.open(t, tab, links[1]+"?lang=de", "employee: the answer page in German", http.StatusOK)
	}
}

// uploads are files HR checks on the import pages (dry runs: nothing is
// stored), each giving a preview or a list of problems.
var uploads = []struct {
	name, page, file, content string
	full                      bool
	status                    int64
}{
	{"roster preview, full roster", "/roster/import", "roster.csv", "email,name,team\nnew.person@example.com,New Person,Lumen & Co/Customer Experience/Support/Tier 2\n", true, 200},
	{"roster problems", "/roster/import", "roster.csv", "email,name,team,manager\nnot-an-email,Someone,Lumen & Co/Nowhere,nobody@example.com\n,No Email,,\n", false, 422},
	{"ratings preview", "/ratings/import", "ratings.csv", "source,metric,external_id,occurred_at,score,unit,comment\nzendesk,csat,a11y-1,2026-02-20T10:00:00Z,5,Lumen & Co/Customer Experience/Support/Tier 2,Quick and friendly\n", false, 200},
	{"ratings problems", "/ratings/import", "ratings.csv", "source,metric,occurred_at,score,unit\nzendesk,csat,yesterday,9,Lumen & Co/Nowhere\n", false, 422},
	{"history preview", "/history/import", "history.csv", "unit,date,eng.proud,enps,comment\nLumen & Co/Customer Experience/Support/Tier 2,2024-03-04,4,9,\n", false, 200},
	{"history problems", "/history/import", "history.csv", "unit,date,eng.proud,enps\nLumen & Co/Nowhere,someday,7,11\n", false, 422},
}

// checkFormPages checks the pages that forms lead to: the previews and
// problem lists of the imports, and the program form with an error.
func checkFormPages(t *testing.T, tab context.Context, c *pageChecker, a *app) {
	t.Helper()
	for _, u := range uploads {
		navigate(t, tab, "open "+u.page, 200, chromedp.Navigate(a.URL+u.page))
		if u.full {
			do(t, tab, "say it is the full roster", chromedp.Click(chromedp.CSS(`input[name=mark_missing_exited]`)))
		}
		do(t, tab, "choose "+u.file, chromedp.SetUploadFiles(chromedp.CSS("input#file"), []string{writeFile(t, u.file, u.content)}))
		c.submit(t, tab, u.name, fmt.Sprintf(`form[action="%s"] button[type=submit]`, u.page), u.status)
	}
	navigate(t, tab, "open the new program form", 200, chromedp.Navigate(a.URL+"/programs/new"))
	c.submit(t, tab, "the program form without a name", `form[action="/programs"] button[type=submit]`, http.StatusBadRequest, http.StatusUnprocessableEntity)
}

// checkCommentActions checks the comments page after a leader has
// acknowledged a comment and written a "you said, we did" note.
func checkCommentActions(t *testing.T, tab context.Context, c *pageChecker, a *app) {
	t.Helper()
	navigate(t, tab, "open the comments", 200, chromedp.Navigate(a.URL+"/comments"))
	c.submit(t, tab, "comments after an acknowledgement", `form.ack button[type=submit]`, http.StatusOK)
	if n := run(t, tab, "count the acknowledged comments", chromedp.Evaluate[int](`document.querySelectorAll("p.ack").length`)); n == 0 {
		t.Error("after acknowledging a comment the comments page shows none acknowledged")
	}
	do(t, tab, "write a note", chromedp.SendKeys(chromedp.CSS(`.card.note textarea[name=note]`), "We moved the stand-up to 10:00."))
	c.submit(t, tab, "comments after a note", `.card.note form.stack button[type=submit]`, http.StatusOK)
	if n := run(t, tab, "count the saved notes", chromedp.Evaluate[int](`document.querySelectorAll(".saved-note").length`)); n == 0 {
		t.Error("after saving a note the comments page shows no saved note")
	}
}

// pageChecker checks the pages of one tab with axe-core and for their
// width.
type pageChecker struct {
	axe string
	// counts counts the views checked, in all tabs.
	counts *checkCounts
	// checked holds the addresses checked in this tab: a route that
	// redirects to a page checked already (/ to /dashboard) is not
	// checked again.
	checked map[string]bool
	// menuChecked is whether the phone menu has been checked open.
	menuChecked bool
	// axeWidths is at how many of the two widths axe-core checks each
	// page: 2, both; 1, the first one the page is checked at (which
	// alternates from page to page); 0, none. The width and chart-text
	// checks are made at both.
	axeWidths int
	// installed is whether the tab loads axe-core into each new document
	// (sent to the browser once, rather than once a page).
	installed bool
	// sized is whether the tab has been given a width yet; wide whether
	// it is at desktop width now. Each page is checked at the width the
	// last one ended with first, then at the other, to save a resize.
	sized, wide bool
}

// checkCounts counts the views of pages checked (a page at one width, or
// with the phone menu open), and how many of them axe-core checked.
type checkCounts struct{ views, axe atomic.Int64 }

func newPageChecker(axe []byte, counts *checkCounts, axeWidths int) *pageChecker {
	return &pageChecker{axe: string(axe), counts: counts, axeWidths: axeWidths, checked: map[string]bool{}}
}

// axeWidths is at how many widths a tab's pages are checked with axe-core:
// both with TANDEM_TEST_EVERY_PAGE=1 (full), else quick.
func axeWidths(full bool, quick int) int {
	if full {
		return 2
	}
	return quick
}

// open loads url in the tab, checks it answered one of statuses and, unless
// it is 403 (a page that is not this person's, which is not checked),
// checks the page at both widths. It returns the status.
func (c *pageChecker) open(t *testing.T, tab context.Context, url, name string, statuses ...int64) int64 {
	t.Helper()
	return c.load(t, tab, name, url, statuses, chromedp.Navigate(url))
}

// submit clicks a submit button and checks the page that follows, as open.
func (c *pageChecker) submit(t *testing.T, tab context.Context, name, button string, statuses ...int64) int64 {
	t.Helper()
	return c.load(t, tab, name, "", statuses, chromedp.Click(chromedp.CSS(button)))
}

// load runs action, which loads a page (url, when it opens one), and
// checks the page.
func (c *pageChecker) load(t *testing.T, tab context.Context, name, url string, statuses []int64, action chromedp.Action[chromedp.Void]) int64 {
	t.Helper()
	if !c.installed && c.axeWidths > 0 {
		if _, err := chromedp.Call(tab, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: c.axe}); err != nil {
			t.Fatalf("have the tab load axe-core into each page: %v", err)
		}
		c.installed = true
	}
	if !c.sized {
		c.resize(t, tab)
		c.sized = true
	}
	resp, err := chromedp.RunResponse(tab, action)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if resp == nil {
		t.Fatalf("%s: no page loaded", name)
	}
	if !slices.Contains(statuses, resp.Status) {
		said, _ := chromedp.Run(tab, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main h1, main [role=alert], main .field-error")].map(e => e.innerText.trim())`))
		t.Errorf("%s: %s answered %d, want one of %v; the page says: %q", name, resp.URL, resp.Status, statuses, said)
		return resp.Status
	}
	redirected := url != "" && resp.URL != url
	if resp.Status == http.StatusForbidden && len(statuses) > 1 || redirected && c.checked[resp.URL] {
		return resp.Status
	}
	c.checked[resp.URL] = true
	// At the width the last page ended with, then at the other, which the
	// next page starts with: one resize a page.
	c.check(t, tab, name, c.axeWidths > 0)
	c.wide = !c.wide
	c.resize(t, tab)
	c.check(t, tab, name, c.axeWidths == 2)
	return resp.Status
}

func (c *pageChecker) resize(t *testing.T, tab context.Context) {
	t.Helper()
	if c.wide {
		do(t, tab, "resize to desktop", chromedp.EmulateViewport(desktopWidth, desktopHeight))
	} else {
		do(t, tab, "resize to a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	}
}

// axeViolation is one rule axe-core found broken, with the elements.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// smallText is chart text drawn smaller than minChartText.
type smallText struct {
	Text string  `json:"text"`
	Px   float64 `json:"px"`
}

// minAxeRules is fewer rules than axe-core runs on any page with its
// defaults (about 90 in 4.14): a run that reports fewer did not check the
// page.
const minAxeRules = 50

// check checks the page as it is now and fails the test for each problem.
func (c *pageChecker) check(t *testing.T, tab context.Context, name string, withAxe bool) {
	t.Helper()
	width := phoneWidth
	if c.wide {
		width = desktopWidth
	}
	at := fmt.Sprintf("%s at %d px", name, width)
	for _, p := range c.problems(t, tab, at, width, withAxe) {
		t.Errorf("%s: %s", at, p)
	}
	// The phone menu's links are hidden until it is opened: check them
	// open once.
	if !c.wide && !c.menuChecked && run(t, tab, at+": find the menu", chromedp.Evaluate[bool](`!!document.querySelector("nav.main details.menu")`)) {
		c.menuChecked = true
		do(t, tab, at+": open the menu", chromedp.Click(chromedp.CSS("nav.main details.menu summary")))
		if !run(t, tab, at+": is the menu open", chromedp.Evaluate[bool](`document.querySelector("nav.main details.menu").open`)) {
			t.Errorf("%s: a tap on Menu does not open it", at)
		}
		for _, p := range c.problems(t, tab, at+" with the menu open", width, c.axeWidths > 0) {
			t.Errorf("%s with the menu open: %s", at, p)
		}
		do(t, tab, at+": close the menu", chromedp.Click(chromedp.CSS("nav.main details.menu summary")))
	}
}

// axeResult is what the page's axe-core run reports.
type axeResult struct {
	// Rules counts the rules that ran, with any outcome.
	Rules      int            `json:"rules"`
	Violations []axeViolation `json:"violations"`
}

// problems runs axe-core on the page as it is now (the tab is width px
// wide) when withAxe, measures its width and its charts' text, and says what
// is wrong.
func (c *pageChecker) problems(t *testing.T, tab context.Context, at string, width int, withAxe bool) []string {
	t.Helper()
	var out []string
	c.counts.views.Add(1)
	if withAxe {
		c.counts.axe.Add(1)
		out = c.axeProblems(t, tab, at)
	}
	sizes := run(t, tab, at+": measure the page", chromedp.Evaluate[[2]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if sizes[0] > width || sizes[1] != width {
		wide := run(t, tab, at+": find the wide elements", chromedp.Evaluate[[]wideElement](wideElementsJS(width)))
		var names []string
		for _, w := range wide {
			names = append(names, fmt.Sprintf("%s (right edge at %.0f px)", w.Name, w.Right))
		}
		out = append(out, fmt.Sprintf("the page scrolls sideways: scrollWidth %d and innerWidth %d, want both %d; too wide: %s",
			sizes[0], sizes[1], width, strings.Join(names, ", ")))
	}
	small := run(t, tab, at+": measure the chart text", chromedp.Evaluate[[]smallText](fmt.Sprintf(`(() => {
  const out = [];
  for (const el of document.querySelectorAll("svg text")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const m = el.getScreenCTM();
    const px = parseFloat(getComputedStyle(el).fontSize) * (m ? Math.hypot(m.a, m.b) : 1);
    if (px < %d - 0.01) out.push({text: el.textContent.trim().slice(0, 40), px: Math.round(px * 10) / 10});
  }
  return out;
})()`, minChartText)))
	if len(small) > 0 {
		out = append(out, fmt.Sprintf("%d chart labels are drawn smaller than %d px, e.g. %+v", len(small), minChartText, small[:min(len(small), 5)]))
	}
	return out
}

// axeProblems runs axe-core on the page as it is now and says what it
// finds.
func (c *pageChecker) axeProblems(t *testing.T, tab context.Context, at string) []string {
	t.Helper()
	var out []string
	if !run(t, tab, at+": is axe loaded", chromedp.Evaluate[bool](`typeof window.axe === "object"`)) {
		do(t, tab, at+": load axe-core", chromedp.Evaluate[chromedp.Void](c.axe))
	}
	// axe-core's default rules: WCAG 2.0, 2.1 and 2.2 A and AA, and its
	// best practices (heading order, empty table headers among them).
	res := run(t, tab, at+": run axe-core", chromedp.Evaluate[axeResult](`axe.run(document, {resultTypes: ["violations"]}).then(r => ({
  rules: r.passes.length + r.violations.length + r.incomplete.length + r.inapplicable.length,
  violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))})),
}))`, chromedp.EvalAwaitPromise))
	if res.Rules < minAxeRules {
		out = append(out, fmt.Sprintf("axe-core ran %d rules, want at least %d", res.Rules, minAxeRules))
	}
	for _, v := range res.Violations {
		var where []string
		for i, n := range v.Nodes {
			if i == 5 {
				where = append(where, fmt.Sprintf("… %d more", len(v.Nodes)-i))
				break
			}
			where = append(where, fmt.Sprintf("%v (%s)", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
		}
		out = append(out, fmt.Sprintf("axe %s (%s): %s, %d elements: %s", v.ID, v.Impact, v.Help, len(v.Nodes), strings.Join(where, "; ")))
	}
	return out
}

// TestPageCheckFindsWhatIsWrong: the checks of
// TestEveryPageIsAccessibleAndFitsPhoneAndDesktop find an image without a
// text alternative, grey text on grey, a skipped heading level, an empty
// table header, a scrolling box the keyboard cannot reach, a page wider
// than the phone and a chart label drawn at 5 px, and nothing on a page
// without them.
func TestPageCheckFindsWhatIsWrong(t *testing.T) {
	t.Parallel()
	skipJourneyIfShort(t)
	axe, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatalf("read axe-core: %v", err)
	}
	const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Check</title><link rel="icon" href="data:,"></head><body><main><h1>Check</h1>`
	mux := http.NewServeMux()
	mux.HandleFunc("/good", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, head+`<p>Fine.</p><svg viewBox="0 0 100 20" width="300"><text x="0" y="15" font-size="12">label</text></svg></main></body></html>`)
	})
	mux.HandleFunc("/bad", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, head+`<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
<p style="color:#aaa;background:#bbb">Hard to read.</p><div style="width:600px">Wide.</div>
<svg viewBox="0 0 1000 20" width="300"><text x="0" y="15" font-size="16">tiny</text></svg>
<h3>A heading two levels down</h3>
<div style="overflow-x:auto;width:200px"><table><tr><th></th><th>Name</th></tr><tr><td>1</td><td style="white-space:nowrap">a cell far wider than its scrolling box</td></tr></table></div>
</main></body></html>`)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	tab := newBrowser(t)
	c := newPageChecker(axe, new(checkCounts), 2)
	do(t, tab, "resize to a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
	navigate(t, tab, "open the good page", 200, chromedp.Navigate(ts.URL+"/good"))
	if got := c.problems(t, tab, "good page", phoneWidth, true); len(got) > 0 {
		t.Errorf("on a page with nothing wrong the check found: %q", got)
	}
	navigate(t, tab, "open the bad page", 200, chromedp.Navigate(ts.URL+"/bad"))
	got := strings.Join(c.problems(t, tab, "bad page", phoneWidth, true), "\n")
	for _, want := range []string{"axe image-alt (critical)", "axe color-contrast (serious)", "axe heading-order (moderate)",
		"axe empty-table-header (minor)", "axe scrollable-region-focusable (serious)", "the page scrolls sideways", "drawn smaller than 11 px"} {
		if !strings.Contains(got, want) {
			t.Errorf("the check of a broken page says:\n%s\nwant it to say %q", got, want)
		}
	}
}
