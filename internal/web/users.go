package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func (s *Server) usersPage(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, map[string]string{"role": "hr"}, "")
}

func (s *Server) renderUsers(c echo.Context, status int, form map[string]string, errMsg string) error {
	ctx := c.Request().Context()
	users, err := s.store.Users(ctx)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	type row struct {
		tandem.User
		Scope string
	}
	rows := make([]row, len(users))
	for i, u := range users {
		rows[i] = row{User: u}
		if un := tree.Unit(u.ScopeUnitID); un != nil {
			rows[i].Scope = un.Path
		}
	}
	throttles, err := s.throttleRows(ctx)
	if err != nil {
		return err
	}
	return s.renderStatus(c, status, "users", pageData{Title: "Accounts", Nav: "users", Data: map[string]any{
		"Rows": rows, "Units": tree.Walk(), "Form": form, "Error": errMsg, "Throttles": throttles, "Window": waitWords(s.throttle.Window),
		"PasswordsOff": s.cfg.PasswordsOff, "BreakGlass": tandem.NormalizeEmail(s.cfg.BreakGlassAdmin), "SSOName": s.ssoName(),
	}})
}

// throttleRow is an account and address with recent failed sign-ins, as
// admins see it: whether it is slowed now, and until when.
type throttleRow struct {
	store.LoginThrottle
	Slowed bool
	Until  string
}

// throttleRows lists the pairs with failures in the throttle's window, the
// latest 100, each judged by the same rule sign-in uses.
func (s *Server) throttleRows(ctx context.Context) ([]throttleRow, error) {
	now := s.now()
	list, err := s.store.LoginThrottles(ctx, now.Add(-s.throttle.Window), now, 100)
	if err != nil {
		return nil, err
	}
	out := make([]throttleRow, len(list))
	for i, t := range list {
		until := s.throttle.Until(auth.Failures{Pair: t.Failures, PairLast: t.Last, Address: t.AddressFailures, AddressLast: t.AddressLast, Known: t.Known})
		out[i] = throttleRow{LoginThrottle: t, Slowed: until.After(now)}
		if out[i].Slowed {
			out[i].Until = until.UTC().Format("15:04:05 UTC")
		}
	}
	return out, nil
}

// clearThrottle forgets the failed sign-ins of an account from an address
// (or, without an account, every failure from the address), so that the
// next try is judged afresh.
func (s *Server) clearThrottle(c echo.Context) error {
	email, ip := tandem.NormalizeEmail(c.FormValue("email")), strings.TrimSpace(c.FormValue("ip"))
	if ip == "" {
		return tandem.FieldErrorf("ip", "Give the address whose failed sign-ins to clear.")
	}
	n, err := s.store.ClearLoginFailures(c.Request().Context(), email, ip)
	if err != nil {
		return err
	}
	what := "all accounts from " + ip
	if email != "" {
		what = email + " from " + ip
	}
	s.audit(c, "signin.throttle.clear", fmt.Sprintf("%s: %d failed sign-ins forgotten", what, n))
	s.flash(c, fmt.Sprintf("Cleared %d failed sign-ins of %s.", n, what))
	return c.Redirect(http.StatusSeeOther, "/users")
}

// userFromForm reads role and scope; a leader needs a unit.
func userFromForm(c echo.Context, tree *tandem.Tree, u *tandem.User) error {
	role, err := tandem.ParseRole(c.FormValue("role"))
	if err != nil {
		return err
	}
	u.Role = role
	u.ScopeUnitID = 0
	if role == tandem.RoleLeader {
		id, _ := strconv.ParseInt(c.FormValue("unit"), 10, 64)
		if tree.Unit(id) == nil {
			return tandem.FieldErrorf("unit", "choose the unit this leader leads")
		}
		u.ScopeUnitID = id
	}
	u.Name = strings.TrimSpace(c.FormValue("name"))
	return nil
}

func (s *Server) createUser(c echo.Context) error {
	ctx := c.Request().Context()
	form := map[string]string{"email": c.FormValue("email"), "name": c.FormValue("name"), "role": c.FormValue("role"), "unit": c.FormValue("unit")}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	u := &tandem.User{Email: tandem.NormalizeEmail(c.FormValue("email"))}
	fail := func(err error) error {
		if code := tandem.ErrorCode(err); code != tandem.EINVALID && code != tandem.ECONFLICT {
			return err
		}
		return s.renderUsers(c, http.StatusBadRequest, form, tandem.ErrorMessage(err))
	}
	if err := userFromForm(c, tree, u); err != nil {
		return fail(err)
	}
	// With passwords off the account signs in through the identity
	// provider and keeps no password; only the break-glass admin's takes
	// one.
	password := c.FormValue("password")
	if err := s.passwordFor(u.Email, password); err != nil {
		return fail(err)
	}
	if s.passwordAllowed(u.Email) {
		if err := tandem.ValidatePassword(password); err != nil {
			return fail(err)
		}
		if u.PasswordHash, err = s.hashPassword(c, password); err != nil {
			return err
		}
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return fail(err)
	}
	s.audit(c, "user.create", fmt.Sprintf("%s as %s", u.Email, u.Role))
	s.flash(c, "Created the account for "+u.Email+".")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *Server) userPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.store.User(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.renderUser(c, http.StatusOK, u, "")
}

func (s *Server) renderUser(c echo.Context, status int, u tandem.User, errMsg string) error {
	tree, err := s.store.Tree(c.Request().Context())
	if err != nil {
		return err
	}
	return s.renderStatus(c, status, "user", pageData{Title: u.Email, Nav: "users", Data: map[string]any{
		"Account": u, "Units": tree.Walk(), "Error": errMsg, "Password": s.passwordAllowed(u.Email), "SSOName": s.ssoName(),
	}})
}

func (s *Server) updateUser(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	u, err := s.store.User(ctx, id)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	before := u
	fail := func(err error) error {
		if code := tandem.ErrorCode(err); code != tandem.EINVALID && code != tandem.ECONFLICT {
			return err
		}
		return s.renderUser(c, http.StatusBadRequest, before, tandem.ErrorMessage(err))
	}
	if err := userFromForm(c, tree, &u); err != nil {
		return fail(err)
	}
	u.Disabled = c.FormValue("disabled") == "on"
	// A new password is checked and hashed before anything is saved, so
	// that a refusal (a short password, a busy server) changes nothing.
	var hash string
	if p := c.FormValue("password"); p != "" {
		if err := s.passwordFor(u.Email, p); err != nil {
			return fail(err)
		}
		if err := tandem.ValidatePassword(p); err != nil {
			return fail(err)
		}
		if hash, err = s.hashPassword(c, p); err != nil {
			return err
		}
	}
	if err := s.store.UpdateUser(ctx, &u); err != nil {
		return fail(err)
	}
	if hash != "" {
		if err := s.store.SetPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		s.audit(c, "user.password", u.Email)
	}
	if before.Role != u.Role || before.ScopeUnitID != u.ScopeUnitID || before.Disabled != u.Disabled {
		s.audit(c, "user.role", fmt.Sprintf("%s: %s (unit %d, disabled %v) → %s (unit %d, disabled %v)",
			u.Email, before.Role, before.ScopeUnitID, before.Disabled, u.Role, u.ScopeUnitID, u.Disabled))
	}
	s.flash(c, "Saved "+u.Email+".")
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (s *Server) auditPage(c echo.Context) error {
	entries, err := s.store.AuditLog(c.Request().Context(), 500)
	if err != nil {
		return err
	}
	return s.render(c, "audit", pageData{Title: "Audit log", Nav: "audit", Data: entries})
}
