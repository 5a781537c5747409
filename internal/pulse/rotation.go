package pulse

import "sort"

// rotation is a program's pool sorted into what each round draws from.
type rotation struct {
	// core: the engagement-index items and eNPS, asked every CoreEvery
	// rounds.
	core []Question
	// always: custom questions without a driver, asked every round.
	always []Question
	// drivers: items per driver, drivers in display order.
	drivers [][]Question
}

func planRotation(pool []Question, p *Program) rotation {
	var r rotation
	byDriver := map[string][]Question{}
	qs := append([]Question(nil), pool...)
	sort.SliceStable(qs, func(i, j int) bool {
		return qs[i].Position < qs[j].Position || (qs[i].Position == qs[j].Position && qs[i].ID < qs[j].ID)
	})
	for _, q := range qs {
		if q.Retired {
			continue
		}
		switch {
		case q.InIndex || q.Driver == DriverENPS || q.Driver == DriverEngagement:
			r.core = append(r.core, q)
		case q.Driver == "":
			r.always = append(r.always, q)
		default:
			byDriver[q.Driver] = append(byDriver[q.Driver], q)
		}
	}
	for _, d := range Drivers {
		if len(byDriver[d.Key]) > 0 {
			r.drivers = append(r.drivers, byDriver[d.Key])
		}
	}
	return r
}

// driverSlots is how many driver questions a round needs so that every
// driver is asked within cycle rounds.
func (r rotation) driverSlots(cycle int) int {
	if len(r.drivers) == 0 {
		return 0
	}
	return ceilDiv(len(r.drivers), cycle)
}

// RoundQuestions picks the questions of round number seq (1-based) from the
// pool: the core items when seq is a core round, the always-asked custom
// questions, then drivers in turn so that each is asked at least once every
// DriverCycle rounds, taking each driver's items in turn across its
// appearances. Spare capacity takes further drivers in the same order.
func RoundQuestions(pool []Question, p *Program, seq int) []Question {
	r := planRotation(pool, p)
	var out []Question
	if p.CoreEvery <= 1 || (seq-1)%p.CoreEvery == 0 {
		out = append(out, r.core...)
	}
	out = append(out, r.always...)
	n := len(r.drivers)
	if n == 0 {
		return out
	}
	slots := p.QuestionsPerRound - len(out)
	need := r.driverSlots(p.DriverCycle)
	if slots < need {
		slots = need
	}
	if slots > n {
		slots = n
	}
	// Round seq starts where the previous round stopped.
	start := ((seq - 1) * slots) % n
	for i := 0; i < slots; i++ {
		d := (start + i) % n
		items := r.drivers[d]
		// How many times driver d has come up before this round.
		turn := ((seq-1)*slots + i) / n
		out = append(out, items[turn%len(items)])
	}
	return out
}
