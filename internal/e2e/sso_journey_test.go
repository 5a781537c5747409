package e2e

import (
	"context"
	"strings"
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
// password signs in through a real OpenID provider's own sign-in page in
// headless Chromium and lands on the dashboard of their unit; someone no
// rule maps sees a page that says why.
func TestSSOSignInJourney(t *testing.T) {
	idp := oidctest.New(t)
	a := newAppWith(t, func(c *web.Config) {
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
	if err := a.Store.AddSSORule(ctx, &sso.Rule{Kind: sso.RuleGroup, Value: "support-leads", Role: tandem.RoleLeader, ScopeUnitID: support.ID}); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t)
	navigate(t, b, "open the sign-in page", 200, chromedp.Navigate(a.URL+"/units"))
	do(t, b, "see the provider's button", chromedp.WaitVisible(chromedp.CSS("#sso-signin")))
	if run(t, b, "is the password field shown", chromedp.Evaluate[bool](`document.querySelector('#password').checkVisibility()`)) {
		t.Error("with passwords off, the password field is shown unfolded")
	}
	got := navigate(t, b, "click Sign in with Test IdP", 200, chromedp.Click(chromedp.CSS("#sso-signin")))
	if !strings.HasPrefix(got, "/signin?") {
		t.Fatalf("after the button the browser is at %s, want the provider's sign-in page", got)
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

	// Bob, whom no rule maps, in a window of his own.
	bob := newPrivateTab(t, b)
	navigate(t, bob, "Bob opens the sign-in page", 200, chromedp.Navigate(a.URL+"/login"))
	navigate(t, bob, "Bob clicks Sign in with Test IdP", 200, chromedp.Click(chromedp.CSS("#sso-signin")))
	navigate(t, bob, "Bob signs in at the provider", 403,
		chromedp.SendKeys(chromedp.CSS("#username"), "bob"),
		chromedp.Click(chromedp.CSS("#signin")))
	refusal := run(t, bob, "read the refusal", chromedp.Text(chromedp.CSS("#sso-refusal")))
	if !strings.Contains(refusal, "Tandem has no role for bob@example.com") {
		t.Errorf("Bob's refusal says %q, want that Tandem has no role for him", refusal)
	}
}
