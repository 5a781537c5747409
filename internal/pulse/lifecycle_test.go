package pulse_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// berlinProgram is weekly on Monday 09:00 Berlin time, open five days
// with a reminder after two.
func berlinProgram() pulse.Program {
	p := validProgram()
	p.ID = 7
	p.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return p
}

func TestPlanRoundCountsWindowAndReminderInTheProgramsDays(t *testing.T) {
	p := berlinProgram()
	tests := []struct {
		name               string
		slot               time.Time
		closes, remindsAt  time.Time
		period             string
		windowH, reminderH time.Duration
	}{
		// Monday 23 March 09:00 CET; the clocks change on Sunday 29 March.
		{"across spring forward", time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 28, 8, 0, 0, 0, time.UTC), time.Date(2026, 3, 25, 8, 0, 0, 0, time.UTC), "2026-03-23", 120, 48},
		{"window over the change", time.Date(2026, 3, 26, 8, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 31, 7, 0, 0, 0, time.UTC), time.Date(2026, 3, 28, 8, 0, 0, 0, time.UTC), "2026-03-26", 119, 48},
		{"across fall back", time.Date(2026, 10, 23, 7, 0, 0, 0, time.UTC),
			time.Date(2026, 10, 28, 8, 0, 0, 0, time.UTC), time.Date(2026, 10, 25, 8, 0, 0, 0, time.UTC), "2026-10-23", 121, 49},
		{"late evening UTC is the next Berlin day", time.Date(2026, 6, 7, 22, 30, 0, 0, time.UTC),
			time.Date(2026, 6, 12, 22, 30, 0, 0, time.UTC), time.Date(2026, 6, 9, 22, 30, 0, 0, time.UTC), "2026-06-08", 120, 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := p.PlanRound(tt.slot.Add(400*time.Millisecond), false)
			if err != nil {
				t.Fatal(err)
			}
			if !r.ScheduledAt.Equal(tt.slot) || !r.ClosesAt.Equal(tt.closes) || !r.RemindAt.Equal(tt.remindsAt) || r.Period != tt.period {
				t.Errorf("plan = start %v closes %v reminds %v period %s; want %v %v %v %s", r.ScheduledAt.UTC(), r.ClosesAt.UTC(), r.RemindAt.UTC(), r.Period,
					tt.slot, tt.closes, tt.remindsAt, tt.period)
			}
			if got := r.ClosesAt.Sub(r.ScheduledAt); got != tt.windowH*time.Hour {
				t.Errorf("window %v, want %v h", got, tt.windowH)
			}
			if got := r.RemindAt.Sub(r.ScheduledAt); got != tt.reminderH*time.Hour {
				t.Errorf("reminder after %v, want %v h", got, tt.reminderH)
			}
			if r.MinGroup != p.MinGroup || r.Manual || r.ProgramID != p.ID {
				t.Errorf("plan %+v, want k %d, scheduled, program %d", r, p.MinGroup, p.ID)
			}
		})
	}
	p.ReminderDays = 0
	if r, _ := p.PlanRound(time.Date(2026, 6, 8, 7, 0, 0, 0, time.UTC), true); !r.RemindAt.IsZero() || !r.Manual {
		t.Errorf("no reminder days: remind at %v manual %v, want none and manual", r.RemindAt, r.Manual)
	}
}

func TestDueSlotsAreTheCurrentSlotAndTheMissedOnesStillOpen(t *testing.T) {
	p := berlinProgram() // Mondays 09:00 Berlin, open 5 days
	s, err := p.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	mon := func(d int) time.Time { return time.Date(2026, 6, d, 7, 0, 0, 0, time.UTC) } // 09:00 CEST
	tests := []struct {
		name     string
		now      time.Time
		last     time.Time
		hadRound bool
		want     []time.Time
	}{
		{"at the slot", mon(8), time.Time{}, false, []time.Time{mon(8)}},
		{"an hour late", mon(8).Add(time.Hour), mon(1), true, []time.Time{mon(8)}},
		{"a day before the slot", mon(8).Add(-24 * time.Hour), mon(1), true, nil},
		{"four days late: still open", mon(8).AddDate(0, 0, 4), mon(1), true, []time.Time{mon(8)}},
		{"at the closing time: not created", mon(8).AddDate(0, 0, 5), mon(1), true, nil},
		{"a second before closing", mon(8).AddDate(0, 0, 5).Add(-time.Second), mon(1), true, []time.Time{mon(8)}},
		{"the round of the slot exists", mon(8).Add(time.Minute), mon(8), true, []time.Time{mon(8)}},
		{"never ran: only the current one", mon(15).Add(time.Hour), time.Time{}, false, []time.Time{mon(15)}},
	}
	for _, tt := range tests {
		got := p.DueSlots(s, tt.now, tt.last, tt.hadRound)
		if len(got) != len(tt.want) {
			t.Errorf("%s: DueSlots = %v, want %v", tt.name, utc(got), utc(tt.want))
			continue
		}
		for i := range got {
			if !got[i].Equal(tt.want[i]) {
				t.Errorf("%s: DueSlots = %v, want %v", tt.name, utc(got), utc(tt.want))
			}
		}
	}
	// A day with a round HR skipped is not due.
	p.Skips = []string{"2026-06-08"}
	s, _ = p.Schedule()
	if got := p.DueSlots(s, mon(8).Add(time.Hour), mon(1), true); len(got) != 0 {
		t.Errorf("DueSlots on a skipped date = %v, want none", utc(got))
	}
	// Before the program existed, nothing is due.
	p.Skips, p.CreatedAt = nil, mon(8).Add(time.Minute)
	s, _ = p.Schedule()
	if got := p.DueSlots(s, mon(8).Add(time.Hour), time.Time{}, false); len(got) != 0 {
		t.Errorf("DueSlots for a slot before the program = %v, want none", utc(got))
	}
}

func TestAdmitLetsEachSlotStartOnceAndNeverTwoRoundsADay(t *testing.T) {
	p := berlinProgram()
	at := func(d, h, m int) time.Time { return time.Date(2026, 6, d, h, m, 0, 0, time.UTC) }
	plan := func(slot time.Time, manual bool) pulse.Round {
		r, err := p.PlanRound(slot, manual)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	round := func(seq int, slot time.Time, manual bool) pulse.Round {
		r := plan(slot, manual)
		r.ID, r.Seq = int64(100+seq), seq
		return r
	}
	scheduled := round(1, at(8, 7, 0), false) // Monday 8 June 09:00 Berlin, open to Saturday
	tests := []struct {
		name       string
		plan       pulse.Round
		now        time.Time
		existing   []pulse.Round
		wantRound  int64  // the existing round returned
		wantRefuse string // fragment of the refusal; "" when admitted
		dayTaken   bool
	}{
		{"a first round", plan(at(8, 7, 0), false), at(8, 7, 0), nil, 0, "", false},
		{"the same slot again", plan(at(8, 7, 0), false), at(8, 7, 5), []pulse.Round{scheduled}, 101, "", false},
		{"send now while a round is open", plan(at(10, 12, 0), true), at(10, 12, 0), []pulse.Round{scheduled}, 0, "Round 1 is still open until Sat 13 Jun 09:00 CEST", false},
		{"send now after it closed", plan(at(13, 7, 0), true), at(13, 7, 0), []pulse.Round{scheduled}, 0, "", false},
		{"send now the day a round started and closed", plan(at(8, 20, 0), true), at(8, 20, 0),
			[]pulse.Round{func() pulse.Round { r := scheduled; r.Closed = true; return r }()}, 0, "already started today", false},
		{"a repeated click", plan(at(13, 7, 0).Add(20*time.Second), true), at(13, 7, 0).Add(20 * time.Second),
			[]pulse.Round{scheduled, round(2, at(13, 7, 0), true)}, 102, "", false},
		{"a click a minute later", plan(at(13, 7, 1), true), at(13, 7, 1),
			[]pulse.Round{scheduled, round(2, at(13, 7, 0), true)}, 0, "Round 2 is still open", false},
		{"a scheduled slot the day a round was sent now", plan(at(15, 7, 0), false), at(15, 7, 0),
			[]pulse.Round{scheduled, round(2, at(15, 5, 0), true)}, 0, "already started that day", true},
		{"a scheduled slot the day after", plan(at(15, 7, 0), false), at(15, 7, 0),
			[]pulse.Round{scheduled, round(2, at(14, 5, 0), true)}, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.Admit(tt.plan, tt.now, tt.existing)
			switch {
			case tt.wantRefuse != "":
				if err == nil || !strings.Contains(tandem.ErrorMessage(err)+err.Error(), tt.wantRefuse) {
					t.Fatalf("Admit = %v, %v; want a refusal saying %q", got, err, tt.wantRefuse)
				}
				if tandem.ErrorCode(err) != tandem.ECONFLICT || pulse.IsDayTaken(err) != tt.dayTaken {
					t.Errorf("refusal code %s, day taken %v; want conflict, %v", tandem.ErrorCode(err), pulse.IsDayTaken(err), tt.dayTaken)
				}
			case tt.wantRound != 0:
				if err != nil || got == nil || got.ID != tt.wantRound {
					t.Fatalf("Admit = %+v, %v; want round %d", got, err, tt.wantRound)
				}
			default:
				if err != nil || got != nil {
					t.Fatalf("Admit = %+v, %v; want it admitted", got, err)
				}
			}
		})
	}
}

func TestOldCronSchedulesBecomeTheCadencesTheyMeant(t *testing.T) {
	anchor := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // a Monday, the last round
	tests := []struct {
		expr    string
		ok      bool
		want    pulse.Cadence
		noteHas string
	}{
		{"0 9 * * 1", true, pulse.Cadence{Kind: pulse.Weekly, Weeks: 1, Weekday: time.Monday, Hour: 9, Start: "2026-11-30", Zone: "Europe/Berlin"},
			"Every week on Monday at 09:00 Europe/Berlin"},
		{"30 14 * * fri", true, pulse.Cadence{Kind: pulse.Weekly, Weeks: 1, Weekday: time.Friday, Hour: 14, Minute: 30, Start: "2026-11-30", Zone: "Europe/Berlin"},
			"Every week on Friday at 14:30"},
		{"0 9 1-7,15-21 * 1", true, pulse.Cadence{Kind: pulse.Weekly, Weeks: 2, Weekday: time.Monday, Hour: 9, Start: "2026-11-30", Zone: "Europe/Berlin"},
			"every day of the first and third weeks"},
		{"0 9 1-7 * 1", true, pulse.Cadence{Kind: pulse.Monthly, Nth: 1, Weekday: time.Monday, Hour: 9, Zone: "Europe/Berlin"},
			"Monthly on the first Monday at 09:00"},
		{"0 9 * * 1-5", true, pulse.Cadence{Kind: pulse.Cron, Expr: "0 9 * * 1-5", Zone: "Europe/Berlin"}, "keeps its cron expression"},
		{"0 9 1 * *", true, pulse.Cadence{Kind: pulse.Cron, Expr: "0 9 1 * *", Zone: "Europe/Berlin"}, "keeps its cron expression"},
		{"0 9 1-10 * 2", false, pulse.Cadence{Kind: pulse.Cron, Expr: "0 9 1-10 * 2", Zone: "Europe/Berlin"}, "restricts both"},
		{"* * * * * *", false, pulse.Cadence{Kind: pulse.Cron, Expr: "* * * * * *", Zone: "Europe/Berlin"}, "seconds field"},
		{"*/4 * * * * *", false, pulse.Cadence{Kind: pulse.Cron, Expr: "*/4 * * * * *", Zone: "Europe/Berlin"}, "paused"},
		{"@every 1h", false, pulse.Cadence{Kind: pulse.Cron, Expr: "@every 1h", Zone: "Europe/Berlin"}, "shorthand"},
		{"@weekly", false, pulse.Cadence{Kind: pulse.Cron, Expr: "@weekly", Zone: "Europe/Berlin"}, "shorthand"},
	}
	for _, tt := range tests {
		c, ok, note := pulse.CadenceFromCron(tt.expr, "Europe/Berlin", anchor)
		if ok != tt.ok || c != tt.want || !strings.Contains(note, tt.noteHas) {
			t.Errorf("CadenceFromCron(%q) = %+v, %v, %q; want %+v, %v, a note saying %q", tt.expr, c, ok, note, tt.want, tt.ok, tt.noteHas)
		}
	}
	// The converted "every two weeks" keeps the rhythm of its last round.
	c, _, _ := pulse.CadenceFromCron("0 9 1-7,15-21 * 1", "Europe/Berlin", anchor)
	s, err := c.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	if got := utc(s.Upcoming(anchor, 3)); strings.Join(got, " ") != "2026-12-14T08:00:00Z 2026-12-28T08:00:00Z 2027-01-11T08:00:00Z" {
		t.Errorf("after the last round on 30 Nov: %v, want 14 Dec, 28 Dec, 11 Jan at 09:00 CET", got)
	}
}

func TestMovingToCadencesPausesWhatWouldStartTooOftenOrOverlap(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	anchor := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		expr       string
		window     int
		wantActive bool
		noteHas    string
	}{
		{"0 9 * * 1", 5, true, "now: Every week on Monday"},
		{"0 9 1-7,15-21 * 1", 5, true, "now: Every 2 weeks on Monday"},
		{"0 9 * * 1-5", 5, false, "at most 1 day(s)"},
		{"0 9 * * 1-5", 1, true, "keeps its cron expression"},
		{"0 9,15 * * *", 1, false, "two rounds on"},
		{"*/4 * * * * *", 1, false, "Choose a cadence and resume it"},
	}
	for _, tt := range tests {
		p := validProgram()
		p.WindowDays, p.ReminderDays = tt.window, 0
		p.MoveToCadence(tt.expr, anchor, now)
		if p.Active != tt.wantActive || !strings.Contains(p.CadenceNote, tt.noteHas) {
			t.Errorf("%q open %d days: active %v, note %q; want active %v, a note saying %q", tt.expr, tt.window, p.Active, p.CadenceNote, tt.wantActive, tt.noteHas)
		}
	}
}

func TestCalendarMarksSkippedDatesAndNextLeavesThemOut(t *testing.T) {
	p := berlinProgram()
	p.Skips = []string{"2026-06-15"}
	s, err := p.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 6, 7, 0, 0, 0, 0, time.UTC)
	cal := s.Calendar(from, 3)
	if len(cal) != 3 || cal[0].Day != "2026-06-08" || cal[0].Skipped || cal[1].Day != "2026-06-15" || !cal[1].Skipped || cal[2].Day != "2026-06-22" {
		t.Errorf("Calendar = %+v, want 8 Jun, 15 Jun (skipped), 22 Jun", cal)
	}
	if got := utc(s.Upcoming(from, 2)); strings.Join(got, " ") != "2026-06-08T07:00:00Z 2026-06-22T07:00:00Z" {
		t.Errorf("Upcoming = %v, want 8 and 22 June", got)
	}
}

// TestPlanRoundRecordsTheThresholdInForce: a round keeps the k privacy
// decides for the program (privacy.Threshold), so every later reader of
// the round (results, invitations, the digest) reads the same number.
func TestPlanRoundRecordsTheThresholdInForce(t *testing.T) {
	for _, tc := range []struct{ set, want int }{{0, privacy.DefaultK}, {2, privacy.DefaultK}, {3, 3}, {4, 4}, {7, 7}} {
		p := berlinProgram()
		p.MinGroup = tc.set
		r, err := p.PlanRound(time.Date(2026, 6, 8, 7, 0, 0, 0, time.UTC), false)
		if err != nil {
			t.Fatal(err)
		}
		if r.MinGroup != tc.want || r.MinGroup != privacy.Threshold(tc.set) {
			t.Errorf("program k %d: round k %d, want %d", tc.set, r.MinGroup, tc.want)
		}
	}
}

// TestPlanImportedRoundIsNeverASlot: an imported round of past results
// starts one second past its first day's midnight in the program's zone,
// closes at the midnight its period ends, counts for its first day and is
// never one of the cadence's slots (so it never blocks a scheduled round).
func TestPlanImportedRoundIsNeverASlot(t *testing.T) {
	p := berlinProgram()
	p.MinGroup = 0
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	start, end := time.Date(2025, 3, 24, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)
	r, err := p.PlanImportedRound(start, end)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 3, 24, 0, 0, 1, 0, berlin); !r.ScheduledAt.Equal(want) {
		t.Errorf("starts %v, want %v", r.ScheduledAt, want)
	}
	// 31 March 2025 is after the spring change: midnight is 22:00 UTC.
	if want := time.Date(2025, 3, 30, 22, 0, 0, 0, time.UTC); !r.ClosesAt.Equal(want) {
		t.Errorf("closes %v, want %v", r.ClosesAt.UTC(), want)
	}
	if r.Period != "2025-03-24" || !r.Closed || !r.Imported || r.MinGroup != privacy.DefaultK {
		t.Errorf("round %+v, want period 2025-03-24, closed, imported, k %d", r, privacy.DefaultK)
	}
	s, err := p.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	if next := s.Next(r.ScheduledAt.Add(-time.Second)); next.Equal(r.ScheduledAt) {
		t.Errorf("the imported round's start %v is a slot of the cadence", r.ScheduledAt)
	}
}
