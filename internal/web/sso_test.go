package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/oidctest"
	"github.com/tandem-hq/tandem/internal/openid"
	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// ssoApp is the test organisation served with single sign-on through a
// real OpenID provider on 127.0.0.1.
type ssoApp struct {
	*testApp
	idp *oidctest.Provider
	// skew moves Tandem's clock away from the provider's.
	skew atomic.Int64
}

// newSSOApp starts the provider and Tandem. The provider stamps its ID
// tokens with the machine's clock, so Tandem's clock is the machine's time
// when the test started, held still, plus skew: the verdicts below depend
// on differences of minutes or hours, not on the date or the machine's
// speed.
func newSSOApp(t *testing.T, configure func(*Config)) *ssoApp {
	t.Helper()
	a := &ssoApp{idp: oidctest.New(t)}
	start := time.Now()
	a.testApp = newTestAppWith(t, func(c *Config) {
		c.Now = func() time.Time { return start.Add(time.Duration(a.skew.Load())) }
		c.OIDC = &openid.Config{Issuer: a.idp.Issuer, ClientID: a.idp.ClientID, ClientSecret: a.idp.ClientSecret, Name: "Test IdP",
			HTTPClient: &http.Client{Transport: ownTransport(false), Timeout: 30 * time.Second}} // see ownTransport
		if configure != nil {
			configure(c)
		}
	})
	a.idp.AllowRedirect(a.http.URL + ssoCallbackPath)
	for _, u := range []oidctest.User{
		{Login: "ana", Subject: "sub-ana", Email: "ana.lead@example.com", Name: "Ana Lead", Groups: []string{"sales-leads"}},
		{Login: "bob", Subject: "sub-bob", Email: "bob@elsewhere.example", Name: "Bob", Groups: []string{"everyone"}},
	} {
		a.idp.AddUser(u)
	}
	ctx := context.Background()
	for _, r := range []sso.Rule{
		{Kind: sso.RuleGroup, Value: "sales-leads", Role: tandem.RoleLeader, ScopeUnitID: a.units["Sales"]},
		{Kind: sso.RuleGroup, Value: "tandem-hr", Role: tandem.RoleHR},
	} {
		if err := a.st.AddSSORule(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// start opens "Sign in with …" and returns the provider's authorization
// URL Tandem redirected to.
func (a *ssoApp) start(c *client, next string) *url.URL {
	a.t.Helper()
	r := c.get(ssoStartURL(next))
	loc, err := url.Parse(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), a.idp.Issuer+"/") {
		a.t.Fatalf("GET /login/sso: %d to %q, want a redirect to the provider %s", r.status, r.header.Get("Location"), a.idp.Issuer)
	}
	return loc
}

// atProvider signs in as login at the provider and returns Tandem's
// callback address (path and query) the provider sent the browser to.
func (a *ssoApp) atProvider(authURL *url.URL, login string) string {
	a.t.Helper()
	cb, err := a.idp.SignIn(authURL.String(), login)
	if err != nil {
		a.t.Fatalf("sign in at the provider: %v", err)
	}
	if !strings.HasPrefix(cb.String(), a.http.URL+ssoCallbackPath+"?") {
		a.t.Fatalf("provider sent the browser to %s, want Tandem's callback", cb)
	}
	return cb.RequestURI()
}

// signIn runs the whole flow as login and returns the callback's answer.
func (a *ssoApp) signIn(c *client, login string) response {
	a.t.Helper()
	return c.get(a.atProvider(a.start(c, "/units"), login))
}

func (a *ssoApp) auditActions(t *testing.T) []string {
	t.Helper()
	entries, err := a.st.AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action+" "+e.UserEmail+": "+e.Detail)
	}
	return out
}

// signedIn reports whether c's session opens a page that needs one.
func signedIn(c *client) bool { return c.get("/dashboard").status == http.StatusOK }

func TestSSOSignInCreatesTheAccountWithTheRoleOfItsGroup(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	c := a.client()
	before := c.cookie(sessionCookie)
	authURL := a.start(c, "/units")
	q := authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Errorf("authorization request %s lacks PKCE S256, nonce or state", authURL)
	}
	callback := a.atProvider(authURL, "ana")
	r := c.get(callback)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/units" {
		t.Fatalf("callback: %d to %q, want 303 to /units\n%.400s", r.status, r.header.Get("Location"), r.body)
	}
	if got := c.cookie(sessionCookie); got == "" || got == before {
		t.Errorf("session cookie %q after SSO sign-in (before %q), want a new one", got, before)
	}
	u, err := a.st.UserByEmail(context.Background(), "ana.lead@example.com")
	if err != nil {
		t.Fatalf("no account after the sign-in: %v", err)
	}
	if u.Role != tandem.RoleLeader || u.ScopeUnitID != a.units["Sales"] || u.PasswordHash != "" || u.Name != "Ana Lead" {
		t.Errorf("account = %+v, want Ana Lead, leader of Sales, without a password", u)
	}
	if page := c.get("/units"); page.status != http.StatusOK || !strings.Contains(page.body, "EMEA") || strings.Contains(page.body, "Support") {
		t.Errorf("GET /units as Ana: %d, want her Sales subtree only", page.status)
	}
	audit := a.auditActions(t)
	if len(audit) == 0 || !strings.HasPrefix(audit[0], "auth.sso ana.lead@example.com: signed in through Test IdP as leader of Acme / Sales") ||
		!strings.Contains(audit[0], "account created") {
		t.Errorf("audit log = %q, want an auth.sso entry for Ana as leader of Acme / Sales, account created", audit)
	}
	// The callback address works once.
	again := a.client()
	if r := again.get(callback); r.status != http.StatusBadRequest || signedIn(again) {
		t.Errorf("callback replayed in another browser: %d, want 400 and no session", r.status)
	}
	if r := c.get(callback); r.status != http.StatusBadRequest {
		t.Errorf("callback replayed: %d, want 400", r.status)
	}
	// The sign-in page offers the provider.
	if page := a.client().get("/login"); !strings.Contains(page.body, "Sign in with Test IdP") || !strings.Contains(page.body, `name="password"`) {
		t.Errorf("sign-in page lacks the provider's button or the password form")
	}
}

func TestSSOSignInRefusesATokenIssuedForAnotherAudience(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	a.idp.IssueForAudience("another-app")
	c := a.client()
	r := a.signIn(c, "ana")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "issued for another application") {
		t.Fatalf("callback with a token for another audience: %d, want 401 saying so\n%.400s", r.status, r.body)
	}
	if signedIn(c) {
		t.Error("signed in with a token for another audience")
	}
	if _, err := a.st.UserByEmail(context.Background(), "ana.lead@example.com"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("account after a refused sign-in: %v, want none", err)
	}
}

func TestSSOSignInRefusesAnExpiredTokenAndToleratesClockSkew(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	a.idp.SetIDTokenLifetime(time.Minute)

	// Tandem's clock an hour ahead: the token expired long ago.
	a.skew.Store(int64(time.Hour))
	c := a.client()
	r := a.signIn(c, "ana")
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "expired") || signedIn(c) {
		t.Fatalf("callback with an expired token: %d, want 401 saying it expired\n%.400s", r.status, r.body)
	}

	// Two minutes ahead: past the token's minute, within ClockSkew.
	a.skew.Store(int64(2 * time.Minute))
	c = a.client()
	if r := a.signIn(c, "ana"); r.status != http.StatusSeeOther || !signedIn(c) {
		t.Fatalf("callback %v past expiry by Tandem's clock: %d, want it tolerated\n%.400s", openid.ClockSkew, r.status, r.body)
	}
}

func TestSSOSignInRefusesATokenWithAnotherSignInsNonce(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	c := a.client()
	authURL := a.start(c, "/")
	// The provider is sent another nonce than the one Tandem keeps for
	// this state (a token minted for another sign-in, replayed).
	q := authURL.Query()
	q.Set("nonce", "nonce-of-another-sign-in")
	authURL.RawQuery = q.Encode()
	r := c.get(a.atProvider(authURL, "ana"))
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "belongs to another sign-in") || signedIn(c) {
		t.Fatalf("callback with another nonce: %d, want 401 and no session\n%.400s", r.status, r.body)
	}
}

func TestSSOSignInRefusesACodeIssuedForAnotherPKCEChallenge(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	c := a.client()
	authURL := a.start(c, "/")
	q := authURL.Query()
	q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") // RFC 7636's example challenge
	authURL.RawQuery = q.Encode()
	r := c.get(a.atProvider(authURL, "ana"))
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "did not accept this sign-in") || signedIn(c) {
		t.Fatalf("callback with a code for another challenge: %d, want 401 and no session\n%.400s", r.status, r.body)
	}
	if a.idp.Exchanges() == 0 {
		t.Error("the token endpoint never saw the code: the refusal did not come from the provider's PKCE check")
	}
}

func TestSSOCallbackFromAnotherBrowserIsRefused(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	victim, attacker := a.client(), a.client()
	// The attacker starts a sign-in as themselves and hands the callback
	// to the victim's browser (login CSRF).
	callback := a.atProvider(a.start(attacker, "/"), "ana")
	r := victim.get(callback)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "another browser") || signedIn(victim) {
		t.Fatalf("callback in a browser that did not start the sign-in: %d, want 400 and no session\n%.400s", r.status, r.body)
	}
	if a.idp.Exchanges() != 0 {
		t.Errorf("the code was redeemed %d times, want never", a.idp.Exchanges())
	}
	// A state Tandem never issued.
	if r := victim.get(ssoCallbackPath + "?code=x&state=forged"); r.status != http.StatusBadRequest {
		t.Errorf("callback with a forged state: %d, want 400", r.status)
	}
}

func TestSSOSignInRefusesSomeoneNoRuleMaps(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	c := a.client()
	r := a.signIn(c, "bob")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Tandem has no role for bob@elsewhere.example") || signedIn(c) {
		t.Fatalf("callback for an unmapped person: %d, want 403 that says so\n%.400s", r.status, r.body)
	}
	if _, err := a.st.UserByEmail(context.Background(), "bob@elsewhere.example"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("account for an unmapped person: %v, want none", err)
	}
	if audit := a.auditActions(t); len(audit) == 0 || !strings.HasPrefix(audit[0], "auth.sso.refused : bob@elsewhere.example") {
		t.Errorf("audit log = %q, want the refusal first", audit)
	}
}

func TestSSORoleFollowsTheGroupsAtEachSignIn(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	first := a.client()
	if r := a.signIn(first, "ana"); r.status != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d", r.status)
	}
	if r := first.get("/programs"); r.status != http.StatusForbidden {
		t.Fatalf("leader GET /programs: %d, want 403", r.status)
	}

	// Her identity admin moves Ana from the leads to HR.
	a.idp.SetGroups("ana", "tandem-hr")
	second := a.client()
	if r := a.signIn(second, "ana"); r.status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", r.status)
	}
	u, _ := a.st.UserByEmail(context.Background(), "ana.lead@example.com")
	if u.Role != tandem.RoleHR || u.ScopeUnitID != 0 {
		t.Fatalf("after the group change: %s of unit %d, want hr of the whole organisation", u.Role, u.ScopeUnitID)
	}
	if r := second.get("/programs"); r.status != http.StatusOK {
		t.Errorf("hr GET /programs: %d, want 200", r.status)
	}
	if audit := a.auditActions(t); !strings.Contains(audit[0], "as hr") || !strings.Contains(audit[0], "was leader of Acme / Sales") {
		t.Errorf("audit log = %q, want the change from leader of Acme/Sales to hr", audit[0])
	}

	// Then out of every group Tandem knows: refused, and signed out.
	a.idp.SetGroups("ana", "everyone")
	third := a.client()
	if r := a.signIn(third, "ana"); r.status != http.StatusForbidden {
		t.Fatalf("sign-in without a mapped group: %d, want 403", r.status)
	}
	if signedIn(first) || signedIn(second) || signedIn(third) {
		t.Error("a session of Ana survived the rules no longer admitting her")
	}
}

func TestPasswordsOffLeaveOnlyTheBreakGlassAdmin(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, func(c *Config) { c.PasswordsOff, c.BreakGlassAdmin = true, "Admin@example.com" })
	page := a.client().get("/login?password")
	if !strings.Contains(page.body, "Sign in with Test IdP") || !strings.Contains(page.body, "Break-glass admin") {
		t.Errorf("sign-in page with passwords off lacks the provider's button or the break-glass form")
	}
	hr := a.client()
	r := hr.postForm("/login?password", "/login", url.Values{"email": {"hr@example.com"}, "password": {testPassword}})
	wrong := a.client().postForm("/login?password", "/login", url.Values{"email": {"admin@example.com"}, "password": {"not the password"}})
	if r.status != http.StatusUnauthorized || signedIn(hr) {
		t.Fatalf("hr with the right password, passwords off: %d, want 401", r.status)
	}
	same := func(body, email string) string {
		return strings.ReplaceAll(csrfRe.ReplaceAllString(body, ""), email, "EMAIL")
	}
	if same(r.body, "hr@example.com") != same(wrong.body, "admin@example.com") || wrong.status != r.status {
		t.Errorf("refusal of a password account differs from a wrong break-glass password: it tells which address is the break-glass admin's")
	}
	admin := a.client()
	admin.login("admin@example.com")
	if !signedIn(admin) {
		t.Error("the break-glass admin could not sign in with a password")
	}
	// SSO still signs in everyone the rules map.
	c := a.client()
	if r := a.signIn(c, "ana"); r.status != http.StatusSeeOther || !signedIn(c) {
		t.Errorf("SSO sign-in with passwords off: %d, want it to work", r.status)
	}
}

func TestSSOSettingsPageKeepsTheRules(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	c := a.client()
	c.login("admin@example.com")
	page := c.get("/settings/sso")
	if page.status != http.StatusOK || !strings.Contains(page.body, a.http.URL+ssoCallbackPath) || !strings.Contains(page.body, "sales-leads") {
		t.Fatalf("GET /settings/sso: %d, want the callback to register and the rules", page.status)
	}
	r := c.postForm("/settings/sso", "/settings/sso/rules", url.Values{"kind": {"group"}, "value": {"support-leads"}, "role": {"leader"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "a leader needs the unit they lead") {
		t.Errorf("leader rule without a unit: %d, want 400 saying a unit is needed", r.status)
	}
	r = c.postForm("/settings/sso", "/settings/sso/rules", url.Values{"kind": {"domain"}, "value": {"@Elsewhere.example"}, "role": {"hr"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("add a domain rule: %d\n%.400s", r.status, r.body)
	}
	// Bob's domain now maps him to hr.
	bob := a.client()
	if r := a.signIn(bob, "bob"); r.status != http.StatusSeeOther {
		t.Fatalf("Bob after the domain rule: %d, want signed in", r.status)
	}
	rules, _ := a.st.SSORules(context.Background())
	var domain sso.Rule
	for _, rl := range rules {
		if rl.Kind == sso.RuleDomain {
			domain = rl
		}
	}
	if domain.Value != "elsewhere.example" {
		t.Fatalf("rules = %+v, want the domain rule stored as elsewhere.example", rules)
	}
	if r := c.postForm("/settings/sso", "/settings/sso/rules/"+itoa64(domain.ID)+"/delete", nil); r.status != http.StatusSeeOther {
		t.Fatalf("delete the rule: %d", r.status)
	}
	if r := a.signIn(a.client(), "bob"); r.status != http.StatusForbidden {
		t.Errorf("Bob after the rule's removal: %d, want 403", r.status)
	}
	audit := strings.Join(a.auditActions(t), "\n")
	for _, want := range []string{`sso.rule.add admin@example.com: domain "elsewhere.example" → hr`, `sso.rule.delete admin@example.com: domain "elsewhere.example" → hr`} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %q:\n%s", want, audit)
		}
	}
}

func TestPasswordsOffTheAccountFormsAskNoPasswordButTheBreakGlassAdmins(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, func(c *Config) { c.PasswordsOff, c.BreakGlassAdmin = true, "Admin@example.com" })
	admin := a.client()
	admin.login("admin@example.com")
	ctx := context.Background()

	page := admin.get("/users")
	if strings.Contains(page.body, `name="password" type="password" autocomplete="new-password" required`) || !strings.Contains(page.body, `id="passwords-off"`) {
		t.Errorf("with passwords off the new-account form still requires a password:\n%s", page.body)
	}
	// A new account without a password: it signs in through the provider.
	r := admin.postForm("/users", "/users", url.Values{"email": {"new.hr@example.com"}, "role": {"hr"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("new account without a password, passwords off: %d, want 303\n%.600s", r.status, r.body)
	}
	u, err := a.st.UserByEmail(ctx, "new.hr@example.com")
	if err != nil || u.PasswordHash != "" {
		t.Errorf("account = %+v, %v; want one without a password", u, err)
	}
	// A password for anyone but the break-glass admin is refused, not
	// silently dropped.
	r = admin.postForm("/users", "/users", url.Values{"email": {"other@example.com"}, "role": {"hr"}, "password": {"a long enough password"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "leave the password empty") {
		t.Errorf("new account with a password, passwords off: %d, want 400 saying to leave it empty", r.status)
	}
	if _, err := a.st.UserByEmail(ctx, "other@example.com"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("the refused account was stored: %v", err)
	}

	// The edit page offers a password only to the break-glass admin's
	// account, and refuses one for another.
	hr, _ := a.st.UserByEmail(ctx, "hr@example.com")
	if page := admin.get("/users/" + itoa64(hr.ID)); strings.Contains(page.body, `name="password"`) || !strings.Contains(page.body, `id="passwords-off"`) {
		t.Errorf("edit page of a provider account offers a password")
	}
	me, _ := a.st.UserByEmail(ctx, "admin@example.com")
	if page := admin.get("/users/" + itoa64(me.ID)); !strings.Contains(page.body, `name="password"`) {
		t.Errorf("edit page of the break-glass admin's account offers no password")
	}
	path := "/users/" + itoa64(hr.ID)
	r = admin.postForm(path, path, url.Values{"role": {"hr"}, "password": {"a long enough password"}})
	if after, _ := a.st.UserByEmail(ctx, "hr@example.com"); r.status != http.StatusBadRequest || after.PasswordHash != hr.PasswordHash {
		t.Errorf("set a password on a provider account: %d, want 400 and the hash unchanged", r.status)
	}

	// Ana, signed in through the provider, is not offered a password.
	ana := a.client()
	if r := a.signIn(ana, "ana"); r.status != http.StatusSeeOther {
		t.Fatalf("Ana's sign-in: %d", r.status)
	}
	if page := ana.get("/account"); strings.Contains(page.body, `action="/account/password"`) || !strings.Contains(page.body, "You sign in with Test IdP") {
		t.Errorf("Ana's account page offers a password change:\n%s", page.body)
	}
	if r := ana.postForm("/account", "/account/password", url.Values{"current": {""}, "password": {"a long enough password"}, "password2": {"a long enough password"}}); r.status != http.StatusForbidden {
		t.Errorf("Ana sets a password with passwords off: %d, want 403", r.status)
	}
	if page := admin.get("/account"); !strings.Contains(page.body, `action="/account/password"`) {
		t.Error("the break-glass admin's account page offers no password change")
	}
}

func TestPasswordsOffSendTheBrowserStraightToTheProvider(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, func(c *Config) { c.PasswordsOff, c.BreakGlassAdmin = true, "admin@example.com" })
	c := a.client()
	// An anonymous visit to a page: the sign-in page, then the provider,
	// keeping where to go next.
	r := c.get("/units")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=%2Funits" {
		t.Fatalf("GET /units anonymous: %d to %q", r.status, r.header.Get("Location"))
	}
	r = c.get(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || r.header.Get("Location") != ssoStartURL("/units") {
		t.Fatalf("GET /login with passwords off: %d to %q, want %s", r.status, r.header.Get("Location"), ssoStartURL("/units"))
	}
	if got := c.get(a.atProvider(a.start(c, "/units"), "ana")); got.status != http.StatusSeeOther || got.header.Get("Location") != "/units" {
		t.Fatalf("callback: %d to %q, want /units", got.status, got.header.Get("Location"))
	}
	// Signing out shows the sign-in page with its message instead of
	// going back to the provider, which would sign her straight in again.
	if r := c.postForm("/units", "/logout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.status)
	}
	if page := c.get("/login"); page.status != http.StatusOK || !strings.Contains(page.body, "You are signed out") || !strings.Contains(page.body, "Sign in with Test IdP") {
		t.Errorf("sign-in page after signing out: %d, want the page with its message and the provider's button", page.status)
	}
	// The break-glass admin asks for the password form.
	page := a.client().get("/login?password")
	if page.status != http.StatusOK || !strings.Contains(page.body, "<details open>") || !strings.Contains(page.body, `name="password"`) {
		t.Errorf("GET /login?password: %d, want the password form unfolded", page.status)
	}
	// A refusal links to the break-glass form, not to /login, which would
	// go back to the provider.
	refused := a.signIn(a.client(), "bob")
	if refused.status != http.StatusForbidden || !strings.Contains(refused.body, `id="break-glass" href="/login?password"`) {
		t.Errorf("refusal page: %d, want a link to the break-glass form\n%.600s", refused.status, refused.body)
	}
}

func TestPasswordsOnTheSignInPageOffersBoth(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	page := a.client().get("/login?next=%2Funits")
	if page.status != http.StatusOK || !strings.Contains(page.body, "Sign in with Test IdP") || !strings.Contains(page.body, `name="password"`) {
		t.Errorf("GET /login with passwords on: %d, want the page with both ways in", page.status)
	}
}

func TestAnUnreachableProviderIsSaidAndLeadsToTheBreakGlassForm(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, func(c *Config) {
		c.PasswordsOff, c.BreakGlassAdmin = true, "admin@example.com"
		// A port nothing listens on: the provider is down.
		c.OIDC.Issuer = "http://127.0.0.1:1"
	})
	r := a.client().get(ssoStartURL("/units"))
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "cannot be reached") || !strings.Contains(r.body, `id="break-glass" href="/login?password"`) {
		t.Errorf("GET /login/sso with the provider down: %d, want 503 saying so with the break-glass link\n%.600s", r.status, r.body)
	}
}

func TestAnUnverifiedAddressDoesNotTakeOverTheAccountWithThatAddress(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	ctx := context.Background()
	before, err := a.st.UserByEmail(ctx, "hr@example.com")
	if err != nil {
		t.Fatal(err)
	}
	// Someone in a mapped group whose provider account carries HR's
	// address, which the provider says it has not verified.
	a.idp.AddUser(oidctest.User{Login: "mal", Subject: "sub-mal", Email: "hr@example.com", EmailUnverified: true, Groups: []string{"sales-leads"}})
	c := a.client()
	r := a.signIn(c, "mal")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "not verified") || signedIn(c) {
		t.Fatalf("sign-in with an unverified address of an existing account: %d, want 403 saying the address is not verified\n%.600s", r.status, r.body)
	}
	after, _ := a.st.UserByEmail(ctx, "hr@example.com")
	if after.Role != before.Role || after.ScopeUnitID != before.ScopeUnitID || after.Name != before.Name {
		t.Errorf("HR's account after the refused sign-in: %+v, want it unchanged (%+v)", after, before)
	}
	// HR's own provider account, with the address verified, still links.
	a.idp.AddUser(oidctest.User{Login: "hr", Subject: "sub-hr", Email: "hr@example.com", Groups: []string{"tandem-hr"}})
	if r := a.signIn(a.client(), "hr"); r.status != http.StatusSeeOther {
		t.Errorf("HR's own sign-in after the refusal: %d, want it linked and signed in\n%.600s", r.status, r.body)
	}

	// A linked account does not take on an unverified new address.
	a.idp.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana.lead@example.com", Groups: []string{"sales-leads"}})
	if r := a.signIn(a.client(), "ana"); r.status != http.StatusSeeOther {
		t.Fatalf("Ana's first sign-in: %d", r.status)
	}
	a.idp.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana.new@example.com", EmailUnverified: true, Groups: []string{"sales-leads"}})
	if r := a.signIn(a.client(), "ana"); r.status != http.StatusSeeOther {
		t.Fatalf("Ana's sign-in with an unverified new address: %d, want signed in by her subject", r.status)
	}
	if _, err := a.st.UserByEmail(ctx, "ana.new@example.com"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("the account took the unverified address ana.new@example.com: %v", err)
	}
}

func TestSSODoesNotDemoteTheBreakGlassAdmin(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, func(c *Config) { c.PasswordsOff, c.BreakGlassAdmin = true, "admin@example.com" })
	ctx := context.Background()
	// A second admin, so that demoting the break-glass admin would not
	// leave Tandem without one; and a domain rule that makes everyone at
	// example.com a leader of Sales.
	if err := a.st.CreateUser(ctx, &tandem.User{Email: "second.admin@example.com", Role: tandem.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := a.st.AddSSORule(ctx, &sso.Rule{Kind: sso.RuleDomain, Value: "example.com", Role: tandem.RoleLeader, ScopeUnitID: a.units["Sales"]}); err != nil {
		t.Fatal(err)
	}
	a.idp.AddUser(oidctest.User{Login: "root", Subject: "sub-root", Email: "admin@example.com", Name: "Root"})
	c := a.client()
	r := a.signIn(c, "root")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "break-glass") || signedIn(c) {
		t.Fatalf("SSO sign-in of the break-glass admin's address as a leader: %d, want 403 naming the break-glass account\n%.600s", r.status, r.body)
	}
	if u, _ := a.st.UserByEmail(ctx, "admin@example.com"); u.Role != tandem.RoleAdmin || u.ScopeUnitID != 0 {
		t.Errorf("break-glass account after the refused sign-in: %s of unit %d, want admin", u.Role, u.ScopeUnitID)
	}
	admin := a.client()
	admin.login("admin@example.com")
	if r := admin.get("/programs"); r.status != http.StatusOK {
		t.Errorf("the break-glass admin's password sign-in: GET /programs %d, want 200 as admin", r.status)
	}
	// When the rules make that address an admin, the provider signs it in.
	a.idp.SetGroups("root", "tandem-admins")
	if err := a.st.AddSSORule(ctx, &sso.Rule{Kind: sso.RuleGroup, Value: "tandem-admins", Role: tandem.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if r := a.signIn(a.client(), "root"); r.status != http.StatusSeeOther {
		t.Errorf("SSO sign-in of the break-glass address as admin: %d, want signed in", r.status)
	}
}

// TestAFirstSignInWithAnUnverifiedAddressGetsNothingFromAddressRules runs
// a person whose provider says email_verified false through the real
// provider: address and domain rules neither create nor link an account
// for them; a group rule, which names the provider's account and not the
// address, still does (docs/deploy.md, "Unverified addresses").
func TestAFirstSignInWithAnUnverifiedAddressGetsNothingFromAddressRules(t *testing.T) {
	t.Parallel()
	a := newSSOApp(t, nil)
	ctx := context.Background()
	for _, r := range []sso.Rule{
		{Kind: sso.RuleDomain, Value: "corp.example", Role: tandem.RoleHR},
		{Kind: sso.RuleEmail, Value: "carl@corp.example", Role: tandem.RoleAdmin},
	} {
		if err := a.st.AddSSORule(ctx, &r); err != nil {
			t.Fatal(err)
		}
	}
	a.idp.AddUser(oidctest.User{Login: "carl", Subject: "sub-carl", Email: "carl@corp.example", Name: "Carl", EmailUnverified: true})
	c := a.client()
	r := a.signIn(c, "carl")
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "not verified") || signedIn(c) {
		t.Fatalf("first sign-in with an unverified address matched only by address and domain rules: %d, want 403 saying the address is not verified\n%.600s", r.status, r.body)
	}
	if _, err := a.st.UserByEmail(ctx, "carl@corp.example"); tandem.ErrorCode(err) != tandem.ENOTFOUND {
		t.Errorf("account after the refused sign-in: %v, want none", err)
	}
	if audit := a.auditActions(t); len(audit) == 0 || !strings.HasPrefix(audit[0], "auth.sso.refused : carl@corp.example (sub-carl) refused") {
		t.Errorf("audit log = %q, want the refusal first", audit)
	}

	// His identity admin puts him in the Sales leads' group: the group
	// rule admits him, and the admin and HR rules of his address and
	// domain still do not count.
	a.idp.SetGroups("carl", "sales-leads")
	c = a.client()
	if r := a.signIn(c, "carl"); r.status != http.StatusSeeOther || !signedIn(c) {
		t.Fatalf("sign-in through a group with an unverified address: %d, want signed in\n%.600s", r.status, r.body)
	}
	u, err := a.st.UserByEmail(ctx, "carl@corp.example")
	if err != nil {
		t.Fatalf("no account after the group sign-in: %v", err)
	}
	if u.Role != tandem.RoleLeader || u.ScopeUnitID != a.units["Sales"] {
		t.Errorf("account = %s of unit %d, want leader of Sales (unit %d) from the group alone", u.Role, u.ScopeUnitID, a.units["Sales"])
	}
	if audit := a.auditActions(t); !strings.Contains(audit[0], "by rule group sales-leads;") || !strings.Contains(audit[0], "account created") {
		t.Errorf("audit log = %q, want the account created by the group rule alone", audit[0])
	}

	// Once the provider has verified the address, his own address rule
	// decides, at the next sign-in.
	a.idp.AddUser(oidctest.User{Login: "carl", Subject: "sub-carl", Email: "carl@corp.example", Name: "Carl", Groups: []string{"sales-leads"}})
	if r := a.signIn(a.client(), "carl"); r.status != http.StatusSeeOther {
		t.Fatalf("sign-in with the address verified: %d", r.status)
	}
	if u, _ := a.st.UserByEmail(ctx, "carl@corp.example"); u.Role != tandem.RoleAdmin {
		t.Errorf("after the address was verified: %s, want admin by his address rule", u.Role)
	}
}
