// Package retention computes headcount, turnover and retention from
// periods of employment — pure functions, no I/O. A rehired person has two
// periods; each counts on its own.
package retention

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Stint is one period of employment: from Hired to Exited (zero while
// still employed). Units lists the unit the person was in from each date
// on, oldest first; the first entry applies from Hired.
type Stint struct {
	EmployeeID int64
	Hired      time.Time
	Exited     time.Time
	// Voluntary and Involuntary say how the stint ended; neither when the
	// exit type was not recorded (it counts as unknown, never as either).
	Voluntary   bool
	Involuntary bool
	Regretted   bool
	Units       []UnitFrom
}

// UnitFrom is a unit membership starting on a day.
type UnitFrom struct {
	From   time.Time
	UnitID int64
}

// EmployedOn reports whether the stint covers day: hired on or before it
// and not exited on or before it (the exit day is the first day away).
func (s *Stint) EmployedOn(day time.Time) bool {
	if !s.Hired.IsZero() && s.Hired.After(day) {
		return false
	}
	return s.Exited.IsZero() || s.Exited.After(day)
}

// UnitOn returns the unit the person was in on day (0 if none known).
func (s *Stint) UnitOn(day time.Time) int64 {
	var unit int64
	for _, u := range s.Units {
		if u.From.After(day) {
			break
		}
		unit = u.UnitID
	}
	if unit == 0 && len(s.Units) > 0 {
		unit = s.Units[0].UnitID
	}
	return unit
}

// Turnover is what happened in one unit (with its subtree) over one period.
type Turnover struct {
	From, To time.Time // the period: [From, To)
	// HeadcountStart counts people employed on From; HeadcountEnd those
	// employed on the last day of the period.
	HeadcountStart, HeadcountEnd int
	// Exits are stints that ended in the period while in the unit:
	// Voluntary + Involuntary + Unknown (no exit type recorded).
	Exits, Voluntary, Regretted, Involuntary, Unknown int
}

// AverageHeadcount is (start + end) / 2.
func (t Turnover) AverageHeadcount() float64 {
	return float64(t.HeadcountStart+t.HeadcountEnd) / 2
}

// Rate is exits ÷ average headcount; NaN with no one employed.
func (t Turnover) Rate() float64 { return rate(t.Exits, t.AverageHeadcount()) }

// VoluntaryRate and RegrettedRate are the same for voluntary and regretted
// exits.
func (t Turnover) VoluntaryRate() float64 { return rate(t.Voluntary, t.AverageHeadcount()) }
func (t Turnover) RegrettedRate() float64 { return rate(t.Regretted, t.AverageHeadcount()) }

// Annualised scales a period's rate to a year: rate × 365.25 / days.
func (t Turnover) Annualised(rate float64) float64 {
	days := t.To.Sub(t.From).Hours() / 24
	if days <= 0 {
		return math.NaN()
	}
	return rate * 365.25 / days
}

func rate(n int, avg float64) float64 {
	if avg <= 0 {
		return math.NaN()
	}
	return float64(n) / avg
}

// Compute counts headcount and exits for the units in inUnit (a unit and
// its subtree, say) over [from, to). A person counts in the unit they were
// in on the day counted; an exit counts in the unit the person was in on
// their last day.
func Compute(stints []Stint, inUnit func(int64) bool, from, to time.Time) Turnover {
	t := Turnover{From: from, To: to}
	last := to.AddDate(0, 0, -1)
	for i := range stints {
		s := &stints[i]
		if s.EmployedOn(from) && inUnit(s.UnitOn(from)) {
			t.HeadcountStart++
		}
		if s.EmployedOn(last) && inUnit(s.UnitOn(last)) {
			t.HeadcountEnd++
		}
		if !s.Exited.IsZero() && !s.Exited.Before(from) && s.Exited.Before(to) {
			lastDay := s.Exited.AddDate(0, 0, -1)
			if !inUnit(s.UnitOn(lastDay)) {
				continue
			}
			t.countExit(s)
		}
	}
	return t
}

// countExit adds s's exit under its type: voluntary (and regretted),
// involuntary, or unknown when the type was not recorded.
func (t *Turnover) countExit(s *Stint) {
	t.Exits++
	switch {
	case s.Voluntary:
		t.Voluntary++
		if s.Regretted {
			t.Regretted++
		}
	case s.Involuntary:
		t.Involuntary++
	default:
		t.Unknown++
	}
}

// Periods splits [from, to) into months ("month"), quarters ("quarter") or
// returns the one trailing-twelve-months window ending at to ("ttm").
func Periods(kind string, from, to time.Time) [][2]time.Time {
	from, to = tandem.Today(from), tandem.Today(to)
	if kind == "ttm" {
		return [][2]time.Time{{to.AddDate(-1, 0, 0), to}}
	}
	months := 1
	if kind == "quarter" {
		months = 3
	}
	start := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	if months == 3 {
		start = time.Date(from.Year(), time.Month((int(from.Month())-1)/3*3+1), 1, 0, 0, 0, 0, time.UTC)
	}
	var out [][2]time.Time
	for p := start; p.Before(to); p = p.AddDate(0, months, 0) {
		out = append(out, [2]time.Time{p, p.AddDate(0, months, 0)})
	}
	return out
}

// Tenure buckets for the distribution of current tenure.
var TenureBuckets = []struct {
	Label  string
	Months int // upper bound, exclusive; 0 for none
}{
	{"under 6 months", 6}, {"6–12 months", 12}, {"1–2 years", 24}, {"2–5 years", 60}, {"5 years or more", 0},
}

// TenureDistribution counts people employed on day in the units by tenure
// bucket.
func TenureDistribution(stints []Stint, inUnit func(int64) bool, day time.Time) []int {
	out := make([]int, len(TenureBuckets))
	for i := range stints {
		s := &stints[i]
		if s.Hired.IsZero() || !s.EmployedOn(day) || !inUnit(s.UnitOn(day)) {
			continue
		}
		m := monthsBetween(s.Hired, day)
		b := len(TenureBuckets) - 1
		for j, tb := range TenureBuckets {
			if tb.Months > 0 && m < tb.Months {
				b = j
				break
			}
		}
		out[b]++
	}
	return out
}

func monthsBetween(a, b time.Time) int {
	m := (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	if b.Day() < a.Day() {
		m--
	}
	return m
}

// SurvivalPoint is one step of a Kaplan–Meier curve.
type SurvivalPoint struct {
	// Time is when the step happens, in the unit of the durations given.
	Time float64
	// AtRisk is how many were still observed just before Time; Events
	// how many ended at Time.
	AtRisk, Events int
	// Survival is the estimated share remaining after Time.
	Survival float64
	// CILow and CIHigh are a 95 % interval (Greenwood variance on the
	// log(−log S) scale, as R's survfit with conf.type = "log-log");
	// NaN where undefined.
	CILow, CIHigh float64
}

// Observation is one duration: an event (an exit) after Duration, or
// censored (still employed when observed) when Event is false.
type Observation struct {
	Duration float64
	Event    bool
}

// KaplanMeier estimates the survival curve S(t) = Π (1 − d_i/n_i) over the
// distinct event times t_i, where d_i ended at t_i and n_i were at risk
// just before it. A censored observation at an event time counts as at
// risk at that time (the usual convention). NaN or negative durations are
// ignored. The curve has one point per event time, in order.
func KaplanMeier(obs []Observation) []SurvivalPoint {
	var xs []Observation
	for _, o := range obs {
		if !math.IsNaN(o.Duration) && o.Duration >= 0 && !math.IsInf(o.Duration, 0) {
			xs = append(xs, o)
		}
	}
	// Ties are counted together below, so their order does not matter.
	slices.SortFunc(xs, func(a, b Observation) int { return cmp.Compare(a.Duration, b.Duration) })
	var out []SurvivalPoint
	s, varSum := 1.0, 0.0
	atRisk := len(xs)
	for i := 0; i < len(xs); {
		t := xs[i].Duration
		d, c := 0, 0
		for i < len(xs) && xs[i].Duration == t {
			if xs[i].Event {
				d++
			} else {
				c++
			}
			i++
		}
		if d > 0 {
			s *= 1 - float64(d)/float64(atRisk)
			p := SurvivalPoint{Time: t, AtRisk: atRisk, Events: d, Survival: s, CILow: math.NaN(), CIHigh: math.NaN()}
			if atRisk > d {
				varSum += float64(d) / (float64(atRisk) * float64(atRisk-d))
			} else {
				varSum = math.Inf(1)
			}
			if s > 0 && s < 1 && !math.IsInf(varSum, 0) {
				// log-log interval: exp(−exp(log(−log S) ± z·se)),
				// se = sqrt(varSum) / |log S|.
				se := math.Sqrt(varSum) / math.Abs(math.Log(s))
				l := math.Log(-math.Log(s))
				p.CILow = math.Exp(-math.Exp(l + 1.959963984540054*se))
				p.CIHigh = math.Exp(-math.Exp(l - 1.959963984540054*se))
			}
			out = append(out, p)
		}
		atRisk -= d + c
	}
	return out
}

// RateRatio compares two event rates, a events over exposure ta against b
// over tb, with a 95 % interval from the normal approximation on the log
// scale: exp(log RR ± 1.96·sqrt(1/a + 1/b)). NaN when a or b is 0 or an
// exposure is not positive.
func RateRatio(a int, ta float64, b int, tb float64) (rr, lo, hi float64) {
	if a <= 0 || b <= 0 || ta <= 0 || tb <= 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	rr = (float64(a) / ta) / (float64(b) / tb)
	se := math.Sqrt(1/float64(a) + 1/float64(b))
	return rr, rr * math.Exp(-1.959963984540054*se), rr * math.Exp(1.959963984540054*se)
}

// ComputeAll is Compute for every unit at once, each unit counting its
// whole subtree: one pass over the stints, each adding to its unit and
// that unit's ancestors (up gives the chain of a unit: itself, its parent
// … its root). It is what a report on hundreds of units uses instead of
// one Compute per unit.
func ComputeAll(stints []Stint, up func(unit int64) []int64, from, to time.Time) map[int64]*Turnover {
	out := map[int64]*Turnover{}
	get := func(u int64) *Turnover {
		t := out[u]
		if t == nil {
			t = &Turnover{From: from, To: to}
			out[u] = t
		}
		return t
	}
	last := to.AddDate(0, 0, -1)
	for i := range stints {
		s := &stints[i]
		if s.EmployedOn(from) {
			for _, u := range up(s.UnitOn(from)) {
				get(u).HeadcountStart++
			}
		}
		if s.EmployedOn(last) {
			for _, u := range up(s.UnitOn(last)) {
				get(u).HeadcountEnd++
			}
		}
		if !s.Exited.IsZero() && !s.Exited.Before(from) && s.Exited.Before(to) {
			for _, u := range up(s.UnitOn(s.Exited.AddDate(0, 0, -1))) {
				get(u).countExit(s)
			}
		}
	}
	return out
}
