package stats

import (
	"math"
	"testing"
)

func TestLeastSquaresMatchesNISTNorrisCertifiedValues(t *testing.T) {
	t.Parallel()
	line, ok := LeastSquares(norrisX, norrisY)
	if !ok {
		t.Fatal("LeastSquares(Norris): ok = false")
	}
	assertClose(t, "Intercept vs NIST certified B0", line.Intercept, norrisCertifiedIntercept, within)
	assertClose(t, "Slope vs NIST certified B1", line.Slope, norrisCertifiedSlope, within)
}

func TestLeastSquaresMatchesAnscombeQuartetSetI(t *testing.T) {
	t.Parallel()
	line, ok := LeastSquares(anscombeX1, anscombeY1)
	if !ok {
		t.Fatal("ok = false")
	}
	// Anscombe (1973): "regression line y = 3 + 0.5x", printed as 3.00 and 0.500.
	assertRounds(t, "Intercept vs Anscombe 1973", line.Intercept, 3.00, 2)
	assertRounds(t, "Slope vs Anscombe 1973", line.Slope, 0.500, 3)
	// R 4.2.2: coef(lm(y1 ~ x1, anscombe))
	//   -> (Intercept) 3.00009090909090892, x1 0.50009090909090914
	assertClose(t, "Intercept vs R lm", line.Intercept, 3.00009090909090892, within)
	assertClose(t, "Slope vs R lm", line.Slope, 0.50009090909090914, within)
}

func TestLeastSquaresOfNegativeRelation(t *testing.T) {
	t.Parallel()
	x := []float64{2.1, 3.4, 1.9, 5.6, 4.4, 3.8, 6.0, 2.8, math.NaN()}
	y := []float64{8.1, 6.9, 8.4, 4.2, 6.3, 6.0, 3.1, 7.7, 1}
	// R 4.2.2 (the NaN pair left out):
	//   coef(lm(c(8.1,6.9,8.4,4.2,6.3,6.0,3.1,7.7) ~ c(2.1,3.4,1.9,5.6,4.4,3.8,6.0,2.8)))
	//   -> 10.8839085820895445 -1.2123756218905462
	line, ok := LeastSquares(x, y)
	if !ok {
		t.Fatal("ok = false")
	}
	assertClose(t, "Intercept", line.Intercept, 10.8839085820895445, within)
	assertClose(t, "Slope", line.Slope, -1.2123756218905462, within)
}

func TestLeastSquaresIsUndefinedWithoutSpreadInX(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		x, y []float64
	}{
		{"nil", nil, nil},
		{"one point", []float64{1}, []float64{2}},
		{"one complete pair", []float64{1, 2}, []float64{2, math.NaN()}},
		{"constant x", []float64{0.1, 0.1, 0.1}, []float64{1, 2, 3}},
		{"mismatched lengths", []float64{1, 2, 3}, []float64{1, 2}},
		{"infinite value", []float64{1, 2, math.Inf(1)}, []float64{1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if line, ok := LeastSquares(tc.x, tc.y); ok || line != (Line{}) {
				t.Errorf("got %+v, %v, want zero Line, false", line, ok)
			}
		})
	}
}

func TestLeastSquaresWithConstantYIsFlat(t *testing.T) {
	t.Parallel()
	line, ok := LeastSquares([]float64{1, 2, 3}, []float64{4, 4, 4})
	if !ok || line != (Line{Intercept: 4, Slope: 0}) {
		t.Errorf("got %+v, %v, want {4 0}, true", line, ok)
	}
}

func TestLeastSquaresSurvivesExtremeScale(t *testing.T) {
	t.Parallel()
	// y = 1.5 + 0.5e-200·x; squares of x near 1e200 overflow a float64
	// unless the data are rescaled first.
	x := []float64{1e200, 2e200, 3e200, 4e200}
	y := []float64{2, 2.5, 3, 3.5}
	line, ok := LeastSquares(x, y)
	if !ok {
		t.Fatal("ok = false")
	}
	assertClose(t, "Intercept", line.Intercept, 1.5, 1e-12)
	assertClose(t, "Slope", line.Slope, 0.5e-200, 1e-12)
}
