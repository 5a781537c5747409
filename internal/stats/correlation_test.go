package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// NIST StRD linear regression dataset "Norris" (lower difficulty, 36
// observations), https://www.itl.nist.gov/div898/strd/lls/data/Norris.shtml.
// Certified values:
//
//	B0 (intercept) = -0.262323073774029
//	B1 (slope)     =  1.00211681802045
//	R-Squared      =  0.999993745883712
var (
	norrisY = []float64{
		0.1, 338.8, 118.1, 888.0, 9.2, 228.1, 668.5, 998.5, 449.1, 778.9,
		559.2, 0.3, 0.1, 778.1, 668.8, 339.3, 448.9, 10.8, 557.7, 228.3,
		998.0, 888.8, 119.6, 0.3, 0.6, 557.6, 339.3, 888.0, 998.5, 778.9,
		10.2, 117.6, 228.9, 668.4, 449.2, 0.2,
	}
	norrisX = []float64{
		0.2, 337.4, 118.2, 884.6, 10.1, 226.5, 666.3, 996.3, 448.6, 777.0,
		558.2, 0.4, 0.6, 775.5, 666.9, 338.0, 447.5, 11.6, 556.0, 228.1,
		995.8, 887.6, 120.2, 0.3, 0.3, 556.8, 339.1, 887.2, 999.0, 779.0,
		11.1, 118.3, 229.2, 669.1, 448.9, 0.5,
	}
)

const (
	norrisCertifiedIntercept = -0.262323073774029
	norrisCertifiedSlope     = 1.00211681802045
	norrisCertifiedR2        = 0.999993745883712
)

func TestPearsonMatchesNISTNorrisCertifiedR(t *testing.T) {
	t.Parallel()
	got := Pearson(norrisX, norrisY)
	// Simple regression with a positive slope: r = +√R².
	assertClose(t, "R vs NIST certified √R²", got.R, math.Sqrt(norrisCertifiedR2), within)
	// SciPy 1.10.1:
	//   r = stats.pearsonr(norris_x, norris_y)
	//   r.statistic, r.pvalue, r.confidence_interval(0.95)
	//   -> 0.9999968729369664 4.654040858201944e-90
	//      (0.9999938129117608, 0.9999984195286314)
	// p this far in the tail depends on 1−r² ≈ 6e-6, which carries only the
	// input's rounding; 1e-6 relative is what two correct programs agree on.
	assertClose(t, "P vs SciPy", got.P, 4.654040858201944e-90, 1e-6)
	assertClose(t, "CILow vs SciPy", got.CILow, 0.9999938129117608, within)
	assertClose(t, "CIHigh vs SciPy", got.CIHigh, 0.9999984195286314, within)
	if got.N != 36 || got.DF != 34 {
		t.Errorf("N, DF: got %d, %d, want 36, 34", got.N, got.DF)
	}
}

// Anscombe, F. J. (1973). Graphs in statistical analysis. The American
// Statistician 27(1), 17–21: data set I, as shipped in R's datasets::anscombe
// (x1, y1). Published: correlation 0.816 (the paper's "0.82"), regression line
// y = 3.00 + 0.500x.
var (
	anscombeX1 = []float64{10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5}
	anscombeY1 = []float64{8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68}
)

func TestPearsonMatchesAnscombeQuartetSetI(t *testing.T) {
	t.Parallel()
	got := Pearson(anscombeX1, anscombeY1)
	assertRounds(t, "R vs Anscombe 1973", got.R, 0.816, 3)
	// R 4.2.2: ct <- cor.test(anscombe$x1, anscombe$y1)
	//   c(ct$estimate, ct$p.value, ct$conf.int)
	//   -> 0.8164205163448399194 0.0021696288730787918
	//      0.4243912133932165598 0.9506932537865605548
	// (cor.test's interval is the same Fisher z with qnorm(0.975).)
	assertCorrelation(t, got, 11, 9,
		0.8164205163448399194, 0.0021696288730787918,
		0.4243912133932165598, 0.9506932537865605548, within)
}

func TestPearsonOfNegativelyRelatedSamples(t *testing.T) {
	t.Parallel()
	x := []float64{2.1, 3.4, 1.9, 5.6, 4.4, 3.8, 6.0, 2.8}
	y := []float64{8.1, 6.9, 8.4, 4.2, 6.3, 6.0, 3.1, 7.7}
	// SciPy 1.10.1: r = stats.pearsonr(x, y); r.confidence_interval(0.95)
	//   -> r=-0.9782339479470583 p=2.5360756855933843e-05
	//      ci=(-0.9961948906016969, -0.8805658912337077)
	// R 4.2.2 cor.test(x, y) agrees: -0.97823394794705820 2.5360756855934239e-05
	//   -0.99619489060169686 -0.88056589123370721
	assertCorrelation(t, Pearson(x, y), 8, 6,
		-0.9782339479470583, 2.5360756855933843e-05,
		-0.9961948906016969, -0.8805658912337077, within)
	// SciPy 1.10.1: stats.spearmanr(x, y)
	//   -> statistic=-0.9761904761904763 pvalue=3.3143960262001043e-05
	// R 4.2.2 cor(x, y, method = "spearman") -> -0.97619047619047628, and
	// cor.test(x, y, method = "spearman", exact = FALSE)$p.value
	//   -> 3.3143960262001043e-05 (the default exact test gives 0.000396825...)
	// CI: Fisher z, computed by hand from SciPy's ρ:
	//   np.tanh(np.arctanh(rho) + np.array([-1, 1])*1.959963984540054/np.sqrt(5))
	sp := Spearman(x, y)
	assertClose(t, "Spearman R", sp.R, -0.9761904761904763, within)
	assertClose(t, "Spearman P", sp.P, 3.3143960262001043e-05, within)
	lo, hi := fisherByHand(-0.9761904761904763, 8)
	assertClose(t, "Spearman CILow", sp.CILow, lo, within)
	assertClose(t, "Spearman CIHigh", sp.CIHigh, hi, within)
}

// fisherByHand is the textbook interval, written out independently of
// FisherCI, for checking intervals that no reference tool reports.
func fisherByHand(r float64, n int) (lo, hi float64) {
	h := 1.959963984540054 / math.Sqrt(float64(n-3))
	return math.Tanh(math.Atanh(r) - h), math.Tanh(math.Atanh(r) + h)
}

func TestPearsonWithThreePairsHasPButNoInterval(t *testing.T) {
	t.Parallel()
	// For n = 3 the null density of r is 1/(π√(1−r²)), so the two-sided
	// p-value is 1 − (2/π)·asin|r|; r = 0.5 gives exactly 2/3.
	// SciPy 1.10.1: stats.pearsonr([1, 2, 3], [1, 3, 2])
	//   -> statistic=0.4999999999999999 pvalue=0.6666666666666667
	// SciPy reports the interval (−1, 1) for n ≤ 3; we report NaN.
	got := Pearson([]float64{1, 2, 3}, []float64{1, 3, 2})
	assertCorrelation(t, got, 3, 1, 0.5, 2.0/3, math.NaN(), math.NaN(), within)
	// SciPy 1.10.1: stats.spearmanr([1, 2, 3], [1, 3, 2])
	//   -> statistic=0.5 pvalue=0.6666666666666667
	assertCorrelation(t, Spearman([]float64{1, 2, 3}, []float64{1, 3, 2}), 3, 1,
		0.5, 0.6666666666666667, math.NaN(), math.NaN(), within)
}

func TestPearsonWithTwoPairsHasROnly(t *testing.T) {
	t.Parallel()
	// Two distinct points lie on a line: r = −1 by definition; no test.
	got := Pearson([]float64{1, 2}, []float64{5, 3})
	assertCorrelation(t, got, 2, 0, -1, math.NaN(), math.NaN(), math.NaN(), 0)
}

func TestPearsonWithFewerThanTwoPairsIsUndefined(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		x, y []float64
		n    int
	}{
		{"nil", nil, nil, 0},
		{"empty", []float64{}, []float64{}, 0},
		{"one pair", []float64{1}, []float64{2}, 1},
		{"one complete pair", []float64{1, math.NaN()}, []float64{2, 3}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nan := math.NaN()
			assertCorrelation(t, Pearson(tc.x, tc.y), tc.n, 0, nan, nan, nan, nan, 0)
			assertCorrelation(t, Spearman(tc.x, tc.y), tc.n, 0, nan, nan, nan, nan, 0)
		})
	}
}

func TestPearsonDropsPairsWithNaN(t *testing.T) {
	t.Parallel()
	x := []float64{1, 2, math.NaN(), 4, 5, 6, 7}
	y := []float64{2.3, math.NaN(), 3.1, 4.8, 4.1, 6.2, 6.9}
	// Complete pairs: x=[1,4,5,6,7], y=[2.3,4.8,4.1,6.2,6.9].
	// SciPy 1.10.1: r = stats.pearsonr([1,4,5,6,7], [2.3,4.8,4.1,6.2,6.9])
	//   -> r=0.9435862700510924 p=0.01594782788910377
	//      ci=(0.3660765715048184, 0.9963755470388181)
	assertCorrelation(t, Pearson(x, y), 5, 3,
		0.9435862700510924, 0.01594782788910377,
		0.3660765715048184, 0.9963755470388181, within)
	// SciPy 1.10.1: stats.spearmanr([1,4,5,6,7], [2.3,4.8,4.1,6.2,6.9])
	//   -> statistic=0.8999999999999998 pvalue=0.03738607346849874
	lo, hi := fisherByHand(0.9, 5)
	assertCorrelation(t, Spearman(x, y), 5, 3,
		0.8999999999999998, 0.03738607346849874, lo, hi, within)
}

// PearsonInPlace is Pearson without the copies: on every kind of input
// Pearson takes — NaN pairs, infinities, constants, huge and tiny scales,
// two pairs, mismatched lengths — its result is the same to the bit.
func TestPearsonInPlaceEqualsPearsonToTheBit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(19, 4))
	inputs := [][2][]float64{
		{norrisX, norrisY},
		{{1, 2, math.NaN(), 4, 5, 6, 7}, {2.3, math.NaN(), 3.1, 4.8, 4.1, 6.2, 6.9}},
		{{1, 2, 3, math.Inf(1)}, {1, 3, 2, 4}},
		{{0.1, 0.1, 0.1, 0.1}, {1, 2, 3, 4}},
		{{1, 2}, {3, 1}},
		{{1, 2, 3, 4}, {1, 2, 3}},
		{nil, nil},
	}
	for range 50 {
		n := 1 + rng.IntN(300)
		scale := math.Ldexp(1, rng.IntN(1200)-600)
		x, y := make([]float64, n), make([]float64, n)
		for i := range x {
			x[i] = scale * rng.NormFloat64()
			y[i] = x[i]*rng.Float64() + scale*rng.NormFloat64()
			switch rng.IntN(10) {
			case 0:
				x[i] = math.NaN()
			case 1:
				y[i] = math.NaN()
			}
		}
		inputs = append(inputs, [2][]float64{x, y})
	}
	for k, in := range inputs {
		want := Pearson(in[0], in[1])
		got := PearsonInPlace(slices.Clone(in[0]), slices.Clone(in[1]))
		if !sameBits([]float64{got.R, got.P, got.CILow, got.CIHigh}, []float64{want.R, want.P, want.CILow, want.CIHigh}) ||
			got.N != want.N || got.DF != want.DF {
			t.Errorf("input %d: PearsonInPlace = %+v, Pearson = %+v", k, got, want)
		}
	}
}

func TestCorrelationOfConstantSampleIsUndefined(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	// Ten copies of 0.1 do not average to exactly 0.1; the result must still
	// be NaN, as SciPy's pearsonr gives for constant input.
	constant := []float64{0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}
	other := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	assertCorrelation(t, Pearson(constant, other), 10, 8, nan, nan, nan, nan, 0)
	assertCorrelation(t, Pearson(other, constant), 10, 8, nan, nan, nan, nan, 0)
	assertCorrelation(t, Spearman(constant, other), 10, 8, nan, nan, nan, nan, 0)
}

func TestPerfectCorrelationHasZeroPAndDegenerateInterval(t *testing.T) {
	t.Parallel()
	x := []float64{1, 2, 3, 4, 5}
	// y = 2x + 1 and y = −3x + 20: |r| = 1, t is infinite, p = 0 and the
	// Fisher interval collapses to the point (SciPy 1.10.1 pearsonr gives
	// r=1.0, p=0.0, ci=(1.0, 1.0) for the first).
	up := []float64{3, 5, 7, 9, 11}
	down := []float64{17, 14, 11, 8, 5}
	assertCorrelation(t, Pearson(x, up), 5, 3, 1, 0, 1, 1, 0)
	assertCorrelation(t, Pearson(x, down), 5, 3, -1, 0, -1, -1, 0)
	assertCorrelation(t, Spearman(x, down), 5, 3, -1, 0, -1, -1, 0)
	// Monotone but not linear: Spearman is 1, Pearson is not.
	sq := []float64{1, 4, 9, 16, 25}
	assertCorrelation(t, Spearman(x, sq), 5, 3, 1, 0, 1, 1, 0)
	if r := Pearson(x, sq).R; !(r < 1) {
		t.Errorf("Pearson of x and x²: got %v, want < 1", r)
	}
	// n = 3 and |r| = 1: p = 0 but still no interval.
	assertCorrelation(t, Pearson(x[:3], up[:3]), 3, 1, 1, 0, math.NaN(), math.NaN(), 0)
}

func TestCorrelationOfMismatchedLengthsIsUndefinedNotPanic(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	x := []float64{1, 2, 3, 4}
	y := []float64{1, 2, 3}
	assertCorrelation(t, Pearson(x, y), 0, 0, nan, nan, nan, nan, 0)
	assertCorrelation(t, Spearman(x, y), 0, 0, nan, nan, nan, nan, 0)
	assertCorrelation(t, Pearson(nil, y), 0, 0, nan, nan, nan, nan, 0)
}

func TestPearsonWithInfiniteValueIsUndefined(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	x := []float64{1, 2, 3, math.Inf(1)}
	y := []float64{1, 3, 2, 4}
	assertCorrelation(t, Pearson(x, y), 4, 2, nan, nan, nan, nan, 0)
	// Ranks are defined: +Inf is simply the largest value.
	if got, want := Spearman(x, y).R, Spearman([]float64{1, 2, 3, 4}, y).R; got != want {
		t.Errorf("Spearman with +Inf: got %v, want %v", got, want)
	}
}

func TestPearsonIsUnaffectedByExtremeScale(t *testing.T) {
	t.Parallel()
	// Sums of squares of 1e200 overflow a float64; r must not care.
	base := Pearson(anscombeX1, anscombeY1)
	for _, scale := range []float64{1e200, 1e-200, -1e300} {
		x := make([]float64, len(anscombeX1))
		for i, v := range anscombeX1 {
			x[i] = v * scale
		}
		got := Pearson(x, anscombeY1)
		want := base.R
		if scale < 0 {
			want = -want
		}
		assertClose(t, "R", got.R, want, 1e-12)
	}
}

func TestSpearmanWithTiesMatchesSciPy(t *testing.T) {
	t.Parallel()
	x := []float64{1, 2, 2, 3, 4, 4, 4, 5, 6, 7}
	y := []float64{2, 1, 3, 3, 5, 4, 6, 6, 8, 6}
	// SciPy 1.10.1: s = stats.spearmanr(x, y)
	//   -> statistic=0.9093749999999999 pvalue=0.0002642045618149965
	// R 4.2.2 cor.test(x, y, method = "spearman")$p.value (ties: t approximation)
	//   -> 0.00026420456181499555
	got := Spearman(x, y)
	lo, hi := fisherByHand(0.9093749999999999, 10)
	assertCorrelation(t, got, 10, 8, 0.9093749999999999, 0.0002642045618149965, lo, hi, within)
}

func TestRanksAverageTiesAndKeepNaN(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, tc := range []struct {
		name    string
		in      []float64
		want    []float64
		comment string
	}{
		{
			name: "ties",
			in:   []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5},
			// SciPy 1.10.1: stats.rankdata([3,1,4,1,5,9,2,6,5,3,5])
			want: []float64{4.5, 1.5, 6.0, 1.5, 8.0, 11.0, 3.0, 10.0, 8.0, 4.5, 8.0},
		},
		{
			name: "NaN kept",
			in:   []float64{3, nan, 1, 3, nan, 2},
			// R 4.2.2: rank(c(3, NA, 1, 3, NA, 2), na.last = "keep")
			//   -> 3.5 NA 1.0 3.5 NA 2.0
			// SciPy 1.10.1 rankdata(..., nan_policy="omit") gives the same.
			want: []float64{3.5, nan, 1, 3.5, nan, 2},
		},
		{
			name: "signed zeros tie",
			in:   []float64{0, math.Copysign(0, -1), -1},
			want: []float64{2.5, 2.5, 1},
		},
		{name: "empty", in: nil, want: []float64{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Ranks(tc.in)
			if !slices.EqualFunc(got, tc.want, func(a, b float64) bool {
				return a == b || (math.IsNaN(a) && math.IsNaN(b))
			}) {
				t.Errorf("Ranks(%v): got %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRanksDoesNotModifyInput(t *testing.T) {
	t.Parallel()
	in := []float64{3, 1, 2}
	Ranks(in)
	if !slices.Equal(in, []float64{3, 1, 2}) {
		t.Errorf("input changed to %v", in)
	}
}

func TestFisherCI(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		r      float64
		n      int
		conf   float64
		lo, hi float64
	}{
		// SciPy 1.10.1, written out:
		//   np.tanh(np.arctanh(0.5) + np.array([-1, 1])*stats.norm.ppf(0.95)/np.sqrt(17))
		//   -> 0.14924734173770685 0.7389860171784708
		{"90% interval", 0.5, 20, 0.90, 0.14924734173770685, 0.7389860171784708},
		// Anscombe I, from R's cor.test (see TestPearsonMatchesAnscombeQuartetSetI).
		{"95% interval", 0.8164205163448399194, 11, 0.95, 0.4243912133932165598, 0.9506932537865605548},
		{"r = 1", 1, 10, 0.95, 1, 1},
		{"r = -1", -1, 10, 0.95, -1, -1},
		{"n = 3", 0.5, 3, 0.95, nan, nan},
		{"r NaN", nan, 10, 0.95, nan, nan},
		{"r > 1", 1.5, 10, 0.95, nan, nan},
		{"conf 0", 0.5, 10, 0, nan, nan},
		{"conf 1", 0.5, 10, 1, nan, nan},
		{"conf NaN", 0.5, 10, nan, nan, nan},
		{"n negative", 0.5, -10, 0.95, nan, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := FisherCI(tc.r, tc.n, tc.conf)
			assertClose(t, "lo", lo, tc.lo, within)
			assertClose(t, "hi", hi, tc.hi, within)
		})
	}
}

func TestTTwoSidedP(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		t, df float64
		want  float64
	}{
		// SciPy 1.10.1: 2*stats.t.sf(abs(t), df)
		{"t=2 df=10", 2.0, 10, 0.07338803477074039},
		{"t=-3.5 df=4.5", -3.5, 4.5, 0.02054168996938556},
		{"t=0.5 df=1", 0.5, 1, 0.7048327646991336},
		{"t=1.96 df=1e6", 1.96, 1e6, 0.04999606758526978},
		{"t=2 df=1e7", 2.0, 1e7, 0.04550029089184294},
		{"t=0.5 df=1e10", 0.5, 1e10, 0.6170750774629765},
		{"t=5 df=1e15", 5.0, 1e15, 5.733031437584835e-07},
		{"t=1.96 df=1e300", 1.959963984540054, 1e300, 0.05000000000000002},
		// Standard normal: 2*(1 − Φ(1.959963984540054)) = 0.05.
		{"df=+Inf", 1.959963984540054, math.Inf(1), 0.05},
		{"t=0", 0, 5, 1},
		{"t=+Inf", math.Inf(1), 5, 0},
		{"t=1e200 df=1e8", 1e200, 1e8, 0},
		{"t=1e200 df=3", 1e200, 3, 0},
		{"t=-Inf", math.Inf(-1), 5, 0},
		{"t NaN", nan, 5, nan},
		{"df NaN", 1, nan, nan},
		{"df 0", 1, 0, nan},
		{"df negative", 1, -3, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertClose(t, "p", TTwoSidedP(tc.t, tc.df), tc.want, within)
		})
	}
}
