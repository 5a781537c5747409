package e2e

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tandem-hq/tandem/internal/oidctest"
	"github.com/tandem-hq/tandem/internal/openid"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/web"
)

// TestSSOSignInJourney: with passwords off, a leader who has no Tandem
// password opens Tandem in headless Chromium, is sent straight to a real
// OpenID provider's own sign-in page, and lands on the page she asked for,
// seeing her unit only. When her identity admin moves her to HR, her next
// sign-in makes her HR. Someone no rule maps, a token for another
// application, an expired token and a token with another sign-in's nonce
// each end on a page that says why, with nobody signed in.
func TestSSOSignInJourney(t *testing.T) {
	t.Parallel()
	skipJourneyIfShort(t)
	idp := oidctest.New(t)
	// Tandem's clock is the machine's (the provider stamps its tokens
	// with it) plus skew, which the expired-token step moves.
	var skew atomic.Int64
	a := newAppWith(t, func(c *web.Config) {
		c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
		c.OIDC = &openid.Config{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret, Name: "Test IdP"}
		c.PasswordsOff, c.BreakGlassAdmin = true, "admin@example.com"
	})
	idp.AllowRedirect(a.URL + "/login/sso/callback")
	idp.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana.silva@example.com", Name: "Ana Silva", Groups: []string{"support-leads"}})
	idp.AddUser(oidctest.User{Login: "bob", Subject: "sub-bob", Email: "bob@example.com", Name: "Bob", Groups: []string{"everyone"}})

	ctx := context.Background()
	imported := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	plan, err := a.Store.PlanRoster(ctx, strings.NewReader(journeyRoster), roster.Options{Today: imported})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.ApplyRoster(ctx, plan, imported); err != nil {
		t.Fatal(err)
	}
	tree, err := a.Store.Tree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	support := tree.ByPath([]string{"Lumen & Co", "Customer Experience", "Support"})
	a.addUser(t, "admin@example.com", tandem.RoleAdmin, 0)
	for _, r := range []sso.Rule{
		{Kind: sso.RuleGroup, Value: "support-leads", Role: tandem.RoleLeader, ScopeUnitID: support.ID},
		{Kind: sso.RuleGroup, Value: "tandem-hr", Role: tandem.RoleHR},
	} {
		if err := a.Store.AddSSORule(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}

	b := newBrowser(t)
	got := navigate(t, b, "open Tandem's units page", 200, chromedp.Navigate(a.URL+"/units"))
	if !strings.HasPrefix(got, "/signin?") {
		t.Fatalf("with passwords off, /units took the browser to %s, want the provider's sign-in page", got)
	}
	got = navigate(t, b, "sign in at the provider", 200,
		chromedp.SendKeys(chromedp.CSS("#username"), "ana"),
		chromedp.Click(chromedp.CSS("#signin")))
	if got != "/units" {
		t.Fatalf("after signing in at the provider the browser is at %s, want back at /units", got)
	}
	do(t, b, "see the signed-in navigation", chromedp.WaitVisible(chromedp.CSS("nav.main")))
	units := run(t, b, "read the units page", chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(units, "Support") || strings.Contains(units, "EMEA") {
		t.Errorf("Ana's units page shows %q, want her Support unit and nothing of Sales", units)
	}
	u, err := a.Store.UserByEmail(ctx, "ana.silva@example.com")
	if err != nil || u.Role != tandem.RoleLeader || u.ScopeUnitID != support.ID || u.PasswordHash != "" {
		t.Errorf("Ana's account = %+v, %v; want leader of Support without a password", u, err)
	}

	// Her identity admin moves Ana to HR. She signs out, which leaves her
	// on Tandem's sign-in page (not straight back at the provider), and
	// signs in again: the role is read afresh.
	idp.SetGroups("ana", "tandem-hr")
	got = navigate(t, b, "sign out", 200, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)))
	if !strings.HasPrefix(got, "/login") {
		t.Fatalf("after signing out the browser is at %s, want Tandem's sign-in page", got)
	}
	if page := run(t, b, "read the sign-in page", chromedp.Text(chromedp.CSS("main"))); !strings.Contains(page, "You are signed out") {
		t.Errorf("the sign-in page after signing out says %q, want that she is signed out", page)
	}
	navigate(t, b, "click Sign in with Test IdP", 200, chromedp.Click(chromedp.CSS("#sso-signin")))
	navigate(t, b, "sign in at the provider again", 200,
		chromedp.SendKeys(chromedp.CSS("#username"), "ana"),
		chromedp.Click(chromedp.CSS("#signin")))
	if u, _ := a.Store.UserByEmail(ctx, "ana.silva@example.com"); u.Role != tandem.RoleHR || u.ScopeUnitID != 0 {
		t.Errorf("after the group change Ana is %s of unit %d, want hr of the whole organisation", u.Role, u.ScopeUnitID)
	}
	if got := navigate(t, b, "open the programs, for HR", 200, chromedp.Navigate(a.URL+"/programs")); got != "/programs" {
		t.Errorf("Ana as HR opening /programs is at %s", got)
	}

	// Each refused sign-in runs in a window of its own.
	refused := func(step, login string, status int64, want string) {
		t.Helper()
		tab := newPrivateTab(t, b)
		if got := navigate(t, tab, step+": open Tandem", 200, chromedp.Navigate(a.URL+"/login")); !strings.HasPrefix(got, "/signin?") {
			t.Fatalf("%s: /login took the browser to %s, want the provider's sign-in page", step, got)
		}
		navigate(t, tab, step+": sign in at the provider", status,
			chromedp.SendKeys(chromedp.CSS("#username"), login),
			chromedp.Click(chromedp.CSS("#signin")))
		if msg := run(t, tab, step+": read the refusal", chromedp.Text(chromedp.CSS("#sso-refusal"))); !strings.Contains(msg, want) {
			t.Errorf("%s: the refusal says %q, want %q", step, msg, want)
		}
		if !run(t, tab, step+": find the break-glass link", chromedp.Evaluate[bool](`document.querySelector('#break-glass') !== null`)) {
			t.Errorf("%s: the refusal page has no way to the break-glass form", step)
		}
		if got := navigate(t, tab, step+": try a page", 200, chromedp.Navigate(a.URL+"/units")); !strings.HasPrefix(got, "/signin?") {
			t.Errorf("%s: after the refusal /units is at %s, want the provider's sign-in page (not signed in)", step, got)
		}
	}
	refused("Bob, whom no rule maps", "bob", 403, "Tandem has no role for bob@example.com")

	idp.IssueForAudience("another-app")
	refused("a token for another application", "ana", 401, "issued for another application")
	idp.IssueForAudience("")

	idp.SetIDTokenLifetime(time.Minute)
	skew.Store(int64(time.Hour))
	refused("an expired token", "ana", 401, "expired")
	skew.Store(0)
	idp.SetIDTokenLifetime(5 * time.Minute)

	idp.IssueWithNonce("nonce-of-another-sign-in")
	refused("a token with another sign-in's nonce", "ana", 401, "belongs to another sign-in")
	idp.IssueWithNonce("")

	var signIns, refusals int
	entries, err := a.Store.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Action {
		case "auth.sso":
			signIns++
		case "auth.sso.refused":
			refusals++
		}
	}
	// Refusals by the token's checks happen before anyone is known: they
	// are in the server's log, not the audit log.
	if signIns != 2 || refusals != 1 {
		t.Errorf("audit log has %d sign-ins and %d refusals, want Ana's 2 and Bob's 1", signIns, refusals)
	}
}
