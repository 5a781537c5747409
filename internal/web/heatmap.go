package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// heatTable is a heatmap as the "heatmap" template draws it: by score, or
// by difference from a comparison (?view=difference&compare=…), with the
// links that switch between the two.
type heatTable struct {
	Columns []string
	Rows    []heatRow
	Diff    bool
	// Compared names what the difference view subtracts.
	Compared string
	Views    []heatViewLink
}

type heatRow struct {
	Unit  *tandem.Unit
	Depth int
	// Parent is the parent's name, for a unit whose name another row
	// shares ("Inside Sales" under EMEA and under APAC).
	Parent string
	// Link opens the unit's results.
	Link  string
	Cells []heatCell
}

type heatCell struct {
	Text  string
	Class string
	Title string
	// Empty cells say why on hover and on keyboard focus.
	Empty bool
}

// heatViewLink is one choice of the score/difference toggle.
type heatViewLink struct {
	Label   string
	URL     string
	Current bool
}

// heatView is what a heatmap request asks for.
type heatView struct {
	Diff bool
	Cmp  report.HeatmapComparison
	// Unit narrows the rows to a unit's subtree (0: all in scope).
	Unit int64
}

// parseHeatView reads ?view= and ?compare= for a viewer with scope sc; a
// bad value is a 400 naming it. Who may compare with what is decided by
// report.ChooseComparison.
func parseHeatView(c echo.Context, tree *tandem.Tree, sc int64) (heatView, error) {
	var v heatView
	switch c.QueryParam("view") {
	case "", "score":
	case "difference":
		v.Diff = true
	default:
		return v, tandem.FieldErrorf("view", "view must be score or difference; got %q", c.QueryParam("view"))
	}
	cmp, err := report.ChooseComparison(tree, sc, c.QueryParam("compare"))
	if err != nil {
		return v, err
	}
	v.Cmp = cmp
	return v, nil
}

// diffClass maps a difference in points to one of seven classes of a
// diverging orange (below) to blue (above) scale that colour-blind
// readers can tell apart; the number is always shown too.
func diffClass(d float64, measure string) string {
	if measure == pulse.MeasureENPS {
		d /= 2 // eNPS spans 200 points, the others 100
	}
	switch {
	case d <= -10:
		return "dn3"
	case d <= -5:
		return "dn2"
	case d <= -2:
		return "dn1"
	case d < 2:
		return "d0"
	case d < 5:
		return "dp1"
	case d < 10:
		return "dp2"
	}
	return "dp3"
}

// buildHeatTable renders a program's heatmap for the viewer: the cells
// report.BuildHeatmap decided to show, as scores or as differences
// (report's Heatmap.Differences, which only subtracts shown cells). page
// and query make the toggle's links (query keeps the page's other
// parameters); unitLink makes a row's link to the unit's results.
func buildHeatTable(h report.Heatmap, tree *tandem.Tree, sc int64, v heatView, page string, query url.Values, unitLink func(*tandem.Unit) string) heatTable {
	t := heatTable{Diff: v.Diff}
	for _, m := range h.Measures {
		t.Columns = append(t.Columns, pulse.MeasureLabel(m))
	}
	// The toggle.
	link := func(view, compare string) string {
		q := url.Values{}
		for key, vals := range query {
			q[key] = vals
		}
		q.Del("view")
		q.Del("compare")
		if view != "" {
			q.Set("view", view)
			q.Set("compare", compare)
		}
		if len(q) == 0 {
			return page
		}
		return page + "?" + q.Encode()
	}
	t.Views = append(t.Views, heatViewLink{Label: "Scores", URL: link("", ""), Current: !v.Diff})
	t.Views = append(t.Views, heatViewLink{Label: "Difference from the unit above", URL: link("difference", report.CompareParent),
		Current: v.Diff && v.Cmp.Compare == report.CompareParent})
	if report.MayCompareCompany(tree, sc) {
		t.Views = append(t.Views, heatViewLink{Label: "Difference from the whole company", URL: link("difference", report.CompareCompany),
			Current: v.Diff && v.Cmp.Compare != report.CompareParent})
	} else if u := tree.Unit(sc); u != nil {
		t.Views = append(t.Views, heatViewLink{Label: "Difference from " + u.Name, URL: link("difference", report.CompareScope),
			Current: v.Diff && v.Cmp.Compare == report.CompareScope})
	}
	switch {
	case !v.Diff:
	case v.Cmp.Compare == report.CompareParent:
		t.Compared = "the unit above (the nearest one shown in that column)"
	case v.Cmp.Base != nil:
		t.Compared = v.Cmp.Base.Name
	}

	var diffs [][]report.HeatDiff
	if v.Diff {
		diffs = h.Differences(tree, v.Cmp)
	}
	names := map[string]int{}
	for _, r := range h.Rows {
		names[r.Unit.Name]++
	}
	top := math.MaxInt
	for _, r := range h.Rows {
		if v.Unit == 0 || tree.Contains(v.Unit, r.Unit.ID) {
			top = min(top, r.Depth)
		}
	}
	for i, r := range h.Rows {
		if v.Unit != 0 && !tree.Contains(v.Unit, r.Unit.ID) {
			continue
		}
		row := heatRow{Unit: r.Unit, Depth: r.Depth - top, Link: unitLink(r.Unit)}
		if names[r.Unit.Name] > 1 {
			if p := tree.Unit(r.Unit.ParentID); p != nil {
				row.Parent = p.Name
			}
		}
		for col, cell := range r.Cells {
			m := h.Measures[col]
			label := pulse.MeasureLabel(m)
			round := h.Rounds[col]
			var hc heatCell
			switch {
			case round == nil:
				hc = heatCell{Class: "hna", Empty: true, Title: fmt.Sprintf("%s · %s: not asked in the last %d rounds. Questions rotate, so it comes back in a later round.",
					r.Unit.Name, label, h.Window)}
			case !cell.Shown:
				hc = heatCell{Class: "hna", Empty: true, Title: fmt.Sprintf("%s · %s: hidden to protect anonymity: too few answers in the round of %s (a figure needs at least %d people).",
					r.Unit.Name, label, round.Period, privacy.Threshold(round.MinGroup))}
			case !v.Diff:
				color := cell.Value
				if m == pulse.MeasureENPS {
					color = (cell.Value + 100) / 2
				}
				hc = heatCell{Text: fmt.Sprintf("%.0f", cell.Value), Class: heatClass(color),
					Title: fmt.Sprintf("%s · %s · round of %s · n=%d", r.Unit.Name, label, cell.Round.Period, cell.Respondents)}
			default:
				d := diffs[i][col]
				switch {
				case d.IsRef:
					hc = heatCell{Text: "0", Class: "d0 ref", Title: fmt.Sprintf("%s · %s %.0f: the comparison · round of %s · n=%d", r.Unit.Name, label, cell.Value, cell.Round.Period, cell.Respondents)}
				case !d.Shown:
					hc = heatCell{Class: "hna", Empty: true, Title: fmt.Sprintf("%s · %s %.0f: nothing to compare with, the unit it is compared with has no figure in this column.", r.Unit.Name, label, cell.Value)}
				default:
					hc = heatCell{Text: signedPoints(d.Delta), Class: diffClass(d.Delta, m),
						Title: fmt.Sprintf("%s · %s %.0f, %s %s (%.0f) · round of %s · n=%d", r.Unit.Name, label, cell.Value,
							aboveBelow(d.Delta), d.Ref.Name, d.RefValue, cell.Round.Period, cell.Respondents)}
				}
			}
			row.Cells = append(row.Cells, hc)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// signedPoints writes a rounded difference with its sign: +4, −6, 0.
func signedPoints(d float64) string {
	r := math.Round(d)
	switch {
	case r > 0:
		return "+" + strconv.FormatFloat(r, 'f', 0, 64)
	case r < 0:
		return "−" + strconv.FormatFloat(-r, 'f', 0, 64)
	}
	return "0"
}

func aboveBelow(d float64) string {
	r := math.Round(d)
	switch {
	case r > 0:
		return fmt.Sprintf("%.0f above", r)
	case r < 0:
		return fmt.Sprintf("%.0f below", -r)
	}
	return "the same as"
}

// resultsLink is the address of a unit's results in a program.
func resultsLink(program int64) func(*tandem.Unit) string {
	return func(u *tandem.Unit) string {
		return "/results/" + strconv.FormatInt(program, 10) + "?" + url.Values{"unit": {strconv.FormatInt(u.ID, 10)}}.Encode()
	}
}
