package report

import (
	"fmt"
	"strings"
	"testing"
)

// Pages cut the report's pairs in order, without gaps or overlaps; a page
// past the last is empty and still says how many pairs there are.
func TestPairsPagesCoverEveryPairOnce(t *testing.T) {
	c := &Correlation{}
	for i := range 25 {
		c.Pairs = append(c.Pairs, Pair{TeamID: int64(i)})
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
