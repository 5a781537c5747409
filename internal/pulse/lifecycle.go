package pulse

import (
	"errors"
	"fmt"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The round lifecycle: when a program's rounds start (Schedule), which
// slots are due and may still be caught up (DueSlots), when a round
// closes and reminds (PlanRound), whether a round may start at all
// (Admit), and which cadences and windows are refused (Validate). The
// scheduler asks these; the store writes what they planned.

// ManualRoundGuard is how long after a round sent by hand another click
// on "Send a round now" is taken for a repeated click: it returns that
// round instead of refusing.
const ManualRoundGuard = time.Minute

// MaxCatchUp bounds how many missed slots one firing creates.
const MaxCatchUp = 10

// guardDays is how far ahead the guard rails look at a cadence's slots.
const guardDays = 366

// Schedule returns the program's schedule: its cadence, without the dates
// HR skipped.
func (p *Program) Schedule() (*Schedule, error) {
	s, err := p.Cadence.Schedule()
	if err != nil {
		return nil, err
	}
	return s.WithSkips(p.Skips), nil
}

// PlanRound plans the round of a slot: it starts at the slot (to the
// second), closes WindowDays later and reminds ReminderDays later (zero
// for none), both counted in days of the program's zone, so that across a
// daylight-saving change a window is an hour shorter or longer than
// days × 24 h; and it counts for the slot's local date.
func (p *Program) PlanRound(slot time.Time, manual bool) (Round, error) {
	loc, err := loadZone(p.Cadence.Zone)
	if err != nil {
		return Round{}, err
	}
	slot = slot.Truncate(time.Second)
	r := Round{ProgramID: p.ID, ScheduledAt: slot, ClosesAt: slot.In(loc).AddDate(0, 0, p.WindowDays), Manual: manual,
		MinGroup: privacy.Threshold(p.MinGroup), Period: Period(slot, loc), ProgramName: p.Name, TimeZone: p.Cadence.Zone}
	if p.ReminderDays > 0 {
		r.RemindAt = slot.In(loc).AddDate(0, 0, p.ReminderDays)
	}
	return r, nil
}

// PlanImportedRound plans a round of past survey results covering the
// days from start up to end (exclusive), dates in the program's zone: it
// starts one second past start's midnight (no cadence names a second, so
// it is never a slot and never collides with a scheduled round), closed at
// end's midnight, counts for start's date, with the threshold in force.
func (p *Program) PlanImportedRound(start, end time.Time) (Round, error) {
	loc, err := loadZone(p.Cadence.Zone)
	if err != nil {
		return Round{}, err
	}
	y, m, d := start.Date()
	r := Round{ProgramID: p.ID, ScheduledAt: time.Date(y, m, d, 0, 0, 1, 0, loc), Closed: true, Imported: true,
		MinGroup: privacy.Threshold(p.MinGroup), Period: tandem.FormatDate(start), ProgramName: p.Name, TimeZone: p.Cadence.Zone}
	y, m, d = end.Date()
	r.ClosesAt = time.Date(y, m, d, 0, 0, 0, 0, loc)
	return r, nil
}

// DueSlots returns the slots whose rounds should exist at now and may
// still be created: the latest slot not after now, and, after a restart or
// a replica that died, the slots missed since the program's last scheduled
// round (last; hadRound false when it has none) whose answer window is
// still open — at most MaxCatchUp, and only the current one for a program
// that never ran. Slots before the program existed are not due.
func (p *Program) DueSlots(s *Schedule, now, last time.Time, hadRound bool) []time.Time {
	since := now.In(s.Location()).AddDate(0, 0, -p.WindowDays)
	if p.CreatedAt.After(since) {
		since = p.CreatedAt.Add(-time.Second)
	}
	if hadRound && last.After(since) {
		// From the last round itself: firing its slot again finds it.
		since = last.Add(-time.Second)
	}
	var slots []time.Time
	for t := s.Next(since); !t.IsZero() && !t.After(now); t = s.Next(t) {
		// A round that would be closed already is not created.
		if plan, err := p.PlanRound(t, false); err == nil && plan.OpenAt(now) {
			slots = append(slots, t)
		}
	}
	keep := MaxCatchUp
	if !hadRound {
		keep = 1
	}
	if len(slots) > keep {
		slots = slots[len(slots)-keep:]
	}
	return slots
}

// ErrDayTaken is why a scheduled slot creates no round: a round of the
// program already started that local day (one sent by hand).
var ErrDayTaken = tandem.Errorf(tandem.ECONFLICT, "a round of this program already started that day")

// Admit decides whether a planned round may be created, given the
// program's rounds that started since about a window before it (the store
// passes them from inside the transaction that would write the plan):
//
//   - a round for the same slot exists: that round (exactly once);
//   - a round sent by hand is refused while a round of the program is open
//     or one already started that local day — unless that one was itself
//     sent by hand less than ManualRoundGuard ago: a repeated click gets it;
//   - a scheduled slot on a local day on which another round started is
//     skipped (ErrDayTaken).
//
// It returns the existing round, or nil and nil when the plan may be
// written, or a refusal.
func (p *Program) Admit(plan Round, now time.Time, existing []Round) (*Round, error) {
	for i := range existing {
		if existing[i].ScheduledAt.Equal(plan.ScheduledAt) {
			return &existing[i], nil
		}
	}
	// A test cadence's slots are seconds apart: its days are its slots.
	sameDay := func(r Round) bool { return r.Period == plan.Period && p.Cadence.Kind != TestInterval }
	if !plan.Manual {
		for _, r := range existing {
			if sameDay(r) {
				return nil, fmt.Errorf("%w (round %d on %s)", ErrDayTaken, r.Seq, r.Period)
			}
		}
		return nil, nil
	}
	var blocker *Round
	for i, r := range existing {
		if r.OpenAt(now) || sameDay(r) {
			if r.Manual && !now.Before(r.ScheduledAt) && now.Sub(r.ScheduledAt) < ManualRoundGuard {
				return &existing[i], nil
			}
			if blocker == nil || r.OpenAt(now) {
				blocker = &existing[i]
			}
		}
	}
	if blocker == nil {
		return nil, nil
	}
	loc, _ := loadZone(p.Cadence.Zone)
	if blocker.OpenAt(now) {
		return nil, tandem.Errorf(tandem.ECONFLICT, "Round %d is still open until %s; a new round can start once it has closed, so that people are never asked twice at once.",
			blocker.Seq, blocker.ClosesAt.In(loc).Format("Mon 2 Jan 15:04 MST"))
	}
	return nil, tandem.Errorf(tandem.ECONFLICT, "Round %d already started today (%s); a program starts at most one round a day, so the next can start tomorrow.",
		blocker.Seq, blocker.ScheduledAt.In(loc).Format("Mon 2 Jan 15:04 MST"))
}

// CheckCadence checks the program's cadence and answer window at now, the
// part of Validate the program form's live preview asks for: the cadence
// must make a schedule, must not be a test cadence, and over the guardDays
// after now must start no two rounds on one local date and keep no round
// open past the start of the next (rounds would overlap).
func (p *Program) CheckCadence(now time.Time) error {
	var errs fieldErrors
	if p.WindowDays < 1 || p.WindowDays > 60 {
		errs.add(tandem.FieldErrorf("window_days", "a round stays open 1 to 60 days"))
	}
	if p.Cadence.Kind == TestInterval {
		errs.add(tandem.FieldErrorf(FieldRepeat, "a test cadence cannot be saved; choose weekly, monthly or quarterly"))
		return errs.err()
	}
	s, err := p.Cadence.Schedule()
	if err != nil {
		errs.add(err)
		return errs.err()
	}
	end := now.AddDate(0, 0, guardDays)
	maxWindow, tightA, tightB := -1, time.Time{}, time.Time{}
	prev := time.Time{}
	for t := s.nextSlot(now); !t.IsZero() && t.Before(end); t = s.nextSlot(t) {
		if !prev.IsZero() {
			if s.Day(prev) == s.Day(t) {
				errs.add(tandem.FieldErrorf(s.field(), "this cadence starts two rounds on %s (%s and %s); a program starts at most one round a day",
					prev.In(s.loc).Format("Mon 2 Jan 2006"), prev.In(s.loc).Format("15:04"), t.In(s.loc).Format("15:04")))
				break
			}
			if w := fitDays(prev, t, s.loc); maxWindow < 0 || w < maxWindow {
				maxWindow, tightA, tightB = w, prev, t
			}
		}
		prev = t
	}
	if maxWindow >= 0 && p.WindowDays > maxWindow && errs.err() == nil && p.WindowDays <= 60 {
		errs.add(tandem.FieldErrorf("window_days", "rounds would overlap: the round of %s would still be open when the next starts on %s. Keep rounds open at most %d day(s), or space them further apart",
			tightA.In(s.loc).Format("Mon 2 Jan 2006"), tightB.In(s.loc).Format("Mon 2 Jan 2006"), maxWindow))
	}
	return errs.err()
}

// fitDays is the longest window, in days of loc, that a round starting at
// a can stay open without overlapping the next starting at b.
func fitDays(a, b time.Time, loc *time.Location) int {
	la, lb := a.In(loc), b.In(loc)
	da := time.Date(la.Year(), la.Month(), la.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(lb.Year(), lb.Month(), lb.Day(), 0, 0, 0, 0, time.UTC)
	w := int(db.Sub(da).Hours() / 24)
	for w > 0 && la.AddDate(0, 0, w).After(b) {
		w--
	}
	return w
}

// IsDayTaken reports whether err is a scheduled slot skipped by Admit.
func IsDayTaken(err error) bool { return errors.Is(err, ErrDayTaken) }
