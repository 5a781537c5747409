package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/openid"
	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

const (
	// ssoCookie binds a sign-in under way to the browser that started it
	// (no login CSRF: a callback from another browser finds no match).
	ssoCookie = "tandem_sso"
	// ssoLoginTTL is how long a person has at their identity provider.
	ssoLoginTTL = 10 * time.Minute
)

// ssoCallbackPath is the redirect URI to register with the provider.
const ssoCallbackPath = "/login/sso/callback"

// ssoStartURL is the "Sign in with …" link, keeping where to go next.
func ssoStartURL(next string) string {
	if next == "" {
		return "/login/sso"
	}
	return "/login/sso?" + url.Values{"next": {next}}.Encode()
}

// CheckSSO fetches the identity provider's discovery document, when single
// sign-on is configured; nil when it is not.
func (s *Server) CheckSSO(ctx context.Context) error {
	if s.sso == nil {
		return nil
	}
	return s.sso.Discover(ctx)
}

// ssoStart sends the browser to the identity provider with a fresh state,
// nonce and PKCE verifier, kept server-side until the callback.
func (s *Server) ssoStart(c echo.Context) error {
	ctx := c.Request().Context()
	state, nonce, browser, verifier := auth.NewToken(), auth.NewToken(), auth.NewToken(), oauth2.GenerateVerifier()
	to, err := s.sso.AuthCodeURL(ctx, state, nonce, verifier)
	if tandem.ErrorCode(err) == tandem.EUNAVAILABLE {
		// The provider is down: say so on a page that leads the
		// break-glass admin to the password form.
		s.log.Warn("single sign-on: "+tandem.ErrorMessage(err), "issuer", s.sso.Issuer())
		return s.ssoRefused(c, http.StatusServiceUnavailable, tandem.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	now := s.now()
	if err := s.store.SaveSSOLogin(ctx, store.SSOLogin{StateHash: auth.HashToken(state), BrowserHash: auth.HashToken(browser),
		Nonce: nonce, Verifier: verifier, Next: safeNext(c.QueryParam("next")), ExpiresAt: now.Add(ssoLoginTTL)}); err != nil {
		return err
	}
	c.SetCookie(s.cookie(ssoCookie, browser, ssoLoginTTL))
	return c.Redirect(http.StatusSeeOther, to)
}

// ssoRefused shows why a single sign-on did not sign the person in.
func (s *Server) ssoRefused(c echo.Context, status int, msg string) error {
	title := "Sign-in refused"
	if status == http.StatusServiceUnavailable {
		title = "Sign-in unavailable"
	}
	return s.renderStatus(c, status, "sso_refused", pageData{Title: title, Data: map[string]string{
		"Message": msg, "Provider": s.sso.Name(), "Retry": ssoStartURL(""), "Passwords": strconv.FormatBool(!s.cfg.PasswordsOff),
		"BreakGlass": "/login?" + breakGlassParam}})
}

// ssoCallback finishes a sign-in: the state must be one this browser
// started, the code is redeemed with its PKCE verifier, the ID token is
// verified (signature, issuer, audience, expiry, nonce), and the person's
// role and scope are decided by the sign-in rules afresh.
func (s *Server) ssoCallback(c echo.Context) error {
	ctx := c.Request().Context()
	q := c.QueryParams()
	browser, _ := c.Cookie(ssoCookie)
	c.SetCookie(s.cookie(ssoCookie, "", -1))
	now := s.now()
	l, err := s.store.TakeSSOLogin(ctx, auth.HashToken(q.Get("state")), now)
	if tandem.ErrorCode(err) == tandem.ENOTFOUND {
		return s.ssoRefused(c, http.StatusBadRequest, "This sign-in is unknown to Tandem, was finished already, or took longer than ten minutes. Start again.")
	} else if err != nil {
		return err
	}
	if browser == nil || !auth.Equal(auth.HashToken(browser.Value), l.BrowserHash) {
		s.log.Warn("single sign-on callback from a browser that did not start it")
		return s.ssoRefused(c, http.StatusBadRequest, "This sign-in was started in another browser or tab. Start again here.")
	}
	if e := q.Get("error"); e != "" {
		msg := q.Get("error_description")
		if msg == "" {
			msg = e
		}
		return s.ssoRefused(c, http.StatusUnauthorized, s.sso.Name()+" did not sign you in: "+msg)
	}
	id, err := s.sso.Exchange(ctx, q.Get("code"), l.Verifier, l.Nonce, now)
	var refusal *openid.Refusal
	if errors.As(err, &refusal) {
		s.log.Warn("single sign-on refused", "reason", refusal.Reason, "err", refusal.Detail)
		return s.ssoRefused(c, http.StatusUnauthorized, refusal.Reason+".")
	} else if err != nil {
		return err
	}
	rules, err := s.store.SSORules(ctx)
	if err != nil {
		return err
	}
	grant, err := sso.Resolve(rules, id)
	if err != nil {
		// Whoever the rules no longer admit loses the sessions they had.
		email, endErr := s.store.EndSSOSessions(ctx, id)
		if endErr != nil {
			return endErr
		}
		detail := fmt.Sprintf("%s (%s) refused: %s", id.Email, id.Subject, tandem.ErrorMessage(err))
		if email != "" {
			detail += "; their sessions ended"
		}
		s.auditAs(c, nil, "auth.sso.refused", detail)
		return s.ssoRefused(c, http.StatusForbidden, tandem.ErrorMessage(err))
	}
	if grant.Role != tandem.RoleAdmin && s.isBreakGlass(id.Email) {
		// The break-glass account is how an admin gets in when the
		// provider or its rules fail: rules that would make it anything
		// less must not change it.
		msg := fmt.Sprintf("%s is Tandem's break-glass admin account, and the sign-in rules would make it %s. It signs in with its password at /login?password; ask a Tandem admin to give this address an admin rule if it should sign in through %s.",
			id.Email, grant.Role, s.sso.Name())
		s.auditAs(c, nil, "auth.sso.refused", fmt.Sprintf("%s (%s) refused: the break-glass admin would become %s", id.Email, id.Subject, grant.Role))
		return s.ssoRefused(c, http.StatusForbidden, msg)
	}
	res, err := s.store.SignInSSO(ctx, id, grant, now)
	if code := tandem.ErrorCode(err); code == tandem.EFORBIDDEN || code == tandem.ECONFLICT {
		s.auditAs(c, nil, "auth.sso.refused", fmt.Sprintf("%s (%s) refused: %s", id.Email, id.Subject, tandem.ErrorMessage(err)))
		return s.ssoRefused(c, http.StatusForbidden, tandem.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	if err := s.startSession(c, res.User.ID); err != nil {
		return err
	}
	s.auditAs(c, &res.User, "auth.sso", s.ssoAuditDetail(c, id, grant, res))
	return c.Redirect(http.StatusSeeOther, safeNext(l.Next))
}

// ssoAuditDetail says who signed in through which rules, and what changed.
func (s *Server) ssoAuditDetail(c echo.Context, id sso.Identity, g sso.Grant, res store.SSOSignIn) string {
	tree, _ := s.store.Tree(c.Request().Context())
	role := func(r tandem.Role, unit int64) string {
		if unit == 0 {
			return string(r)
		}
		if tree != nil {
			if u := tree.Unit(unit); u != nil {
				return fmt.Sprintf("%s of %s", r, u.Path)
			}
		}
		return fmt.Sprintf("%s of unit %d", r, unit)
	}
	var by []string
	for _, r := range g.Rules {
		by = append(by, fmt.Sprintf("%s %s", r.Kind, r.Value))
	}
	d := fmt.Sprintf("signed in through %s as %s (subject %s) by rule %s", s.sso.Name(), role(g.Role, g.ScopeUnitID), id.Subject, strings.Join(by, ", "))
	switch {
	case res.Created:
		d += "; account created"
	case res.Linked:
		d += "; existing account linked"
	}
	if !res.Created && (res.BeforeRole != g.Role || res.BeforeScope != g.ScopeUnitID) {
		d += "; was " + role(res.BeforeRole, res.BeforeScope)
	}
	return d
}

// auditAs records an entry as u (or, when nil, as nobody signed in).
func (s *Server) auditAs(c echo.Context, u *tandem.User, action, detail string) {
	e := store.AuditEntry{At: s.now(), Action: action, Detail: detail}
	if u != nil {
		e.UserID, e.UserEmail = u.ID, u.Email
	}
	if err := s.store.Audit(c.Request().Context(), e); err != nil {
		s.log.Error("write audit log", "action", action, "err", err)
	}
}

// isBreakGlass says whether email is the break-glass admin's, with
// passwords off (the only time that account is special).
func (s *Server) isBreakGlass(email string) bool {
	return s.cfg.PasswordsOff && s.cfg.BreakGlassAdmin != "" && email != "" &&
		tandem.NormalizeEmail(email) == tandem.NormalizeEmail(s.cfg.BreakGlassAdmin)
}

// passwordAllowed says whether email may sign in with a password.
func (s *Server) passwordAllowed(email string) bool {
	return !s.cfg.PasswordsOff || (s.cfg.BreakGlassAdmin != "" && email == tandem.NormalizeEmail(s.cfg.BreakGlassAdmin))
}

// passwordFor refuses a password given for an account that may not sign in
// with one (passwords off, and not the break-glass admin's address).
func (s *Server) passwordFor(email, password string) error {
	if password == "" || s.passwordAllowed(email) {
		return nil
	}
	msg := "passwords are switched off"
	if s.cfg.BreakGlassAdmin != "" {
		msg += " for everyone but the break-glass admin, " + tandem.NormalizeEmail(s.cfg.BreakGlassAdmin)
	}
	return tandem.FieldErrorf("password", "%s: leave the password empty; %s signs in with %s", msg, email, s.ssoName())
}

// ssoName is the identity provider's name ("" without single sign-on).
func (s *Server) ssoName() string {
	if s.sso == nil {
		return ""
	}
	return s.sso.Name()
}

// loginData is what the sign-in page shows.
func (s *Server) loginData(next, email, errMsg string) map[string]any {
	d := map[string]any{"Next": next, "Email": email, "Error": errMsg, "Passwords": !s.cfg.PasswordsOff}
	if s.sso != nil {
		d["SSOName"], d["SSOURL"] = s.sso.Name(), ssoStartURL(next)
	}
	return d
}

func (s *Server) ssoSettingsPage(c echo.Context) error {
	return s.renderSSOSettings(c, http.StatusOK, map[string]string{"kind": "group", "role": "leader"}, "")
}

func (s *Server) renderSSOSettings(c echo.Context, status int, form map[string]string, errMsg string) error {
	ctx := c.Request().Context()
	rules, err := s.store.SSORules(ctx)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	type row struct {
		sso.Rule
		Scope string
	}
	rows := make([]row, len(rules))
	for i, r := range rules {
		rows[i] = row{Rule: r}
		if u := tree.Unit(r.ScopeUnitID); u != nil {
			rows[i].Scope = u.Path
		}
	}
	d := map[string]any{"Rows": rows, "Units": tree.Walk(), "Form": form, "Error": errMsg,
		"Callback": s.cfg.BaseURL + ssoCallbackPath, "PasswordsOff": s.cfg.PasswordsOff, "BreakGlass": s.cfg.BreakGlassAdmin}
	if s.sso != nil {
		d["Provider"], d["Issuer"], d["GroupsClaim"] = s.sso.Name(), s.sso.Issuer(), s.sso.GroupsClaim()
	}
	return s.renderStatus(c, status, "sso_settings", pageData{Title: "Single sign-on", Nav: "users", Data: d})
}

func (s *Server) addSSORule(c echo.Context) error {
	ctx := c.Request().Context()
	form := map[string]string{"kind": c.FormValue("kind"), "value": c.FormValue("value"), "role": c.FormValue("role"), "unit": c.FormValue("unit")}
	r := sso.Rule{Kind: sso.RuleKind(c.FormValue("kind")), Value: c.FormValue("value"), Role: tandem.Role(c.FormValue("role"))}
	if r.Role == tandem.RoleLeader {
		r.ScopeUnitID, _ = strconv.ParseInt(c.FormValue("unit"), 10, 64)
	}
	if err := s.store.AddSSORule(ctx, &r); err != nil {
		if tandem.ErrorCode(err) != tandem.EINVALID {
			return err
		}
		return s.renderSSOSettings(c, http.StatusBadRequest, form, tandem.ErrorMessage(err))
	}
	s.audit(c, "sso.rule.add", store.SSORuleString(r))
	s.flash(c, "Added the rule. It applies from each person's next sign-in.")
	return c.Redirect(http.StatusSeeOther, "/settings/sso")
}

func (s *Server) deleteSSORule(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	r, err := s.store.DeleteSSORule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	s.audit(c, "sso.rule.delete", store.SSORuleString(r))
	s.flash(c, "Removed the rule. People it admitted keep their sessions until they next sign in.")
	return c.Redirect(http.StatusSeeOther, "/settings/sso")
}
