package pulse_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// fieldError asserts that err is a user-facing invalid-input error about
// field, and returns it.
func fieldError(t *testing.T, err error, field string) *tandem.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want an error about %q", field)
	}
	var e *tandem.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %T %q, want a *tandem.Error about %q", err, err, field)
	}
	if e.Code != tandem.EINVALID || e.Field != field {
		t.Fatalf("got code %q field %q (%q), want code %q field %q", e.Code, e.Field, e.Message, tandem.EINVALID, field)
	}
	return e
}

func mustLoad(t *testing.T, zone string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load %s: %v", zone, err)
	}
	return loc
}

func TestPeriodIsTheSlotsDateInTheProgramsZone(t *testing.T) {
	tokyo := mustLoad(t, "Asia/Tokyo")
	// 23:30 UTC on Sunday is already Monday morning in Tokyo.
	slot := time.Date(2026, 6, 7, 23, 30, 0, 0, time.UTC)
	if got, want := pulse.Period(slot, tokyo), "2026-06-08"; got != want {
		t.Errorf("Period = %s, want %s", got, want)
	}
	if got, want := pulse.Period(slot, time.UTC), "2026-06-07"; got != want {
		t.Errorf("Period in UTC = %s, want %s", got, want)
	}
}

// validateAt is the fixed "now" programs are validated at.
var validateAt = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// validProgram is a program that passes Validate.
func validProgram() pulse.Program {
	p := pulse.Defaults()
	p.AudienceUnitID = 1
	p.Cadence.Zone = "Europe/Berlin"
	p.Channel = pulse.ChannelLog
	return p
}

func TestDefaultProgramWithAnAudienceIsValid(t *testing.T) {
	p := validProgram()
	if err := p.Validate(validateAt); err != nil {
		t.Fatalf("Validate(defaults) = %v, want nil", err)
	}
	d := pulse.Defaults()
	if d.MinGroup < 3 || d.WindowDays < 1 || d.ReminderDays >= d.WindowDays || !d.Active {
		t.Errorf("Defaults() = %+v, want k ≥ 3, a reminder inside the window and an active program", d)
	}
}

func TestProgramValidateRefusesUnsafeOrImpossibleSettings(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *pulse.Program)
		field  string // "" means valid
	}{
		{"k = 2 is below the anonymity floor", func(p *pulse.Program) { p.MinGroup = 2 }, "min_group"},
		{"k = 0", func(p *pulse.Program) { p.MinGroup = 0 }, "min_group"},
		{"k = 3 is the floor", func(p *pulse.Program) { p.MinGroup = 3 }, ""},
		{"k = 51 hides almost everything", func(p *pulse.Program) { p.MinGroup = 51 }, "min_group"},
		{"reminder on the closing day", func(p *pulse.Program) { p.WindowDays, p.ReminderDays = 5, 5 }, "reminder_days"},
		{"reminder after closing", func(p *pulse.Program) { p.WindowDays, p.ReminderDays = 5, 9 }, "reminder_days"},
		{"reminder the day before closing", func(p *pulse.Program) { p.WindowDays, p.ReminderDays = 5, 4 }, ""},
		{"no reminder", func(p *pulse.Program) { p.ReminderDays = 0 }, ""},
		{"negative reminder", func(p *pulse.Program) { p.ReminderDays = -1 }, "reminder_days"},
		{"window of zero days", func(p *pulse.Program) { p.WindowDays, p.ReminderDays = 0, 0 }, "window_days"},
		{"window of 61 days", func(p *pulse.Program) { p.WindowDays = 61 }, "window_days"},
		{"blank name", func(p *pulse.Program) { p.Name = "   " }, "name"},
		{"no audience", func(p *pulse.Program) { p.AudienceUnitID = 0 }, "audience"},
		{"audience excluded", func(p *pulse.Program) { p.ExcludedUnits = []int64{7, p.AudienceUnitID} }, "excluded"},
		{"bad cron", func(p *pulse.Program) { p.Cadence = pulse.Cadence{Kind: pulse.Cron, Expr: "61 9 * * 1", Zone: "UTC"} }, "cron"},
		{"bad zone", func(p *pulse.Program) { p.Cadence.Zone = "Mars/Olympus" }, "timezone"},
		{"no questions", func(p *pulse.Program) { p.QuestionsPerRound = 0 }, "questions_per_round"},
		{"31 questions", func(p *pulse.Program) { p.QuestionsPerRound = 31 }, "questions_per_round"},
		{"driver cycle 0", func(p *pulse.Program) { p.DriverCycle = 0 }, "driver_cycle"},
		{"core every 0", func(p *pulse.Program) { p.CoreEvery = 0 }, "core_every"},
		{"unknown channel", func(p *pulse.Program) { p.Channel = "sms" }, "channel"},
		{"webhook channel", func(p *pulse.Program) { p.Channel = pulse.ChannelWebhook }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validProgram()
			tt.change(&p)
			err := p.Validate(validateAt)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			e := fieldError(t, err, tt.field)
			if strings.TrimSpace(e.Message) == "" {
				t.Errorf("empty message for %s", tt.field)
			}
		})
	}
}

func TestProgramValidateTrimsTheName(t *testing.T) {
	p := validProgram()
	p.Name = "  Weekly pulse \t"
	if err := p.Validate(validateAt); err != nil {
		t.Fatal(err)
	}
	if p.Name != "Weekly pulse" {
		t.Errorf("name %q, want %q", p.Name, "Weekly pulse")
	}
}

func TestRoundOpenAtAndParticipation(t *testing.T) {
	closes := time.Date(2026, 6, 6, 9, 0, 0, 0, time.UTC)
	r := pulse.Round{ClosesAt: closes, Invited: 8, Responded: 6}
	if !r.OpenAt(closes.Add(-time.Second)) {
		t.Error("round not open a second before it closes, want open")
	}
	if r.OpenAt(closes) {
		t.Error("round open at its closing time, want closed")
	}
	r.Closed = true
	if r.OpenAt(closes.Add(-time.Hour)) {
		t.Error("closed round open, want closed")
	}
	if got := r.Participation(); got != 0.75 {
		t.Errorf("Participation = %v, want 0.75 (6 of 8)", got)
	}
	if got := (&pulse.Round{}).Participation(); got != 0 {
		t.Errorf("Participation of nobody invited = %v, want 0", got)
	}
}
