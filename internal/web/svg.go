package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/tandem-hq/tandem/internal/report"
)

// Charts of the correlation report, drawn as inline SVG with presentation
// attributes only: the CSP allows no inline style and no script. Marks
// carry <title> elements, which browsers show on hover and screen readers
// read out.

// scatterPoint is one mark of a scatter chart.
type scatterPoint struct {
	X, Y  float64
	Title string
}

// axis maps values in [lo, hi] to pixels in [from, to] and chooses round
// tick values.
type axis struct {
	lo, hi, from, to float64
}

func (a axis) at(v float64) float64 {
	return a.from + (clamp(v, a.lo, a.hi)-a.lo)/(a.hi-a.lo)*(a.to-a.from)
}

// ticks returns about n round values between lo and hi.
func (a axis) ticks(n int) []float64 {
	step := niceStep((a.hi - a.lo) / float64(n))
	var out []float64
	for v := math.Ceil(a.lo/step) * step; v <= a.hi+step*1e-9; v += step {
		out = append(out, math.Round(v/step)*step)
	}
	return out
}

// niceStep rounds a raw step up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// dataRange returns a padded range around vs, never wider than [min, max].
func dataRange(vs []float64, min, max float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if math.IsInf(lo, 1) {
		return min, max
	}
	pad := (hi - lo) * 0.08
	if pad == 0 {
		pad = math.Max(1, math.Abs(hi)*0.05)
	}
	lo, hi = math.Max(min, lo-pad), math.Min(max, hi+pad)
	step := niceStep((hi - lo) / 5)
	return math.Max(min, math.Floor(lo/step)*step), math.Min(max, math.Ceil(hi/step)*step)
}

func fmtTick(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

const (
	chartInk   = "#1d2724"
	chartMuted = "#5b6764"
	chartGrid  = "#e3e7e5"
	chartPoint = "#2f6f5e"
	chartLine  = "#c77d12"
)

// scatterChart draws one point per pair and the least-squares line (if
// fit is not nil) over the points' range. xMin…yMax bound the axes (the
// measures' scales); the axes shrink to the data within them.
func scatterChart(points []scatterPoint, fit *report.Fit, xLabel, yLabel string, xMin, xMax, yMin, yMax float64) template.HTML {
	if len(points) == 0 {
		return ""
	}
	const w, h, left, right, top, bottom = 720.0, 420.0, 56.0, 16.0, 14.0, 52.0
	xs, ys := make([]float64, len(points)), make([]float64, len(points))
	for i, p := range points {
		xs[i], ys[i] = p.X, p.Y
	}
	xlo, xhi := dataRange(xs, xMin, xMax)
	ylo, yhi := dataRange(ys, yMin, yMax)
	ax := axis{xlo, xhi, left, w - right}
	ay := axis{ylo, yhi, h - bottom, top}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" role="img" aria-label="%s" xmlns="http://www.w3.org/2000/svg">`, w, h,
		template.HTMLEscapeString(fmt.Sprintf("Scatter plot of %s against %s, one point per team and period", yLabel, xLabel)))
	for _, v := range ay.ticks(5) {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, left, w-right, ay.at(v), ay.at(v), chartGrid)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="%s">%s</text>`, left-6, ay.at(v)+4, chartMuted, fmtTick(v))
	}
	for _, v := range ax.ticks(6) {
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s"/>`, ax.at(v), ax.at(v), top, h-bottom, chartGrid)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="%s">%s</text>`, ax.at(v), h-bottom+16, chartMuted, fmtTick(v))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="%s">%s</text>`, (left+w-right)/2, h-10, chartInk, template.HTMLEscapeString(xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.1f" font-size="12" text-anchor="middle" fill="%s" transform="rotate(-90 14 %.1f)">%s</text>`,
		(top+h-bottom)/2, chartInk, (top+h-bottom)/2, template.HTMLEscapeString(yLabel))
	for _, p := range points {
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s" fill-opacity="0.55"><title>%s</title></circle>`,
			ax.at(p.X), ay.at(p.Y), chartPoint, template.HTMLEscapeString(p.Title))
	}
	if fit != nil {
		// The line over the range of the data only: no extrapolation.
		x0, x1 := math.Inf(1), math.Inf(-1)
		for _, x := range xs {
			x0, x1 = math.Min(x0, x), math.Max(x1, x)
		}
		a, s := float64(fit.Intercept), float64(fit.Slope)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5"><title>%s</title></line>`,
			ax.at(x0), ay.at(a+s*x0), ax.at(x1), ay.at(a+s*x1), chartLine,
			template.HTMLEscapeString(fmt.Sprintf("Least-squares line: %s = %.2f %+.3f × %s", yLabel, a, s, xLabel)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// lagChart draws r at each lag as a point with a vertical whisker for its
// 95 % interval, a zero line, and the chosen lag marked.
// lagAxisLabel says what a lag means; negative lags are customers before.
func lagAxisLabel(lags []report.LagPoint, unit string) string {
	if len(lags) > 0 && lags[0].Lag < 0 {
		return "Lag: customer measure this many " + unit + " after engagement (negative: before)"
	}
	return "Lag: customer measure this many " + unit + " after engagement"
}

func lagChart(lags []report.LagPoint, chosen int, unit string) template.HTML {
	if len(lags) == 0 {
		return ""
	}
	const w, h, left, right, top, bottom = 720.0, 240.0, 56.0, 16.0, 14.0, 44.0
	ay := axis{-1, 1, h - bottom, top}
	step := (w - left - right) / float64(len(lags))
	x := func(i int) float64 { return left + step*(float64(i)+0.5) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" role="img" aria-label="Correlation r at each lag with 95%% confidence intervals" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for _, v := range []float64{-1, -0.5, 0, 0.5, 1} {
		stroke, width := chartGrid, 1.0
		if v == 0 {
			stroke, width = chartMuted, 1.2
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`, left, w-right, ay.at(v), ay.at(v), stroke, width)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="%s">%s</text>`, left-6, ay.at(v)+4, chartMuted, fmtTick(v))
	}
	for i, l := range lags {
		label := fmt.Sprintf("%d", l.Lag)
		if l.Lag == chosen {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#eef5f2"/>`, x(i)-step/2+2, top, step-4, h-top-bottom)
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="%s">%s</text>`, x(i), h-bottom+16, chartMuted, label)
		r := float64(l.R)
		if math.IsNaN(r) {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="%s">n/a<title>lag %d: not enough pairs (n = %d)</title></text>`,
				x(i), ay.at(0)-6, chartMuted, l.Lag, l.N)
			continue
		}
		title := fmt.Sprintf("lag %d %s: r = %s", l.Lag, unit, report.F2(l.R))
		if lo, hi := float64(l.CILow), float64(l.CIHigh); !math.IsNaN(lo) {
			title += fmt.Sprintf(", 95 %% CI %s to %s", report.F2(l.CILow), report.F2(l.CIHigh))
			fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`, x(i), x(i), ay.at(lo), ay.at(hi), chartPoint)
			for _, v := range []float64{lo, hi} {
				fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`, x(i)-6, x(i)+6, ay.at(v), ay.at(v), chartPoint)
			}
		}
		title += fmt.Sprintf(", n = %d", l.N)
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="5" fill="%s"><title>%s</title></circle>`, x(i), ay.at(r), chartPoint, template.HTMLEscapeString(title))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" text-anchor="middle" fill="%s">%s</text>`, (left+w-right)/2, h-10, chartInk,
		template.HTMLEscapeString(lagAxisLabel(lags, unit)))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
