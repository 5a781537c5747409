package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// The lag scan was reworked for speed (BENCHMARKS.md, "The lag scan,
// reworked"). These tests hold the reworked code to the implementation it
// replaced, kept in lagref_test.go, bit for bit, and the fixed-effects
// residuals to an independent dense least-squares fit.

// randomPanel draws an unbalanced panel of team and period codes: gaps,
// teams seen once, a panel split into two groups of teams and periods that
// never meet, and (when repeats is set) the same team-period more than
// once. Codes run over [0, teams) and [0, periods) but not every code is
// used.
func randomPanel(rng *rand.Rand, repeats bool) (team, period []int, teams, periods int) {
	teams, periods = 1+rng.IntN(12), 1+rng.IntN(10)
	split := rng.IntN(3) == 0 && teams > 1 && periods > 1
	missing := rng.Float64() * 0.6
	for t := range teams {
		lo, hi := 0, periods
		if split { // teams in the first half only see periods in the first half
			cut := periods / 2
			if t < teams/2 {
				hi = cut
			} else {
				lo = cut
			}
		}
		if rng.IntN(8) == 0 && hi > lo { // a singleton team
			team, period = append(team, t), append(period, lo+rng.IntN(hi-lo))
			continue
		}
		for p := lo; p < hi; p++ {
			if rng.Float64() < missing {
				continue
			}
			team, period = append(team, t), append(period, p)
			for repeats && rng.IntN(5) == 0 {
				team, period = append(team, t), append(period, p)
			}
		}
	}
	rng.Shuffle(len(team), func(i, j int) {
		team[i], team[j] = team[j], team[i]
		period[i], period[j] = period[j], period[i]
	})
	return team, period, teams, periods
}

// refTwoWayWithin is TwoWayWithin on the reference panel and fit.
func refTwoWayWithin(team []string, period []int, x, y []float64) WithinResult {
	if len(team) != len(period) || len(period) != len(x) || len(x) != len(y) {
		return TwoWayWithin(team, period, x, y)
	}
	teamOf, periodOf := map[string]int{}, map[int]int{}
	var tc, pc []int
	var xs, ys []float64
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		if _, ok := teamOf[team[i]]; !ok {
			teamOf[team[i]] = len(teamOf)
		}
		if _, ok := periodOf[period[i]]; !ok {
			periodOf[period[i]] = len(periodOf)
		}
		tc, pc = append(tc, teamOf[team[i]]), append(pc, periodOf[period[i]])
		xs, ys = append(xs, x[i]), append(ys, y[i])
	}
	res, _, _ := refWithinFit(refFEPanelCodes(tc, len(teamOf), pc, len(periodOf)), xs, ys)
	return res
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

// panelShape is everything a panel works out but its factorisation: its
// counts, each row's team and column, and each team's rows.
func panelShape(pn *fePanel) string {
	return fmt.Sprint(pn.n, pn.teams, pn.periods, pn.comps, pn.q, pn.ok, pn.team, pn.col, pn.rows)
}

// normals returns n standard normal draws.
func normals(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for k := range v {
		v[k] = rng.NormFloat64()
	}
	return v
}

func TestFEPanelMatchesTheReferenceBitForBitOnRandomUnbalancedPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 6))
	for i := range 3000 {
		team, period, teams, periods := randomPanel(rng, i%2 == 0)
		got := newFEPanelCodes(nil, team, teams, period, periods)
		want := refFEPanelCodes(team, teams, period, periods)
		if g, w := panelShape(got), fmt.Sprint(want.n, want.teams, want.periods, want.comps, want.q, want.ok, want.team, want.col, want.rows); g != w {
			t.Fatalf("panel %d: got %s, want %s", i, g, w)
		}
		if !got.ok {
			continue
		}
		v := normals(rng, len(team))
		if g, w := got.residualize(v), want.residualize(v); !sameBits(g, w) {
			t.Fatalf("panel %d: residuals\n got %v\nwant %v", i, g, w)
		}
	}
}

// denseResiduals returns the residuals of v on the team and period dummies
// by an SVD of the dense design matrix: v minus its projection on the
// column space, whatever the rank.
func denseResiduals(team, period []int, teams, periods int, v []float64) []float64 {
	n := len(v)
	d := mat.NewDense(n, teams+periods, nil)
	for i := range n {
		d.Set(i, team[i], 1)
		d.Set(i, teams+period[i], 1)
	}
	var svd mat.SVD
	if !svd.Factorize(d, mat.SVDThin) {
		panic("svd failed")
	}
	var u mat.Dense
	svd.UTo(&u)
	s := svd.Values(nil)
	vv := mat.NewVecDense(n, append([]float64(nil), v...))
	res := mat.VecDenseCopyOf(vv)
	for j, sv := range s {
		if sv <= 1e-10*s[0] {
			continue
		}
		col := u.ColView(j)
		res.AddScaledVec(res, -mat.Dot(col, vv), col)
	}
	return res.RawVector().Data
}

func TestFEPanelResidualsMatchADenseLeastSquaresFit(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 7))
	for i := range 2000 {
		team, period, teams, periods := randomPanel(rng, i%2 == 0)
		if len(team) == 0 {
			continue
		}
		pn := newFEPanelCodes(nil, team, teams, period, periods)
		if !pn.ok {
			t.Fatalf("panel %d: effects not separated", i)
		}
		v := make([]float64, len(team))
		var norm float64
		for k := range v {
			v[k] = rng.NormFloat64()
			norm = math.Max(norm, math.Abs(v[k]))
		}
		got := pn.residualize(v)
		want := denseResiduals(team, period, teams, periods, v)
		for k := range got {
			if math.Abs(got[k]-want[k]) > 1e-9*norm {
				t.Fatalf("panel %d (%d rows, %d teams, %d periods, %d groups): residual %d = %v, dense fit %v",
					i, len(team), pn.teams, pn.periods, pn.comps, k, got[k], want[k])
			}
		}
	}
}

// lagPanel draws a ScanLags input: a demo-like organisation of random size
// with extra gaps, teams that start late or stop early, and teams without
// one of the two measures.
func lagPanel(rng *rand.Rand, seed uint64) (team []string, period []int, x, y []float64) {
	o := demoLike(2+rng.IntN(40), 8+rng.IntN(60), rng.IntN(2*MaxLag+1)-MaxLag)
	o.Missing = rng.Float64() * 0.4
	team, period, x, y = o.generate(seed)
	var t2 []string
	var p2 []int
	var x2, y2 []float64
	start, stop := map[string]int{}, map[string]int{}
	for i := range team {
		if _, ok := start[team[i]]; !ok {
			start[team[i]], stop[team[i]] = rng.IntN(o.Weeks/2+1), o.Weeks-rng.IntN(o.Weeks/2+1)
			switch rng.IntN(10) {
			case 0:
				start[team[i]] = -1 // no engagement at all
			case 1:
				stop[team[i]] = -1 // no customers at all
			}
		}
		if period[i] < start[team[i]] || period[i] > stop[team[i]] && stop[team[i]] >= 0 {
			continue
		}
		xv, yv := x[i], y[i]
		if start[team[i]] < 0 {
			xv = math.NaN()
		}
		if stop[team[i]] < 0 {
			yv = math.NaN()
		}
		t2, p2, x2, y2 = append(t2, team[i]), append(p2, period[i]+1000), append(x2, xv), append(y2, yv)
	}
	return t2, p2, x2, y2
}

func TestScanLagsMatchesTheReferenceBitForBitOnSimulatedPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 8))
	n := 400
	if testing.Short() {
		n = 60
	}
	for i := range n {
		team, period, x, y := lagPanel(rng, uint64(i))
		if g, w := fmt.Sprintf("%+v", ScanLags(team, period, x, y)), fmt.Sprintf("%+v", refScanLags(team, period, x, y)); g != w {
			t.Fatalf("panel %d (%d rows):\n got %s\nwant %s", i, len(team), g, w)
		}
	}
	// 1,000 teams have more pairs a lag than both's sideBySideFrom: the
	// scan's fits and sums then run on two goroutines.
	for _, teams := range []int{11, 200, 1000} {
		team, period, x, y := demoLike(teams, 52, 4).generate(1)
		if teams == 1000 && len(team) < 2*sideBySideFrom {
			t.Fatalf("%d rows at 1,000 teams: too few for the scan to run side by side", len(team))
		}
		if g, w := fmt.Sprintf("%+v", ScanLags(team, period, x, y)), fmt.Sprintf("%+v", refScanLags(team, period, x, y)); g != w {
			t.Fatalf("%d teams × 52 weeks:\n got %s\nwant %s", teams, g, w)
		}
	}
}

// refScaled is scaled as it was written before it multiplied by the power
// of two.
func refScaled(x []float64) (s []float64, e int, ok bool) {
	maxAbs := 0.0
	for _, v := range x {
		if math.IsInf(v, 0) {
			return nil, 0, false
		}
		maxAbs = math.Max(maxAbs, math.Abs(v))
	}
	s = make([]float64, len(x))
	if maxAbs == 0 {
		copy(s, x)
		return s, 0, true
	}
	_, e = math.Frexp(maxAbs)
	for i, v := range x {
		s[i] = math.Ldexp(v, -e)
	}
	return s, e, true
}

func TestScaledMatchesLdexpBitForBitAcrossTheExponentRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 9))
	special := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.SmallestNonzeroFloat64, math.MaxFloat64}
	for i := range 20000 {
		x := make([]float64, 1+rng.IntN(6))
		top := rng.IntN(2100) - 1075 // the largest exponent in x
		for k := range x {
			switch rng.IntN(12) {
			case 0:
				x[k] = special[rng.IntN(len(special))]
			case 1, 2: // anywhere: products that fall into the subnormals
				x[k] = math.Ldexp(rng.Float64()+0.5, rng.IntN(2100)-1075)
			default: // up to 60 binades below the largest
				x[k] = math.Ldexp(rng.Float64()+0.5, top-rng.IntN(60))
			}
			if rng.IntN(2) == 0 {
				x[k] = -x[k]
			}
		}
		gs, ge, gok := scaled(x)
		ws, we, wok := refScaled(x)
		if ge != we || gok != wok || !sameBits(gs, ws) {
			t.Fatalf("case %d, x = %v: got %v, %d, %v; want %v, %d, %v", i, x, gs, ge, gok, ws, we, wok)
		}
	}
}

// pairsApart, counting a word at a time, agrees with counting period by
// period, for series of 1 to 300 periods, every distance j up to the
// length and past 64, and periods with pairs at random.
func TestPairsApartCountsEveryPairJPeriodsApart(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 7))
	for n := 1; n <= 300; n += 1 + n/16 {
		has := make([]bool, n)
		// Team 1's words start at 1, between a word of team 0 and one of
		// team 2, all bits at random.
		w := &lagPairs{has: make([]uint64, 2+(n+63)/64), hasOff: []int{0, 1, 1 + (n+63)/64}}
		w.has[0], w.has[len(w.has)-1] = rng.Uint64(), rng.Uint64()
		for k := range has {
			if has[k] = rng.IntN(3) > 0; has[k] {
				w.has[1+k/64] |= 1 << (k % 64)
			}
		}
		for j := 1; j <= n+1; j++ {
			want := 0
			for k := 0; k+j < n; k++ {
				if has[k] && has[k+j] {
					want++
				}
			}
			if got := w.pairsApart(1, n, j); got != want {
				t.Fatalf("%d periods, %d apart: %d pairs, want %d", n, j, got, want)
			}
		}
	}
}
