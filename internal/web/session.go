package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

const (
	sessionCookie = "tandem_session"
	csrfCookie    = "tandem_csrf"
	csrfField     = "_csrf"
	csrfHeader    = "X-CSRF-Token"
	// sessionMaxAge bounds a session however active it is.
	sessionMaxAge = 7 * 24 * time.Hour
)

const (
	ctxUser    = "tandem.user"
	ctxSession = "tandem.session"
	ctxCSRF    = "tandem.csrf"
)

func currentUser(c echo.Context) *tandem.User {
	u, _ := c.Get(ctxUser).(*tandem.User)
	return u
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(ctxCSRF).(string)
	return t
}

func (s *Server) cookie(name, value string, maxAge time.Duration) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies}
	if maxAge < 0 {
		ck.MaxAge = -1
	} else if maxAge > 0 {
		ck.MaxAge = int(maxAge.Seconds())
	}
	return ck
}

// loadSession finds the signed-in user, if any, from the session cookie.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(sessionCookie)
		if err == nil && ck.Value != "" {
			now := s.now()
			hash := auth.HashToken(ck.Value)
			sess, u, err := s.store.SessionUser(c.Request().Context(), hash, now)
			switch {
			case err == nil && now.Sub(sess.CreatedAt) < sessionMaxAge:
				c.Set(ctxUser, &u)
				c.Set(ctxSession, &sess)
				// Extend an idle session at most every five minutes, so that
				// reading pages does not write on every request.
				if now.Sub(sess.LastSeen) > 5*time.Minute {
					if err := s.store.TouchSession(c.Request().Context(), hash, now, now.Add(s.cfg.SessionTTL)); err != nil {
						s.log.Warn("extend session", "err", err)
					}
				}
			case tandem.ErrorCode(err) == tandem.EUNAUTHORIZED || err == nil:
				c.SetCookie(s.cookie(sessionCookie, "", -1))
			default:
				return err
			}
		}
		return next(c)
	}
}

// csrf guards every state-changing request. A signed-in browser must echo
// its session's token; a browser without a session (the sign-in and setup
// forms) must echo the token of its csrf cookie. The JSON API (bearer keys)
// and answer links (whose unguessable path token is the credential) are
// routed outside this middleware.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var want string
		if sess, ok := c.Get(ctxSession).(*store.Session); ok {
			want = sess.CSRFToken
		} else if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
			want = ck.Value
		} else {
			want = auth.NewToken()
			c.SetCookie(s.cookie(csrfCookie, want, 0))
		}
		c.Set(ctxCSRF, want)
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		// The header, or the form body; never the query string, which
		// logs, history and Referer headers keep.
		got := c.Request().Header.Get(csrfHeader)
		if got == "" {
			got = c.Request().PostFormValue(csrfField)
		}
		if got == "" || !auth.Equal(got, want) {
			return tandem.Errorf(tandem.EFORBIDDEN, "This form has expired or did not come from Tandem, so nothing was changed. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

// requireUser sends anonymous browsers to the sign-in page.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) == nil {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return tandem.Errorf(tandem.EUNAUTHORIZED, "Please sign in first.")
		}
		return next(c)
	}
}

func (s *Server) requireEditor(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !currentUser(c).CanEdit() {
			return tandem.Errorf(tandem.EFORBIDDEN, "Only HR and admins can do this.")
		}
		return next(c)
	}
}

func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !currentUser(c).IsAdmin() {
			return tandem.Errorf(tandem.EFORBIDDEN, "Only admins can do this.")
		}
		return next(c)
	}
}

// scope returns the unit the current user is limited to (0: everything).
func scope(c echo.Context) int64 {
	if u := currentUser(c); u != nil && u.Role == tandem.RoleLeader {
		return u.ScopeUnitID
	}
	return 0
}

// checkUnitVisible returns a not-found error when a leader asks for a unit
// outside their subtree: the answer does not even confirm it exists.
func checkUnitVisible(c echo.Context, tree *tandem.Tree, unitID int64) error {
	if tree.Unit(unitID) == nil {
		return tandem.Errorf(tandem.ENOTFOUND, "There is no unit %d.", unitID)
	}
	if !tree.InScope(scope(c), unitID) {
		return tandem.Errorf(tandem.ENOTFOUND, "There is no unit %d.", unitID)
	}
	return nil
}

func (s *Server) home(c echo.Context) error {
	if currentUser(c) == nil {
		n, err := s.store.CountUsers(c.Request().Context())
		if err != nil {
			return err
		}
		if n == 0 {
			return s.render(c, "welcome", pageData{Title: "Welcome"})
		}
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, "/dashboard")
}

func (s *Server) loginPage(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	next := c.QueryParam("next")
	// With passwords off the identity provider is the way in, so the
	// browser goes there at once; the page stays for what it has to say
	// (a flash such as "You are signed out", which would otherwise sign
	// the person straight back in) and for the break-glass admin, who asks
	// for it with ?password.
	if s.cfg.PasswordsOff && s.sso != nil && !c.QueryParams().Has(breakGlassParam) && !hasFlash(c) {
		return c.Redirect(http.StatusSeeOther, ssoStartURL(next))
	}
	d := s.loginData(next, "", "")
	d["Open"] = c.QueryParams().Has(breakGlassParam)
	return s.render(c, "login", pageData{Title: "Sign in", Data: d})
}

// breakGlassParam asks the sign-in page for the password form when
// passwords are off: /login?password.
const breakGlassParam = "password"

// safeNext keeps redirects after sign-in on this site: it returns next
// only when it is a path of this site however a browser reads it, else
// "/". Browsers drop tabs and newlines anywhere in a URL, trim control
// characters and spaces, and read "\" as "/", so "/<TAB>/evil.example"
// and "/\evil.example" are other sites; a target holding any of those
// characters is refused rather than repaired. What is left must parse with
// no scheme, host or user, and its path — decoded, since a proxy or a
// second redirect may decode %2F — must start with exactly one "/".
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") {
		return "/"
	}
	for _, r := range next {
		if r <= ' ' || r == 0x7f || r == '\\' || r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/"
	}
	if !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\") {
		return "/"
	}
	return next
}

// login signs a browser in. The order is the defence against parallel
// guessing: a password-hashing slot first (none free: 429 at once, nothing
// counted), then the throttle decides and counts the attempt in one step
// in the database (refused: 429 with Retry-After, no hash), and only then
// is the password hashed — once, whether or not the account exists.
func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	email := tandem.NormalizeEmail(c.FormValue("email"))
	password := c.FormValue("password")
	if len(password) > maxPasswordInput {
		// Longer than any password Tandem takes: it cannot match, and
		// hashing megabytes would cost more than a normal check.
		password = password[:maxPasswordInput]
	}
	next := c.FormValue("next")
	fail := func(status int, msg string) error {
		return s.renderStatus(c, status, "login", pageData{Title: "Sign in", Data: s.loginData(next, email, msg)})
	}
	release, ok := s.hasher.Reserve()
	if !ok {
		c.Response().Header().Set("Retry-After", "1")
		return fail(http.StatusTooManyRequests, "Tandem is checking many sign-ins at this moment. Wait a second and try again.")
	}
	defer release()
	now := s.now()
	ip := c.RealIP()
	var until time.Time
	attempt, allowed, err := s.store.CountLoginAttempt(ctx, store.LoginAttempt{Email: email, IP: ip, At: now, Since: now.Add(-s.throttle.Window)},
		func(n store.LoginCounts) bool {
			until = s.throttle.Until(auth.Failures{Pair: n.Pair, PairLast: n.PairLast, Address: n.Address, AddressLast: n.AddressLast, Known: n.Known})
			return !now.Before(until)
		})
	if err != nil {
		return err
	}
	if !allowed {
		wait := until.Sub(now)
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		return fail(http.StatusTooManyRequests, "Too many failed sign-ins to this account from your address. Wait "+
			waitWords(wait)+" and try again, or ask an admin to clear it.")
	}
	u, err := s.store.UserByEmail(ctx, email)
	ok = false
	switch {
	case !s.passwordAllowed(email):
		// Passwords are off for this address: spend the same time and
		// answer the same as for a wrong password, so the answer does
		// not tell which address is the break-glass admin's.
		s.hasher.CheckNoAccount(password)
	case tandem.ErrorCode(err) == tandem.ENOTFOUND:
		s.hasher.CheckNoAccount(password)
	case err != nil:
		return err
	default:
		// The hash first, Disabled after: every refusal — unknown account,
		// disabled account, wrong password — costs exactly one hash, so
		// timing does not tell them apart.
		ok = s.hasher.Check(u.PasswordHash, password) && !u.Disabled
	}
	release()
	if !ok {
		// The attempt is counted already.
		msg := "That email and password do not match an account."
		if s.cfg.PasswordsOff && s.sso != nil {
			msg = "That email and password do not match the break-glass admin's account. Everyone else signs in with " + s.sso.Name() + "."
		}
		return fail(http.StatusUnauthorized, msg)
	}
	if err := s.store.LoginSucceeded(ctx, attempt, email, ip, now); err != nil {
		return err
	}
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

// maxPasswordInput bounds the password a sign-in hashes: far above the
// 256 bytes tandem.ValidatePassword allows.
const maxPasswordInput = 1024

// waitWords says a wait in whole minutes, or seconds under one.
func waitWords(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(math.Ceil(d.Seconds())))
	}
	m := int(math.Ceil(d.Minutes()))
	if m == 1 {
		return "a minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

// hashSlot takes a password-hashing slot, or refuses with 429: a busy
// server turns requests away instead of queueing hashes in memory.
func (s *Server) hashSlot(c echo.Context) (release func(), err error) {
	release, ok := s.hasher.Reserve()
	if !ok {
		c.Response().Header().Set("Retry-After", "1")
		return release, tandem.Errorf(tandem.ETOOMANY, "Tandem is checking many passwords at this moment; nothing was changed. Wait a second and try again.")
	}
	return release, nil
}

// hashPassword hashes a new password in a slot.
func (s *Server) hashPassword(c echo.Context, password string) (string, error) {
	release, err := s.hashSlot(c)
	if err != nil {
		return "", err
	}
	defer release()
	return s.hasher.Hash(password)
}

// checkPassword checks a password against a hash in a slot.
func (s *Server) checkPassword(c echo.Context, hash, password string) (bool, error) {
	release, err := s.hashSlot(c)
	if err != nil {
		return false, err
	}
	defer release()
	return s.hasher.Check(hash, password), nil
}

// startSession ends the browser's current session, if any, and starts a new
// one with a fresh id and CSRF token: a session id is never carried across
// a sign-in (no fixation).
func (s *Server) startSession(c echo.Context, userID int64) error {
	ctx := c.Request().Context()
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.store.DeleteSession(ctx, auth.HashToken(ck.Value)); err != nil {
			return err
		}
	}
	token := auth.NewToken()
	now := s.now()
	if err := s.store.CreateSession(ctx, store.Session{IDHash: auth.HashToken(token), UserID: userID,
		CSRFToken: auth.NewToken(), CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}); err != nil {
		return err
	}
	c.SetCookie(s.cookie(sessionCookie, token, 0))
	return nil
}

func (s *Server) logout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
		if err := s.store.DeleteSession(c.Request().Context(), auth.HashToken(ck.Value)); err != nil {
			return err
		}
	}
	c.SetCookie(s.cookie(sessionCookie, "", -1))
	s.flash(c, "You are signed out.")
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) setupPage(c echo.Context) error {
	ok, err := s.store.SetupTokenValid(c.Request().Context(), auth.HashToken(c.Param("token")), s.now())
	if err != nil {
		return err
	}
	if !ok {
		return tandem.Errorf(tandem.ENOTFOUND, "This setup link has expired or was used already. Restart tandem serve to print a new one, or run: tandem user add --role admin EMAIL")
	}
	return s.render(c, "setup", pageData{Title: "Create the first admin", Data: map[string]any{"Email": "", "Name": "", "TimeZone": "", "Zones": tandem.ZoneNames}})
}

func (s *Server) setup(c echo.Context) error {
	email := tandem.NormalizeEmail(c.FormValue("email"))
	name := strings.TrimSpace(c.FormValue("name"))
	password := c.FormValue("password")
	zone := strings.TrimSpace(c.FormValue("timezone"))
	fail := func(err error) error {
		if code := tandem.ErrorCode(err); code != tandem.EINVALID {
			return err
		}
		return s.renderStatus(c, http.StatusBadRequest, "setup", pageData{Title: "Create the first admin",
			Data: map[string]any{"Email": email, "Name": name, "TimeZone": zone, "Zones": tandem.ZoneNames, "Error": tandem.ErrorMessage(err)}})
	}
	if zone == "" {
		zone = "UTC"
	}
	if _, err := tandem.LoadLocation(zone); err != nil || strings.EqualFold(zone, "local") {
		return fail(tandem.FieldErrorf("timezone", "%q is not a time zone Tandem knows; use an IANA name such as Europe/Berlin, or UTC", zone))
	}
	if err := tandem.ValidatePassword(password); err != nil {
		return fail(err)
	}
	if password != c.FormValue("password2") {
		return fail(tandem.FieldErrorf("password2", "the two passwords differ"))
	}
	hash, err := s.hashPassword(c, password)
	if err != nil {
		return err
	}
	u := &tandem.User{Email: email, Name: name, Role: tandem.RoleAdmin, PasswordHash: hash}
	if err := s.store.CreateFirstAdmin(c.Request().Context(), auth.HashToken(c.Param("token")), u, s.now()); err != nil {
		return fail(err)
	}
	s.audit(c, "user.create", "first admin "+u.Email+" created through the setup link")
	if err := s.store.SetSetting(c.Request().Context(), orgZoneKey, zone); err != nil {
		return err
	}
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	s.flash(c, "Welcome to Tandem. Start by importing your roster.")
	return c.Redirect(http.StatusSeeOther, "/roster/import")
}

// audit records an admin action; a failure to record is logged, not shown.
func (s *Server) audit(c echo.Context, action, detail string) {
	e := store.AuditEntry{At: s.now(), Action: action, Detail: detail}
	if u := currentUser(c); u != nil {
		e.UserID, e.UserEmail = u.ID, u.Email
	} else if k := apiKeyOf(c); k != nil {
		e.UserEmail = "API key " + k.Name
	}
	if err := s.store.Audit(c.Request().Context(), e); err != nil {
		s.log.Error("write audit log", "action", action, "err", err)
	}
}

// SetupLink creates a one-time link that creates the first admin, when no
// account exists yet, and returns it ("" when accounts exist).
func (s *Server) SetupLink(c context.Context) (string, error) {
	n, err := s.store.CountUsers(c)
	if err != nil || n > 0 {
		return "", err
	}
	token := auth.NewToken()
	if err := s.store.CreateSetupToken(c, auth.HashToken(token), s.now().Add(24*time.Hour)); err != nil {
		return "", err
	}
	return s.cfg.BaseURL + "/setup/" + token, nil
}
