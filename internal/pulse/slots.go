package pulse

import (
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Schedule is a checked cadence, ready to compute its slots: the one
// place that says when a program's rounds start. A slot is a local date
// and time of day in the cadence's zone, turned into an instant:
//
//   - a time that does not exist that day (the spring-forward gap) moves
//     to the first minute after the gap, once;
//   - a time that happens twice (the repeated fall-back hour) is its first
//     occurrence, once.
type Schedule struct {
	c     Cadence
	loc   *time.Location
	start time.Time // first date a slot may fall on (UTC midnight); zero for none
	first time.Time // Weekly: the first slot's date
	spec  *cron.SpecSchedule
	skip  map[string]bool
}

// searchDays bounds the search for a cadence's next slot: a cron
// expression for 29 February next happens up to eight years later.
const searchDays = 8*366 + 2

// Schedule checks the cadence and returns its schedule, or field errors
// saying what to change. It does not apply the guard rails that depend on
// the date (Program.Validate does).
func (c Cadence) Schedule() (*Schedule, error) {
	loc, err := loadZone(c.Zone)
	if err != nil {
		return nil, err
	}
	s := &Schedule{c: c, loc: loc}
	if c.Start != "" {
		d, err := time.Parse(time.DateOnly, c.Start)
		if err != nil {
			return nil, tandem.FieldErrorf(FieldStart, "give the start date as YYYY-MM-DD, for example 2026-12-07")
		}
		s.start = d
	}
	if c.Hour < 0 || c.Hour > 23 || c.Minute < 0 || c.Minute > 59 {
		return nil, tandem.FieldErrorf(FieldAt, "give the time of day as HH:MM, for example 09:00")
	}
	weekday := func() error {
		if c.Weekday < time.Sunday || c.Weekday > time.Saturday {
			return tandem.FieldErrorf(FieldWeekday, "choose a weekday")
		}
		return nil
	}
	switch c.Kind {
	case Weekly:
		if c.Weeks < 1 || c.Weeks > MaxWeeks {
			return nil, tandem.FieldErrorf(FieldWeeks, "rounds can be 1 to %d weeks apart", MaxWeeks)
		}
		if err := weekday(); err != nil {
			return nil, err
		}
		if s.start.IsZero() {
			return nil, tandem.FieldErrorf(FieldStart, "give the date of the first round: the weeks are counted from it")
		}
		s.first = s.start.AddDate(0, 0, (int(c.Weekday)-int(s.start.Weekday())+7)%7)
	case Monthly, Quarterly:
		switch {
		case c.Day != 0 && c.Nth != 0:
			return nil, tandem.FieldErrorf(FieldOn, "choose either a weekday of the month or a day of the month, not both")
		case c.Day != 0:
			if c.Day < 1 || c.Day > 31 {
				return nil, tandem.FieldErrorf(FieldDay, "the day of the month must be 1 to 31")
			}
		case c.Nth == Last || (c.Nth >= 1 && c.Nth <= 4):
			if err := weekday(); err != nil {
				return nil, err
			}
		default:
			return nil, tandem.FieldErrorf(FieldNth, "choose the first, second, third, fourth or last weekday of the month")
		}
		if c.Kind == Quarterly && s.start.IsZero() {
			return nil, tandem.FieldErrorf(FieldStart, "give the date of the first round: the quarters are counted from its month")
		}
	case Cron:
		spec, err := parseCron(c.Expr)
		if err != nil {
			return nil, err
		}
		s.spec = spec
	case TestInterval:
		if c.Seconds < 1 {
			return nil, tandem.FieldErrorf(FieldRepeat, "a test interval needs a number of seconds")
		}
	default:
		return nil, tandem.FieldErrorf(FieldRepeat, "choose how often rounds start: weekly, monthly, quarterly or (admins) a cron expression")
	}
	if s.nextSlot(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return nil, tandem.FieldErrorf(s.field(), "this cadence never happens; check the day and month")
	}
	return s, nil
}

// field is the form field a problem with the whole cadence is shown at.
func (s *Schedule) field() string {
	if s.c.Kind == Cron {
		return FieldCron
	}
	return FieldRepeat
}

// Cadence returns the cadence the schedule was made from.
func (s *Schedule) Cadence() Cadence { return s.c }

// Location is the cadence's zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Day returns the local date (YYYY-MM-DD) of an instant in the cadence's
// zone: the day a round counts for.
func (s *Schedule) Day(t time.Time) string { return Period(t, s.loc) }

// WithSkips returns the schedule without the slots on the given local
// dates (YYYY-MM-DD): the dates HR chose to skip.
func (s *Schedule) WithSkips(days []string) *Schedule {
	out := *s
	out.skip = map[string]bool{}
	for _, d := range days {
		out.skip[d] = true
	}
	return &out
}

// Skipped reports whether the slot's date is one HR skipped.
func (s *Schedule) Skipped(slot time.Time) bool { return s.skip[s.Day(slot)] }

// Next returns the first slot strictly after t that is not on a skipped
// date, or the zero time when there is none.
func (s *Schedule) Next(t time.Time) time.Time {
	for {
		n := s.nextSlot(t)
		if n.IsZero() || !s.skip[s.Day(n)] {
			return n
		}
		t = n
	}
}

// Upcoming returns the next n slots after t, skipped dates left out.
func (s *Schedule) Upcoming(t time.Time, n int) []time.Time {
	var out []time.Time
	for len(out) < n {
		t = s.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// CalendarEntry is one slot of the calendar of next rounds.
type CalendarEntry struct {
	At      time.Time // in the cadence's zone
	Day     string    // YYYY-MM-DD
	Skipped bool
}

// Calendar returns the next n slots after t, skipped ones included and
// marked, for the calendar HR skips dates in.
func (s *Schedule) Calendar(t time.Time, n int) []CalendarEntry {
	var out []CalendarEntry
	for len(out) < n {
		t = s.nextSlot(t)
		if t.IsZero() {
			break
		}
		out = append(out, CalendarEntry{At: t.In(s.loc), Day: s.Day(t), Skipped: s.skip[s.Day(t)]})
	}
	return out
}

// nextSlot is Next with skipped dates included.
func (s *Schedule) nextSlot(t time.Time) time.Time {
	if s.c.Kind == TestInterval {
		step := int64(s.c.Seconds)
		return time.Unix((t.Unix()/step+1)*step, 0).UTC()
	}
	lt := t.In(s.loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -1)
	if day.Before(s.start) {
		day = s.start
	}
	for i := 0; i < searchDays; i, day = i+1, day.AddDate(0, 0, 1) {
		if !s.onDay(day) {
			continue
		}
		for _, hm := range s.times() {
			if at := wallTime(day, hm[0], hm[1], s.loc); at.After(t) {
				return at
			}
		}
	}
	return time.Time{}
}

// onDay reports whether the cadence has slots on a date (UTC midnight).
func (s *Schedule) onDay(day time.Time) bool {
	if !s.start.IsZero() && day.Before(s.start) {
		return false
	}
	c := s.c
	switch c.Kind {
	case Weekly:
		if day.Before(s.first) || day.Weekday() != c.Weekday {
			return false
		}
		return int(day.Sub(s.first).Hours()/24)%(7*c.Weeks) == 0
	case Quarterly:
		if monthIndex(day)-monthIndex(s.start) < 0 || (monthIndex(day)-monthIndex(s.start))%3 != 0 {
			return false
		}
		return onMonthDay(c, day)
	case Monthly:
		return onMonthDay(c, day)
	case Cron:
		sp := s.spec
		if sp.Month&(1<<uint(day.Month())) == 0 {
			return false
		}
		dom := sp.Dom&(1<<uint(day.Day())) != 0
		dow := sp.Dow&(1<<uint(day.Weekday())) != 0
		if sp.Dom&starBit != 0 || sp.Dow&starBit != 0 {
			return dom && dow
		}
		return dom || dow
	}
	return false
}

// onMonthDay: the Nth (or last) weekday, or the day of the month (its
// last day when the month is shorter).
func onMonthDay(c Cadence, day time.Time) bool {
	last := daysIn(day.Year(), day.Month())
	if c.Day != 0 {
		return day.Day() == min(c.Day, last)
	}
	if day.Weekday() != c.Weekday {
		return false
	}
	if c.Nth == Last {
		return day.Day()+7 > last
	}
	return (day.Day()-1)/7+1 == c.Nth
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

func monthIndex(d time.Time) int { return d.Year()*12 + int(d.Month()) - 1 }

// times lists the slot times of a day, [hour, minute], in order.
func (s *Schedule) times() [][2]int {
	if s.c.Kind != Cron {
		return [][2]int{{s.c.Hour, s.c.Minute}}
	}
	var out [][2]int
	for h := 0; h < 24; h++ {
		if s.spec.Hour&(1<<uint(h)) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if s.spec.Minute&(1<<uint(m)) != 0 {
				out = append(out, [2]int{h, m})
			}
		}
	}
	return out
}

// wallTime turns a local date and time of day into an instant in loc: the
// first instant at which loc's clocks show that date and a time at or past
// hh:mm. That is the time itself on an ordinary day, its first occurrence
// when clocks go back, and the end of the gap when they jump over it.
func wallTime(day time.Time, hh, mm int, loc *time.Location) time.Time {
	wall := time.Date(day.Year(), day.Month(), day.Day(), hh, mm, 0, 0, time.UTC)
	var best, later time.Time
	// The offsets in force a day either side cover any change near the
	// wall time.
	for _, probe := range []time.Time{wall.Add(-26 * time.Hour), wall, wall.Add(26 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		cand := wall.Add(-time.Duration(off) * time.Second)
		lc := cand.In(loc)
		if lc.Year() == wall.Year() && lc.Month() == wall.Month() && lc.Day() == wall.Day() && lc.Hour() == hh && lc.Minute() == mm {
			if best.IsZero() || cand.Before(best) {
				best = cand
			}
		} else if later.IsZero() || cand.After(later) {
			later = cand
		}
	}
	if !best.IsZero() {
		return best
	}
	// In the gap: the candidate read with the offset from before the
	// change lands after it; the change itself is where its zone starts.
	start, _ := later.In(loc).ZoneBounds()
	if rem := start.Unix() % 60; rem != 0 {
		start = start.Add(time.Duration(60-rem) * time.Second)
	}
	return start.In(loc)
}
