package schedule_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
)

// yearProgram is a program of the simulated year and the slots it should
// have, from the calendar: the dates keep accepts, at hh:mm local time.
type yearProgram struct {
	name    string
	cadence pulse.Cadence
	window  int
	skips   []string
	keep    func(d time.Time) bool
	hh, mm  int
}

// calendarSlots walks the days from from to to in loc and returns, for
// each day keep accepts (and not skipped), the first instant whose local
// clock shows that day at hh:mm or later (the end of the gap when clocks
// jump over it, the first occurrence when they go back) — found by
// scanning minutes, not by asking pulse.
func calendarSlots(loc *time.Location, from, to time.Time, hh, mm int, keep func(time.Time) bool, skips []string) []time.Time {
	skipped := map[string]bool{}
	for _, s := range skips {
		skipped[s] = true
	}
	var out []time.Time
	lf := from.In(loc)
	for d := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, time.UTC); !d.After(to); d = d.AddDate(0, 0, 1) {
		if !keep(d) || skipped[d.Format(time.DateOnly)] {
			continue
		}
		wall := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, time.UTC)
		for t := wall.Add(-15 * time.Hour); t.Before(wall.Add(15 * time.Hour)); t = t.Add(time.Minute) {
			l := t.In(loc)
			if l.Year() == d.Year() && l.Month() == d.Month() && l.Day() == d.Day() && l.Hour()*60+l.Minute() >= hh*60+mm {
				if t.After(from) && !t.After(to) {
					out = append(out, t)
				}
				break
			}
		}
	}
	return out
}

func nthWeekdayOf(d time.Time, wd time.Weekday, n int) bool {
	if d.Weekday() != wd {
		return false
	}
	if n == pulse.Last {
		return d.AddDate(0, 0, 7).Month() != d.Month()
	}
	return (d.Day()-1)/7+1 == n
}

// A year of simulated time through the real scheduler (gocron on a fake
// clock, housekeeping daily): every program gets exactly the rounds the
// calendar says, at the instants it says, never two on one day.
func TestAYearOfSimulatedTimeStartsEachProgramsRoundsOnItsDaysOnly(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: a year of simulated time, about 3 s of CPU; the full run keeps it")
	}
	o := newTestOrg(t)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	programs := []yearProgram{
		{name: "weekly Berlin", window: 5,
			cadence: pulse.Cadence{Kind: pulse.Weekly, Weeks: 1, Weekday: time.Monday, Hour: 9, Start: "2026-01-05", Zone: "Europe/Berlin"},
			keep:    func(d time.Time) bool { return d.Weekday() == time.Monday }, hh: 9},
		{name: "fortnightly New York, one date skipped", window: 14, skips: []string{"2026-07-13"},
			cadence: pulse.Cadence{Kind: pulse.Weekly, Weeks: 2, Weekday: time.Monday, Hour: 9, Start: "2026-01-12", Zone: "America/New_York"},
			keep: func(d time.Time) bool {
				return d.Weekday() == time.Monday && int(d.Sub(time.Date(2026, 1, 12, 0, 0, 0, 0, time.UTC)).Hours()/24)%14 == 0
			}, hh: 9},
		{name: "Sundays 02:30 Berlin, across both changes", window: 3,
			cadence: pulse.Cadence{Kind: pulse.Weekly, Weeks: 1, Weekday: time.Sunday, Hour: 2, Minute: 30, Start: "2026-01-04", Zone: "Europe/Berlin"},
			keep:    func(d time.Time) bool { return d.Weekday() == time.Sunday }, hh: 2, mm: 30},
		{name: "monthly first Monday Sydney", window: 7,
			cadence: pulse.Cadence{Kind: pulse.Monthly, Nth: 1, Weekday: time.Monday, Hour: 9, Zone: "Australia/Sydney"},
			keep:    func(d time.Time) bool { return nthWeekdayOf(d, time.Monday, 1) }, hh: 9},
		{name: "monthly on the 31st Berlin", window: 7,
			cadence: pulse.Cadence{Kind: pulse.Monthly, Day: 31, Hour: 10, Zone: "Europe/Berlin"},
			keep:    func(d time.Time) bool { return d.AddDate(0, 0, 1).Month() != d.Month() }, hh: 10},
		{name: "quarterly last Friday Kolkata", window: 10,
			cadence: pulse.Cadence{Kind: pulse.Quarterly, Nth: pulse.Last, Weekday: time.Friday, Hour: 11, Start: "2026-01-01", Zone: "Asia/Kolkata"},
			keep: func(d time.Time) bool {
				return (d.Month()-1)%3 == 0 && nthWeekdayOf(d, time.Friday, pulse.Last)
			}, hh: 11},
		{name: "weekdays 08:00 UTC (admin cron)", window: 1,
			cadence: pulse.Cadence{Kind: pulse.Cron, Expr: "0 8 * * 1-5", Zone: "UTC"},
			keep:    func(d time.Time) bool { return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday }, hh: 8},
	}
	ids := make([]int64, len(programs))
	want := map[int64][]time.Time{}
	for i, yp := range programs {
		yp := yp
		p := o.newProgram(t, start, func(p *pulse.Program) {
			p.Name, p.Cadence, p.WindowDays, p.ReminderDays = yp.name, yp.cadence, yp.window, 0
		})
		for _, d := range yp.skips {
			if err := o.st.SetSkip(t.Context(), p.ID, d, true); err != nil {
				t.Fatal(err)
			}
		}
		ids[i] = p.ID
		loc, err := time.LoadLocation(yp.cadence.Zone)
		if err != nil {
			t.Fatal(err)
		}
		want[p.ID] = calendarSlots(loc, start, end, yp.hh, yp.mm, yp.keep, yp.skips)
	}

	fc := clockwork.NewFakeClockAt(start)
	sched := o.startScheduler(t, fc, schedule.Options{HousekeepEvery: 24 * time.Hour, DigestCron: "-"})
	timers := len(programs) + 1 // the programs' jobs and housekeeping
	fired := 0
	lastSeen := ""
	for {
		blockUntilTimers(t, fc, timers)
		var next time.Time
		nextRuns := func() string {
			var ns []string
			for _, id := range ids {
				ns = append(ns, sched.NextRun(id).UTC().Format(time.RFC3339))
			}
			return fmt.Sprintf("now %v, next runs %v", fc.Now().UTC().Format(time.RFC3339), ns)
		}
		eventually(t, "every job armed for a slot after now", func() bool {
			next = time.Time{}
			for _, id := range ids {
				n := sched.NextRun(id)
				if !n.After(fc.Now()) {
					if st := nextRuns(); st != lastSeen {
						t.Log("waiting: " + st)
						lastSeen = st
					}
					return false
				}
				if next.IsZero() || n.Before(next) {
					next = n
				}
			}
			return true
		})
		if next.After(end) {
			break
		}
		due := 0
		for _, id := range ids {
			if sched.NextRun(id).Equal(next) {
				due++
			}
		}
		fc.Advance(next.Sub(fc.Now()))
		fired += due
		eventually(t, fmt.Sprintf("%d rounds by %v", fired, next), func() bool { return o.roundCount(t) == fired })
	}

	for i, id := range ids {
		got := oldestFirst(o.rounds(t, id))
		if len(got) != len(want[id]) {
			t.Errorf("%s: %d rounds in 2026, want %d (the calendar)", programs[i].name, len(got), len(want[id]))
			continue
		}
		days := map[string]bool{}
		for j, r := range got {
			if !r.ScheduledAt.Equal(want[id][j]) {
				t.Errorf("%s: round %d at %v, want %v", programs[i].name, j+1, r.ScheduledAt.UTC(), want[id][j].UTC())
			}
			if days[r.Period] {
				t.Errorf("%s: two rounds on %s", programs[i].name, r.Period)
			}
			days[r.Period] = true
		}
	}
	// The counts the words promise, as a reader would count them.
	for i, wantN := range []int{52, 25, 52, 12, 12, 4, 261} {
		if got := len(want[ids[i]]); got != wantN {
			t.Errorf("%s: the calendar has %d slots in 2026, want %d", programs[i].name, got, wantN)
		}
	}
}

// roundCount counts every round of every program.
func (o *testOrg) roundCount(t *testing.T) int {
	t.Helper()
	ps, err := o.st.Programs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range ps {
		n += len(o.rounds(t, p.ID))
	}
	return n
}
