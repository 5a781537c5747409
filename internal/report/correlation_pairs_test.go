package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// pairListOf holds ps as a report holds its pairs: each with a team and
// two periods of its own.
func pairListOf(ps []Pair) pairList {
	l := pairList{lag: 1}
	for i, p := range ps {
		l.teams = append(l.teams, pairTeam{p.Team, p.TeamID})
		l.dates = append(l.dates, p.Period, p.CustomerPeriod)
		l.team, l.period = append(l.team, int32(i)), append(l.period, int32(2*i))
		l.engagement, l.customer = append(l.engagement, float64(p.Engagement)), append(l.customer, float64(p.Customer))
		l.respondents, l.ratings = append(l.respondents, int32(p.Respondents)), append(l.ratings, int32(p.Ratings))
	}
	return l
}

// Pages cut the report's pairs in order, without gaps or overlaps; a page
// past the last is empty and still says how many pairs there are.
func TestPairsPagesCoverEveryPairOnce(t *testing.T) {
	var ps []Pair
	for i := range 25 {
		ps = append(ps, Pair{TeamID: int64(i), Team: fmt.Sprint("T", i), Period: "2025-01-06", CustomerPeriod: fmt.Sprint("c", i),
			Engagement: Num(i), Customer: Num(-i), Ratings: 5 + i, Respondents: 7 + i})
	}
	c := &Correlation{pairs: pairListOf(ps)}
	if got := c.Pairs(); fmt.Sprint(got) != fmt.Sprint(ps) {
		t.Fatalf("the pairs read back as\n%v\nwant\n%v", got, ps)
	}
	var got []int64
	for page := 1; page <= 4; page++ {
		pg := c.PairsPage(page, 10)
		if pg.NPairs != 25 || pg.Pages != 3 || pg.Page != page || pg.PerPage != 10 {
			t.Errorf("page %d: n_pairs %d, pages %d, page %d, per_page %d; want 25, 3, %d, 10", page, pg.NPairs, pg.Pages, pg.Page, pg.PerPage, page)
		}
		for _, p := range pg.Pairs {
			got = append(got, p.TeamID)
		}
		if page == 4 && (pg.Pairs == nil || len(pg.Pairs) != 0) {
			t.Errorf("page past the last: %v, want an empty list", pg.Pairs)
		}
	}
	if len(got) != 25 {
		t.Fatalf("pages hold %d pairs, want 25", len(got))
	}
	for i, id := range got {
		if id != int64(i) {
			t.Fatalf("pair %d on the pages is team %d: %v", i, id, got)
		}
	}
	if pg := (&Correlation{}).PairsPage(1, 10); pg.Pages != 0 || len(pg.Pairs) != 0 {
		t.Errorf("no pairs: %d pages, %d pairs", pg.Pages, len(pg.Pairs))
	}
}

func TestParsePairsPageNamesTheBadParameter(t *testing.T) {
	for _, tc := range []struct {
		page, perPage string
		want          string // field of the error, "" for none
		wantPage      int
		wantPer       int
	}{
		{"", "", "", 1, DefaultPairsPerPage},
		{"3", "50", "", 3, 50},
		{"0", "", "page", 0, 0},
		{"x", "", "page", 0, 0},
		{"", "0", "per_page", 0, 0},
		{"", fmt.Sprint(MaxPairsPerPage + 1), "per_page", 0, 0},
	} {
		get := func(name string) string { return map[string]string{"page": tc.page, "per_page": tc.perPage}[name] }
		page, per, err := ParsePairsPage(get)
		if tc.want == "" {
			if err != nil || page != tc.wantPage || per != tc.wantPer {
				t.Errorf("page=%q per_page=%q: %d, %d, %v; want %d, %d", tc.page, tc.perPage, page, per, err, tc.wantPage, tc.wantPer)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("page=%q per_page=%q: error %v, want one naming %s", tc.page, tc.perPage, err, tc.want)
		}
	}
}

// The report's JSON does not grow with its pairs: 20 teams or 600 teams
// over two years of weeks give the same few kilobytes, far under the
// 200 KB that issue 19 allows at 2,500 teams, while all the pairs stay
// reachable page by page.
func TestReportJSONSizeDoesNotGrowWithThePairs(t *testing.T) {
	size := func(teams int) (int, *Correlation) {
		c, err := BuildCorrelation(noLinkFixture(teams, 104, 7).input(weekParams(104)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return len(b), c
	}
	small, _ := size(20)
	large, c := size(600)
	if c.NPairs < 600*100 {
		t.Fatalf("600 teams × 104 weeks gave %d pairs; the test needs the pairs it claims", c.NPairs)
	}
	if large > 200_000 {
		t.Errorf("report JSON with %d pairs is %d bytes, want under 200 KB", c.NPairs, large)
	}
	if large > small+2_000 {
		t.Errorf("report JSON grows with the pairs: %d bytes at 20 teams, %d at 600 (%d pairs)", small, large, c.NPairs)
	}
	var seen int
	pages := c.PairsPage(1, MaxPairsPerPage).Pages
	for p := 1; p <= pages; p++ {
		seen += len(c.PairsPage(p, MaxPairsPerPage).Pairs)
	}
	if seen != c.NPairs {
		t.Errorf("the pages hold %d pairs, the report %d", seen, c.NPairs)
	}
	t.Logf("report JSON: %d bytes at 20 teams, %d bytes at 600 teams (%d pairs)", small, large, c.NPairs)
}
