package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// maxExitsBody is the largest body the exits API reads: 10,000 exits
// with long reasons fit.
const maxExitsBody = 4 << 20

// exitJSON is one exit in the API.
type exitJSON struct {
	EmployeeID string `json:"employee_id"`
	Email      string `json:"email"`
	ExitedOn   string `json:"exited_on"`
	ExitType   string `json:"exit_type"`
	Regretted  bool   `json:"regretted"`
	Reason     string `json:"reason"`
}

// postExits records leavers from an HR system: one exit or a list, all or
// none.
func (s *Server) postExits(c echo.Context) error {
	if ct := c.Request().Header.Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the exits as JSON with Content-Type: application/json")
	}
	// Read one byte past the limit, so that a larger body is refused
	// rather than cut (a cut body can still be valid JSON).
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxExitsBody+1))
	if (err != nil && bodyTooLarge(err)) || len(body) > maxExitsBody {
		return apiError(c, http.StatusRequestEntityTooLarge, tandem.EINVALID,
			fmt.Sprintf("The body is larger than %d MiB, the most the exits API reads; send at most 10,000 exits per request, in several requests.", maxExitsBody>>20), nil)
	}
	if err != nil {
		return err
	}
	var list []exitJSON
	trimmed := strings.TrimSpace(string(body))
	if strings.HasPrefix(trimmed, "[") {
		err = json.Unmarshal(body, &list)
	} else {
		var one exitJSON
		err = json.Unmarshal(body, &one)
		list = []exitJSON{one}
	}
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return tandem.Errorf(tandem.EINVALID, "the body is not valid JSON at byte %d: %v", se.Offset, err)
		}
		return tandem.Errorf(tandem.EINVALID, "the body is not an exit or a list of exits: %v", err)
	}
	if len(list) == 0 || len(list) > 10000 {
		return tandem.Errorf(tandem.EINVALID, "send 1 to 10,000 exits at a time; got %d", len(list))
	}
	exits := make([]store.Exit, len(list))
	for i, x := range list {
		for _, f := range []struct {
			field, value string
			max          int
		}{{"employee_id", x.EmployeeID, tandem.MaxIDLength}, {"email", x.Email, tandem.MaxEmailLength}, {"reason", x.Reason, tandem.MaxCommentLength}} {
			if err := tandem.CheckLength(f.field, f.value, f.max); err != nil {
				return tandem.Errorf(tandem.EINVALID, "exit %d: %s", i, err.Error())
			}
		}
		ref := x.EmployeeID
		if ref == "" {
			ref = x.Email
		}
		if ref == "" {
			return tandem.Errorf(tandem.EINVALID, "exit %d: give employee_id or email", i)
		}
		day, err := tandem.ParseDate(x.ExitedOn)
		if err != nil {
			return tandem.Errorf(tandem.EINVALID, "exit %d: exited_on: %s", i, tandem.ErrorMessage(err))
		}
		typ := strings.ToLower(strings.TrimSpace(x.ExitType))
		if typ != tandem.ExitVoluntary && typ != tandem.ExitInvoluntary {
			return tandem.Errorf(tandem.EINVALID, "exit %d: exit_type must be voluntary or involuntary; got %q", i, x.ExitType)
		}
		exits[i] = store.Exit{EmployeeRef: ref, ExitedOn: day, Type: typ, Regretted: x.Regretted, Reason: strings.TrimSpace(x.Reason)}
	}
	n, err := s.store.RecordExits(c.Request().Context(), exits)
	if err != nil {
		return err
	}
	s.audit(c, "exits.record", fmt.Sprintf("%d exits through the API", n))
	return c.JSON(http.StatusOK, map[string]int{"recorded": n})
}
