package pulse_test

import (
	"regexp"
	"testing"

	"github.com/tandem-hq/tandem/internal/sourcescan"
)

// The round lifecycle has one home, this package (see its doc). These
// patterns would be a second copy of one of its rules somewhere else:
// parsing a cron expression, counting a round's window or reminder from
// its slot, or looking for a slot by hand.
var secondCopies = []struct {
	what string
	re   *regexp.Regexp
}{
	{"parsing cron expressions (pulse.Cadence.Schedule does)", regexp.MustCompile(`"github\.com/robfig/cron/v3"|gocron\.NewDefaultCron`)},
	{"a round's window or reminder counted from its slot (pulse.Program.PlanRound does)", regexp.MustCompile(`AddDate\([^)]*(WindowDays|ReminderDays)`)},
	{"the old schedule parser (pulse.Program.Schedule replaced it)", regexp.MustCompile(`ParseSchedule\(`)},
	{"a slot's day computed by hand (pulse.Period / Schedule.Day do)", regexp.MustCompile(`ScheduledAt\.In\([^)]*\)\.Format\("2006-01-02"\)`)},
	{"an imported round's start planned by hand (pulse.Program.PlanImportedRound does)", regexp.MustCompile(`time\.Date\([^)]*, 0, 0, 1, 0,`)},
}

func TestTheRoundLifecycleRulesHaveNoSecondCopyOutsidePulse(t *testing.T) {
	for _, f := range sourcescan.GoFiles(t, "internal/pulse") {
		for _, c := range secondCopies {
			if loc := c.re.FindIndex(f.Text); loc != nil {
				t.Errorf("%s:%d: %s — call pulse instead", f.Rel, f.Line(loc[0]), c.what)
			}
		}
	}
}
