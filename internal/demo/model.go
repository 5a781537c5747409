package demo

import (
	"math"
	"math/rand/v2"
	"time"
)

// The demo's hidden truth: every unit's engagement level, week by week,
// on the 1–5 agreement scale (before person and answer noise). Exits, pulse
// answers and customer ratings all follow it, so that the reports have a
// real relationship to find.
//
//	level(u, w) = team(u) + drift(u, w) + org(w)
//	team(u)     ~ normal(0, TeamSD), lasting
//	drift(u, w) = DriftKeep·drift(u, w−1) + normal(0, DriftSD)
//	org(w)      = OrgSwing·sin(2π·w/52 + 1): the company moves together
type model struct {
	// Start is the Monday of week 0; weeks run to the current week.
	Start time.Time
	Weeks int
	// Level maps a unit path ("Customer Experience/Support/Tier 2") to
	// its level per week.
	Level map[string][]float64
}

const (
	TeamSD    = 0.45
	DriftSD   = 0.08
	DriftKeep = 0.9
	OrgSwing  = 0.15
	// HistoryWeeks is how far back the model (exits, customer ratings)
	// goes; the pulse history is its last PulseWeeks.
	HistoryWeeks = 104
	PulseWeeks   = 52
)

func newModel(rng *rand.Rand, paths []string, now time.Time) *model {
	monday := mondayOf(now)
	m := &model{Start: monday.AddDate(0, 0, -7*HistoryWeeks), Weeks: HistoryWeeks + 1, Level: map[string][]float64{}}
	team := map[string]float64{}
	drift := map[string]float64{}
	for _, p := range paths {
		team[p] = rng.NormFloat64() * TeamSD
		// Start each walk from its stationary spread.
		drift[p] = rng.NormFloat64() * DriftSD / math.Sqrt(1-DriftKeep*DriftKeep)
	}
	for w := 0; w < m.Weeks; w++ {
		org := OrgSwing * math.Sin(2*math.Pi*float64(w)/52+1)
		for _, p := range paths {
			drift[p] = DriftKeep*drift[p] + rng.NormFloat64()*DriftSD
			m.Level[p] = append(m.Level[p], team[p]+drift[p]+org)
		}
	}
	return m
}

// at returns a unit's level in the week containing t (clamped to the
// model's weeks).
func (m *model) at(path string, t time.Time) float64 {
	lv := m.Level[path]
	if len(lv) == 0 {
		return 0
	}
	w := int(t.Sub(m.Start).Hours() / (24 * 7))
	return lv[max(0, min(w, len(lv)-1))]
}

func mondayOf(t time.Time) time.Time {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}
