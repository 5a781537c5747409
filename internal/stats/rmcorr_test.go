package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// bland1995: intramural pH and PaCO2, 47 observations of 8 subjects, from
// Bland, J. M. & Altman, D. G. (1995). Calculating correlation coefficients
// with repeated observations: Part 1 — correlation within subjects. BMJ 310,
// 446. The data set ships with R's rmcorr package as bland1995 and is the
// package's published example (Bakdash & Marusich 2017, Frontiers in
// Psychology 8:456):
//
//	rmcorr(Subject, PaCO2, pH, bland1995)
//	-> r = -0.507, df = 38, p = 0.000847, 95% CI [-0.71, -0.23]
var (
	blandSubject = []int{
		1, 1, 1, 1,
		2, 2, 2, 2,
		3, 3, 3, 3, 3, 3, 3, 3, 3,
		4, 4, 4, 4, 4,
		5, 5, 5, 5, 5, 5, 5, 5,
		6, 6, 6, 6, 6, 6,
		7, 7, 7,
		8, 8, 8, 8, 8, 8, 8, 8,
	}
	blandPH = []float64{
		6.68, 6.53, 6.43, 6.33,
		6.85, 7.06, 7.13, 7.17,
		7.40, 7.42, 7.41, 7.37, 7.34, 7.35, 7.28, 7.30, 7.34,
		7.36, 7.33, 7.29, 7.30, 7.35,
		7.35, 7.30, 7.30, 7.37, 7.27, 7.28, 7.32, 7.32,
		7.38, 7.30, 7.29, 7.33, 7.31, 7.33,
		6.86, 6.94, 6.92,
		7.19, 7.29, 7.21, 7.25, 7.20, 7.19, 6.77, 6.82,
	}
	blandPaCO2 = []float64{
		3.97, 4.12, 4.09, 3.97,
		5.27, 5.37, 5.41, 5.44,
		5.67, 3.64, 4.32, 4.73, 4.96, 5.04, 5.22, 4.82, 5.07,
		5.67, 5.10, 5.53, 4.75, 5.51,
		4.28, 4.44, 4.32, 3.23, 4.46, 4.72, 4.75, 4.99,
		4.78, 4.73, 5.12, 4.93, 5.03, 4.93,
		6.85, 6.44, 6.52,
		5.28, 4.56, 4.34, 4.32, 4.41, 3.69, 6.09, 5.58,
	}
)

// The same data, reproduced in base R 4.2.2 with the ANCOVA rmcorr fits and
// the interval of rmcorr >= 0.5.4 (psych::r.con with df + 2):
//
//	m  <- lm(pH ~ factor(Subject) + PaCO2); a <- anova(m)
//	ssx <- a["PaCO2", "Sum Sq"]; ssr <- a["Residuals", "Sum Sq"]
//	r  <- sign(coef(m)["PaCO2"]) * sqrt(ssx / (ssx + ssr))
//	c(r, m$df.residual, a["PaCO2", "Pr(>F)"], coef(m)["PaCO2"])
//	psych::r.con(r, m$df.residual + 2, p = 0.95)   # psych 2.2.9
//	-> -0.50676974223306259226 38 0.00084710810912892731 -0.10832304706968241825
//	   -0.70671463638594501 -0.23186311975667656
//
// (psych::r.con(r, 38), the interval of rmcorr before 0.5.4, gives
// -0.71122972082844615 -0.22325500417427777: its upper end rounds to -0.22,
// not the published -0.23.)
const (
	blandR     = -0.50676974223306259226
	blandP     = 0.00084710810912892731
	blandSlope = -0.10832304706968241825
	blandLo    = -0.70671463638594501
	blandHi    = -0.23186311975667656
)

func blandSubjects() []string {
	s := make([]string, len(blandSubject))
	for i, v := range blandSubject {
		s[i] = strconv.Itoa(v)
	}
	return s
}

func TestRMCorrMatchesPublishedBland1995Example(t *testing.T) {
	t.Parallel()
	got := RMCorr(blandSubjects(), blandPaCO2, blandPH)
	assertRounds(t, "R vs rmcorr example", got.R, -0.507, 3)
	assertRounds(t, "P vs rmcorr example", got.P, 0.000847, 6)
	assertRounds(t, "CILow vs rmcorr example", got.CILow, -0.71, 2)
	assertRounds(t, "CIHigh vs rmcorr example", got.CIHigh, -0.23, 2)
	if got.DF != 38 || got.N != 47 || got.Subjects != 8 {
		t.Errorf("DF, N, Subjects: got %d, %d, %d, want 38, 47, 8", got.DF, got.N, got.Subjects)
	}
}

func TestRMCorrMatchesRANCOVAOnBland1995(t *testing.T) {
	t.Parallel()
	got := RMCorr(blandSubjects(), blandPaCO2, blandPH)
	assertClose(t, "R", got.R, blandR, within)
	assertClose(t, "P", got.P, blandP, within)
	assertClose(t, "Slope", got.Slope, blandSlope, within)
	assertClose(t, "CILow", got.CILow, blandLo, within)
	assertClose(t, "CIHigh", got.CIHigh, blandHi, within)
}

func TestRMCorrIsSymmetricInRButNotInSlope(t *testing.T) {
	t.Parallel()
	// r is a partial correlation, the same either way round; the slope is
	// that of y on x.
	xy := RMCorr(blandSubjects(), blandPaCO2, blandPH)
	yx := RMCorr(blandSubjects(), blandPH, blandPaCO2)
	assertClose(t, "R", yx.R, xy.R, 1e-12)
	assertClose(t, "P", yx.P, xy.P, 1e-12)
	if math.Abs(yx.Slope-xy.Slope) < 0.1 {
		t.Errorf("slopes of y on x and x on y should differ: %v, %v", xy.Slope, yx.Slope)
	}
}

func TestRMCorrBetweenAndWithinViewsDisagreeOnBland1995(t *testing.T) {
	t.Parallel()
	// The reason the report shows both views (see doc.go). R 4.2.2:
	//   cor.test(PaCO2, pH)  # all 47 points pooled
	//   -> estimate -0.065217744119939344, p.value 0.66317420626194523
	//   cor.test(tapply(PaCO2, Subject, mean), tapply(pH, Subject, mean))
	//   -> estimate 0.08177313512373284, p.value 0.84735750590830328
	pooled := Pearson(blandPaCO2, blandPH)
	assertClose(t, "pooled R", pooled.R, -0.065217744119939344, within)
	assertClose(t, "pooled P", pooled.P, 0.66317420626194523, within)
	var mx, my []float64
	for s := 1; s <= 8; s++ {
		var sx, sy float64
		var n int
		for i, v := range blandSubject {
			if v == s {
				sx += blandPaCO2[i]
				sy += blandPH[i]
				n++
			}
		}
		mx = append(mx, sx/float64(n))
		my = append(my, sy/float64(n))
	}
	means := Pearson(mx, my)
	assertClose(t, "R of subject means", means.R, 0.08177313512373284, within)
	assertClose(t, "P of subject means", means.P, 0.84735750590830328, within)
}

func TestRMCorrDropsNaNRowsAndSingleObservationSubjects(t *testing.T) {
	t.Parallel()
	// bland1995 plus a subject "9" seen once and a row of subject 3 whose
	// PaCO2 is missing. R 4.2.2 (lm drops the NA row and keeps subject 9):
	//   m <- lm(c(pH, 7.0, 7.3) ~ factor(c(Subject, 9, 3)) + c(PaCO2, 5.0, NA))
	//   -> r -0.50676974223306059386, df 38, p 0.00084710810912897588,
	//      slope -0.10832304706968237662,
	//      r.con(r, 40): -0.70671463638594378409 -0.23186311975667409091
	// The singleton changes neither r nor df in R; we leave it out of N and
	// Subjects.
	subjects := append(blandSubjects(), "9", "3")
	x := append(append([]float64{}, blandPaCO2...), 5.0, math.NaN())
	y := append(append([]float64{}, blandPH...), 7.0, 7.3)
	got := RMCorr(subjects, x, y)
	assertClose(t, "R", got.R, -0.50676974223306059386, within)
	assertClose(t, "P", got.P, 0.00084710810912897588, within)
	assertClose(t, "Slope", got.Slope, -0.10832304706968237662, within)
	assertClose(t, "CILow", got.CILow, -0.70671463638594378409, within)
	assertClose(t, "CIHigh", got.CIHigh, -0.23186311975667409091, within)
	if got.DF != 38 || got.N != 47 || got.Subjects != 8 {
		t.Errorf("DF, N, Subjects: got %d, %d, %d, want 38, 47, 8", got.DF, got.N, got.Subjects)
	}
}

func TestRMCorrOfThreeTeamsOverThreePeriods(t *testing.T) {
	t.Parallel()
	s := []string{"a", "a", "a", "b", "b", "b", "c", "c", "c"}
	x := []float64{60, 65, 70, 40, 42, 47, 80, 78, 85}
	y := []float64{3.9, 4.1, 4.0, 3.1, 3.4, 3.6, 4.5, 4.3, 4.8}
	// R 4.2.2, the same ANCOVA and psych::r.con(r, df + 2) as above:
	//   -> r 0.757554019078571672, df 5, p 0.048542387018198421,
	//      slope 0.039215686274509914, CI 0.010467341946271873 0.961877906666934623
	got := RMCorr(s, x, y)
	assertClose(t, "R", got.R, 0.757554019078571672, within)
	assertClose(t, "P", got.P, 0.048542387018198421, within)
	assertClose(t, "Slope", got.Slope, 0.039215686274509914, within)
	assertClose(t, "CILow", got.CILow, 0.010467341946271873, within)
	assertClose(t, "CIHigh", got.CIHigh, 0.961877906666934623, within)
	if got.DF != 5 || got.N != 9 || got.Subjects != 3 {
		t.Errorf("DF, N, Subjects: got %d, %d, %d, want 5, 9, 3", got.DF, got.N, got.Subjects)
	}
}

func TestRMCorrWithOneDegreeOfFreedomHasPButNoInterval(t *testing.T) {
	t.Parallel()
	// R 4.2.2: two subjects of two observations, df = 4 - 2 - 1 = 1;
	//   lm(c(2,3,4,7) ~ factor(c("a","a","b","b")) + c(1,2,5,7))
	//   -> r 0.98994949366116658, p 0.09033447060173308, slope 1.40000000000000036
	//   (psych::r.con refuses n = df + 2 = 3 < 4.)
	got := RMCorr([]string{"a", "a", "b", "b"}, []float64{1, 2, 5, 7}, []float64{2, 3, 4, 7})
	assertClose(t, "R", got.R, 0.98994949366116658, within)
	assertClose(t, "P", got.P, 0.09033447060173308, within)
	assertClose(t, "Slope", got.Slope, 1.40000000000000036, within)
	assertNaN(t, "CILow", got.CILow)
	assertNaN(t, "CIHigh", got.CIHigh)
	if got.DF != 1 || got.N != 4 || got.Subjects != 2 {
		t.Errorf("DF, N, Subjects: got %d, %d, %d, want 1, 4, 2", got.DF, got.N, got.Subjects)
	}
}

func TestRMCorrDegenerateInput(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	type want struct {
		r, p, lo, hi, slope float64
		df, n, subjects     int
	}
	for _, tc := range []struct {
		name    string
		subject []string
		x, y    []float64
		want    want
	}{
		{
			name:    "mismatched lengths",
			subject: []string{"a", "a", "b"},
			x:       []float64{1, 2, 3, 4},
			y:       []float64{1, 2, 3, 4},
			want:    want{nan, nan, nan, nan, nan, 0, 0, 0},
		},
		{
			name: "empty",
			want: want{nan, nan, nan, nan, nan, 0, 0, 0},
		},
		{
			name:    "every subject seen once",
			subject: []string{"a", "b", "c", "d"},
			x:       []float64{1, 2, 3, 4},
			y:       []float64{2, 1, 4, 3},
			want:    want{nan, nan, nan, nan, nan, 0, 0, 0},
		},
		{
			name:    "x constant within every subject",
			subject: []string{"a", "a", "b", "b", "c", "c"},
			x:       []float64{0.1, 0.1, 5, 5, 7, 7},
			y:       []float64{1, 2, 3, 5, 8, 9},
			want:    want{nan, nan, nan, nan, nan, 2, 6, 3},
		},
		{
			name:    "y constant within every subject",
			subject: []string{"a", "a", "a", "b", "b", "b"},
			x:       []float64{1, 2, 3, 1, 5, 2},
			y:       []float64{0.1, 0.1, 0.1, 4, 4, 4},
			want:    want{nan, nan, nan, nan, 0, 3, 6, 2},
		},
		{
			name:    "perfect within-subject relation",
			subject: []string{"a", "a", "a", "b", "b", "b"},
			x:       []float64{1, 2, 3, 10, 11, 12},
			y:       []float64{5, 3, 1, 0, -2, -4},
			want:    want{-1, 0, -1, -1, -2, 3, 6, 2},
		},
		{
			name:    "no residual df",
			subject: []string{"a", "a", "b"},
			x:       []float64{1, 2, 3},
			y:       []float64{1, 3, 3},
			// One subject of two (the singleton is dropped): df = 2-1-1 = 0.
			want: want{nan, nan, nan, nan, 2, 0, 2, 1},
		},
		{
			name:    "infinite value",
			subject: []string{"a", "a", "b", "b", "b"},
			x:       []float64{1, 2, 3, math.Inf(1), 5},
			y:       []float64{1, 2, 3, 4, 6},
			want:    want{nan, nan, nan, nan, nan, 2, 5, 2},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := RMCorr(tc.subject, tc.x, tc.y)
			assertClose(t, "R", got.R, tc.want.r, 0)
			assertClose(t, "P", got.P, tc.want.p, 0)
			assertClose(t, "CILow", got.CILow, tc.want.lo, 0)
			assertClose(t, "CIHigh", got.CIHigh, tc.want.hi, 0)
			assertClose(t, "Slope", got.Slope, tc.want.slope, 0)
			if got.DF != tc.want.df || got.N != tc.want.n || got.Subjects != tc.want.subjects {
				t.Errorf("DF, N, Subjects: got %d, %d, %d, want %d, %d, %d",
					got.DF, got.N, got.Subjects, tc.want.df, tc.want.n, tc.want.subjects)
			}
		})
	}
}

// Subjects given as codes, numbered in any order, give the result of the
// same subjects given by name, to the bit: groups are taken in order of
// first appearance either way.
func TestRMCorrCodesEqualsRMCorrByName(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 200 {
		subjects := 1 + rng.IntN(12)
		rename := rng.Perm(subjects) // codes unrelated to the order of appearance
		n := rng.IntN(60)
		names, codes := make([]string, n), make([]int, n)
		x, y := make([]float64, n), make([]float64, n)
		for i := range n {
			s := rng.IntN(subjects)
			names[i], codes[i] = fmt.Sprintf("s%d", s), rename[s]
			x[i], y[i] = rng.NormFloat64()*1e3, rng.NormFloat64()+float64(s)
			if rng.IntN(10) == 0 {
				x[i] = math.NaN()
			}
		}
		want := RMCorr(names, x, y)
		for _, got := range []RMCorrResult{RMCorrCodes(codes, subjects, x, y), RMCorrCodes(int32s(codes), subjects, x, y)} {
			if !sameBits([]float64{got.R, got.P, got.CILow, got.CIHigh, got.Slope}, []float64{want.R, want.P, want.CILow, want.CIHigh, want.Slope}) ||
				got.N != want.N || got.DF != want.DF || got.Subjects != want.Subjects {
				t.Fatalf("trial %d: codes give %+v, names %+v", trial, got, want)
			}
		}
	}
	bad := RMCorrCodes([]int{0, 0, 3}, 2, []float64{1, 2, 3}, []float64{1, 3, 2})
	if bad.N != 0 || !math.IsNaN(bad.R) {
		t.Fatalf("a code outside [0, subjects): got %+v, want N 0 and NaN", bad)
	}
}
