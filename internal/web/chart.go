package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"github.com/tandem-hq/tandem/internal/report"
)

// Series is one line of a chart.
type Series struct {
	Name  string
	Color string
	// Values line up with the chart's labels; NaN leaves a gap.
	Values []float64
}

// lineChart draws an inline SVG line chart: no script, no external
// resources. Points carry <title> elements, so hovering names the value.
func lineChart(labels []string, series []Series, yMin, yMax float64, yUnit string) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 260.0, 44.0, 12.0, 14.0, 44.0
	if len(labels) == 0 {
		return ""
	}
	if yMin >= yMax {
		yMin, yMax = 0, 100
	}
	x := func(i int) float64 {
		if len(labels) == 1 {
			return left + (w-left-right)/2
		}
		return left + float64(i)*(w-left-right)/float64(len(labels)-1)
	}
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-(v-yMin)/(yMax-yMin)) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" role="img" aria-label="chart" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for i := 0; i <= 4; i++ {
		v := yMin + float64(i)*(yMax-yMin)/4
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e3e7e5"/>`, left, w-right, y(v), y(v))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#5b6764">%s</text>`, left-6, y(v)+4, template.HTMLEscapeString(fmt.Sprintf("%.0f%s", v, yUnit)))
	}
	step := int(math.Ceil(float64(len(labels)) / 8))
	for i, l := range labels {
		if i%step != 0 && (i != len(labels)-1 || i%step < step/2+1) {
			continue
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#5b6764">%s</text>`, x(i), h-bottom+16, template.HTMLEscapeString(l))
	}
	for si, s := range series {
		var path strings.Builder
		pen := false
		for i, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f ", cmd, x(i), y(clamp(v, yMin, yMax)))
			pen = true
		}
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2.5"/>`, strings.TrimSpace(path.String()), s.Color)
		for i, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %s: %.1f</title></circle>`,
				x(i), y(clamp(v, yMin, yMax)), s.Color, template.HTMLEscapeString(s.Name), template.HTMLEscapeString(labels[i]), v)
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="4" fill="%s"/><text x="%.1f" y="%.1f" font-size="12" fill="#1d2724">%s</text>`,
			left+float64(si)*250, h-12, s.Color, left+float64(si)*250+16, h-7, template.HTMLEscapeString(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// heatClass maps a 0–100 score to one of eleven colour classes (h0 red …
// h10 green) defined in app.css; the page's CSP allows no inline styles.
func heatClass(v float64) string {
	if math.IsNaN(v) {
		return "hna"
	}
	return fmt.Sprintf("h%d", int(math.Round(clamp(v, 0, 100)/10)))
}

// stepChart draws survival curves (step functions from 100 % at time 0)
// with x in months, as inline SVG.
func stepChart(curves []report.SurvivalCurve, colors []string) template.HTML {
	const w, h, left, right, top, bottom = 720.0, 260.0, 44.0, 12.0, 14.0, 48.0
	maxX := 12.0
	for _, c := range curves {
		for _, p := range c.Points {
			maxX = math.Max(maxX, p.Time)
		}
	}
	maxX = math.Ceil(maxX/12) * 12
	x := func(v float64) float64 { return left + v/maxX*(w-left-right) }
	y := func(v float64) float64 { return top + (h-top-bottom)*(1-v) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" role="img" aria-label="share still employed by months of tenure" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#e3e7e5"/><text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#5b6764">%.0f%%</text>`,
			left, w-right, y(v), y(v), left-6, y(v)+4, v*100)
	}
	for m := 0.0; m <= maxX; m += 12 {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#5b6764">%.0f</text>`, x(m), h-bottom+16, m)
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#5b6764">months since hire</text>`, (left+w-right)/2, h-bottom+30)
	for i, c := range curves {
		color := colors[i%len(colors)]
		var path strings.Builder
		fmt.Fprintf(&path, "M%.1f %.1f", x(0), y(1))
		for _, p := range c.Points {
			fmt.Fprintf(&path, " H%.1f V%.1f", x(p.Time), y(p.Survival))
		}
		fmt.Fprintf(&path, " H%.1f", x(maxX))
		fmt.Fprintf(&b, `<path d="%s" fill="none" stroke="%s" stroke-width="2.2"><title>%s</title></path>`, path.String(), color, template.HTMLEscapeString(c.Unit))
		if i < 4 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="4" fill="%s"/><text x="%.1f" y="%.1f" font-size="12" fill="#1d2724">%s</text>`,
				left+float64(i)*170, h-10, color, left+float64(i)*170+16, h-5, template.HTMLEscapeString(shortName(c.Unit)))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func shortName(path string) string {
	if i := strings.LastIndex(path, " / "); i >= 0 {
		return path[i+3:]
	}
	return path
}
