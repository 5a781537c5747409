package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func (s *Server) retention(c echo.Context) (*report.Retention, report.RetentionParams, error) {
	get, err := s.queryWithProgram(c)
	if err != nil {
		return nil, report.RetentionParams{}, err
	}
	p, err := report.ParseRetentionParams(get, s.now())
	if err != nil {
		return nil, p, err
	}
	r, err := s.correlationLoader().LoadRetention(c.Request().Context(), p, scope(c), s.now())
	return r, p, err
}

func (s *Server) retentionJSON(c echo.Context) error {
	r, _, err := s.retention(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, r)
}

// retentionCSV downloads the report the page shows, one figure a row
// (report.WriteRetentionCSV), for the same filters.
func (s *Server) retentionCSV(c echo.Context) error {
	r, p, err := s.retention(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="retention-%s-%s-%s.csv"`,
		tandem.FormatDate(p.From), tandem.FormatDate(p.To), p.Period))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return report.WriteRetentionCSV(c.Response(), r)
}

// retentionDownloads are the CSV and JSON links of the retention page,
// carrying every filter of form, each a whole URL (see correlationView).
func retentionDownloads(form map[string]string) (csvURL, jsonURL string) {
	q := url.Values{}
	for _, k := range []string{"unit", "period", "from", "to", "program"} {
		if v := form[k]; v != "" {
			q.Set(k, v)
		}
	}
	return "/reports/retention.csv?" + q.Encode(), "/api/v1/reports/retention?" + q.Encode()
}

func (s *Server) retentionPage(c echo.Context) error {
	r, p, err := s.retention(c)
	form := map[string]string{"unit": c.QueryParam("unit"), "period": p.Period, "from": tandem.FormatDate(p.From), "to": tandem.FormatDate(p.To)}
	if r != nil && r.ProgramID != 0 {
		form["program"] = strconv.FormatInt(r.ProgramID, 10)
	}
	if code := tandem.ErrorCode(err); code == tandem.EINVALID {
		return s.renderStatus(c, http.StatusBadRequest, "retention", pageData{Title: "Retention", Nav: "retention", Data: map[string]any{
			"Form": form, "Error": tandem.ErrorMessage(err)}})
	} else if err != nil {
		return err
	}
	tree, err := s.store.Tree(c.Request().Context())
	if err != nil {
		return err
	}
	programs, err := s.store.Programs(c.Request().Context())
	if err != nil {
		return err
	}
	var curves []report.SurvivalCurve
	if len(r.Survival) > 0 {
		curves = r.Survival[:min(len(r.Survival), 4)]
	}
	csvURL, jsonURL := retentionDownloads(form)
	return s.render(c, "retention", pageData{Title: "Retention", Nav: "retention", Data: map[string]any{
		"R": r, "Form": form, "CSVURL": csvURL, "JSONURL": jsonURL, "Units": visibleUnits(c, tree), "Programs": visiblePrograms(programs, tree, scope(c)), "Chart": stepChart(curves, []string{"#2f6f5e", "#c77d12", "#1a5fb4", "#8f3f97"}),
	}})
}

// risksPage lists the teams whose engagement or intent to stay fell
// sharply, with the evidence, for HR (everyone) and leaders (their
// subtree). Signals are about teams, never people.
func (s *Server) risksPage(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return err
	}
	type programRisks struct {
		Program pulse.Program
		Risks   []report.FlightRisk
		// Shown is the latest closed round the signals reach; Open the
		// round still open, whose answers join them when it closes.
		Shown, Open *pulse.Round
	}
	var out []programRisks
	for _, p := range programs {
		if !p.VisibleTo(tree, scope(c)) {
			continue
		}
		rounds, err := s.store.Rounds(ctx, p.ID)
		if err != nil {
			return err
		}
		// Signals come from the twelve latest closed rounds (newest
		// first here): an open round's answers are not shown anywhere.
		pr := programRisks{Program: p}
		var closed []pulse.Round
		for i := range rounds {
			rounds[i].TimeZone = p.Cadence.Zone
			if !rounds[i].Released() {
				pr.Open = &rounds[i]
			} else if len(closed) < 12 {
				closed = append(closed, rounds[i])
			}
		}
		if len(closed) > 0 {
			pr.Shown = &closed[0]
		}
		set, err := s.store.LoadRoundSet(ctx, closed)
		if err != nil {
			return err
		}
		pr.Risks = report.FlightRisks(tree, scope(c), set, report.DefaultFlightRisk)
		out = append(out, pr)
	}
	return s.render(c, "risks", pageData{Title: "Flight-risk signals", Nav: "retention", Data: map[string]any{"Programs": out, "Rule": report.DefaultFlightRisk}})
}
