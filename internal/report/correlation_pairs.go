package report

import "math"

// The report's JSON carries figures, not the raw team-period pairs: at
// 2,500 teams and two years of weeks the pairs alone are tens of
// megabytes. They come from the CSV export (WriteCorrelationCSV) or page
// by page (PairsPage), both of the same report.

// Pair pages: the default and the largest page a caller may ask for.
const (
	DefaultPairsPerPage = 1000
	MaxPairsPerPage     = 10_000
)

// PairsPage is one page of a report's pairs, in the report's order.
type PairsPage struct {
	Params CorrelationParams `json:"params"`
	NPairs int               `json:"n_pairs"`
	// Page counts from 1; Pages is the number of pages (0 without pairs).
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	Pages   int    `json:"pages"`
	Pairs   []Pair `json:"pairs"`
}

// ParsePairsPage reads the page and per_page parameters through get ("" for
// a parameter not given): page from 1 (default 1), per_page from 1 to
// MaxPairsPerPage (default DefaultPairsPerPage).
func ParsePairsPage(get func(name string) string) (page, perPage int, err error) {
	if page, err = intParam(get("page"), "page", 1, 1, math.MaxInt32, "page must be a whole number of at least 1; got %q"); err != nil {
		return 0, 0, err
	}
	if perPage, err = intParam(get("per_page"), "per_page", DefaultPairsPerPage, 1, MaxPairsPerPage,
		"per_page must be a whole number from 1 to %d; got %q", MaxPairsPerPage); err != nil {
		return 0, 0, err
	}
	return page, perPage, nil
}

// PairsPage returns page (from 1) of c's pairs, perPage to a page. A page
// past the last is empty, not an error: the count says how many there are.
func (c *Correlation) PairsPage(page, perPage int) PairsPage {
	if perPage < 1 {
		perPage = DefaultPairsPerPage
	}
	if page < 1 {
		page = 1
	}
	n := c.PairCount()
	out := PairsPage{Params: c.Params, NPairs: n, Page: page, PerPage: perPage, Pages: (n + perPage - 1) / perPage, Pairs: []Pair{}}
	if lo := (page - 1) * perPage; lo < n {
		for i := lo; i < min(lo+perPage, n); i++ {
			out.Pairs = append(out.Pairs, c.Pair(i))
		}
	}
	return out
}
