package web

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// servicePage shows internal service quality for a round: each provider
// team's score from the teams it serves (once k people rated it), beside
// its own engagement and its customers' satisfaction, and the rater ×
// provider matrix with the same suppression as other results.
func (s *Server) servicePage(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return err
	}
	// Rounds with a service question, newest first, across programs the
	// user may read.
	type choice struct {
		Round   pulse.Round
		Program string
	}
	var choices []choice
	for _, p := range programs {
		if !p.VisibleTo(tree, scope(c)) {
			continue
		}
		rounds, err := s.store.Rounds(ctx, p.ID)
		if err != nil {
			return err
		}
		for _, r := range rounds {
			qs, err := s.store.RoundQuestions(ctx, r.ID)
			if err != nil {
				return err
			}
			for _, q := range qs {
				if q.Kind == pulse.Service {
					choices = append(choices, choice{r, p.Name})
					break
				}
			}
			if len(choices) >= 26 {
				break
			}
		}
	}
	data := map[string]any{"Choices": choices}
	if len(choices) == 0 {
		return s.render(c, "service", pageData{Title: "Internal service", Nav: "results", Data: data})
	}
	chosen := choices[0]
	if v, err := strconv.ParseInt(c.QueryParam("round"), 10, 64); err == nil {
		found := false
		for _, ch := range choices {
			if ch.Round.ID == v {
				chosen, found = ch, true
			}
		}
		if !found {
			return tandem.Errorf(tandem.ENOTFOUND, "There is no internal-service round %d.", v)
		}
	}
	r, err := s.store.Round(ctx, chosen.Round.ID)
	if err != nil {
		return err
	}
	rows, err := s.store.ServiceScores(ctx, []int64{r.ID})
	if err != nil {
		return err
	}
	// The providers' own engagement in the same round, where shown.
	set, err := s.store.LoadRoundSet(ctx, []pulse.Round{r})
	if err != nil {
		return err
	}
	rr := report.SetRoundResults(tree, 0, set, r)
	engagement := map[int64]float64{}
	for _, u := range rr.Units {
		engagement[u.Unit.ID] = u.Engagement
	}
	// Customers' satisfaction over the three months before the round.
	csat := map[int64]tandem.CustomerTotals{}
	end := tandem.Today(r.ScheduledAt)
	totals, err := s.store.CustomerTotalsRows(ctx, "M", tandem.MetricCSAT, end.AddDate(0, -3, 0), end)
	if err != nil {
		return err
	}
	for _, t := range totals {
		for _, id := range append(tree.Ancestors(t.UnitID), t.UnitID) {
			acc := csat[id]
			acc.Merge(t.CustomerTotals)
			csat[id] = acc
		}
	}
	m := report.BuildService(report.ServiceInput{Tree: tree, Scope: scope(c), Round: r, Rows: rows, Engagement: engagement, CSAT: csat})
	data["Round"], data["Program"], data["M"] = r, chosen.Program, m
	return s.render(c, "service", pageData{Title: "Internal service", Nav: "results", Data: data})
}
