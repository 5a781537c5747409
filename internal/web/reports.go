package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func (s *Server) correlationLoader() *report.CorrelationLoader { return s.reports }

// correlation parses the query, limits it to the caller's scope and builds
// the report. A leader asking for a unit or program outside their subtree
// gets not found.
func (s *Server) correlation(c echo.Context) (*report.Correlation, error) {
	get, err := s.queryWithProgram(c)
	if err != nil {
		return nil, err
	}
	p, err := report.ParseCorrelationParams(get, s.now())
	if err != nil {
		return nil, err
	}
	return s.correlationLoader().Load(c.Request().Context(), p, scope(c))
}

// correlationJSON serves the report as JSON: the same figures as the page,
// NaN written as null.
func (s *Server) correlationJSON(c echo.Context) error {
	res, err := s.correlation(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, res)
}

// correlationPairsJSON serves one page of the report's team-period pairs
// (the report's JSON carries figures only): page and per_page beside the
// report's own parameters.
func (s *Server) correlationPairsJSON(c echo.Context) error {
	page, perPage, err := report.ParsePairsPage(c.QueryParam)
	if err != nil {
		return err
	}
	res, err := s.correlation(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, res.PairsPage(page, perPage))
}

// correlationCSV exports the team-period pairs the figures come from:
// plain CSV with one header row, nothing else.
func (s *Server) correlationCSV(c echo.Context) error {
	res, err := s.correlation(c)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="correlation-%s-%s-%s.csv"`,
		tandem.FormatDate(res.Params.From), tandem.FormatDate(res.Params.To), res.Params.Customer))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)
	return report.WriteCorrelationCSV(c.Response(), res)
}

// maxScatterPoints bounds the points drawn: beyond a few thousand a page
// grows by megabytes and the cloud shows nothing more. All pairs stay in
// the CSV and the pairs API.
const maxScatterPoints = 4000

type option struct {
	Value, Label string
}

type coefRow struct {
	Label, R, CI, P, N string
}

type driverRow struct {
	Label, R, CI, P, Q, N, REng, Score, Change, Priority string
}

// withinLagRow is one lag of the persistence-corrected scan.
type withinLagRow struct {
	Lag, R, CI, PAdj, N string
	Significant, Chosen bool
}

// bandRow counts team-rounds in one agreement band.
type bandRow struct {
	Band  string
	Count int
}

type lagRow struct {
	Lag         int
	R, CI, P, N string
	Chosen      bool
}

// correlationView is what the page template shows; every number is
// formatted here, so the template stays free of arithmetic.
type correlationView struct {
	Form      url.Values
	Error     string
	Measures  []option
	Customers []option
	Programs  []option
	Lags      []int
	R         *report.Correlation
	Coefs     []coefRow
	FitText   string
	Scatter   template.HTML
	Thinned   string
	LagChart  template.HTML
	LagRows   []lagRow
	Drivers   []driverRow
	Unit      string
	Units     string
	// The persistence-corrected lag scan, lags −6…+6, and the agreement
	// bands.
	WithinLagChart template.HTML
	WithinLagRows  []withinLagRow
	Bands          []bandRow
	// Formatted figures of the power and persistence sentences.
	BetweenMinR, WithinMinR, ExampleR, Persistence string
	// CSVURL and JSONURL are the downloads of what the page shows, every
	// filter in their query. Each is a whole URL so that html/template
	// leaves its = and & alone (a query string placed after a "?" in the
	// template is escaped, and the server would see no filter).
	CSVURL, JSONURL string
}

func (s *Server) correlationPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := correlationView{Form: c.QueryParams(), Lags: []int{-6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6}}
	v.Measures = []option{{pulse.MeasureIndex, "Engagement index (0–100)"}, {pulse.MeasureENPS, "eNPS (−100 to 100)"}}
	for _, d := range pulse.Drivers {
		v.Measures = append(v.Measures, option{pulse.DriverMeasurePrefix + d.Key, "Driver: " + d.Label})
	}
	v.Customers = []option{{tandem.MetricCSAT, "CSAT (% satisfied, 4–5 of 5)"}, {tandem.MetricNPS, "NPS (−100 to 100)"}, {tandem.MetricCES, "CES (mean effort, 1–7)"}}
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	sc := scope(c)
	for _, p := range programs {
		if p.VisibleTo(tree, sc) {
			v.Programs = append(v.Programs, option{strconv.FormatInt(p.ID, 10), p.Name})
		}
	}
	if v.Form.Get("unit") == "" {
		if u := tree.Unit(sc); u != nil {
			v.Form.Set("unit", u.Path)
		}
	}
	res, err := s.correlation(c)
	if err != nil {
		if tandem.ErrorCode(err) != tandem.EINVALID {
			return err
		}
		// Bad parameters: the form again, with what to change.
		v.Error = tandem.ErrorMessage(err)
		return s.renderStatus(c, http.StatusBadRequest, "correlation", pageData{Title: "Engagement and customers", Nav: "reports", Data: v})
	}
	v.R = res
	p := res.Params
	// Show the resolved values in the form.
	v.Form.Set("measure", p.Measure)
	v.Form.Set("customer", p.Customer)
	v.Form.Set("period", p.Period)
	v.Form.Set("from", tandem.FormatDate(p.From))
	v.Form.Set("to", tandem.FormatDate(p.To))
	v.Form.Set("lag", strconv.Itoa(p.Lag))
	v.Form.Set("min_ratings", strconv.Itoa(p.MinRatings))
	v.Form.Set("unit", p.Unit)
	if p.ProgramID != 0 && v.Form.Get("program") == "" {
		v.Form.Set("program", strconv.FormatInt(p.ProgramID, 10))
	}
	v.Unit, v.Units = "week", "weeks"
	if p.Period == tandem.Month {
		v.Unit, v.Units = "month", "months"
	}
	q := url.Values{}
	for _, k := range []string{"measure", "customer", "period", "from", "to", "lag", "min_ratings", "unit", "program"} {
		if val := v.Form.Get(k); val != "" {
			q.Set(k, val)
		}
	}
	v.CSVURL = "/reports/correlation.csv?" + q.Encode()
	v.JSONURL = "/api/v1/reports/correlation?" + q.Encode()

	ci := func(lo, hi report.Num) string {
		if math.IsNaN(float64(lo)) {
			return "—"
		}
		return report.F2(lo) + " to " + report.F2(hi)
	}
	v.Coefs = []coefRow{
		{"Pearson r (between teams, pooled pairs)", report.F2(res.Pearson.R), ci(res.Pearson.CILow, res.Pearson.CIHigh), report.FormatP(res.Pearson.P), fmt.Sprintf("n = %d pairs", res.Pearson.N)},
		{"Spearman ρ (ranks)", report.F2(res.Spearman.R), ci(res.Spearman.CILow, res.Spearman.CIHigh), report.FormatP(res.Spearman.P), fmt.Sprintf("n = %d pairs", res.Spearman.N)},
		{"Within teams: repeated-measures r (rmcorr)", report.F2(res.RMCorr.R), ci(res.RMCorr.CILow, res.RMCorr.CIHigh), report.FormatP(res.RMCorr.P),
			fmt.Sprintf("df = %d, %d teams", res.RMCorr.DF, res.RMCorr.Teams)},
		{"Within teams and periods (two-way within r)", report.F2(res.Within.R), ci(res.Within.CILow, res.Within.CIHigh), report.FormatP(res.Within.P),
			fmt.Sprintf("df = %d, %d teams, %d %s", res.Within.DF, res.Within.Teams, res.Within.Periods, v.Units)},
		{"… clustered by team", report.F2(res.Within.R), ci(res.Within.ClusterCILow, res.Within.ClusterCIHigh), report.FormatP(res.Within.ClusterP),
			fmt.Sprintf("%d teams", res.Within.Teams)},
		{"Between teams (team means)", report.F2(res.BetweenTeams.R), ci(res.BetweenTeams.CILow, res.BetweenTeams.CIHigh), report.FormatP(res.BetweenTeams.P),
			fmt.Sprintf("n = %d teams", res.BetweenTeams.N)},
	}
	xLabel, yLabel := pulse.MeasureLabel(p.Measure), report.CustomerLabel(p.Customer)
	if res.Fit != nil {
		v.FitText = fmt.Sprintf("%s ≈ %.2f %+.3f × %s", yLabel, float64(res.Fit.Intercept), float64(res.Fit.Slope), xLabel)
	}
	if p.Lag > 0 {
		yLabel += fmt.Sprintf(" (%d %s later)", p.Lag, v.Units)
	} else if p.Lag < 0 {
		yLabel += fmt.Sprintf(" (%d %s earlier)", -p.Lag, v.Units)
	}
	step := 1
	if n := res.PairCount(); n > maxScatterPoints {
		step = (n + maxScatterPoints - 1) / maxScatterPoints
		v.Thinned = fmt.Sprintf("The plot shows one pair in %d (%d of %d); the figures use all of them, and the CSV lists them all.",
			step, (n+step-1)/step, n)
	}
	var pts []scatterPoint
	for i := 0; i < res.PairCount(); i += step {
		pr := res.Pair(i)
		pts = append(pts, scatterPoint{X: float64(pr.Engagement), Y: float64(pr.Customer),
			Title: fmt.Sprintf("%s, %s %s: %s %.1f, %s %.1f (%d ratings)", pr.Team, v.Unit, pr.Period, xLabel, float64(pr.Engagement),
				report.CustomerLabel(p.Customer), float64(pr.Customer), pr.Ratings)})
	}
	xMin, xMax := 0.0, 100.0
	if p.Measure == pulse.MeasureENPS {
		xMin = -100
	}
	yMin, yMax := 0.0, 100.0
	switch p.Customer {
	case tandem.MetricNPS:
		yMin = -100
	case tandem.MetricCES:
		yMin, yMax = 1, 7
	}
	v.Scatter = scatterChart(pts, res.Fit, xLabel, yLabel, xMin, xMax, yMin, yMax)
	v.LagChart = lagChart(res.Lags, p.Lag, v.Units)
	for _, l := range res.Lags {
		v.LagRows = append(v.LagRows, lagRow{Lag: l.Lag, R: report.F2(l.R), CI: ci(l.CILow, l.CIHigh), P: report.FormatP(l.P), N: strconv.Itoa(l.N), Chosen: l.Lag == p.Lag})
	}
	for _, d := range res.Drivers {
		score, change := "—", "—"
		if !math.IsNaN(float64(d.Score)) {
			score = strconv.FormatFloat(float64(d.Score), 'f', 0, 64)
		}
		if !math.IsNaN(float64(d.Change)) {
			change = strconv.FormatFloat(float64(d.Change), 'f', 0, 64)
			if change != "0" && !strings.HasPrefix(change, "-") {
				change = "+" + change
			}
			change = strings.Replace(change, "-", "−", 1)
		}
		v.Drivers = append(v.Drivers, driverRow{Label: d.Label, R: report.F2(d.R), CI: ci(d.CILow, d.CIHigh), P: report.FormatP(d.P),
			Q: report.FormatP(d.Q), N: strconv.Itoa(d.N), REng: report.F2(d.REngagement), Score: score, Change: change, Priority: report.F2(d.Priority)})
	}
	scan := res.LagScan
	var points []report.LagPoint
	for _, l := range scan.Lags {
		points = append(points, report.LagPoint{Lag: l.Periods, Coef: report.Coef{R: l.R, CILow: l.CILow, CIHigh: l.CIHigh, P: l.PAdj, N: l.N}})
		v.WithinLagRows = append(v.WithinLagRows, withinLagRow{Lag: strconv.Itoa(l.Periods), R: report.F2(l.R), CI: ci(l.CILow, l.CIHigh),
			PAdj: report.FormatP(l.PAdj), N: strconv.Itoa(l.N), Significant: l.Significant, Chosen: l.Periods == p.Lag})
	}
	v.WithinLagChart = lagChart(points, p.Lag, v.Units)
	v.BetweenMinR, v.WithinMinR, v.Persistence = report.F2(res.Power.BetweenMinR), report.F2(res.Power.WithinMinR), report.F2(scan.Persistence)
	v.ExampleR = strconv.FormatFloat(float64(res.Power.ExampleR), 'g', -1, 64)
	for _, b := range []string{"very strong", "strong", "moderate", "weak", "lack"} {
		v.Bands = append(v.Bands, bandRow{Band: b, Count: res.Agreement.RWGBands[b]})
	}
	return s.render(c, "correlation", pageData{Title: "Engagement and customers", Nav: "reports", Data: v})
}
