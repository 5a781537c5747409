package web

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// link returns the href of the link whose text is text, as a browser reads
// it (entities decoded), failing the test when the page has none.
func link(t *testing.T, body, text string) string {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]*)"[^>]*>` + regexp.QuoteMeta(text) + `<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the page has no link %q", text)
	}
	return html.UnescapeString(m[1])
}

// Each filter of the correlation page reaches its CSV and JSON downloads:
// the page is loaded with every filter away from its default, and the
// files its links give are those filters' report, not the default one.
func TestCorrelationDownloadLinksKeepEveryFilter(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	c := app.client()
	c.login("admin@example.com")
	from := tandem.FormatDate(tandem.PeriodStart(tandem.Month, timeNow().AddDate(0, -3, 0)))
	to := tandem.FormatDate(tandem.Today(timeNow()))
	filters := url.Values{"measure": {"enps"}, "period": {"month"}, "lag": {"1"}, "min_ratings": {"3"},
		"unit": {"Acme/Care"}, "from": {from}, "to": {to}}
	page := c.get("/reports/correlation?" + filters.Encode())
	if page.status != http.StatusOK {
		t.Fatalf("page: %d\n%s", page.status, page.body)
	}

	jsonURL := link(t, page.body, "JSON")
	js := c.get(jsonURL)
	if js.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", jsonURL, js.status, js.body)
	}
	var res report.Correlation
	if err := json.Unmarshal([]byte(js.body), &res); err != nil {
		t.Fatal(err)
	}
	got := res.Params
	if got.Measure != "enps" || got.Period != "month" || got.Lag != 1 || got.MinRatings != 3 || got.Unit != "Acme / Care" ||
		tandem.FormatDate(got.From) != from || tandem.FormatDate(got.To) != to {
		t.Errorf("the JSON link %s gives the report of measure %s, period %s, lag %d, min_ratings %d, unit %q, %s to %s; want enps, month, 1, 3, Acme/Care, %s to %s",
			jsonURL, got.Measure, got.Period, got.Lag, got.MinRatings, got.Unit, tandem.FormatDate(got.From), tandem.FormatDate(got.To), from, to)
	}

	csvURL := link(t, page.body, "Download the pairs (CSV)")
	csv := c.get(csvURL)
	if csv.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", csvURL, csv.status, csv.body)
	}
	lines := strings.Split(strings.TrimSpace(csv.body), "\n")[1:]
	if len(lines) < 4 || len(lines) != res.NPairs {
		t.Fatalf("the CSV link %s gives %d pairs, the JSON of the same filters %d", csvURL, len(lines), res.NPairs)
	}
	for _, l := range lines {
		f := strings.Split(l, ",")
		// Care's teams only; months (their first day), and customers one
		// month later.
		d, _ := tandem.ParseDate(f[2])
		if !strings.HasPrefix(f[0], "Acme / Care / ") || d.Day() != 1 || tandem.FormatDate(d.AddDate(0, 1, 0)) != f[3] {
			t.Errorf("the CSV link %s gives pair %q: want a Care team, a month and the customer month after it", csvURL, l)
		}
	}
	if def := c.get("/reports/correlation.csv"); def.body == csv.body {
		t.Errorf("the CSV link %s gives the default report's file", csvURL)
	}
}

// The retention page's downloads carry its unit, period and dates.
func TestRetentionDownloadLinksKeepEveryFilter(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 8})
	c := app.client()
	c.login("hr@example.com")
	today := tandem.Today(timeNow())
	ago := today.AddDate(-1, 0, 0)
	from := tandem.FormatDate(time.Date(ago.Year(), (ago.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC))
	to := tandem.FormatDate(today)
	filters := url.Values{"unit": {fmt.Sprint(app.units["Sales"])}, "period": {"quarter"}, "from": {from}, "to": {to}}
	page := c.get("/reports/retention?" + filters.Encode())
	if page.status != http.StatusOK {
		t.Fatalf("page: %d\n%s", page.status, page.body)
	}

	jsonURL := link(t, page.body, "JSON")
	js := c.get(jsonURL)
	if js.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", jsonURL, js.status, js.body)
	}
	var res report.Retention
	if err := json.Unmarshal([]byte(js.body), &res); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(res.Scope, "Sales") || len(res.Periods) == 0 || res.Periods[0].From != from || len(res.Periods) > 5 {
		t.Errorf("the JSON link %s gives scope %q with %d periods from %v; want Sales, at most 5 quarters from %s",
			jsonURL, res.Scope, len(res.Periods), res.Periods, from)
	}
	for _, p := range res.Periods {
		if p.To > to {
			t.Errorf("the JSON link %s gives a period %+v past %s", jsonURL, p, to)
		}
	}

	csvURL := link(t, page.body, "Download (CSV)")
	csv := c.get(csvURL)
	if csv.status != http.StatusOK || !strings.HasPrefix(csv.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("GET %s: %d %s", csvURL, csv.status, csv.body)
	}
	var periods []string
	for _, l := range strings.Split(strings.TrimSpace(csv.body), "\n")[1:] {
		f := strings.Split(l, ",")
		if f[0] == "period" && f[5] == "exits" {
			periods = append(periods, f[2])
			if !strings.HasSuffix(f[1], "Sales") {
				t.Errorf("the CSV link %s gives a period row of %q, not Sales: %q", csvURL, f[1], l)
			}
		}
	}
	if len(periods) != len(res.Periods) || periods[0] != res.Periods[0].Label {
		t.Errorf("the CSV link %s gives periods %v; the JSON of the same filters %d from %q", csvURL, periods, len(res.Periods), res.Periods[0].Label)
	}
}
