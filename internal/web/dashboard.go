package web

import (
	"math"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// dashboard is the landing page: for the user's part of the organisation,
// engagement and customer satisfaction on one chart, the unit × driver
// heatmap, the biggest changes since the last round, the correlation
// headline and the flight-risk count, each linking to its full report.
func (s *Server) dashboard(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	sc := scope(c)
	data := map[string]any{}
	prog, programs, err := s.chosenProgram(c, tree, sc)
	if err != nil {
		return err
	}
	data["Programs"] = programs
	head := sc
	if head == 0 && prog != nil {
		head = prog.AudienceUnitID
	}
	if head == 0 && len(tree.Roots()) > 0 {
		head = tree.Roots()[0]
	}
	data["Head"] = tree.Unit(head)
	if prog == nil {
		return s.render(c, "dashboard", pageData{Title: "Dashboard", Nav: "dashboard", Data: data})
	}
	data["Program"] = prog
	all, err := s.store.Rounds(ctx, prog.ID) // newest first
	if err != nil {
		return err
	}
	if len(all) > 26 {
		all = all[:26]
	}
	// Figures come from released rounds only, oldest first; the latest
	// round (perhaps still open) gives participation in the user's scope.
	var rounds []pulse.Round
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Released() {
			rounds = append(rounds, all[i])
		}
	}
	if len(all) > 0 {
		latest := all[0]
		latest.TimeZone = prog.Cadence.Zone
		data["Latest"] = latest
		if !latest.Released() {
			// Every figure below is from closed rounds; each says when
			// this one's results join them.
			data["Open"] = latest
		}
		invited, responded, err := s.store.Participation(ctx, latest.ID)
		if err != nil {
			return err
		}
		if inv, resp, ok := report.ParticipationIn(tree, sc, latest.MinGroup, invited, responded); ok {
			data["LatestTotal"] = report.Participation{Unit: tree.Unit(sc), Invited: inv, Responded: resp, Rate: float64(resp) / float64(inv)}
		}
	}
	if len(rounds) > 0 {
		data["Shown"] = rounds[len(rounds)-1]
	}
	set, err := s.store.LoadRoundSet(ctx, rounds)
	if err != nil {
		return err
	}
	if len(rounds) > 0 {
		// Engagement and CSAT (% satisfied) of the head unit, week by week.
		first, _ := tandem.ParseDate(rounds[0].Period)
		totals, err := s.store.CustomerTotalsRows(ctx, "W", tandem.MetricCSAT, tandem.PeriodStart(tandem.Week, first), tandem.Today(s.now()))
		if err != nil {
			return err
		}
		points := report.EngagementAndCSAT(tree, head, set, totals)
		var labels []string
		eng, csat := make([]float64, len(points)), make([]float64, len(points))
		anyCSAT := false
		for i, p := range points {
			labels = append(labels, p.Period)
			eng[i], csat[i] = p.Engagement, p.CSAT
			anyCSAT = anyCSAT || !math.IsNaN(p.CSAT)
		}
		series := []Series{{"Engagement index (0–100)", "#2f6f5e", eng}}
		if anyCSAT {
			series = append(series, Series{"CSAT, % satisfied", "#1a5fb4", csat})
		}
		data["Chart"] = lineChart(labels, series, 0, 100, "")
		view, err := parseHeatView(c, tree, sc)
		if err != nil {
			return err
		}
		data["Heat"] = buildHeatTable(report.BuildHeatmap(tree, sc, *prog, set), tree, sc, view, "/dashboard", c.QueryParams(), resultsLink(prog.ID))
		changes, before, after := report.BiggestChangesBetween(tree, sc, set, 6)
		data["Changes"], data["ChangesFrom"], data["ChangesTo"] = changes, before, after
	}
	// The correlation headline: the report's defaults, for the program the
	// chart shows.
	only := func(name string) string {
		if name == "program" {
			return strconv.FormatInt(prog.ID, 10)
		}
		return ""
	}
	if p, err := report.ParseCorrelationParams(only, s.now()); err == nil {
		if corr, err := s.correlationLoader().Load(ctx, p, sc); err == nil {
			data["Correlation"] = corr
			data["Headline"] = report.DashboardHeadline(corr)
		}
	}
	risks := 0
	if len(rounds) > 0 {
		risks = len(report.FlightRisks(tree, sc, set, report.DefaultFlightRisk))
	}
	data["Risks"] = risks
	// The cards' numbers: voluntary turnover over the last twelve months
	// (the retention report's, for the same scope and threshold) and the
	// internal service the scope's teams received in the latest closed
	// round that asked for it.
	if p, err := report.ParseRetentionParams(func(string) string { return "" }, s.now()); err == nil {
		if ret, err := s.correlationLoader().LoadRetention(ctx, p, sc, s.now()); err == nil {
			data["Retention"] = ret
		}
	}
	svc, err := s.dashboardService(c, tree, sc, rounds)
	if err != nil {
		return err
	}
	data["Service"] = svc
	return s.render(c, "dashboard", pageData{Title: "Dashboard", Nav: "dashboard", Data: data})
}

// serviceCard is the dashboard's internal-service number: the mean score
// (0–100, weighted by raters) of the provider teams in scope shown in the
// latest closed round that asked, and how many teams that covers.
type serviceCard struct {
	Round pulse.Round
	Score float64
	Teams int
}

// dashboardService finds the newest of the released rounds (oldest first)
// with an internal-service question and scores it for scope; nil when
// none asked or no team in scope was rated by k people.
func (s *Server) dashboardService(c echo.Context, tree *tandem.Tree, sc int64, rounds []pulse.Round) (*serviceCard, error) {
	ctx := c.Request().Context()
	for i := len(rounds) - 1; i >= 0; i-- {
		r := rounds[i]
		qs, err := s.store.RoundQuestions(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		asked := false
		for _, q := range qs {
			asked = asked || q.Kind == pulse.Service
		}
		if !asked {
			continue
		}
		rows, err := s.store.ServiceScores(ctx, []int64{r.ID})
		if err != nil {
			return nil, err
		}
		score, teams := report.BuildService(report.ServiceInput{Tree: tree, Scope: sc, Round: r, Rows: rows}).Overall()
		if teams == 0 {
			return nil, nil
		}
		card := &serviceCard{Round: r, Score: score, Teams: teams}
		return card, nil
	}
	return nil, nil
}
