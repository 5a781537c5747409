package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/mail/mailtest"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
	"github.com/tandem-hq/tandem/internal/web"
)

// journeyTimeout bounds everything one journey does in the browser, so a
// wait for an element that never appears fails the test instead of hanging.
const journeyTimeout = 60 * time.Second

// requireBrowserEnv makes a missing Chromium a failure instead of a skip.
const requireBrowserEnv = "TANDEM_TEST_REQUIRE_BROWSER"

// browserEnv names the Chromium (or Chrome) program to run instead of the
// one chromiumPath would find.
const browserEnv = "TANDEM_TEST_CHROMIUM"

// everyPageEnv=1 makes the every-page journey check every person's pages
// with axe-core at both widths (see
// TestEveryPageIsAccessibleAndFitsPhoneAndDesktop). CI sets it.
const everyPageEnv = "TANDEM_TEST_EVERY_PAGE"

// testPassword is the password of every account a journey creates (the
// test kit's).
const testPassword = tandemtest.Password

// app is Tandem's web server on a fresh SQLite file, listening on 127.0.0.1.
type app struct {
	// URL is the base address, without a trailing slash.
	URL    string
	Store  *store.Store
	Server *web.Server
	// Now is the clock of the server and the store: standing still for
	// newAppAt, the machine's for newApp.
	Now func() time.Time
	// log is the server's logger: warnings go to the test log, errors
	// fail the test.
	log *slog.Logger
}

// newApp serves Tandem from a new database in t.TempDir(). The server and
// the database close when the test ends; an error the server logs fails
// the test.
func newApp(t *testing.T) *app {
	t.Helper()
	return newAppCore(t, time.Time{}, nil)
}

// newAppWith is newApp with a server configured by configure, whose
// BaseURL is then the test server's own address.
func newAppWith(t *testing.T, configure func(*web.Config)) *app {
	return newAppCore(t, time.Time{}, configure)
}

// newAppAt is newApp whose server and store clocks stand still at now (the
// machine's clock when now is zero), for journeys about dates.
func newAppAt(t *testing.T, now time.Time) *app {
	return newAppCore(t, now, nil)
}

func newAppCore(t *testing.T, now time.Time, configure func(*web.Config)) *app {
	t.Helper()
	ctx := context.Background()
	var clock func() time.Time
	if !now.IsZero() {
		clock = func() time.Time { return now }
	}
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "tandem.db"), store.Options{Now: clock})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	logs := &serverLog{t: t}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := web.Config{Addr: "127.0.0.1:0", Version: "e2e", Now: clock}
	ts := httptest.NewUnstartedServer(nil)
	if configure != nil {
		cfg.BaseURL = "http://" + ts.Listener.Addr().String()
		configure(&cfg)
	}
	srv, err := web.New(cfg, st, logger)
	if err != nil {
		t.Fatalf("build web server: %v", err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		logs.check()
	})
	appNow := time.Now
	if clock != nil {
		appNow = clock
	}
	return &app{URL: ts.URL, Store: st, Server: srv, Now: appNow, log: logger}
}

// jobs is the background work of a served app, as `tandem serve` wires it:
// the round runner, the gocron scheduler on the real clock, and the outbox
// worker delivering email to a real SMTP listener on 127.0.0.1.
type jobs struct {
	SMTP   *mailtest.Server
	Runner *schedule.Runner
	Worker *schedule.Worker
}

// startJobs connects the app to a running scheduler and outbox worker
// (polling every 200 ms, woken by every new round). Answer links in the
// messages point at the app. Everything stops when the test ends, before
// the server and the database close.
func (a *app) startJobs(t *testing.T) *jobs {
	t.Helper()
	listener := mailtest.NewServer(t)
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: listener.Port, Security: "none", From: "Tandem <p@example.com>"})
	if err != nil {
		t.Fatalf("SMTP sender: %v", err)
	}
	worker := schedule.NewWorker(a.Store, map[string]mail.Sender{pulse.ChannelEmail: sender}, a.URL, a.log, nil)
	runner := schedule.NewRunner(a.Store, a.log)
	runner.OnRound = func(pulse.Round) { worker.Wake() }
	sched, err := schedule.New(runner, a.Store, a.log, schedule.Options{})
	if err != nil {
		t.Fatalf("scheduler: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := sched.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start scheduler: %v", err)
	}
	a.Server.SetJobs(sched)
	done := make(chan struct{})
	go func() {
		defer close(done)
		worker.Run(ctx, 200*time.Millisecond)
	}()
	t.Cleanup(func() {
		if err := sched.Stop(); err != nil {
			t.Errorf("stop scheduler: %v", err)
		}
		cancel()
		<-done
	})
	return &jobs{SMTP: listener, Runner: runner, Worker: worker}
}

// addUser creates an account with testPassword and returns it. scope is the
// unit a leader leads (0 for admin and hr).
func (a *app) addUser(t *testing.T, email string, role tandem.Role, scope int64) *tandem.User {
	t.Helper()
	u := &tandem.User{Email: email, Name: strings.Split(email, "@")[0], Role: role, ScopeUnitID: scope, PasswordHash: tandemtest.PasswordHash(t, testPassword)}
	if err := a.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// serverLog passes the server's warnings to the test log and remembers
// errors (a 500, a failed audit write) to fail the test at its end.
type serverLog struct {
	t      *testing.T
	mu     sync.Mutex
	errors []string
	done   bool
}

func (l *serverLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := strings.TrimSpace(string(p))
	if strings.Contains(line, "level=ERROR") {
		l.errors = append(l.errors, line)
	}
	if !l.done {
		l.t.Log("server: " + line)
	}
	return len(p), nil
}

func (l *serverLog) check() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.done = true
	for _, e := range l.errors {
		l.t.Errorf("server logged an error: %s", e)
	}
}

// skipJourneyIfShort skips a browser journey under go test -short: each
// starts Chromium and walks several pages, seconds apiece on a small
// machine. The full run (and CI, which never passes -short) keeps them.
func skipJourneyIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser journey: skipped under -short (run go test without -short for the journeys)")
	}
}

// chromiumPath finds the browser the journeys drive, or skips the test
// (fails it when TANDEM_TEST_REQUIRE_BROWSER=1): the program named by
// TANDEM_TEST_CHROMIUM, else Chromium's headless shell, else Chromium.
//
// The headless shell (Debian's chromium-headless-shell, what Puppeteer
// runs headless) is the same Blink and V8 without the browser's window
// and tab code, which full Chromium runs even headless: it costs a third
// of the CPU a page (31 against 85 ms a navigation of a small page) and
// runs the package in half the time. CI runs the journeys in both.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(browserEnv); p != "" {
		return p
	}
	for _, name := range []string{"chromium-headless-shell", "chromium"} {
		if _, err := os.Stat("/usr/bin/" + name); err == nil {
			return "/usr/bin/" + name
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found (chromium-headless-shell or chromium in /usr/bin or PATH, or " + browserEnv + "): install it with apt-get install -y chromium-headless-shell to run the browser journeys"
	if os.Getenv(requireBrowserEnv) == "1" {
		t.Fatal(msg + " (" + requireBrowserEnv + "=1 requires them)")
	}
	t.Skip(msg)
	return ""
}

// pageProblems collects what a page reports that a person would never see
// but that means something is broken: uncaught exceptions, console errors,
// Content Security Policy violations, and sub-resources (CSS, JS, images)
// that failed to load.
type pageProblems struct {
	mu   sync.Mutex
	list []string
}

func (p *pageProblems) add(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

func (p *pageProblems) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

// listen runs on chromedp's read loop: it must only record, never call
// the browser.
func (p *pageProblems) listen(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		p.add("JS exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range ev.Args {
				if a.Description != "" {
					parts = append(parts, a.Description)
				} else {
					parts = append(parts, string(a.Value))
				}
			}
			p.add("console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		e := ev.Entry
		switch {
		case strings.Contains(e.Text, "Content Security Policy"):
			p.add("CSP violation: %s", e.Text)
		case e.Source == log.EntrySourceNetwork:
			// "Failed to load resource" for a page a journey expects to
			// answer 4xx; failed sub-resources are caught below, pages'
			// statuses are checked by the journeys themselves.
		case e.Level == log.EntryLevelError:
			p.add("console error (%s) %s: %s", e.Source, e.URL, e.Text)
		}
	case *network.EventResponseReceived:
		if ev.Type != network.ResourceTypeDocument && ev.Response.Status >= 400 {
			p.add("%s %s answered %d", ev.Type, ev.Response.URL, ev.Response.Status)
		}
	case *network.EventLoadingFailed:
		if ev.Type != network.ResourceTypeDocument && !ev.Canceled {
			p.add("%s request %s failed: %s (blocked: %s)", ev.Type, ev.RequestID, ev.ErrorText, ev.BlockedReason)
		}
	}
}

// chromium is the one headless Chromium the package's journeys share: each
// journey works in its own browser context (like a private window, with no
// cookies, storage or cache of another), so they do not see each other,
// and the package pays for one browser start instead of one a journey.
var chromium struct {
	once sync.Once
	ctx  context.Context // the browser; cancelled by TestMain
	err  error
	stop func()
}

// TestMain stops the shared Chromium after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.stop != nil {
		chromium.stop()
	}
	os.Exit(code)
}

// sharedBrowser starts the package's Chromium the first time a journey
// asks for it (path is its program).
func sharedBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	chromium.once.Do(func() {
		dir, err := os.MkdirTemp("", "tandem-e2e-chromium-")
		if err != nil {
			chromium.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.UserDataDir(dir),
			chromedp.WindowSize(1280, 900),
			// This machine has no network but loopback: keep Chromium from
			// calling home.
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-quic", true),
			// One renderer process for all the journeys' tabs instead of
			// one or two a browser context: each costs a fresh V8 and
			// Blink. Contexts stay apart (cookies, storage, cache are a
			// context's own); the package's browser CPU falls by about a
			// tenth (BENCHMARKS.md, issue 12).
			chromedp.Flag("renderer-process-limit", "1"),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		chromium.ctx = bctx
		chromium.stop = func() {
			cancelBrowser()
			cancelAlloc()
			os.RemoveAll(dir)
		}
		// Start the browser now, so a broken install fails here.
		if err := chromedp.Do(bctx); err != nil {
			chromium.err = fmt.Errorf("start Chromium (%s): %w", path, err)
		}
	})
	if chromium.err != nil {
		t.Fatal(chromium.err)
	}
	return chromium.ctx
}

// startBrowser opens a tab in a new browser context of the shared Chromium
// (a fresh profile, as a new browser would have) and returns its context,
// bounded by timeout. Its pages report their problems to problems. The tab
// and its browser context close when the test ends.
func startBrowser(t *testing.T, problems *pageProblems, timeout time.Duration) context.Context {
	t.Helper()
	skipJourneyIfShort(t)
	browser := sharedBrowser(t, chromiumPath(t))
	tctx, cancelTab := chromedp.NewContext(browser, chromedp.WithNewBrowserContext(), chromedp.WithListener(problems.listen))
	t.Cleanup(cancelTab)
	// The tab is made on its own context: a deadline on the first call
	// would close it when it passes.
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("open a tab in a new browser context: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tctx, timeout)
	t.Cleanup(cancelTimeout)
	return ctx
}

// newBrowser is startBrowser for a journey: any exception, console error,
// CSP violation or failed sub-resource on any page fails the test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	return newBrowserFor(t, journeyTimeout)
}

// newBrowserFor is newBrowser bounded by timeout instead of journeyTimeout,
// for a journey that walks through every page.
func newBrowserFor(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	problems := &pageProblems{}
	// Registered first, so it runs after the browser has stopped and every
	// message is in.
	t.Cleanup(func() {
		for _, p := range problems.all() {
			t.Errorf("browser: %s", p)
		}
	})
	return startBrowser(t, problems, timeout)
}

// newPrivateTab opens a tab in a new browser context of the browser behind
// ctx, like a private window: it shares no cookies, storage or cache with
// ctx, so it is a second person on their own device. As in newBrowser, any
// problem on its pages fails the test. The tab closes when the test ends.
func newPrivateTab(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	problems := &pageProblems{}
	// Registered before the tab's own cleanup, so it runs after the tab
	// has closed and every message is in.
	t.Cleanup(func() {
		for _, p := range problems.all() {
			t.Errorf("browser (private tab): %s", p)
		}
	})
	tctx, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(problems.listen))
	t.Cleanup(cancel)
	if err := chromedp.Do(tctx); err != nil {
		t.Fatalf("open a tab in a new browser context: %v", err)
	}
	return tctx
}

// do runs browser actions and fails the test, naming the step, on error.
func do(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", step, err)
	}
}

// run runs one browser action that returns a value.
func run[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

// navigate runs actions that load a new page (a link, a form submit), waits
// for it, and checks that it answered wantStatus. It returns the page's
// path and query.
func navigate(t *testing.T, ctx context.Context, step string, wantStatus int64, actions ...chromedp.Action[chromedp.Void]) string {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	if resp == nil {
		t.Fatalf("%s: no page loaded", step)
	}
	if resp.Status != wantStatus {
		body := run(t, ctx, step+": read the page", chromedp.Text(chromedp.CSS("main")))
		t.Fatalf("%s: %s answered %d, want %d; the page says: %s", step, resp.URL, resp.Status, wantStatus, body)
	}
	loc := run(t, ctx, step+": read location", chromedp.Location())
	if i := strings.Index(loc, "://"); i >= 0 {
		if j := strings.IndexByte(loc[i+3:], '/'); j >= 0 {
			return loc[i+3+j:]
		}
	}
	return loc
}

// signIn signs in through the login form and waits for the first page.
func signIn(t *testing.T, ctx context.Context, a *app, email string) {
	t.Helper()
	signInWith(t, ctx, a, email, testPassword)
}

// signInWith is signIn with another password than the test kit's.
func signInWith(t *testing.T, ctx context.Context, a *app, email, password string) {
	t.Helper()
	navigate(t, ctx, "open the sign-in page", 200, chromedp.Navigate(a.URL+"/login"))
	got := navigate(t, ctx, "sign in", 200,
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type=submit]`)))
	if strings.HasPrefix(got, "/login") {
		t.Fatalf("sign in as %s: still on %s", email, got)
	}
	do(t, ctx, "see the signed-in navigation", chromedp.WaitVisible(chromedp.CSS("nav.main")))
}

// knownOverflow names elements whose overflow at phone width is a known,
// reported and not yet fixed bug of the app, with the bug. A page whose
// only wide elements are known ones does not fail checkFitsWidth; the
// journey ends skipped, naming the bug, so that it stays visible while any
// other overflow fails. Delete an entry when its bug is fixed.
var knownOverflow = map[string]string{}

// checkFitsWidth checks that the page fits width: nothing makes a phone user
// scroll sideways (wide tables scroll inside their own box). It fails the
// test for overflow it cannot explain and returns the known bugs (see
// knownOverflow) that explain the rest.
func checkFitsWidth(t *testing.T, ctx context.Context, page string, width int) (knownBugs []string) {
	t.Helper()
	got := run(t, ctx, page+": measure the width", chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if got <= width {
		return nil
	}
	wide := run(t, ctx, page+": find the wide elements", chromedp.Evaluate[[]wideElement](wideElementsJS(width)))
	var unknown []string
	for _, w := range wide {
		if bug, ok := knownOverflow[w.Name]; ok {
			t.Logf("%s at %d px wide: %s reaches %.0f px: known bug: %s", page, width, w.Name, w.Right, bug)
			knownBugs = append(knownBugs, bug)
			continue
		}
		unknown = append(unknown, fmt.Sprintf("%s (right edge at %.0f px)", w.Name, w.Right))
	}
	if len(unknown) > 0 || len(wide) == 0 {
		t.Errorf("%s at %d px wide: document.documentElement.scrollWidth = %d, want <= %d; too wide: %s",
			page, width, got, width, strings.Join(unknown, ", "))
	}
	return knownBugs
}

// wideElement is an element that reaches past the viewport's right edge.
type wideElement struct {
	Name  string  `json:"name"`
	Right float64 `json:"right"`
}

// wideElementsJS lists the innermost elements that reach past width and
// are not inside a box that scrolls or clips sideways (those do not widen
// the page), to say in a failure what overflows.
func wideElementsJS(width int) string {
	return fmt.Sprintf(`(() => {
  const limit = %d + 0.5;
  const contained = el => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : ""));
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.getBoundingClientRect().right <= limit || contained(el)) continue;
    if ([...el.children].some(c => c.getBoundingClientRect().right > limit)) continue;
    out.push({name: name(el), right: el.getBoundingClientRect().right});
    if (out.length >= 10) break;
  }
  return out;
})()`, width)
}

// writeFile writes content to name in a new temporary folder and returns
// its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
