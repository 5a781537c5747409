package stats

import (
	"math"
	"testing"
)

// Reference tools used across these tests (versions as installed from Debian
// 12 "bookworm"):
//
//	R 4.2.2 Patched (2022-11-10 r83330), psych 2.2.9 (r-base-core, r-cran-psych)
//	Python 3.11 /usr/bin/python3, SciPy 1.10.1, NumPy 1.24.2 (python3-scipy)
//
// R ran with options(digits = 17); Python values are repr() of the float.

// within is the tolerance used where a reference carries full double precision.
const within = 1e-9

// assertClose fails unless got is within rel relative error of want (absolute
// error when want is 0). Two NaNs are equal.
func assertClose(t *testing.T, name string, got, want, rel float64) {
	t.Helper()
	if math.IsNaN(want) || math.IsNaN(got) {
		if math.IsNaN(want) != math.IsNaN(got) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
		return
	}
	diff := math.Abs(got - want)
	if want != 0 {
		diff /= math.Abs(want)
	}
	if diff > rel {
		t.Errorf("%s: got %.17g, want %.17g (relative error %.3g > %.3g)", name, got, want, diff, rel)
	}
}

// assertRounds fails unless got, rounded to digits decimals, equals the
// published value want.
func assertRounds(t *testing.T, name string, got, want float64, digits int) {
	t.Helper()
	scale := math.Pow(10, float64(digits))
	if math.Round(got*scale) != math.Round(want*scale) {
		t.Errorf("%s: got %.*f (%.17g), published %.*f", name, digits, got, got, digits, want)
	}
}

func assertNaN(t *testing.T, name string, got float64) {
	t.Helper()
	if !math.IsNaN(got) {
		t.Errorf("%s: got %v, want NaN", name, got)
	}
}

// assertCorrelation compares every field of a Correlation; wantP, wantLo and
// wantHi may be NaN.
func assertCorrelation(t *testing.T, got Correlation, wantN, wantDF int, wantR, wantP, wantLo, wantHi, rel float64) {
	t.Helper()
	if got.N != wantN || got.DF != wantDF {
		t.Errorf("N, DF: got %d, %d, want %d, %d", got.N, got.DF, wantN, wantDF)
	}
	assertClose(t, "R", got.R, wantR, rel)
	assertClose(t, "P", got.P, wantP, rel)
	assertClose(t, "CILow", got.CILow, wantLo, rel)
	assertClose(t, "CIHigh", got.CIHigh, wantHi, rel)
}
