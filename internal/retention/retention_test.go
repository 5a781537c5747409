package retention

import (
	"math"
	"testing"
	"time"
)

func d(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func near(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= tol
}

// The remission times of the 6-MP group of Freireich et al. (1963), the
// worked example of Kleinbaum & Klein, "Survival Analysis: A Self-Learning
// Text" (3rd ed., Springer 2012), chapter 2, whose Kaplan–Meier table gives
// S(t) = .8571, .8067, .7529, .6902, .6275, .5378, .4482 at weeks 6, 7, 10,
// 13, 16, 22, 23. "+" marks censored times.
var sixMP = "6 6 6 6+ 7 9+ 10 10+ 11+ 13 16 17+ 19+ 20+ 22 23 25+ 32+ 32+ 34+ 35+"

func parseTimes(s string) []Observation {
	var out []Observation
	var v float64
	var cens bool
	num := ""
	flush := func() {
		if num == "" {
			return
		}
		v = 0
		for _, c := range num {
			v = v*10 + float64(c-'0')
		}
		out = append(out, Observation{Duration: v, Event: !cens})
		num, cens = "", false
	}
	for _, c := range s + " " {
		switch {
		case c >= '0' && c <= '9':
			num += string(c)
		case c == '+':
			cens = true
		default:
			flush()
		}
	}
	return out
}

func TestKaplanMeierMatchesThePublishedSixMPExample(t *testing.T) {
	curve := KaplanMeier(parseTimes(sixMP))
	want := []struct {
		time           float64
		atRisk, events int
		survival       float64
		// 95 % log-log interval from R 4.2.2, survival 3.5.3:
		//   t <- c(6,6,6,6,7,9,10,10,11,13,16,17,19,20,22,23,25,32,32,34,35)
		//   e <- c(1,1,1,0,1,0,1,0,0,1,1,0,0,0,1,1,0,0,0,0,0)
		//   summary(survfit(Surv(t,e)~1, conf.type="log-log"))
		lo, hi float64
	}{
		{6, 21, 3, .8571, 0.6197179553, 0.9515517476},
		{7, 17, 1, .8067, 0.5631465646, 0.9228090192},
		{10, 15, 1, .7529, 0.5031995108, 0.8893618352},
		{13, 12, 1, .6902, 0.4316102225, 0.8490659633},
		{16, 11, 1, .6275, 0.3675108560, 0.8049121895},
		{22, 7, 1, .5378, 0.2677789368, 0.7467907176},
		{23, 6, 1, .4482, 0.1880520060, 0.6801426285},
	}
	if len(curve) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(curve), len(want), curve)
	}
	for i, w := range want {
		got := curve[i]
		if got.Time != w.time || got.AtRisk != w.atRisk || got.Events != w.events {
			t.Errorf("step %d: t=%v n=%d d=%d, want t=%v n=%d d=%d", i, got.Time, got.AtRisk, got.Events, w.time, w.atRisk, w.events)
		}
		if !near(got.Survival, w.survival, 0.00005) {
			t.Errorf("S(%v) = %.5f, want %.4f (Kleinbaum & Klein)", w.time, got.Survival, w.survival)
		}
		if !near(got.CILow, w.lo, 1e-8) || !near(got.CIHigh, w.hi, 1e-8) {
			t.Errorf("CI at %v = %.10f…%.10f, want %.10f…%.10f (R survfit, log-log)", w.time, got.CILow, got.CIHigh, w.lo, w.hi)
		}
	}
}

func TestKaplanMeierEdgeCases(t *testing.T) {
	if c := KaplanMeier(nil); len(c) != 0 {
		t.Errorf("no observations: %v", c)
	}
	if c := KaplanMeier([]Observation{{5, false}, {7, false}}); len(c) != 0 {
		t.Errorf("only censored: %v, want no steps", c)
	}
	c := KaplanMeier([]Observation{{3, true}, {math.NaN(), true}, {-1, true}})
	if len(c) != 1 || c[0].Survival != 0 || !math.IsNaN(c[0].CILow) {
		t.Errorf("one event and bad values: %+v, want S=0 with no interval", c)
	}
}

// A small unit in January 2026, worked by hand:
//
//	Ana  in A all month                     → counted at start and end
//	Ben  in A, leaves voluntarily 2026-01-15 (regretted)
//	Cara joins A 2026-01-10                 → end only
//	Dev  in A, fired 2026-01-31 (last day 30) → start, exit
//	Eve  in B all month                     → not counted
//	Fay  moves B → A on 2026-01-20          → end only
//	Gus  left A in 2025, rehired into A 2026-01-25: two stints, the old
//	     one counts nowhere in January, the new one at the end
//
// Start: Ana, Ben, Dev = 3. End (Jan 31): Ana, Cara, Fay, Gus = 4
// (Dev's exit day is the 31st, so he is gone on the 31st). Exits: Ben
// (voluntary, regretted), Dev (involuntary) = 2. Average headcount 3.5;
// rate 2/3.5 = 0.5714; voluntary 1/3.5 = 0.2857; annualised voluntary
// 0.2857 × 365.25/31 = 3.3664.
func TestTurnoverInAMonthWithJoinersLeaversMovesAndARehire(t *testing.T) {
	const A, B = 1, 2
	in := func(u int64) bool { return u == A }
	stints := []Stint{
		{EmployeeID: 1, Hired: d("2020-01-01"), Units: []UnitFrom{{d("2020-01-01"), A}}},
		{EmployeeID: 2, Hired: d("2021-01-01"), Exited: d("2026-01-15"), Voluntary: true, Regretted: true, Units: []UnitFrom{{d("2021-01-01"), A}}},
		{EmployeeID: 3, Hired: d("2026-01-10"), Units: []UnitFrom{{d("2026-01-10"), A}}},
		{EmployeeID: 4, Hired: d("2022-05-01"), Exited: d("2026-01-31"), Involuntary: true, Units: []UnitFrom{{d("2022-05-01"), A}}},
		{EmployeeID: 5, Hired: d("2022-05-01"), Units: []UnitFrom{{d("2022-05-01"), B}}},
		{EmployeeID: 6, Hired: d("2019-03-01"), Units: []UnitFrom{{d("2019-03-01"), B}, {d("2026-01-20"), A}}},
		{EmployeeID: 7, Hired: d("2018-01-01"), Exited: d("2025-06-01"), Voluntary: true, Units: []UnitFrom{{d("2018-01-01"), A}}},
		{EmployeeID: 7, Hired: d("2026-01-25"), Units: []UnitFrom{{d("2026-01-25"), A}}},
	}
	got := Compute(stints, in, d("2026-01-01"), d("2026-02-01"))
	if got.HeadcountStart != 3 || got.HeadcountEnd != 4 {
		t.Errorf("headcount %d → %d, want 3 → 4", got.HeadcountStart, got.HeadcountEnd)
	}
	if got.Exits != 2 || got.Voluntary != 1 || got.Regretted != 1 || got.Involuntary != 1 || got.Unknown != 0 {
		t.Errorf("exits %+v, want 2 (1 voluntary regretted, 1 involuntary)", got)
	}
	if !near(got.Rate(), 2/3.5, 1e-12) || !near(got.VoluntaryRate(), 1/3.5, 1e-12) {
		t.Errorf("rates %.4f, %.4f; want 0.5714, 0.2857", got.Rate(), got.VoluntaryRate())
	}
	if a := got.Annualised(got.VoluntaryRate()); !near(a, 1/3.5*365.25/31, 1e-9) {
		t.Errorf("annualised voluntary %.4f, want 3.3664", a)
	}
	// Unit B lost Fay by a move, which is not an exit.
	b := Compute(stints, func(u int64) bool { return u == B }, d("2026-01-01"), d("2026-02-01"))
	if b.HeadcountStart != 2 || b.HeadcountEnd != 1 || b.Exits != 0 {
		t.Errorf("unit B: %+v, want 2 → 1 with no exits", b)
	}
	// An empty unit has no rate.
	e := Compute(stints, func(u int64) bool { return u == 99 }, d("2026-01-01"), d("2026-02-01"))
	if e.HeadcountStart != 0 || !math.IsNaN(e.Rate()) {
		t.Errorf("empty unit: %+v rate %v, want NaN", e, e.Rate())
	}
}

// An exit whose type was never recorded is neither voluntary nor
// involuntary: it counts as an exit of unknown type, in Compute and
// ComputeAll alike.
func TestAnExitWithoutATypeIsUnknownNotInvoluntary(t *testing.T) {
	stints := []Stint{
		{Hired: d("2020-01-01"), Exited: d("2026-01-10"), Voluntary: true, Units: []UnitFrom{{d("2020-01-01"), 1}}},
		{Hired: d("2020-01-01"), Exited: d("2026-01-12"), Involuntary: true, Units: []UnitFrom{{d("2020-01-01"), 1}}},
		{Hired: d("2020-01-01"), Exited: d("2026-01-14"), Units: []UnitFrom{{d("2020-01-01"), 1}}},
		{Hired: d("2020-01-01"), Exited: d("2026-01-16"), Units: []UnitFrom{{d("2020-01-01"), 1}}},
	}
	from, to := d("2026-01-01"), d("2026-02-01")
	got := Compute(stints, func(int64) bool { return true }, from, to)
	if got.Exits != 4 || got.Voluntary != 1 || got.Involuntary != 1 || got.Unknown != 2 {
		t.Errorf("Compute: %+v, want 4 exits: 1 voluntary, 1 involuntary, 2 unknown", got)
	}
	all := ComputeAll(stints, func(u int64) []int64 { return []int64{u} }, from, to)
	if *all[1] != got {
		t.Errorf("ComputeAll %+v, Compute %+v", *all[1], got)
	}
}

func TestPeriodsAndTenure(t *testing.T) {
	ps := Periods("quarter", d("2026-02-10"), d("2026-08-01"))
	if len(ps) != 3 || !ps[0][0].Equal(d("2026-01-01")) || !ps[2][1].Equal(d("2026-10-01")) {
		t.Errorf("quarters %v", ps)
	}
	if ttm := Periods("ttm", d("2020-01-01"), d("2026-03-01")); len(ttm) != 1 || !ttm[0][0].Equal(d("2025-03-01")) {
		t.Errorf("ttm %v", ttm)
	}
	in := func(int64) bool { return true }
	stints := []Stint{
		{Hired: d("2026-01-01"), Units: []UnitFrom{{d("2026-01-01"), 1}}}, // 2 months
		{Hired: d("2025-03-02"), Units: []UnitFrom{{d("2025-03-02"), 1}}}, // 11 months 27 days
		{Hired: d("2025-03-01"), Units: []UnitFrom{{d("2025-03-01"), 1}}}, // exactly 12 months
		{Hired: d("2019-01-01"), Units: []UnitFrom{{d("2019-01-01"), 1}}},
		{Hired: d("2019-01-01"), Exited: d("2020-01-01"), Units: []UnitFrom{{d("2019-01-01"), 1}}},
	}
	got := TenureDistribution(stints, in, d("2026-03-01"))
	want := []int{1, 1, 1, 0, 1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("tenure %v, want %v", got, want)
		}
	}
}

func TestRateRatio(t *testing.T) {
	// 30 exits over 200 person-years against 10 over 250: RR = 3.75;
	// log-scale 95 % CI from R 4.2.2:
	//   exp(log(3.75) + c(-1,1)*qnorm(.975)*sqrt(1/30+1/10))
	//   [1] 1.833227698 7.670896538
	rr, lo, hi := RateRatio(30, 200, 10, 250)
	if !near(rr, 3.75, 1e-12) || !near(lo, 1.833227698, 1e-8) || !near(hi, 7.670896538, 1e-8) {
		t.Errorf("RR %.4f (%.9f–%.9f), want 3.75 (1.833227698–7.670896538)", rr, lo, hi)
	}
	if rr, _, _ := RateRatio(0, 10, 3, 10); !math.IsNaN(rr) {
		t.Errorf("zero events: %v, want NaN", rr)
	}
}

func TestComputeAllAgreesWithComputePerUnit(t *testing.T) {
	// Units: 1 ← 2 ← 3, and 1 ← 4.
	parent := map[int64]int64{2: 1, 3: 2, 4: 1}
	up := func(u int64) []int64 {
		var chain []int64
		for ; u != 0; u = parent[u] {
			chain = append(chain, u)
		}
		return chain
	}
	inSub := func(root int64) func(int64) bool {
		return func(u int64) bool {
			for _, x := range up(u) {
				if x == root {
					return true
				}
			}
			return false
		}
	}
	stints := []Stint{
		{Hired: d("2020-01-01"), Units: []UnitFrom{{d("2020-01-01"), 3}}},
		{Hired: d("2020-01-01"), Exited: d("2026-01-10"), Voluntary: true, Regretted: true, Units: []UnitFrom{{d("2020-01-01"), 3}}},
		{Hired: d("2021-01-01"), Exited: d("2026-01-20"), Units: []UnitFrom{{d("2021-01-01"), 4}}},
		{Hired: d("2026-01-05"), Units: []UnitFrom{{d("2026-01-05"), 2}}},
		{Hired: d("2019-01-01"), Units: []UnitFrom{{d("2019-01-01"), 4}, {d("2026-01-15"), 3}}},
	}
	from, to := d("2026-01-01"), d("2026-02-01")
	all := ComputeAll(stints, up, from, to)
	for _, u := range []int64{1, 2, 3, 4} {
		want := Compute(stints, inSub(u), from, to)
		got := all[u]
		if got == nil || *got != want {
			t.Errorf("unit %d: ComputeAll %+v, Compute %+v", u, got, want)
		}
	}
}
