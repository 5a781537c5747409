package report

import (
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Every figure corrects a configured threshold the same way, through
// privacy.Threshold: results, participation, internal service and
// retention once disagreed (3 for one, 5 for another).
func TestEveryReportUsesTheOneThresholdRule(t *testing.T) {
	tree := tandem.NewTree([]tandem.Unit{{ID: 1, Name: "Co"}})
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, k := range []int{0, 1, 2, 3, 4, 5, 7, 50, 51} {
		want := privacy.Threshold(k)
		round := pulse.Round{ID: 1, MinGroup: k}
		if got := BuildRoundResults(RoundInput{Tree: tree, Round: round}).K; got != want {
			t.Errorf("k %d: round results use %d, want %d", k, got, want)
		}
		if got := BuildService(ServiceInput{Tree: tree, Round: round}).K; got != want {
			t.Errorf("k %d: internal service uses %d, want %d", k, got, want)
		}
		if got := BuildRetention(RetentionInput{Tree: tree, K: k, Period: "month", From: day.AddDate(-1, 0, 0), To: day, Today: day}).K; got != want {
			t.Errorf("k %d: retention uses %d, want %d", k, got, want)
		}
		at, below := round, round
		at.Invited, below.Invited = want, want-1
		if !at.ShowsParticipation() || below.ShowsParticipation() {
			t.Errorf("k %d: participation shown at %d invited: %v, at %d: %v; want from %d on", k, want, at.ShowsParticipation(), want-1, below.ShowsParticipation(), want)
		}
	}
}
