package pulse_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || rel == filepath.Join("internal", "pulse") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		checked++
		for _, c := range secondCopies {
			if loc := c.re.FindIndex(b); loc != nil {
				line := strings.Count(string(b[:loc[0]]), "\n") + 1
				t.Errorf("%s:%d: %s — call pulse instead", rel, line, c.what)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked %d Go files, want the whole module", checked)
	}
}
