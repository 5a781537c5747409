package report

import (
	"math"
	"testing"
)

// TestServiceOverallWeightsShownProvidersByRaters: the dashboard's one
// internal-service number is the rater-weighted mean of the providers the
// matrix shows; a provider not shown (NaN, below k) adds nothing.
func TestServiceOverallWeightsShownProvidersByRaters(t *testing.T) {
	m := &ServiceMatrix{Providers: []ServiceProvider{
		{Raters: 5, Score: 80},
		{Raters: 15, Score: 40},
		{Raters: 0, Score: math.NaN()},
	}}
	score, n := m.Overall()
	// (5·80 + 15·40) / 20 = 50, over two providers.
	if n != 2 || math.Abs(score-50) > 1e-12 {
		t.Errorf("Overall() = %v over %d providers, want 50 over 2", score, n)
	}
	if score, n := (&ServiceMatrix{}).Overall(); n != 0 || !math.IsNaN(score) {
		t.Errorf("an empty matrix: Overall() = %v over %d, want NaN over 0", score, n)
	}
}
