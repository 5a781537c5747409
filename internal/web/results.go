package web

import (
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// resultsPage lists the programs whose results the user may read.
func (s *Server) resultsPage(c echo.Context) error {
	ctx := c.Request().Context()
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	type row struct {
		pulse.Program
		Audience string
		Rounds   int
	}
	counts, err := s.store.ProgramRoundCounts(ctx)
	if err != nil {
		return err
	}
	var rows []row
	sc := scope(c)
	for _, p := range programs {
		if !p.VisibleTo(tree, sc) {
			continue
		}
		r := row{Program: p, Rounds: counts[p.ID]}
		if u := tree.Unit(p.AudienceUnitID); u != nil {
			r.Audience = u.Path
		}
		rows = append(rows, r)
	}
	return s.render(c, "results", pageData{Title: "Results", Nav: "results", Data: rows})
}

// visibleProgram loads a program the user may read results of.
func (s *Server) visibleProgram(c echo.Context, tree *tandem.Tree, id int64) (pulse.Program, error) {
	p, err := s.store.Program(c.Request().Context(), id)
	if err != nil {
		return p, err
	}
	if !p.VisibleTo(tree, scope(c)) {
		return p, tandem.Errorf(tandem.ENOTFOUND, "There is no program %d.", id)
	}
	return p, nil
}

// headlineUnit is the unit whose trend a user sees: their scope, or the
// program's audience.
func headlineUnit(c echo.Context, tree *tandem.Tree, p pulse.Program) int64 {
	if sc := scope(c); sc != 0 && tree.Contains(p.AudienceUnitID, sc) {
		return sc
	}
	return p.AudienceUnitID
}

func (s *Server) programResults(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	p, err := s.visibleProgram(c, tree, id)
	if err != nil {
		return err
	}
	rounds, err := s.store.Rounds(ctx, id) // newest first, for the list
	if err != nil {
		return err
	}
	// The trend and heatmap: released rounds, oldest first.
	var released []pulse.Round
	for i := len(rounds) - 1; i >= 0; i-- {
		if rounds[i].Released() {
			released = append(released, rounds[i])
		}
	}
	set, err := s.store.LoadRoundSet(ctx, released)
	if err != nil {
		return err
	}
	head := headlineUnit(c, tree, p)
	view, err := parseHeatView(c, tree, scope(c))
	if err != nil {
		return err
	}
	// ?unit= narrows the page to one unit within the viewer's scope: its
	// trend and its part of the heatmap.
	if ref := c.QueryParam("unit"); ref != "" {
		u, err := strconv.ParseInt(ref, 10, 64)
		if err != nil || tree.Unit(u) == nil || !tree.InScope(scope(c), u) {
			return tandem.Errorf(tandem.ENOTFOUND, "There is no unit %q among the units you may see.", ref)
		}
		head, view.Unit = u, u
	}
	trend := report.Trend(tree, head, set)
	var labels []string
	eng, enps := make([]float64, len(trend)), make([]float64, len(trend))
	for i, t := range trend {
		labels = append(labels, t.Round.Period)
		eng[i], enps[i] = math.NaN(), math.NaN()
		if t.Shown {
			eng[i], enps[i] = t.Engagement, t.ENPS
		}
	}
	chart := lineChart(labels, []Series{{"Engagement (0–100)", "#2f6f5e", eng}, {"eNPS (−100…100)", "#c77d12", enps}}, -100, 100, "")

	heat := buildHeatTable(report.BuildHeatmap(tree, scope(c), p, set), tree, scope(c), view,
		fmt.Sprintf("/results/%d", p.ID), c.QueryParams(), resultsLink(p.ID))
	// Each round's participation within the viewer's scope.
	ids := make([]int64, len(rounds))
	for i, r := range rounds {
		ids[i] = r.ID
	}
	invited, responded, err := s.store.ParticipationOf(ctx, ids)
	if err != nil {
		return err
	}
	type roundRow struct {
		pulse.Round
		Total *report.Participation
	}
	rows := make([]roundRow, len(rounds))
	for i, r := range rounds {
		rows[i].Round = r
		if inv, resp, ok := report.ParticipationIn(tree, scope(c), r.MinGroup, invited[r.ID], responded[r.ID]); ok {
			rows[i].Total = &report.Participation{Invited: inv, Responded: resp, Rate: float64(resp) / float64(inv)}
		}
	}
	head_ := tree.Unit(head)
	return s.render(c, "program_results", pageData{Title: p.Name + " results", Nav: "results", Data: map[string]any{
		"Program": p, "Rounds": rows, "Chart": chart, "Head": head_, "Heat": heat, "Unit": tree.Unit(view.Unit),
		"K": p.MinGroup, "CanEdit": currentUser(c).CanEdit(),
	}})
}

// roundData loads and builds one round's results for the current user.
func (s *Server) roundData(c echo.Context) (*report.RoundResults, *tandem.Tree, error) {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return nil, nil, err
	}
	r, err := s.store.Round(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.visibleProgram(c, tree, r.ProgramID); err != nil {
		return nil, nil, tandem.Errorf(tandem.ENOTFOUND, "There is no round %d.", id)
	}
	qs, err := s.store.RoundQuestions(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.store.Respondents(ctx, []int64{id})
	if err != nil {
		return nil, nil, err
	}
	scores, err := s.store.Scores(ctx, []int64{id})
	if err != nil {
		return nil, nil, err
	}
	invited, responded, err := s.store.Participation(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	texts, err := s.store.TextAnswers(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	choices, err := s.store.ChoiceCounts(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	res := report.BuildRoundResults(report.RoundInput{Tree: tree, Scope: scope(c), Round: r, Questions: qs,
		Respondents: resp[id], Scores: scores, Invited: invited, Responded: responded, Texts: texts, ChoiceRows: choices})
	return res, tree, nil
}

func (s *Server) roundResults(c echo.Context) error {
	res, _, err := s.roundData(c)
	if err != nil {
		return err
	}
	var drivers []string
	seen := map[string]bool{}
	for _, q := range res.Questions {
		if q.Driver != "" && q.Driver != pulse.DriverEngagement && q.Driver != pulse.DriverENPS && !seen[q.Driver] {
			seen[q.Driver] = true
			drivers = append(drivers, q.Driver)
		}
	}
	// Per-question detail for the top shown unit in scope.
	var top *report.UnitResult
	if len(res.Units) > 0 {
		top = &res.Units[0]
	}
	type qrow struct {
		pulse.Question
		Score  float64
		N      int
		Counts []int
	}
	var qrows []qrow
	if top != nil {
		for _, q := range res.Questions {
			t := top.Questions[q.ID]
			row := qrow{Question: q, Score: math.NaN(), N: t.N}
			switch q.Kind {
			case pulse.Likert5:
				row.Score = pulse.Score0to100(t.Mean())
			case pulse.Scale010:
				row.Score = t.Mean()
				if q.Driver == pulse.DriverENPS {
					row.Score = pulse.NPS(t.Promoters, t.Detractors, t.N)
				}
			case pulse.Choice:
				row.Counts = res.Choices[q.ID][top.Unit.ID]
			case pulse.Text:
				continue
			}
			qrows = append(qrows, row)
		}
	}
	return s.render(c, "round", pageData{Title: fmt.Sprintf("%s, round %d", res.Round.ProgramName, res.Round.Seq), Nav: "results", Data: map[string]any{
		"R": res, "Drivers": drivers, "Top": top, "QRows": qrows, "Open": res.Round.OpenAt(s.now()),
	}})
}

// exportRound writes a round's aggregates as CSV: one row per shown unit,
// never an individual answer and never a unit below the threshold.
func (s *Server) exportRound(c echo.Context) error {
	res, _, err := s.roundData(c)
	if err != nil {
		return err
	}
	if !res.Released {
		return tandem.Errorf(tandem.ECONFLICT, "Round %d is still open: its results are shown, and can be exported, once it closes on %s.",
			res.Round.Seq, tandem.InZone(res.Round.ClosesAt, res.Round.TimeZone).Format("Mon 2 Jan 2006 15:04 MST"))
	}
	c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="round-%d-results.csv"`, res.Round.ID))
	c.Response().WriteHeader(http.StatusOK)
	w := csvfile.NewWriter(c.Response())
	head := []string{"unit", "respondents", "engagement", "enps"}
	var rated []pulse.Question
	for _, q := range res.Questions {
		// The eNPS question is the enps column (its net promoter
		// score); its mean beside it would be a second enps column.
		if (q.Kind == pulse.Likert5 || q.Kind == pulse.Scale010) && q.Driver != pulse.DriverENPS {
			rated = append(rated, q)
			head = append(head, roundColumn(q))
		}
	}
	var drivers []string
	seen := map[string]bool{}
	for _, q := range res.Questions {
		if pulse.IsDriver(q.Driver) && !seen[q.Driver] {
			seen[q.Driver] = true
			drivers = append(drivers, q.Driver)
			head = append(head, "driver:"+q.Driver)
		}
	}
	w.Write(head)
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	for _, u := range res.Units {
		row := []string{u.Unit.Path, strconv.Itoa(u.Respondents), f(u.Engagement), f(u.ENPS)}
		for _, q := range rated {
			t := u.Questions[q.ID]
			v := t.Mean()
			if q.Kind == pulse.Likert5 {
				v = pulse.Score0to100(v)
			}
			row = append(row, f(v))
		}
		for _, d := range drivers {
			v, ok := u.Drivers[d]
			if !ok {
				v = math.NaN()
			}
			row = append(row, f(v))
		}
		w.Write(row)
	}
	w.Flush()
	return w.Error()
}

// roundColumn heads a question's column in the round export: its key,
// which stays the same in every round and language, and its text, for
// people reading the file.
func roundColumn(q pulse.Question) string {
	return q.Key + ": " + q.Text
}

func (s *Server) outboxPage(c echo.Context) error {
	ctx := c.Request().Context()
	counts, err := s.store.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	tallies, err := s.store.OutboxTallies(ctx)
	if err != nil {
		return err
	}
	errs, err := s.store.OutboxErrors(ctx, 20)
	if err != nil {
		return err
	}
	return s.render(c, "outbox", pageData{Title: "Outbox", Nav: "programs", Data: map[string]any{"Counts": counts, "Tallies": tallies, "Errors": errs}})
}

func (s *Server) retryOutbox(c echo.Context) error {
	n, err := s.store.RetryFailed(c.Request().Context(), s.now())
	if err != nil {
		return err
	}
	s.audit(c, "outbox.retry", fmt.Sprintf("%d failed messages queued again", n))
	s.flash(c, fmt.Sprintf("%d failed messages will be tried again.", n))
	return c.Redirect(http.StatusSeeOther, "/outbox")
}
