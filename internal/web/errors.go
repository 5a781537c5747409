package web

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// statusOf maps a domain error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case tandem.EINVALID:
		return http.StatusBadRequest
	case tandem.ENOTFOUND:
		return http.StatusNotFound
	case tandem.ECONFLICT:
		return http.StatusConflict
	case tandem.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case tandem.EFORBIDDEN:
		return http.StatusForbidden
	case tandem.ETOOMANY:
		return http.StatusTooManyRequests
	case tandem.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// handleError is the one place errors become responses: a JSON body under
// /api, a page elsewhere. Internal errors are logged with the request id
// and shown without detail.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, msg, field := http.StatusInternalServerError, tandem.ErrorMessage(err), ""
	var he *echo.HTTPError
	var te *tandem.Error
	switch {
	case errors.As(err, &te):
		status, msg, field = statusOf(te.Code), te.Message, te.Field
	case errors.As(err, &he):
		status = he.Code
		msg = httpErrorMessage(he)
	case errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil:
		// The client went away; there is no one to answer.
		s.log.Debug("client went away", "route", c.Path())
		c.Response().WriteHeader(499)
		return
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, "The request took too long and was stopped; nothing was lost. Please try again."
	}
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 && status != http.StatusServiceUnavailable {
		s.log.Error("request failed", "request_id", rid, "route", c.Path(), "err", err)
	} else if status == http.StatusServiceUnavailable {
		// Busy, out of disk, timed out: the operator needs to know why.
		s.log.Warn("request refused for now", "request_id", rid, "route", c.Path(), "err", err)
	}
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		if c.Response().Header().Get("Retry-After") == "" {
			c.Response().Header().Set("Retry-After", "5")
		}
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if wantsJSON(c) {
		body := map[string]any{"error": map[string]any{"code": codeName(status, te), "message": msg, "request_id": rid}}
		if field != "" {
			body["error"].(map[string]any)["field"] = field
		}
		c.JSON(status, body)
		return
	}
	if c.Path() == answerRoute {
		// An answer link's error speaks the employee's language, and
		// says nothing of the staff pages.
		p := answerLang(c)
		if p == nil {
			p = s.answerPrinter(c, "")
		}
		title, msg := answerErrorPage(p, status)
		s.renderStatus(c, status, "error", pageData{Title: title, Bare: true, L: p,
			Data: map[string]any{"Status": status, "Message": msg, "RequestID": rid}})
		return
	}
	s.renderStatus(c, status, "error", pageData{
		Title: http.StatusText(status),
		Data:  map[string]any{"Status": status, "Message": msg, "RequestID": rid},
	})
}

func codeName(status int, te *tandem.Error) string {
	if te != nil {
		return te.Code
	}
	switch status {
	case http.StatusNotFound:
		return tandem.ENOTFOUND
	case http.StatusUnauthorized:
		return tandem.EUNAUTHORIZED
	case http.StatusForbidden:
		return tandem.EFORBIDDEN
	case http.StatusTooManyRequests:
		return tandem.ETOOMANY
	case http.StatusServiceUnavailable:
		return tandem.EUNAVAILABLE
	case http.StatusRequestEntityTooLarge, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusUnsupportedMediaType:
		return tandem.EINVALID
	}
	return tandem.EINTERNAL
}

func httpErrorMessage(he *echo.HTTPError) string {
	switch he.Code {
	case http.StatusNotFound:
		return "There is no page at this address. Check the link, or start again from the home page."
	case http.StatusMethodNotAllowed:
		return "This address does not accept that kind of request."
	case http.StatusRequestEntityTooLarge:
		return "The request is too large. Split the file into smaller parts and try again."
	case http.StatusServiceUnavailable:
		return "The server is busy; nothing was lost. Please try again in a moment."
	}
	if m, ok := he.Message.(string); ok && he.Code < 500 {
		return m
	}
	return http.StatusText(he.Code)
}

func wantsJSON(c echo.Context) bool {
	r := c.Request()
	return strings.HasPrefix(r.URL.Path, "/api/") ||
		(strings.Contains(r.Header.Get("Accept"), "application/json") && !strings.Contains(r.Header.Get("Accept"), "text/html"))
}
