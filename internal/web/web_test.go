package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// testApp is a real server on a real SQLite file, reached over HTTP.
type testApp struct {
	t     *testing.T
	st    *store.Store
	srv   *Server
	http  *httptest.Server
	units map[string]int64
}

const testPassword = "correct horse battery"

const testRoster = `employee_id,email,name,team,manager,hired_on
E1,ana@example.com,Ana Silva,Acme/Sales/EMEA,,2021-03-01
E2,ben@example.com,Ben Okafor,Acme/Sales/EMEA,E1,2020-01-15
E3,cara@example.com,Cara Diaz,Acme/Support,,2018-09-17
E4,dev@example.com,Dev Iyer,Acme/Support,E3,2022-06-01
E5,eli@example.com,Eli Moreau,Acme/Support,E3,2019-04-08
`

// newTestApp starts a server with a small organisation (Acme, Sales, EMEA,
// Support) and an admin, an hr user and a leader of Sales.
func newTestApp(t *testing.T) *testApp {
	t.Helper()
	return newTestAppWith(t, nil)
}

// newTestAppWith is newTestApp with a server configured by configure,
// whose BaseURL is then the test server's own address.
func newTestAppWith(t *testing.T, configure func(*Config)) *testApp {
	t.Helper()
	return newTestAppOn(t, store.Options{}, configure)
}

// newTestAppOn is newTestAppWith over a store opened with opt. The store
// and the server stand still at timeNow unless opt.Now (or configure)
// names another clock.
func newTestAppOn(t *testing.T, opt store.Options, configure func(*Config)) *testApp {
	t.Helper()
	ctx := context.Background()
	if opt.Now == nil {
		opt.Now = timeNow
	}
	st, err := store.Open(ctx, tandemtest.SQLiteFile(t, t.TempDir()), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	plan, err := st.PlanRoster(ctx, strings.NewReader(testRoster), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyRoster(ctx, plan, tandem.Today(timeNow())); err != nil {
		t.Fatal(err)
	}
	tree, _ := st.Tree(ctx)
	units := map[string]int64{}
	for _, u := range tree.Walk() {
		units[u.Name] = u.ID
	}
	hash := tandemtest.PasswordHash(t, testPassword)
	for _, u := range []tandem.User{
		{Email: "admin@example.com", Role: tandem.RoleAdmin, PasswordHash: hash},
		{Email: "hr@example.com", Role: tandem.RoleHR, PasswordHash: hash},
		{Email: "sales.lead@example.com", Role: tandem.RoleLeader, ScopeUnitID: units["Sales"], PasswordHash: hash},
	} {
		if err := st.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
	}
	// The server's clock is the store's, so the data a test builds at
	// timeNow is "now" for the pages too.
	cfg := Config{Addr: "127.0.0.1:0", Now: opt.Now}
	hs := httptest.NewUnstartedServer(nil)
	if configure != nil {
		cfg.BaseURL = "http://" + hs.Listener.Addr().String()
		configure(&cfg)
	}
	srv, err := New(cfg, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	return &testApp{t: t, st: st, srv: srv, http: hs, units: units}
}

// client is one browser: a cookie jar and no automatic redirects.
type client struct {
	app *testApp
	c   *http.Client
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{app: a, c: &http.Client{Jar: jar, Transport: ownTransport(false), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// ownTransport is a transport of the test's own, not http.DefaultTransport:
// httptest.Server.Close closes the default transport's idle connections,
// and a POST about to reuse one of them then fails ("connection broken:
// CloseIdleConnections called") instead of being retried, so a parallel
// test closing its server broke sign-ins now and then. oneShot keeps no
// connection open after a request (for a client made for one).
func ownTransport(oneShot bool) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableKeepAlives = oneShot
	return tr
}

type response struct {
	status int
	body   string
	header http.Header
}

func (c *client) do(req *http.Request) response {
	c.app.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.app.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}
}

func (c *client) get(path string) response {
	req, _ := http.NewRequest(http.MethodGet, c.app.http.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) response {
	req, _ := http.NewRequest(http.MethodPost, c.app.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// csrf loads a page and returns the CSRF token its forms carry.
func (c *client) csrf(path string) string {
	c.app.t.Helper()
	m := csrfRe.FindStringSubmatch(c.get(path).body)
	if m == nil {
		c.app.t.Fatalf("no CSRF token on %s", path)
	}
	return m[1]
}

// postForm posts a form with the CSRF token of the page it is on.
func (c *client) postForm(page, action string, form url.Values) response {
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", c.csrf(page))
	return c.post(action, form)
}

func (c *client) login(email string) {
	c.app.t.Helper()
	// ?password: with passwords off, the break-glass admin's way to the
	// form (ignored otherwise).
	page := "/login?password"
	if c.get(page).status == http.StatusSeeOther {
		page = "/units" // signed in already: /login redirects
	}
	r := c.postForm(page, "/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.status != http.StatusSeeOther {
		c.app.t.Fatalf("login %s: status %d, body %s", email, r.status, r.body)
	}
}

func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.app.http.URL)
	for _, ck := range c.c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func TestSignInWithWrongPasswordIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	r := c.postForm("/login", "/login", url.Values{"email": {"admin@example.com"}, "password": {"wrong password"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "do not match") {
		t.Fatalf("status %d, want 401 with an explanation", r.status)
	}
	if c.cookie(sessionCookie) != "" {
		t.Error("a session cookie was set after a failed sign-in")
	}
	if r := c.get("/units"); r.status != http.StatusSeeOther {
		t.Errorf("GET /units after failed sign-in: %d, want a redirect to sign in", r.status)
	}
}

func TestSignInRotatesTheSessionID(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("hr@example.com")
	first := c.cookie(sessionCookie)
	c.login("admin@example.com")
	second := c.cookie(sessionCookie)
	if first == "" || second == "" || first == second {
		t.Fatalf("session before %q and after %q sign-in, want two different ids", first, second)
	}
	// The old session id no longer works.
	old := app.client()
	u, _ := url.Parse(app.http.URL)
	old.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: first}})
	if r := old.get("/units"); r.status != http.StatusSeeOther {
		t.Errorf("old session id after a new sign-in: status %d, want redirect to sign in", r.status)
	}
	// A fixated cookie set before sign-in is replaced.
	fix := app.client()
	fix.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "attacker-chosen"}})
	fix.login("hr@example.com")
	if got := fix.cookie(sessionCookie); got == "attacker-chosen" {
		t.Error("sign-in kept a session id chosen before it")
	}
}

func TestStateChangingFormsNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("admin@example.com")
	path := "/units/" + itoa64(app.units["Sales"])
	for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
		form := url.Values{"name": {"Renamed"}}
		if token != "" {
			form.Set("_csrf", token)
		}
		if r := c.post(path, form); r.status != http.StatusForbidden {
			t.Errorf("%s token: status %d, want 403", name, r.status)
		}
	}
	tree, _ := app.st.Tree(context.Background())
	if tree.Unit(app.units["Sales"]).Name != "Sales" {
		t.Fatal("a request without a valid CSRF token changed the unit")
	}
	if r := c.postForm(path, path, url.Values{"name": {"Sales & Marketing"}}); r.status != http.StatusSeeOther {
		t.Fatalf("with the token: status %d, want 303", r.status)
	}
	// Signing in needs the token too.
	anon := app.client()
	if r := anon.post("/login", url.Values{"email": {"admin@example.com"}, "password": {testPassword}}); r.status != http.StatusForbidden {
		t.Errorf("sign-in without CSRF token: %d, want 403", r.status)
	}
}

func TestLeaderSeesOnlyTheirSubtree(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("sales.lead@example.com")
	ctx := context.Background()
	cara, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "cara@"})
	ana, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "ana@"})
	for _, path := range []string{
		"/units/" + itoa64(app.units["Support"]),
		"/units/" + itoa64(app.units["Acme"]),
		"/employees?unit=" + itoa64(app.units["Support"]),
		"/employees/" + itoa64(cara[0].ID),
	} {
		if r := c.get(path); r.status != http.StatusNotFound && r.status != http.StatusForbidden {
			t.Errorf("leader GET %s: %d, want 403 or 404", path, r.status)
		} else if strings.Contains(r.body, "Cara Diaz") || strings.Contains(r.body, "Dev Iyer") {
			t.Errorf("leader GET %s: the denial shows another unit's people", path)
		}
	}
	for path, want := range map[string]string{
		"/units/" + itoa64(app.units["EMEA"]): "Ana Silva",
		"/employees/" + itoa64(ana[0].ID):     "Ana Silva",
		"/units":                              "EMEA",
	} {
		if r := c.get(path); r.status != http.StatusOK || !strings.Contains(r.body, want) {
			t.Errorf("leader GET %s: %d, want 200 with %q", path, r.status, want)
		}
	}
	for _, path := range []string{"/employees?q=a", "/units", "/roster/export.csv"} {
		if r := c.get(path); strings.Contains(r.body, "Cara Diaz") || strings.Contains(r.body, "cara@example.com") || strings.Contains(r.body, "Support") {
			t.Errorf("leader GET %s shows Support's data", path)
		}
	}
	if r := c.postForm("/units", "/units/"+itoa64(app.units["EMEA"]), url.Values{"name": {"X"}}); r.status != http.StatusForbidden {
		t.Errorf("leader editing a unit: %d, want 403", r.status)
	}
	if r := c.get("/roster/import"); r.status != http.StatusForbidden {
		t.Errorf("leader opening the import: %d, want 403", r.status)
	}
}

func TestOnlyAdminsManageAccounts(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("hr@example.com")
	if r := c.get("/users"); r.status != http.StatusForbidden {
		t.Errorf("hr GET /users: %d, want 403", r.status)
	}
	a := app.client()
	a.login("admin@example.com")
	r := a.postForm("/users", "/users", url.Values{"email": {"new.lead@example.com"}, "role": {"leader"}, "unit": {itoa64(app.units["Support"])}, "password": {"long enough password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("admin creating a leader: %d %s", r.status, r.body)
	}
	r = a.postForm("/users", "/users", url.Values{"email": {"bad.lead@example.com"}, "role": {"leader"}, "password": {"long enough password"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "choose the unit") || !strings.Contains(r.body, "bad.lead@example.com") {
		t.Errorf("leader without a unit: %d, want 400 that keeps the typed email and explains", r.status)
	}
	log, _ := app.st.AuditLog(context.Background(), 10)
	if len(log) == 0 || log[0].Action != "user.create" || log[0].UserEmail != "admin@example.com" {
		t.Errorf("audit log %+v, want the account creation by admin", log)
	}
}

func TestSignInIsThrottledAfterRepeatedFailures(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	for i := 0; i < auth.DefaultThrottle.PairFree; i++ {
		c.postForm("/login", "/login", url.Values{"email": {"hr@example.com"}, "password": {"guess"}})
	}
	r := c.postForm("/login", "/login", url.Values{"email": {"hr@example.com"}, "password": {testPassword}})
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures, the right password: %d, want 429 with Retry-After", auth.DefaultThrottle.PairFree, r.status)
	}
	// Another account from another address is not affected.
	other := app.client()
	other.login("admin@example.com")
}

func TestSetupLinkCreatesTheFirstAdminOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tandem.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, _ := New(Config{}, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	app := &testApp{t: t, st: st, srv: srv, http: hs}
	link, err := srv.SetupLink(ctx)
	if err != nil || !strings.Contains(link, "/setup/") {
		t.Fatalf("setup link %q (%v)", link, err)
	}
	path := link[strings.Index(link, "/setup/"):]
	c := app.client()
	r := c.postForm(path, path, url.Values{"email": {"first@example.com"}, "password": {"a long password"}, "password2": {"a long password"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("setup: %d %s", r.status, r.body)
	}
	u, err := st.UserByEmail(ctx, "first@example.com")
	if err != nil || u.Role != tandem.RoleAdmin {
		t.Fatalf("first admin %+v (%v)", u, err)
	}
	if r := app.client().get(path); r.status != http.StatusNotFound {
		t.Errorf("setup link used twice: %d, want 404", r.status)
	}
	if again, _ := srv.SetupLink(ctx); again != "" {
		t.Errorf("a setup link was made although an account exists")
	}
}

func TestRosterUploadShowsDryRunThenAppliesOnConfirm(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("hr@example.com")
	file := "employee_id;email;name;team\nE5;eve@example.com;Eve Adams;Acme/Support/Tier 2\nE1;ana@example.com;Ana Silva;Acme/Support\n"
	r := c.upload("/roster/import", "roster.csv", file, url.Values{"mark_missing_exited": {"on"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Eve Adams") || !strings.Contains(r.body, "Apply the import") {
		t.Fatalf("dry run: %d\n%s", r.status, r.body)
	}
	ctx := context.Background()
	if eve, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "eve@"}); len(eve) != 0 {
		t.Fatal("the dry run imported Eve")
	}
	m := regexp.MustCompile(`action="(/roster/import/[^"]+/apply)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatal("no apply form on the dry-run page")
	}
	r = c.postForm("/roster/import", m[1], nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	if eve, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "eve@"}); len(eve) != 1 {
		t.Fatal("Eve was not imported")
	}
	exited, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Status: "exited", Today: tandem.Today(timeNow()).AddDate(0, 0, 1)})
	if len(exited) != 3 {
		t.Errorf("%d exited after a full-roster import, want 3 (Ben, Cara, Dev)", len(exited))
	}
	// The same confirmation cannot be applied twice.
	if r := c.postForm("/roster/import", m[1], nil); r.status != http.StatusNotFound {
		t.Errorf("second apply: %d, want 404", r.status)
	}
}

func TestRosterUploadWithBadRowsListsEveryProblemAndAppliesNothing(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("admin@example.com")
	file := "\ufeffemail,name,team,hired_on\nzed@example.com,Zed,Acme/Sales,2020-01-01\nbad@,Bad Email,Acme/Sales,2020-01-01\nx@example.com,,Acme/Sales,01/02/2020\n"
	r := c.upload("/roster/import", "bad.csv", file, nil)
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", r.status)
	}
	for _, want := range []string{"nothing was imported", "<td class=\"num\">3</td>", "<td class=\"num\">4</td>", "YYYY-MM-DD"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("error page lacks %q", want)
		}
	}
	if zed, _, _ := app.st.Employees(context.Background(), store.EmployeeFilter{Query: "zed@"}); len(zed) != 0 {
		t.Error("a file with bad rows imported its good row")
	}
}

func (c *client) upload(path, filename, content string, fields url.Values) response {
	c.app.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	w.WriteField("_csrf", c.csrf(path))
	for k, vs := range fields {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	fw, _ := w.CreateFormFile("file", filename)
	fw.Write([]byte(content))
	w.Close()
	req, _ := http.NewRequest(http.MethodPost, c.app.http.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	if r := c.get("/healthz"); r.status != http.StatusOK {
		t.Errorf("healthz: %d", r.status)
	}
	if r := c.get("/readyz"); r.status != http.StatusOK {
		t.Errorf("readyz: %d", r.status)
	}
	c.get("/login")
	// Metrics are for a scraper with a metrics:read key: request counts
	// say when answers arrive.
	if r := c.get("/metrics"); r.status != http.StatusUnauthorized {
		t.Errorf("metrics without a key: %d, want 401", r.status)
	}
	scrape := func(key string) response {
		req, _ := http.NewRequest(http.MethodGet, app.http.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		return c.do(req)
	}
	if r := scrape(app.apiKey(store.ScopeReportsRead)); r.status != http.StatusForbidden {
		t.Errorf("metrics with a reports key: %d, want 403", r.status)
	}
	r := scrape(app.apiKey(store.ScopeMetricsRead))
	if r.status != http.StatusOK || !strings.Contains(r.body, `tandem_http_requests_total{code="200",method="GET",route="/login"}`) ||
		!strings.Contains(r.body, "tandem_http_request_duration_seconds_bucket") {
		t.Errorf("metrics lack request counts by route or latencies:\n%.2000s", r.body)
	}
	app.st.Close()
	if r := c.get("/readyz"); r.status != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed: %d, want 503", r.status)
	}
}

func TestEveryPageCarriesSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	for _, path := range []string{"/login", "/nope", "/static/app.css"} {
		r := c.get(path)
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or referrer policy", path)
		}
	}
	if r := c.get("/nope"); r.status != http.StatusNotFound || !strings.Contains(r.body, "no page at this address") {
		t.Errorf("unknown page: %d", r.status)
	}
}

func TestUsersChangeTheirOwnPasswordAndOtherSessionsEnd(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	other := app.client()
	other.login("hr@example.com")
	c := app.client()
	c.login("hr@example.com")
	if r := c.postForm("/account", "/account/password", url.Values{"current": {"wrong one"}, "password": {"a new long password"}, "password2": {"a new long password"}}); r.status != http.StatusBadRequest {
		t.Fatalf("wrong current password: %d, want 400", r.status)
	}
	if r := c.postForm("/account", "/account/password", url.Values{"current": {testPassword}, "password": {"a new long password"}, "password2": {"a new long password"}}); r.status != http.StatusSeeOther {
		t.Fatalf("change: %d", r.status)
	}
	if r := c.get("/account"); r.status != http.StatusOK {
		t.Errorf("this browser after the change: %d, want still signed in", r.status)
	}
	if r := other.get("/units"); r.status != http.StatusSeeOther {
		t.Errorf("another browser after the change: %d, want signed out", r.status)
	}
	fresh := app.client()
	if r := fresh.postForm("/login", "/login", url.Values{"email": {"hr@example.com"}, "password": {"a new long password"}}); r.status != http.StatusSeeOther {
		t.Errorf("sign-in with the new password: %d", r.status)
	}
}

// TestCSRFTokenIsTakenOnlyFromTheFormBodyOrHeader puts the right token in
// the query string of a form post: a token in a URL leaks through logs,
// history and Referer headers, so it does not count.
func TestCSRFTokenIsTakenOnlyFromTheFormBodyOrHeader(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	c := app.client()
	c.login("admin@example.com")
	path := "/units/" + itoa64(app.units["Sales"])
	token := c.csrf(path)
	if r := c.post(path+"?_csrf="+url.QueryEscape(token), url.Values{"name": {"Renamed"}}); r.status != http.StatusForbidden {
		t.Errorf("the token in the query string: %d, want 403", r.status)
	}
	tree, _ := app.st.Tree(context.Background())
	if got := tree.Unit(app.units["Sales"]).Name; got != "Sales" {
		t.Fatalf("a post with the token in its URL renamed the unit to %q", got)
	}
	anon := app.client()
	t2 := anon.csrf("/login")
	if r := anon.post("/login?_csrf="+url.QueryEscape(t2), url.Values{"email": {"admin@example.com"}, "password": {testPassword}}); r.status != http.StatusForbidden {
		t.Errorf("sign-in with the token in the query string: %d, want 403", r.status)
	}
	// In the header or the form body it works.
	req, _ := http.NewRequest(http.MethodPost, app.http.URL+path, strings.NewReader(url.Values{"name": {"Sales & Marketing"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(csrfHeader, token)
	if r := c.do(req); r.status != http.StatusSeeOther {
		t.Errorf("the token in the %s header: %d, want 303", csrfHeader, r.status)
	}
	if r := c.postForm(path, path, url.Values{"name": {"Sales"}}); r.status != http.StatusSeeOther {
		t.Errorf("the token in the form body: %d, want 303", r.status)
	}
}

// TestDownloadsAndSignedInResponsesAreNotCached fetches every CSV export and
// a signed-in page, API answer and redirect: none may be kept by a browser
// or a proxy cache, where the next user of a shared computer finds them.
func TestDownloadsAndSignedInResponsesAreNotCached(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	d := openDegradeRound(t, app)
	// The round's export is there once it is released.
	if _, err := app.st.CloseDueRounds(context.Background(), timeNow().AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	c := app.client()
	c.login("hr@example.com")
	for _, path := range []string{
		"/roster/export.csv",
		"/rounds/" + itoa64(d.id) + "/export.csv",
		"/reports/correlation.csv",
		"/employees",
		"/api/v1/reports/retention",
		"/", // a redirect to the dashboard
	} {
		r := c.get(path)
		if r.status >= 400 {
			t.Errorf("GET %s: %d", path, r.status)
			continue
		}
		if got := r.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", path, got)
		}
	}
	// Static files stay cacheable.
	if got := c.get("/static/app.css").header.Get("Cache-Control"); !strings.Contains(got, "max-age") {
		t.Errorf("a static file: Cache-Control %q, want it cacheable", got)
	}
}

// TestAnswerLinkRedirectCarriesTheSecurityHeaders opens an answer link with
// a trailing slash: the redirect to the link without it carries the same
// headers as the answer page (the token is in its Location).
func TestAnswerLinkRedirectCarriesTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	d := openDegradeRound(t, app)
	r := app.client().get("/p/" + d.tokens[0] + "/")
	if r.status != http.StatusMovedPermanently {
		t.Fatalf("GET /p/TOKEN/: %d, want 301", r.status)
	}
	for h, want := range map[string]string{
		"Referrer-Policy":        "no-referrer",
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"X-Robots-Tag":           "noindex",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("the redirect's %s: %q, want %q", h, got, want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("the redirect's CSP: %q", csp)
	}
}

// TestHSTSIsSentWithSecureCookies: a server told its users reach it over
// HTTPS (--secure-cookies) tells browsers to use nothing else; one on plain
// HTTP does not.
func TestHSTSIsSentWithSecureCookies(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	secure := serveWith(t, app, Config{SecureCookies: true})
	for _, path := range []string{"/login", "/nope", "/static/app.css", "/p/unknown/"} {
		res, err := http.Get(secure.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") || got == "max-age=0" {
			t.Errorf("--secure-cookies, GET %s: Strict-Transport-Security %q, want max-age of a year", path, got)
		}
	}
	if got := app.client().get("/login").header.Get("Strict-Transport-Security"); got != "" {
		t.Errorf("plain HTTP: Strict-Transport-Security %q, want none", got)
	}
}

// TestFormsRefuseOverlongText sends each form a value far over its limit
// (names, a unit's name, a question and its options, an account's name):
// each is 400 with the limit, and nothing is stored.
func TestFormsRefuseOverlongText(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	c := app.client()
	c.login("admin@example.com")
	long := strings.Repeat("é", 100_000)
	ana, _, _ := app.st.Employees(ctx, store.EmployeeFilter{Query: "ana@"})
	empPath := "/employees/" + itoa64(ana[0].ID)
	employee := func(field, value string) url.Values {
		f := url.Values{"name": {"Ana Silva"}, "email": {"ana@example.com"}, "external_id": {"E1"}, "unit": {itoa64(ana[0].UnitID)},
			"hired_on": {"2021-03-01"}}
		f.Set(field, value)
		return f
	}
	unitPath := "/units/" + itoa64(app.units["Sales"])
	for _, tc := range []struct {
		name, page, action string
		form               url.Values
	}{
		{"employee name", empPath, empPath, employee("name", long)},
		{"employee location", empPath, empPath, employee("location", long)},
		{"employee id", empPath, empPath, employee("external_id", long)},
		{"exit reason", empPath, empPath, func() url.Values {
			f := employee("exit_reason", long)
			f.Set("exited_on", "2026-01-31")
			f.Set("exit_type", "voluntary")
			return f
		}()},
		{"hire date", empPath, empPath, employee("hired_on", long)},
		{"unit name", unitPath, unitPath, url.Values{"name": {long}}},
		{"question text", "/questions", "/questions", url.Values{"text": {long}, "kind": {"text"}}},
		{"question option", "/questions", "/questions", url.Values{"text": {"Which office?"}, "kind": {"choice"}, "choices": {"Berlin\n" + long}}},
		{"account name", "/users", "/users", url.Values{"email": {"x@example.com"}, "name": {long}, "role": {"hr"}, "password": {"a long enough password"}}},
	} {
		r := c.postForm(tc.page, tc.action, tc.form)
		if r.status != http.StatusBadRequest || (!strings.Contains(r.body, "characters") && tc.name != "hire date") || len(r.body) > 2*len(long) {
			t.Errorf("%s of 100,000 characters: %d (a page of %d bytes), want 400 giving the limit without quoting the value twice", tc.name, r.status, len(r.body))
		}
	}
	if e, _ := app.st.Employee(ctx, ana[0].ID); e.Name != "Ana Silva" || e.Location != "" || e.ExternalID != "E1" || e.ExitReason != "" {
		t.Errorf("Ana after refused edits: %+v", e)
	}
	if tree, _ := app.st.Tree(ctx); tree.Unit(app.units["Sales"]).Name != "Sales" {
		t.Error("a refused name renamed Sales")
	}
	if _, err := app.st.UserByEmail(ctx, "x@example.com"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("the account with a long name: %v, want none created", err)
	}
}
