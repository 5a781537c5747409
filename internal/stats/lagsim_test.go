package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// simOrg describes a simulated organisation for the lag-recovery tests. The
// model follows internal/demo (model.go, customers.go, pulse.go):
//
//	engagement x(i,w) = 3.6 + team_i + s_i(w) + org(w) + noise,  noise ~ N(0, EngagementNoise)
//	customers  y(i,w) = 4 + cteam_i + Pull·s_i(w − Lag) + corg(w) + N(0, 0.3)
//	s_i(w) = φ_i·s_i(w−1) + N(0, 0.08),  φ_i ~ uniform(0.8, 0.9)   (the demo: DriftKeep 0.9, DriftSD 0.08)
//	team_i ~ N(0, 0.45) (demo TeamSD),  cteam_i ~ N(0, 0.3)
//	org(w)  = 0.15·sin(2πw/52 + θ) + k(w),  k(w) = 0.7·k(w−1) + N(0, 0.05)   (company-wide swings: the demo's OrgSwing plus shocks)
//	corg(w) = 0.1·sin(2πw/52 + θ') + 0.5·k(w)   (customers share the company's swings at lag 0)
//
// EngagementNoise 0.15 is the sampling noise of a team-week mean in the
// demo: about 8 respondents answering 3 index items with answer noise 0.6
// (0.6/√24 = 0.12), plus who happened to answer (person SD 0.45). The
// customer noise 0.3 is the demo's weekly CSAT mean over about 15 ratings.
// Pull 1 is the demo's CSAT response to engagement on the 1–5 score scale
// (logistic slope 2.2 near p = 0.8, times the score range). A share Missing
// of team-weeks has no engagement (a skipped round), and independently the
// same share no customer value.
type simOrg struct {
	Teams, Weeks, Lag int
	EngagementNoise   float64
	Pull              float64
	Missing           float64
}

// demoLike is the demo's model at a given size and planted lag.
func demoLike(teams, weeks, lag int) simOrg {
	return simOrg{Teams: teams, Weeks: weeks, Lag: lag, EngagementNoise: 0.15, Pull: 1, Missing: 0.05}
}

// generate draws one organisation's team-weeks.
func (o simOrg) generate(seed uint64) (team []string, period []int, x, y []float64) {
	rng := rand.New(rand.NewPCG(seed, 0x16))
	const pad = 2 * MaxLag
	theta, theta2 := rng.Float64()*2*math.Pi, rng.Float64()*2*math.Pi
	k := make([]float64, o.Weeks)
	for w := 1; w < o.Weeks; w++ {
		k[w] = 0.7*k[w-1] + rng.NormFloat64()*0.05
	}
	for i := range o.Teams {
		phi := 0.8 + 0.1*rng.Float64()
		base, cbase := rng.NormFloat64()*0.45, rng.NormFloat64()*0.3
		s := make([]float64, o.Weeks+2*pad) // s[w+pad] is week w
		s[0] = rng.NormFloat64() * 0.08 / math.Sqrt(1-phi*phi)
		for w := 1; w < len(s); w++ {
			s[w] = phi*s[w-1] + rng.NormFloat64()*0.08
		}
		name := fmt.Sprintf("team %03d", i)
		for w := range o.Weeks {
			org := 0.15*math.Sin(2*math.Pi*float64(w)/52+theta) + k[w]
			corg := 0.1*math.Sin(2*math.Pi*float64(w)/52+theta2) + 0.5*k[w]
			xv := 3.6 + base + s[w+pad] + org + rng.NormFloat64()*o.EngagementNoise
			yv := 4 + cbase + o.Pull*s[w+pad-o.Lag] + corg + rng.NormFloat64()*0.3
			if rng.Float64() < o.Missing {
				xv = math.NaN()
			}
			if rng.Float64() < o.Missing {
				yv = math.NaN()
			}
			team, period, x, y = append(team, name), append(period, w), append(x, xv), append(y, yv)
		}
	}
	return team, period, x, y
}
