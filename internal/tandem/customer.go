package tandem

import (
	"math"
	"time"
)

// Customer metrics.
const (
	MetricCSAT = "csat" // 1–5; satisfied = 4 or 5
	MetricNPS  = "nps"  // 0–10; promoters 9–10, detractors 0–6
	MetricCES  = "ces"  // customer effort, 1–7
)

// MetricRange returns the allowed scores of a metric.
func MetricRange(metric string) (lo, hi float64, ok bool) {
	switch metric {
	case MetricCSAT:
		return 1, 5, true
	case MetricNPS:
		return 0, 10, true
	case MetricCES:
		return 1, 7, true
	}
	return 0, 0, false
}

// Rating is one customer's rating of an interaction with a team.
type Rating struct {
	ID         int64
	Source     string
	ExternalID string
	OccurredAt time.Time
	UnitID     int64
	// AgentID is the employee who served the customer, when known.
	AgentID int64
	Metric  string
	Score   float64
	Comment string
}

// Period kinds for customer metrics and reports.
const (
	Week  = "week"
	Month = "month"
)

// PeriodStart returns the first day of the period containing day: the
// Monday of its ISO week, or the first of its month (UTC dates).
func PeriodStart(kind string, day time.Time) time.Time {
	d := Today(day)
	if kind == Month {
		return time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	offset := (int(d.Weekday()) + 6) % 7 // Monday = 0
	return d.AddDate(0, 0, -offset)
}

// NextPeriod returns the start of the period after the one starting at p.
func NextPeriod(kind string, p time.Time) time.Time {
	if kind == Month {
		return p.AddDate(0, 1, 0)
	}
	return p.AddDate(0, 0, 7)
}

// CustomerTotals accumulate one metric's ratings.
type CustomerTotals struct {
	N, Top, Promoters, Detractors int
	Sum                           float64
}

// Add counts one score of metric.
func (t *CustomerTotals) Add(metric string, score float64) { t.count(metric, score, 1) }

// Remove takes back a score Add counted, when a stored rating is replaced
// by its corrected version.
func (t *CustomerTotals) Remove(metric string, score float64) { t.count(metric, score, -1) }

// count adds sign (1 or −1) times one score: which box a score falls in is
// decided here only.
func (t *CustomerTotals) count(metric string, score float64, sign int) {
	t.N += sign
	t.Sum += float64(sign) * score
	switch metric {
	case MetricCSAT:
		if score >= 4 {
			t.Top += sign
		}
	case MetricNPS:
		if score >= 9 {
			t.Promoters += sign
		} else if score <= 6 {
			t.Detractors += sign
		}
	}
}

// Merge adds o to t.
func (t *CustomerTotals) Merge(o CustomerTotals) {
	t.N += o.N
	t.Sum += o.Sum
	t.Top += o.Top
	t.Promoters += o.Promoters
	t.Detractors += o.Detractors
}

// Mean is the mean score; NaN without ratings.
func (t CustomerTotals) Mean() float64 {
	if t.N == 0 {
		return math.NaN()
	}
	return t.Sum / float64(t.N)
}

// TopShare is the CSAT share of ratings in the top two boxes, in percent.
func (t CustomerTotals) TopShare() float64 {
	if t.N == 0 {
		return math.NaN()
	}
	return 100 * float64(t.Top) / float64(t.N)
}

// NPS is % promoters − % detractors.
func (t CustomerTotals) NPS() float64 {
	if t.N == 0 {
		return math.NaN()
	}
	return 100 * float64(t.Promoters-t.Detractors) / float64(t.N)
}

// Headline is the number a report uses for metric: CSAT % satisfied, NPS,
// or CES mean.
func (t CustomerTotals) Headline(metric string) float64 {
	switch metric {
	case MetricCSAT:
		return t.TopShare()
	case MetricNPS:
		return t.NPS()
	}
	return t.Mean()
}

// CustomerTotalsRow is one unit's totals of one metric in one period.
type CustomerTotalsRow struct {
	// Period is the first day of the week (its Monday) or month.
	Period time.Time
	UnitID int64
	Metric string
	CustomerTotals
}
