package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The demo's pulse model, on the 1–5 agreement scale. Each team has a
// lasting level (normal, sd TeamSD) and a weekly drift (an AR(1) walk:
// x[w] = DriftKeep·x[w−1] + normal(0, DriftSD)); each person a lasting
// offset (sd PersonSD); each team a lasting offset per driver (sd
// DriverSD); each answer noise (sd NoiseSD). An answer is
// round(Center + team + drift + person + driver + noise), clamped to 1…5.
// eNPS answers are round(7.8 + 1.8·(team + drift + person) + normal(0,
// 1.2)), clamped to 0…10. The whole company also moves together: a slow
// swing of ±0.15 over the year (OrgSwing). Participation per team is
// uniform in 60–90 %.
const (
	Center    = 3.6
	TeamSD    = 0.45
	DriftSD   = 0.08
	DriftKeep = 0.9
	PersonSD  = 0.45
	DriverSD  = 0.35
	NoiseSD   = 0.6
	OrgSwing  = 0.15
	// Weeks of pulse history.
	Weeks = 52
)

// History is the demo's hidden truth: each unit's engagement level by
// week (on the 1–5 scale, before person and answer noise), so that later
// parts of the demo (customer ratings, exits) can follow it.
type History struct {
	Program pulse.Program
	// Weeks holds the Monday of each round, oldest first.
	Weeks []time.Time
	// Level maps a unit id to its level per week.
	Level map[int64][]float64
	// OpenRound is the round still taking answers; Links are a few of its
	// answer links.
	OpenRound pulse.Round
	Links     []string
}

var positiveComments = []string{
	"Really enjoying the new on-call rota, much fairer.",
	"My manager made time for a proper career chat this month.",
	"Great teamwork on the last release.",
	"Customers have been noticeably happier since we fixed the refund flow.",
	"Thanks for the new laptops, they make a big difference.",
	"I like that we now hear customer feedback every week.",
}

var negativeComments = []string{
	"Too many tickets for the team size; we keep cutting corners.",
	"Priorities change every week and nobody explains why.",
	"I don't see how I can grow here.",
	"The tooling slows us down when customers are waiting.",
	"Workload has been unsustainable since two people left.",
	"Decisions that affect us are made without asking us.",
}

// generatePulse creates a weekly program for the whole organisation and a
// year of rounds with answers, then one open round.
func generatePulse(ctx context.Context, st *store.Store, rng *rand.Rand, tree *tandem.Tree, now time.Time, baseURL string) (*History, error) {
	p := pulse.Defaults()
	p.Name = "Weekly pulse"
	p.AudienceUnitID = tree.Roots()[0]
	p.TimeZone = "Europe/Dublin"
	p.WindowDays = 7
	p.Channel = pulse.ChannelLog
	if err := st.SaveProgram(ctx, &p); err != nil {
		return nil, err
	}
	sched, err := pulse.ParseSchedule(p.Cron, p.TimeZone)
	if err != nil {
		return nil, err
	}
	// The program "existed" a year ago.
	start := now.AddDate(0, 0, -7*Weeks-3)
	var slots []time.Time
	for t := sched.Next(start); !t.After(now); t = sched.Next(t) {
		slots = append(slots, t)
	}
	h := &History{Program: p, Weeks: slots, Level: map[int64][]float64{}}

	// Team levels and drivers.
	units := tree.Walk()
	teamLevel := map[int64]float64{}
	drift := map[int64]float64{}
	driverOff := map[int64]map[string]float64{}
	participation := map[int64]float64{}
	for _, u := range units {
		teamLevel[u.ID] = rng.NormFloat64() * TeamSD
		driverOff[u.ID] = map[string]float64{}
		for _, d := range pulse.Drivers {
			driverOff[u.ID][d.Key] = rng.NormFloat64()*DriverSD + 0.3*teamLevel[u.ID]
		}
		participation[u.ID] = 0.6 + 0.3*rng.Float64()
	}
	personOff := map[int64]float64{}
	for w := range slots {
		org := OrgSwing * math.Sin(2*math.Pi*float64(w)/float64(len(slots))+1)
		for _, u := range units {
			drift[u.ID] = DriftKeep*drift[u.ID] + rng.NormFloat64()*DriftSD
			h.Level[u.ID] = append(h.Level[u.ID], teamLevel[u.ID]+drift[u.ID]+org)
		}
	}
	for w, slot := range slots {
		last := w == len(slots)-1
		round, _, err := st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			return nil, err
		}
		if err := st.CancelRoundMessages(ctx, round.ID, "demo: history, not sent"); err != nil {
			return nil, err
		}
		qs, err := st.RoundQuestions(ctx, round.ID)
		if err != nil {
			return nil, err
		}
		invs, err := st.RoundInvitations(ctx, round.ID)
		if err != nil {
			return nil, err
		}
		var rs []store.RecordedResponse
		for _, inv := range invs {
			share := participation[inv.UnitID]
			if last {
				share *= 0.5 // the open round is half way
			}
			if rng.Float64() > share {
				continue
			}
			if _, ok := personOff[inv.EmployeeID]; !ok {
				personOff[inv.EmployeeID] = rng.NormFloat64() * PersonSD
			}
			latent := h.Level[inv.UnitID][w] + personOff[inv.EmployeeID]
			r := store.RecordedResponse{InvitationID: inv.ID}
			for _, q := range qs {
				switch q.Kind {
				case pulse.Likert5:
					v := Center + latent + driverOff[inv.UnitID][q.Driver] + rng.NormFloat64()*NoiseSD
					r.Answers = append(r.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(v, 1, 5), HasValue: true})
				case pulse.Scale010:
					v := 7.8 + 1.8*latent + rng.NormFloat64()*1.2
					r.Answers = append(r.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(v, 0, 10), HasValue: true})
				}
			}
			if rng.Float64() < 0.07 {
				pool := positiveComments
				if latent < -0.2 {
					pool = negativeComments
				}
				r.Comment = pool[rng.IntN(len(pool))]
			}
			rs = append(rs, r)
		}
		if err := st.RecordResponses(ctx, round.ID, rs); err != nil {
			return nil, err
		}
		if last {
			h.OpenRound = round
			n := 0
			for _, inv := range invs {
				if n == 5 {
					break
				}
				answered := false
				for _, r := range rs {
					if r.InvitationID == inv.ID {
						answered = true
					}
				}
				if answered {
					continue
				}
				token := auth.NewToken()
				if err := st.AddInvitationToken(ctx, inv.ID, auth.HashToken(token)); err != nil {
					return nil, err
				}
				h.Links = append(h.Links, fmt.Sprintf("%s/p/%s", baseURL, token))
				n++
			}
		}
	}
	if _, err := st.CloseDueRounds(ctx, now); err != nil {
		return nil, err
	}
	return h, nil
}

func clampRound(v, lo, hi float64) float64 {
	return math.Max(lo, math.Min(hi, math.Round(v)))
}

// Location is the program's time zone.
func (h *History) Location() *time.Location {
	if loc, err := time.LoadLocation(h.Program.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}
