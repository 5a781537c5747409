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
	if seq < 1 {
		seq = 1
	}
	r := planRotation(pool, p)
	var out []Question
	if r.coreRound(p, seq) {
		out = append(out, r.core...)
	}
	out = append(out, r.always...)
	n := len(r.drivers)
	if n == 0 {
		return out
	}
	// Round seq starts where the previous round stopped. Rounds with and
	// without the core have room for different numbers of drivers, so the
	// start is the sum of the driver questions of all earlier rounds, not
	// (seq-1) times this round's number: otherwise rounds overlap or skip
	// drivers and the cycle's promise breaks when CoreEvery > 1.
	pos := r.driverPosition(p, seq)
	for i := 0; i < r.roundDriverSlots(p, seq); i++ {
		items := r.drivers[(pos+i)%n]
		// How many times this driver has come up before.
		turn := (pos + i) / n
		out = append(out, items[turn%len(items)])
	}
	return out
}

// coreRound reports whether round seq asks the core items.
func (r rotation) coreRound(p *Program, seq int) bool {
	return p.CoreEvery <= 1 || (seq-1)%p.CoreEvery == 0
}

// roundDriverSlots is how many driver questions round seq asks: the room
// left by the core and always-asked questions, at least what the cycle
// needs and at most one per driver.
func (r rotation) roundDriverSlots(p *Program, seq int) int {
	used := len(r.always)
	if r.coreRound(p, seq) {
		used += len(r.core)
	}
	slots := max(p.QuestionsPerRound-used, r.driverSlots(p.DriverCycle))
	return min(slots, len(r.drivers))
}

// driverPosition is how many driver questions rounds 1 … seq-1 asked.
func (r rotation) driverPosition(p *Program, seq int) int {
	period := max(1, p.CoreEvery)
	perPeriod := 0
	for k := 1; k <= period; k++ {
		perPeriod += r.roundDriverSlots(p, k)
	}
	done := seq - 1
	pos := (done / period) * perPeriod
	for k := 1; k <= done%period; k++ {
		pos += r.roundDriverSlots(p, k)
	}
	return pos
}
