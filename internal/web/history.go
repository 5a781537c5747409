package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/history"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The survey history import (issue 16, item 6): HR uploads past survey
// results, one row per response, into a program; the page shows the
// rounds it would make (a dry run) and imports them on confirmation. The
// file is kept in the database between the two, as the roster's is.

const (
	uploadKindHistory = "history"
	maxHistoryUpload  = 20 << 20
	// maxHistoryRows bounds the responses one upload takes; the command
	// line takes any number.
	maxHistoryRows = 200_000
)

// historyForm is what the import form asks besides the file.
type historyForm struct {
	Program, Period, Map string
}

func readHistoryForm(get func(string) string) historyForm {
	return historyForm{Program: strings.TrimSpace(get("program")), Period: strings.TrimSpace(get("period")), Map: strings.TrimSpace(get("map"))}
}

func (f historyForm) encode() string {
	return url.Values{"program": {f.Program}, "period": {f.Period}, "map": {f.Map}}.Encode()
}

func decodeHistoryForm(s string) historyForm {
	v, _ := url.ParseQuery(s)
	return readHistoryForm(v.Get)
}

// historyPage renders the form, with data's problems or error.
func (s *Server) historyPage(c echo.Context, status int, form historyForm, data map[string]any) error {
	ctx := c.Request().Context()
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return err
	}
	questions, err := s.store.Questions(ctx)
	if err != nil {
		return err
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Form"], data["Programs"], data["Questions"] = form, programs, questions
	return s.renderStatus(c, status, "history_import", pageData{Title: "Import survey history", Nav: "import", Data: data})
}

func (s *Server) historyImportPage(c echo.Context) error {
	return s.historyPage(c, http.StatusOK, historyForm{Program: c.QueryParam("program")}, nil)
}

// historyUpload keeps the uploaded file and shows its dry run.
func (s *Server) historyUpload(c echo.Context) error {
	form := readHistoryForm(c.FormValue)
	fail := func(status int, msg string) error {
		return s.historyPage(c, status, form, map[string]any{"Error": msg})
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return fail(http.StatusBadRequest, "Choose a CSV file to upload.")
	}
	if fh.Size > maxHistoryUpload {
		return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("The file is %d MB; the limit here is %d MB. Split it by period, or run tandem import history on the server.",
			fh.Size>>20, maxHistoryUpload>>20))
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHistoryUpload+1))
	if err != nil {
		return err
	}
	up := store.Upload{UserID: currentUser(c).ID, Kind: uploadKindHistory, Filename: fh.Filename, Options: form.encode(), Data: data}
	res, err := s.importHistory(c, up, true)
	if err != nil {
		return s.historyProblems(c, up, form, err)
	}
	token := auth.NewToken()
	now := s.now()
	up.IDHash = auth.HashToken(token)
	if err := s.store.SaveUpload(c.Request().Context(), up, now, now.Add(time.Hour)); err != nil {
		return err
	}
	return s.render(c, "history_preview", pageData{Title: "Check the survey history", Nav: "import", Data: map[string]any{
		"Filename": up.Filename, "Token": token, "R": res, "K": res.Program.MinGroup,
	}})
}

// importHistory checks (dryRun) or imports a kept file with its form.
func (s *Server) importHistory(c echo.Context, up store.Upload, dryRun bool) (*store.HistoryResult, error) {
	form := decodeHistoryForm(up.Options)
	id, err := strconv.ParseInt(form.Program, 10, 64)
	if err != nil || id <= 0 {
		return nil, tandem.Errorf(tandem.EINVALID, "Choose the pulse program the history belongs to.")
	}
	p, err := s.store.Program(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	period := form.Period
	if period == "" {
		period = history.DefaultPeriod(p.Cadence)
	}
	var mapping []string
	if form.Map != "" {
		mapping = []string{form.Map}
	}
	return s.store.ImportHistory(c.Request().Context(), store.HistoryImport{ProgramID: id, Period: period, Mapping: mapping, DryRun: dryRun,
		Actor: currentUser(c).Email, MaxRows: maxHistoryRows, Now: s.now()}, bytes.NewReader(up.Data))
}

// historyProblems shows the form again with what is wrong: every problem
// of the file by line and column, or the one problem with the form.
func (s *Server) historyProblems(c echo.Context, up store.Upload, form historyForm, err error) error {
	var he *history.Error
	if errors.As(err, &he) {
		shown := he.Problems
		if len(shown) > maxShownProblems {
			shown = shown[:maxShownProblems]
		}
		return s.historyPage(c, http.StatusUnprocessableEntity, form, map[string]any{"Filename": up.Filename, "Problems": shown,
			"ProblemTotal": he.Total, "Hidden": he.Total - len(shown)})
	}
	switch tandem.ErrorCode(err) {
	case tandem.EINVALID, tandem.ENOTFOUND, tandem.ECONFLICT:
		return s.historyPage(c, http.StatusUnprocessableEntity, form, map[string]any{"Error": tandem.ErrorMessage(err)})
	}
	return err
}

// historyApply imports a kept file, checking it again against the roster
// and rounds as they are now, in one transaction.
func (s *Server) historyApply(c echo.Context) error {
	ctx := c.Request().Context()
	up, err := s.store.Upload(ctx, auth.HashToken(c.Param("upload")), currentUser(c).ID, s.now())
	if err == nil && up.Kind != uploadKindHistory {
		err = tandem.Errorf(tandem.ENOTFOUND, "This upload is not a survey history file; upload it again on the history import page.")
	}
	if err != nil {
		return err
	}
	res, err := s.importHistory(c, up, false)
	if err != nil {
		return s.historyProblems(c, up, decodeHistoryForm(up.Options), err)
	}
	if err := s.store.DeleteUpload(ctx, up.IDHash); err != nil {
		return err
	}
	s.flash(c, fmt.Sprintf("Imported %s: %d responses into %d rounds of %s.", up.Filename, res.Responses, len(res.Rounds), res.Program.Name))
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/results/%d", res.Program.ID))
}
