package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func (s *Server) accountPage(c echo.Context) error {
	return s.render(c, "account", pageData{Title: "Your account", Nav: "account", Data: s.accountData(c, "")})
}

// accountData is what the account page shows: the password form only to
// those who may sign in with a password.
func (s *Server) accountData(c echo.Context, errMsg string) map[string]any {
	return map[string]any{"Error": errMsg, "Password": s.passwordAllowed(currentUser(c).Email), "SSOName": s.ssoName()}
}

// changePassword lets a signed-in user replace their own password. Every
// session of the account ends, and this browser gets a fresh one.
func (s *Server) changePassword(c echo.Context) error {
	u := currentUser(c)
	fail := func(status int, msg string) error {
		return s.renderStatus(c, status, "account", pageData{Title: "Your account", Nav: "account", Data: s.accountData(c, msg)})
	}
	if !s.passwordAllowed(u.Email) {
		return fail(http.StatusForbidden, "Passwords are switched off: you sign in with "+s.ssoName()+", and Tandem keeps no password for you.")
	}
	if ok, err := s.checkPassword(c, u.PasswordHash, c.FormValue("current")); err != nil {
		return err
	} else if !ok {
		return fail(http.StatusBadRequest, "Your current password is not right; nothing was changed.")
	}
	next := c.FormValue("password")
	if err := tandem.ValidatePassword(next); err != nil {
		return fail(http.StatusBadRequest, "The new password "+tandem.ErrorMessage(err)+".")
	}
	if next != c.FormValue("password2") {
		return fail(http.StatusBadRequest, "The two new passwords differ.")
	}
	hash, err := s.hashPassword(c, next)
	if err != nil {
		return err
	}
	if err := s.store.SetPassword(c.Request().Context(), u.ID, hash); err != nil {
		return err
	}
	if err := s.startSession(c, u.ID); err != nil {
		return err
	}
	s.audit(c, "user.password", u.Email+" changed their own password")
	s.flash(c, "Your password is changed; you were signed out everywhere else.")
	return c.Redirect(http.StatusSeeOther, "/account")
}
