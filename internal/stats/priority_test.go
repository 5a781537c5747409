package stats

import (
	"math"
	"testing"
)

func TestDriverPriorityFavoursLowScoresWithACertainLink(t *testing.T) {
	t.Parallel()
	// The formula is a definition (see DriverPriority); the expected values
	// are it evaluated by hand.
	for _, c := range []struct {
		name           string
		score, linkLow float64
		want           float64
	}{
		{"low score, sure link", 40, 0.5, 0.5 * 0.6},
		{"high score, sure link", 85, 0.5, 0.5 * 0.15},
		{"low score, link may be zero", 20, -0.05, 0},
		{"low score, negative link", 20, -0.6, 0},
		{"perfect score", 100, 0.9, 0},
		{"zero score", 0, 0.3, 0.3},
	} {
		assertClose(t, c.name, DriverPriority(c.score, c.linkLow), c.want, 1e-15)
	}
	// Order: a weaker-scoring driver with the same link ranks higher, and a
	// surer link beats a weaker one at the same score.
	if !(DriverPriority(40, 0.3) > DriverPriority(60, 0.3)) || !(DriverPriority(50, 0.4) > DriverPriority(50, 0.2)) {
		t.Error("priority does not rise with a lower score or a surer link")
	}
}

func TestDriverPriorityIsUndefinedWithoutAScoreOrLink(t *testing.T) {
	t.Parallel()
	for name, v := range map[string]float64{
		"NaN score":       DriverPriority(math.NaN(), 0.4),
		"score above 100": DriverPriority(101, 0.4),
		"negative score":  DriverPriority(-1, 0.4),
		"NaN link":        DriverPriority(50, math.NaN()),
		"link above 1":    DriverPriority(50, 1.2),
	} {
		assertNaN(t, name, v)
	}
}
