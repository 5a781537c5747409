package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/retention"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Customer ratings follow the team's engagement LagWeeks weeks earlier:
//
//	CSAT (support, fulfilment, success): satisfied with probability
//	  logistic(CSATBase + CSATPull·level(w − LagWeeks) + normal(0, 0.2)),
//	  scored 4 or 5 when satisfied (5 with probability 0.6), else 1–3
//	NPS (sales): round(8 + 2.5·level(w − LagWeeks) + normal(0, 1.5)), 0…10
//	CES (success): round(3 − 1.5·level(w − LagWeeks) + normal(0, 1)), 1…7
//
// Weekly volume per team is Poisson with the team's mean (Volume), over
// the model's two years. Each rating is attributed to an agent of the
// team on that day (by email in a real feed; here by id).
const (
	LagWeeks = 4
	CSATBase = 1.4
	CSATPull = 2.2
)

type ratingTeam struct {
	path   string
	metric []string
	volume float64
}

var ratingTeams = []ratingTeam{
	{"Customer Experience/Support/Tier 1 EMEA", []string{tandem.MetricCSAT}, 30},
	{"Customer Experience/Support/Tier 1 Americas", []string{tandem.MetricCSAT}, 28},
	{"Customer Experience/Support/Tier 1 APAC", []string{tandem.MetricCSAT}, 22},
	{"Customer Experience/Support/Tier 2", []string{tandem.MetricCSAT}, 14},
	{"Customer Experience/Support/Escalations", []string{tandem.MetricCSAT}, 8},
	{"Customer Experience/Success/Onboarding", []string{tandem.MetricCSAT, tandem.MetricCES}, 10},
	{"Customer Experience/Success/Enterprise Success", []string{tandem.MetricCSAT, tandem.MetricCES}, 8},
	{"Customer Experience/Success/SMB Success", []string{tandem.MetricCSAT, tandem.MetricCES}, 12},
	{"Sales/EMEA/Inside Sales", []string{tandem.MetricNPS}, 6},
	{"Sales/EMEA/Field Sales", []string{tandem.MetricNPS}, 4},
	{"Sales/Americas/Inside Sales", []string{tandem.MetricNPS}, 6},
	{"Sales/Americas/Field Sales", []string{tandem.MetricNPS}, 4},
	{"Sales/APAC/Inside Sales", []string{tandem.MetricNPS}, 4},
	{"Operations/Logistics/Warehouse North", []string{tandem.MetricCSAT}, 20},
	{"Operations/Logistics/Warehouse South", []string{tandem.MetricCSAT}, 18},
	{"Operations/Logistics/Fulfilment", []string{tandem.MetricCSAT}, 16},
}

// generateRatings stores two years of customer ratings and returns how
// many.
func generateRatings(ctx context.Context, st *store.Store, rng *rand.Rand, tree *tandem.Tree, m *model, now time.Time) (int, error) {
	stints, err := st.Stints(ctx)
	if err != nil {
		return 0, err
	}
	var rs []tandem.Rating
	n := 0
	for _, rt := range ratingTeams {
		u := tree.ByPath(append([]string{Company}, strings.Split(rt.path, "/")...))
		if u == nil {
			continue
		}
		for w := 0; w < m.Weeks; w++ {
			week := m.Start.AddDate(0, 0, 7*w)
			lag := m.at(rt.path, week.AddDate(0, 0, -7*LagWeeks))
			noise := rng.NormFloat64() * 0.2
			for _, metric := range rt.metric {
				vol := rt.volume
				if metric == tandem.MetricCES {
					vol /= 2
				}
				for i := poisson(rng, vol); i > 0; i-- {
					at := week.Add(time.Duration(rng.Int64N(int64(7 * 24 * time.Hour))))
					if at.After(now) {
						continue
					}
					var score float64
					switch metric {
					case tandem.MetricCSAT:
						p := 1 / (1 + math.Exp(-(CSATBase + CSATPull*lag + noise)))
						switch {
						case rng.Float64() < p && rng.Float64() < 0.6:
							score = 5
						case rng.Float64() < p:
							score = 4
						default:
							score = float64(1 + rng.IntN(3))
						}
					case tandem.MetricNPS:
						score = clampRound(8+2.5*lag+rng.NormFloat64()*1.5, 0, 10)
					case tandem.MetricCES:
						score = clampRound(3-1.5*lag+rng.NormFloat64(), 1, 7)
					}
					n++
					r := tandem.Rating{Source: "demo-helpdesk", ExternalID: fmt.Sprintf("demo-%d", n), OccurredAt: at.Truncate(time.Second),
						UnitID: u.ID, AgentID: agentOn(rng, stints, u.ID, at), Metric: metric, Score: score}
					rs = append(rs, r)
				}
			}
		}
	}
	if _, err := st.IngestRatings(ctx, rs, now); err != nil {
		return 0, err
	}
	return len(rs), nil
}

// agentOn picks someone who worked in unit on day t, or 0.
func agentOn(rng *rand.Rand, stints []retention.Stint, unit int64, t time.Time) int64 {
	day := tandem.Today(t)
	var ids []int64
	for i := range stints {
		s := &stints[i]
		if s.EmployedOn(day) && s.UnitOn(day) == unit {
			ids = append(ids, s.EmployeeID)
		}
	}
	if len(ids) == 0 {
		return 0
	}
	return ids[rng.IntN(len(ids))]
}

// poisson draws from a Poisson distribution with mean lambda (Knuth).
func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
