package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Pulse answers, on the 1–5 agreement scale: round(Center + level +
// person + driver + noise), clamped to 1…5, with a lasting person offset
// (sd PersonSD), a lasting offset per team and driver (sd DriverSD, a
// little tied to the team's level) and answer noise (sd NoiseSD). eNPS
// answers are round(7.8 + 1.8·(level + person) + normal(0, 1.2)), clamped
// to 0…10. Participation per team is uniform in 60–90 %.
//
// Internal service: about half of the respondents rate one provider team
// (not their own), round(3.7 + provider quality + normal(0, 0.7)) with a
// lasting quality per provider (sd 0.5).
const (
	Center   = 3.6
	PersonSD = 0.45
	DriverSD = 0.35
	NoiseSD  = 0.6
)

// serviceProviders are the demo's internal-service providers.
var serviceProviders = []string{
	"Product & Engineering/Platform/Infrastructure",
	"People & Finance/People/People Partners",
	"Sales/Sales Operations",
	"Operations/Facilities",
	"Operations/Procurement",
	"People & Finance/Finance/Accounting",
}

// History is what the demo's pulse part made.
type History struct {
	Program pulse.Program
	// Weeks holds the slot of each round, oldest first.
	Weeks []time.Time
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

// modelPath turns a unit's path ("Lumen & Co / Sales / EMEA") into the
// model's ("Sales/EMEA").
func modelPath(u *tandem.Unit) string {
	p := strings.TrimPrefix(u.Path, Company)
	p = strings.TrimPrefix(p, tandem.PathSeparator)
	return strings.ReplaceAll(p, tandem.PathSeparator, "/")
}

// generatePulse creates a weekly program for the whole organisation and a
// year of rounds with answers, then one open round.
func generatePulse(ctx context.Context, st *store.Store, rng *rand.Rand, tree *tandem.Tree, m *model, now time.Time, baseURL string) (*History, error) {
	// The internal-service question, asked every round.
	var providers []int64
	for _, p := range serviceProviders {
		if u := tree.ByPath(append([]string{Company}, strings.Split(p, "/")...)); u != nil {
			providers = append(providers, u.ID)
		}
	}
	service := &pulse.Question{Text: "How well does this team support the work of yours?", Kind: pulse.Service, Providers: providers,
		// A custom question with its translations, as HR would give them.
		Translations: map[string]pulse.Translation{
			"de":    {Text: "Wie gut unterstützt dieses Team Ihre Arbeit?"},
			"fr":    {Text: "Dans quelle mesure cette équipe soutient-elle votre travail ?"},
			"es":    {Text: "¿En qué medida este equipo apoya tu trabajo?"},
			"pt-BR": {Text: "Em que medida esta equipe apoia o seu trabalho?"},
		}}
	if err := st.CreateQuestion(ctx, service); err != nil {
		return nil, err
	}
	qs, err := st.Questions(ctx)
	if err != nil {
		return nil, err
	}
	p := pulse.Defaults()
	p.Name = "Weekly pulse"
	p.AudienceUnitID = tree.Roots()[0]
	p.Cadence.Zone = "Europe/Dublin"
	p.WindowDays = 7
	p.QuestionsPerRound = 8 // 3 index items, eNPS, internal service, 3 drivers
	p.Channel = pulse.ChannelLog
	for _, q := range qs {
		if q.Builtin || q.ID == service.ID {
			p.QuestionIDs = append(p.QuestionIDs, q.ID)
		}
	}
	start := now.AddDate(0, 0, -7*PulseWeeks-3)
	p.Cadence.Start = start.Format(time.DateOnly)
	if err := st.SaveProgram(ctx, &p); err != nil {
		return nil, err
	}
	sched, err := p.Schedule()
	if err != nil {
		return nil, err
	}
	var slots []time.Time
	for t := sched.Next(start); !t.After(now); t = sched.Next(t) {
		slots = append(slots, t)
	}
	h := &History{Program: p, Weeks: slots}
	quality := map[int64]float64{}
	for _, id := range providers {
		quality[id] = rng.NormFloat64() * 0.5
	}
	units := tree.Walk()
	driverOff := map[int64]map[string]float64{}
	participation := map[int64]float64{}
	for _, u := range units {
		driverOff[u.ID] = map[string]float64{}
		lvl := m.at(modelPath(u), now)
		for _, d := range pulse.Drivers {
			driverOff[u.ID][d.Key] = rng.NormFloat64()*DriverSD + 0.3*lvl
		}
		participation[u.ID] = 0.6 + 0.3*rng.Float64()
	}
	personOff := map[int64]float64{}
	for w, slot := range slots {
		last := w == len(slots)-1
		round, _, err := st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			return nil, err
		}
		// The open round's invitations stay queued: the demo server sends
		// them through its log transport when it starts, whatever the day,
		// to those who have not answered, as it would after an outage.
		if !last {
			if err := st.CancelRoundMessages(ctx, round.ID, "demo: history, not sent"); err != nil {
				return nil, err
			}
		}
		rqs, err := st.RoundQuestions(ctx, round.ID)
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
			latent := m.at(modelPath(tree.Unit(inv.UnitID)), slot) + personOff[inv.EmployeeID]
			r := store.RecordedResponse{InvitationID: inv.ID}
			for _, q := range rqs {
				switch q.Kind {
				case pulse.Likert5:
					v := Center + latent + driverOff[inv.UnitID][q.Driver] + rng.NormFloat64()*NoiseSD
					r.Answers = append(r.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(v, 1, 5), HasValue: true})
				case pulse.Scale010:
					v := 7.8 + 1.8*latent + rng.NormFloat64()*1.2
					r.Answers = append(r.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(v, 0, 10), HasValue: true})
				case pulse.Service:
					if rng.Float64() < 0.5 && len(q.Providers) > 0 {
						prov := q.Providers[rng.IntN(len(q.Providers))]
						if prov == inv.UnitID {
							continue
						}
						v := 3.7 + quality[prov] + rng.NormFloat64()*0.7
						r.Answers = append(r.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(v, 1, 5), HasValue: true, ProviderUnitID: prov})
					}
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
			answered := map[int64]bool{}
			for _, r := range rs {
				answered[r.InvitationID] = true
			}
			for _, inv := range invs {
				if len(h.Links) == 5 {
					break
				}
				if answered[inv.ID] {
					continue
				}
				token := auth.NewToken()
				if err := st.AddInvitationToken(ctx, inv.ID, auth.HashToken(token)); err != nil {
					return nil, err
				}
				h.Links = append(h.Links, fmt.Sprintf("%s/p/%s", baseURL, token))
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
	if loc, err := tandem.LoadLocation(h.Program.Cadence.Zone); err == nil {
		return loc
	}
	return time.UTC
}
