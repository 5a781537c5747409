package stats

import (
	"math"
	"testing"
)

// References: testdata/power.R (R 4.2.2, pwr 1.3.0). "pwr" values are
// pwr::pwr.r.test's own answers, which stop at uniroot's default tolerance
// (about 1e-4); "exact" values solve pwr's power equation with uniroot(tol =
// 1e-15), and power values need no root at all.

func TestPowerRMatchesPwr(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, r, want float64 }{
		// pwr.r.test(n = n, r = r, sig.level = 0.05)$power
		{11, 0.5, 0.36509953603121165},
		{50, 0.2, 0.28852786930692342},
		{4, 0.9, 0.41728119881052911},
		{1000, 0.05, 0.35245853330518501},
		{12.5, 0.6, 0.59784950085302024},
		{12.5, -0.6, 0.59784950085302024}, // two-sided: the sign of r does not matter
	} {
		assertClose(t, "PowerR", PowerR(c.n, c.r, 0.05), c.want, within)
	}
}

func TestMinDetectableRMatchesPwr(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, pwr, exact float64 }{
		// pwr.r.test(n = n, power = 0.8, sig.level = 0.05)$r
		{11, 0.74284650179278711, 0.74284634928930793},
		{30, 0.48664738997020501, 0.48662048199228525},
		{85, 0.29842244081831509, 0.29841929570205311},
		{200, 0.19657666490321013, 0.19656726597815977},
		{5000, 0.039590067955814122, 0.039607936588970875},
	} {
		got := MinDetectableR(c.n, 0.8, 0.05)
		assertClose(t, "MinDetectableR vs exact root", got, c.exact, within)
		assertClose(t, "MinDetectableR vs pwr.r.test", got, c.pwr, 1e-3)
	}
	// uniroot(function(r) pwr.r.test(n = 11, r = r, sig.level = 0.01)$power - 0.9, ...)
	assertClose(t, "n 11, power 0.9, alpha 0.01", MinDetectableR(11, 0.9, 0.01), 0.87369032029738747, within)
	// The sentence: with 11 teams, only r ≥ 0.74 is found 8 times in 10.
	assertRounds(t, "n 11", MinDetectableR(11, 0.8, 0.05), 0.74, 2)
}

func TestSampleSizeRMatchesPwr(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ r, pwr, exact float64 }{
		// pwr.r.test(r = r, power = 0.8, sig.level = 0.05)$n
		{0.1, 781.75156281671536, 781.75156424871},
		{0.3, 84.073639782287657, 84.073637744296036},
		{0.5, 28.24841062783808, 28.248410463212522},
		{0.74, 11.11156408292632, 11.111549355733242},
	} {
		got := SampleSizeR(c.r, 0.8, 0.05)
		assertClose(t, "SampleSizeR vs exact root", got, c.exact, within)
		assertClose(t, "SampleSizeR vs pwr.r.test", got, c.pwr, 1e-4)
	}
	// "about 85 teams would find r = 0.3"
	if got := math.Ceil(SampleSizeR(0.3, 0.8, 0.05)); got != 85 {
		t.Errorf("teams for r = 0.3: got %v, want 85", got)
	}
}

func TestPowerFunctionsRefuseImpossibleQuestions(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]float64{
		"PowerR n < 4":               PowerR(3, 0.5, 0.05),
		"PowerR r = 1":               PowerR(20, 1, 0.05),
		"PowerR alpha 0":             PowerR(20, 0.5, 0),
		"PowerR NaN r":               PowerR(20, math.NaN(), 0.05),
		"MinDetectableR n < 4":       MinDetectableR(3.5, 0.8, 0.05),
		"MinDetectableR power 1":     MinDetectableR(20, 1, 0.05),
		"MinDetectableR power<alpha": MinDetectableR(20, 0.04, 0.05),
		"MinDetectableR n Inf":       MinDetectableR(math.Inf(1), 0.8, 0.05),
		"SampleSizeR r 0":            SampleSizeR(0, 0.8, 0.05),
		"SampleSizeR r 1":            SampleSizeR(1, 0.8, 0.05),
		"SampleSizeR tiny r":         SampleSizeR(1e-6, 0.8, 0.05),
	} {
		assertNaN(t, name, v)
	}
	if got := SampleSizeR(0.999, 0.8, 0.05); got != 4 {
		t.Errorf("SampleSizeR(0.999): got %v, want 4 (the smallest n the formula allows)", got)
	}
}
