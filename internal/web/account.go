package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func (s *Server) accountPage(c echo.Context) error {
	return s.render(c, "account", pageData{Title: "Your account", Nav: "account", Data: map[string]string{}})
}

// changePassword lets a signed-in user replace their own password. Every
// session of the account ends, and this browser gets a fresh one.
func (s *Server) changePassword(c echo.Context) error {
	u := currentUser(c)
	fail := func(status int, msg string) error {
		return s.renderStatus(c, status, "account", pageData{Title: "Your account", Nav: "account", Data: map[string]string{"Error": msg}})
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
