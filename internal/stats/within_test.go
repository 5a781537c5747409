package stats

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// readPanel reads a testdata CSV with header team,period,x,y.
func readPanel(t *testing.T, name string) (team []string, period []int, x, y []float64) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		p, err1 := strconv.Atoi(rec[1])
		xv, err2 := strconv.ParseFloat(rec[2], 64)
		yv, err3 := strconv.ParseFloat(rec[3], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s: bad row %v", name, rec)
		}
		team = append(team, rec[0])
		period = append(period, p)
		x = append(x, xv)
		y = append(y, yv)
	}
	return team, period, x, y
}

// wantWithin holds reference values printed by testdata/within.R.
type wantWithin struct {
	n, teams, periods, comps, df int
	slope, se, t, p, lo, hi      float64
	cse, ct, cp, clo, chi        float64
	r, rlo, rhi, rclo, rchi      float64
}

func checkWithin(t *testing.T, got WithinResult, w wantWithin) {
	t.Helper()
	if got.Reason != "" {
		t.Errorf("Reason: got %q, want none", got.Reason)
	}
	if got.N != w.n || got.Teams != w.teams || got.Periods != w.periods || got.Components != w.comps || got.DF != w.df {
		t.Errorf("N, Teams, Periods, Components, DF: got %d %d %d %d %d, want %d %d %d %d %d",
			got.N, got.Teams, got.Periods, got.Components, got.DF, w.n, w.teams, w.periods, w.comps, w.df)
	}
	for _, c := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"Slope", got.Slope, w.slope, within},
		{"SE", got.SE, w.se, within},
		{"T", got.T, w.t, within},
		{"P", got.P, w.p, within},
		{"SlopeLow", got.SlopeLow, w.lo, 1e-6},
		{"SlopeHigh", got.SlopeHigh, w.hi, 1e-6},
		{"ClusterSE", got.ClusterSE, w.cse, within},
		{"ClusterT", got.ClusterT, w.ct, within},
		{"ClusterP", got.ClusterP, w.cp, within},
		{"ClusterSlopeLow", got.ClusterSlopeLow, w.clo, 1e-6},
		{"ClusterSlopeHigh", got.ClusterSlopeHigh, w.chi, 1e-6},
		{"R", got.R, w.r, within},
		{"RLow", got.RLow, w.rlo, 1e-6},
		{"RHigh", got.RHigh, w.rhi, 1e-6},
		{"RClusterLow", got.RClusterLow, w.rclo, 1e-6},
		{"RClusterHigh", got.RClusterHigh, w.rchi, 1e-6},
	} {
		assertClose(t, c.name, c.got, c.want, c.tol)
	}
}

func TestTwoWayWithinMatchesPlmOnAnUnbalancedPanel(t *testing.T) {
	t.Parallel()
	// testdata/within.R on panel_unbalanced.csv (8 teams × 10 periods, 12
	// team-periods missing): lm(y ~ x + factor(team) + factor(period)) for
	// the conventional figures, plm(..., effect = "twoways") with
	// vcovHC(type = "sss", cluster = "group") and coeftest(df = G − 1) for
	// the clustered ones (sandwich::vcovCL(type = "HC0", cadjust = TRUE)
	// agrees to 1e-12), cor() of the two-way residuals and psych::r.con(r,
	// df + 2) for the correlation scale.
	team, period, x, y := readPanel(t, "panel_unbalanced.csv")
	checkWithin(t, TwoWayWithin(team, period, x, y), wantWithin{
		n: 68, teams: 8, periods: 10, comps: 1, df: 50,
		slope: 0.04623865172516757, se: 0.0084427447234305796, t: 5.4767321812827721, p: 1.4061789986546889e-06,
		lo: 0.029280899879780463, hi: 0.063196403570554671,
		cse: 0.0047047734091250131, ct: 9.8280294722561337, cp: 2.3983344585311742e-05,
		clo: 0.035113630423701706, chi: 0.057363673026633435,
		r: 0.61233795701106775, rlo: 0.40754061981542516, rhi: 0.75848924399139428,
		rclo: 0.46500942208892326, rchi: 0.75966649193321167,
	})
}

func TestTwoWayWithinHandlesSplitPanelsSingletonsAndRepeatedRows(t *testing.T) {
	t.Parallel()
	// panel_split.csv: teams a–c (and f, seen once) in periods 1–5, teams d–e
	// in periods 6–9 — two groups that share no period — and team b's period
	// 2 reported twice. lm drops the aliased period dummy (rank 13, df 11);
	// cluster figures from sandwich::vcovCL(l, cluster = ~team, type = "HC0",
	// cadjust = TRUE) with coeftest(df = G − 1), G = 6 counting team f. R's
	// upper cluster bound on the correlation scale is 1.0026; ours is clamped.
	team, period, x, y := readPanel(t, "panel_split.csv")
	checkWithin(t, TwoWayWithin(team, period, x, y), wantWithin{
		n: 25, teams: 6, periods: 9, comps: 2, df: 11,
		slope: 0.44258361727508999, se: 0.093066587176967461, t: 4.7555586886785788, p: 0.00059434210137470809,
		lo: 0.23774543999820982, hi: 0.64742179455197013,
		cse: 0.038288713094144167, ct: 11.559114462449202, cp: 8.5010245558982017e-05,
		clo: 0.34415934688539274, chi: 0.54100788766478725,
		r: 0.8202246212074733, rlo: 0.49125140863292005, rhi: 0.94440386774632146,
		rclo: 0.63781838937482749, rchi: 1,
	})
}

func TestTwoWayWithinDropsRowsWithAMissingValue(t *testing.T) {
	t.Parallel()
	team, period, x, y := readPanel(t, "panel_unbalanced.csv")
	want := TwoWayWithin(team, period, x, y)
	team = append(team, "team1", "team9", "team2")
	period = append(period, 99, 1, 3)
	x = append(x, math.NaN(), 70, 1)
	y = append(y, 4, math.NaN(), math.NaN())
	got := TwoWayWithin(team, period, x, y)
	if got.N != want.N || got.DF != want.DF {
		t.Errorf("N, DF: got %d, %d, want %d, %d", got.N, got.DF, want.N, want.DF)
	}
	assertClose(t, "Slope", got.Slope, want.Slope, 1e-12)
	assertClose(t, "ClusterSE", got.ClusterSE, want.ClusterSE, 1e-12)
}

func TestTwoWayWithinIsUnchangedByCompanyWideAndTeamShifts(t *testing.T) {
	t.Parallel()
	// Adding any team effect and any period effect to x and y changes
	// nothing: that is what the estimator removes.
	team, period, x, y := readPanel(t, "panel_unbalanced.csv")
	want := TwoWayWithin(team, period, x, y)
	xs, ys := make([]float64, len(x)), make([]float64, len(y))
	for i := range x {
		tn, _ := strconv.Atoi(team[i][4:])
		xs[i] = x[i] + 10*float64(tn) - 3*math.Sin(float64(period[i]))
		ys[i] = y[i] - 0.5*float64(tn) + 0.7*float64(period[i]%3)
	}
	got := TwoWayWithin(team, period, xs, ys)
	assertClose(t, "Slope", got.Slope, want.Slope, 1e-9)
	assertClose(t, "R", got.R, want.R, 1e-9)
	assertClose(t, "ClusterSE", got.ClusterSE, want.ClusterSE, 1e-9)
}

func TestTwoWayWithinDegenerateInputGivesNaNAndAReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		team   []string
		period []int
		x, y   []float64
		reason string
	}{
		{"lengths differ", []string{"a", "b"}, []int{1}, []float64{1, 2}, []float64{1, 2},
			"team, period, x and y have different lengths"},
		{"empty", nil, nil, nil, nil, "no observation has both values"},
		{"one team", []string{"a", "a", "a"}, []int{1, 2, 3}, []float64{1, 3, 2}, []float64{2, 1, 3},
			"needs at least two teams"},
		{"one period", []string{"a", "b", "c"}, []int{1, 1, 1}, []float64{1, 3, 2}, []float64{2, 1, 3},
			"needs at least two periods"},
		{"two by two", []string{"a", "a", "b", "b"}, []int{1, 2, 1, 2}, []float64{1, 3, 2, 5}, []float64{2, 1, 3, 3},
			"too few observations for the team and period effects"},
		{"x explained by the effects", []string{"a", "a", "a", "b", "b", "b"}, []int{1, 2, 3, 1, 2, 3},
			[]float64{0.1, 0.2, 0.3, 1.1, 1.2, 1.3}, []float64{2, 1, 3, 3, 5, 4},
			"x does not vary within teams and periods"},
		{"y constant", []string{"a", "a", "a", "b", "b", "b"}, []int{1, 2, 3, 1, 2, 3},
			[]float64{1, 5, 2, 4, 4, 9}, []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1},
			"y does not vary within teams and periods"},
		{"infinite value", []string{"a", "a", "a", "b", "b", "b"}, []int{1, 2, 3, 1, 2, 3},
			[]float64{1, 5, 2, 4, math.Inf(1), 9}, []float64{1, 2, 3, 1, 2, 4},
			"a value is infinite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TwoWayWithin(tc.team, tc.period, tc.x, tc.y)
			if got.Reason != tc.reason {
				t.Errorf("Reason: got %q, want %q", got.Reason, tc.reason)
			}
			for name, v := range map[string]float64{"Slope": got.Slope, "SE": got.SE, "P": got.P, "ClusterP": got.ClusterP,
				"R": got.R, "RLow": got.RLow, "SlopeLow": got.SlopeLow, "ClusterSlopeHigh": got.ClusterSlopeHigh} {
				assertNaN(t, name, v)
			}
		})
	}
}

func TestTwoWayWithinOfAPerfectRelationHasNoDoubt(t *testing.T) {
	t.Parallel()
	team := []string{"a", "a", "a", "b", "b", "b", "c", "c", "c"}
	period := []int{1, 2, 3, 1, 2, 3, 1, 2, 3}
	x := []float64{1, 4, 2, 3, 3, 7, 5, 1, 2}
	y := make([]float64, len(x))
	for i := range x {
		y[i] = 2*x[i] + float64(len(team[i])) + float64(period[i])
	}
	got := TwoWayWithin(team, period, x, y)
	assertClose(t, "Slope", got.Slope, 2, 1e-12)
	assertClose(t, "R", got.R, 1, 1e-12)
	// Rounding leaves a residual of about 1e-16, so P is tiny rather than 0.
	if !(got.P < 1e-30) || !(got.ClusterP < 1e-30) {
		t.Errorf("P, ClusterP: got %v, %v, want < 1e-30", got.P, got.ClusterP)
	}
	assertClose(t, "RLow", got.RLow, 1, 1e-12)
}

func TestTwoWayWithinKeepsScaleFreeFiguresWhenTheSlopeOverflows(t *testing.T) {
	t.Parallel()
	// Scaling x by 2^-k and y by 2^k is exact, so the slope grows by exactly
	// 2^2k and every scale-free figure is unchanged. At k = 10 the slope
	// still fits in a float64; at k = 1000 (about 1e-301 against 1e301) it
	// cannot, and only the slope's own figures may become NaN.
	team, period, x, y := readPanel(t, "panel_unbalanced.csv")
	want := TwoWayWithin(team, period, x, y)
	scale := func(k int) WithinResult {
		xs, ys := make([]float64, len(x)), make([]float64, len(y))
		for i := range x {
			xs[i], ys[i] = math.Ldexp(x[i], -k), math.Ldexp(y[i], k)
		}
		return TwoWayWithin(team, period, xs, ys)
	}
	for _, k := range []int{10, 1000} {
		got := scale(k)
		if got.Reason != "" {
			t.Fatalf("k=%d: Reason %q", k, got.Reason)
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"T", got.T, want.T}, {"P", got.P, want.P}, {"ClusterT", got.ClusterT, want.ClusterT},
			{"ClusterP", got.ClusterP, want.ClusterP}, {"R", got.R, want.R}, {"RLow", got.RLow, want.RLow},
			{"RHigh", got.RHigh, want.RHigh}, {"RClusterLow", got.RClusterLow, want.RClusterLow},
			{"RClusterHigh", got.RClusterHigh, want.RClusterHigh},
		} {
			if c.got != c.want {
				t.Errorf("k=%d: %s %v, want %v exactly", k, c.name, c.got, c.want)
			}
		}
		if k == 10 {
			if got.Slope != math.Ldexp(want.Slope, 20) || got.ClusterSE != math.Ldexp(want.ClusterSE, 20) {
				t.Errorf("k=10: Slope, ClusterSE %v %v, want %v %v", got.Slope, got.ClusterSE,
					math.Ldexp(want.Slope, 20), math.Ldexp(want.ClusterSE, 20))
			}
			continue
		}
		for name, v := range map[string]float64{"Slope": got.Slope, "SE": got.SE, "SlopeLow": got.SlopeLow,
			"SlopeHigh": got.SlopeHigh, "ClusterSE": got.ClusterSE, "ClusterSlopeLow": got.ClusterSlopeLow,
			"ClusterSlopeHigh": got.ClusterSlopeHigh} {
			if !math.IsNaN(v) {
				t.Errorf("k=1000: %s = %v, want NaN (the slope is about 2^2000 times %v)", name, v, want.Slope)
			}
		}
	}
}
