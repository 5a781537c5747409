package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// proxiedApp is the test organisation served behind a trusted proxy (the
// loopback), so that each request says its address in X-Forwarded-For,
// on a clock the test moves.
func proxiedApp(t *testing.T) (*testApp, *testClock) {
	t.Helper()
	app := newTestApp(t)
	clock := &testClock{t: timeNow()}
	srv, err := New(Config{TrustedProxies: []string{"127.0.0.1/32"}, Now: clock.Now}, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &testApp{t: t, st: app.st, srv: srv, http: hs, units: app.units}, clock
}

func from(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }

// TestAnAttackerElsewhereCannotLockOutTheRealUser: the real user has
// signed in from the office before; an attacker on another address sends
// 50 wrong passwords. The real user still signs in at once, from the
// office and from an address never used before; the attacker is slowed,
// not locked out: each further try waits longer, up to a cap.
func TestAnAttackerElsewhereCannotLockOutTheRealUser(t *testing.T) {
	t.Parallel()
	app, clock := proxiedApp(t)
	const office, attacker, phone = "192.0.2.10", "198.51.100.7", "203.0.113.5"
	f := newSignInForm(t, app.http.URL)
	if r := f.post(t, "hr@example.com", testPassword, from(office)); r.status != http.StatusSeeOther {
		t.Fatalf("the real user's first sign-in: %d", r.status)
	}
	refused := 0
	for i := 0; i < 50; i++ {
		switch r := f.post(t, "hr@example.com", "guess "+strconv.Itoa(i), from(attacker)); r.status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			refused++
		default:
			t.Fatalf("attacker's attempt %d: %d", i, r.status)
		}
	}
	if refused != 45 {
		t.Errorf("%d of the attacker's 50 quick attempts refused, want 45 (all past the first 5)", refused)
	}
	for _, ip := range []string{office, phone} {
		if r := f.post(t, "hr@example.com", testPassword, from(ip)); r.status != http.StatusSeeOther {
			t.Errorf("the real user from %s during the attack: %d, want 303", ip, r.status)
		}
	}
	// The attacker is slowed: a wait that doubles after each failure, from
	// a minute up to fifteen, never a lockout.
	for _, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		r := f.post(t, "hr@example.com", "too soon", from(attacker))
		after, _ := strconv.Atoi(r.header.Get("Retry-After"))
		if r.status != http.StatusTooManyRequests || time.Duration(after)*time.Second < wait-time.Second || time.Duration(after)*time.Second > wait+time.Second {
			t.Fatalf("attacker before the %v wait: %d, Retry-After %q, want 429 and about %v", wait, r.status, r.header.Get("Retry-After"), wait)
		}
		clock.Advance(wait)
		if r := f.post(t, "hr@example.com", "after the wait", from(attacker)); r.status != http.StatusUnauthorized {
			t.Fatalf("attacker after waiting %v: %d, want 401 (a slower try, not a lockout)", wait, r.status)
		}
	}
}

// TestAKnownAddressHasMoreAllowance: from an address that signed in to the
// account before, ten wrong passwords in a row still leave the right one
// through; from a new address, the sixth try waits.
func TestAKnownAddressHasMoreAllowance(t *testing.T) {
	t.Parallel()
	app, _ := proxiedApp(t)
	const office, cafe = "192.0.2.10", "203.0.113.99"
	f := newSignInForm(t, app.http.URL)
	if r := f.post(t, "hr@example.com", testPassword, from(office)); r.status != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", r.status)
	}
	for i := 0; i < 10; i++ {
		if r := f.post(t, "hr@example.com", "typo "+strconv.Itoa(i), from(office)); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d from the known address: %d, want 401", i+1, r.status)
		}
	}
	if r := f.post(t, "hr@example.com", testPassword, from(office)); r.status != http.StatusSeeOther {
		t.Errorf("the right password from the known address after 10 typos: %d, want 303", r.status)
	}
	for i := 0; i < 5; i++ {
		f.post(t, "hr@example.com", "typo", from(cafe))
	}
	if r := f.post(t, "hr@example.com", testPassword, from(cafe)); r.status != http.StatusTooManyRequests {
		t.Errorf("the right password from a new address after 5 typos: %d, want 429", r.status)
	}
}

// TestAdminsSeeAndClearSignInThrottles: a slowed account and address are
// listed for admins; clearing them is audited and lets the next try
// through at once. Others cannot clear.
func TestAdminsSeeAndClearSignInThrottles(t *testing.T) {
	t.Parallel()
	app, _ := proxiedApp(t)
	const where = "198.51.100.7"
	f := newSignInForm(t, app.http.URL)
	for i := 0; i < 6; i++ {
		f.post(t, "hr@example.com", "guess", from(where))
	}
	if r := f.post(t, "hr@example.com", testPassword, from(where)); r.status != http.StatusTooManyRequests {
		t.Fatalf("after 6 failures: %d, want 429", r.status)
	}
	hr := app.client()
	hr.login("sales.lead@example.com")
	if r := hr.postForm("/dashboard", "/users/throttles/clear", url.Values{"email": {"hr@example.com"}, "ip": {where}}); r.status != http.StatusForbidden {
		t.Errorf("a leader clearing a throttle: %d, want 403", r.status)
	}
	admin := app.client()
	admin.login("admin@example.com")
	page := admin.get("/users")
	if !strings.Contains(page.body, "hr@example.com") || !strings.Contains(page.body, where) || !strings.Contains(page.body, "Sign-in throttles") {
		t.Fatalf("the accounts page does not list the throttle of hr@example.com from %s", where)
	}
	if r := admin.postForm("/users", "/users/throttles/clear", url.Values{"email": {"hr@example.com"}, "ip": {where}}); r.status != http.StatusSeeOther {
		t.Fatalf("clearing: %d", r.status)
	}
	log, _ := app.st.AuditLog(context.Background(), 10)
	found := false
	for _, e := range log {
		found = found || (e.Action == "signin.throttle.clear" && strings.Contains(e.Detail, where) && e.UserEmail == "admin@example.com")
	}
	if !found {
		t.Errorf("no signin.throttle.clear entry by the admin in the audit log: %+v", log)
	}
	if r := f.post(t, "hr@example.com", testPassword, from(where)); r.status != http.StatusSeeOther {
		t.Errorf("the right password after the clear: %d, want 303", r.status)
	}
	var n int
	app.st.DB().QueryRow("SELECT COUNT(*) FROM login_failures").Scan(&n)
	if n != 0 {
		t.Errorf("%d failures left after the clear and a sign-in, want 0", n)
	}
	_ = store.LoginCounts{}
}

// TestEveryCredentialRefusalCostsOnePasswordHash signs in with a wrong
// password, to an unknown account, to a disabled account (with its right
// password) and with a password of a megabyte: each is refused the same
// way after exactly one password hash, so timing does not tell which
// accounts exist or are disabled.
func TestEveryCredentialRefusalCostsOnePasswordHash(t *testing.T) {
	t.Parallel()
	app, _ := proxiedApp(t)
	ctx := context.Background()
	u, err := app.st.UserByEmail(ctx, "sales.lead@example.com")
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := app.st.UpdateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	f := newSignInForm(t, app.http.URL)
	var bodies []string
	for i, tc := range []struct{ name, email, password string }{
		{"wrong password", "hr@example.com", "wrong password"},
		{"unknown account", "nobody@example.com", testPassword},
		{"disabled account", "sales.lead@example.com", testPassword},
		{"a megabyte of password", "hr@example.com", strings.Repeat("p", 1<<20)},
	} {
		before := app.srv.hasher.Hashes()
		r := f.post(t, tc.email, tc.password, from("192.0.2."+strconv.Itoa(i+1)))
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", tc.name, r.status)
		}
		if got := app.srv.hasher.Hashes() - before; got != 1 {
			t.Errorf("%s: %d password hashes, want exactly 1", tc.name, got)
		}
		bodies = append(bodies, strings.ReplaceAll(r.body, tc.email, "EMAIL"))
	}
	for i := range bodies {
		if bodies[i] != bodies[0] {
			t.Errorf("refusal %d reads differently from the first", i)
		}
	}
}

// TestAThrottledSignInDoesNotSayWhetherTheAccountExists fails five times
// at an account that exists and five times at one that does not, each from
// its own address: the sixth try of each is refused alike — the same
// status, wait and words.
func TestAThrottledSignInDoesNotSayWhetherTheAccountExists(t *testing.T) {
	t.Parallel()
	app, _ := proxiedApp(t)
	f := newSignInForm(t, app.http.URL)
	var got []response
	for i, email := range []string{"hr@example.com", "nobody@example.com"} {
		ip := "198.51.100." + strconv.Itoa(i+1)
		for j := 0; j < 5; j++ {
			f.post(t, email, "guess", from(ip))
		}
		r := f.post(t, email, "guess", from(ip))
		r.body = strings.ReplaceAll(r.body, email, "EMAIL")
		got = append(got, r)
	}
	if got[0].status != http.StatusTooManyRequests || got[1].status != got[0].status ||
		got[0].header.Get("Retry-After") != got[1].header.Get("Retry-After") || got[0].body != got[1].body {
		t.Errorf("existing account: %d, Retry-After %q; unknown account: %d, Retry-After %q; bodies equal %v — want the same 429",
			got[0].status, got[0].header.Get("Retry-After"), got[1].status, got[1].header.Get("Retry-After"), got[0].body == got[1].body)
	}
}
