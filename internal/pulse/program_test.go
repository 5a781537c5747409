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

func TestParseScheduleAcceptsFiveAndSixFieldCronsInIANAZones(t *testing.T) {
	tests := []struct {
		expr, zone  string
		wantCrontab string
		wantSeconds bool
	}{
		{"0 9 * * 1", "Europe/Berlin", "CRON_TZ=Europe/Berlin 0 9 * * 1", false},
		{"0 9 1-7 * 1", "UTC", "CRON_TZ=UTC 0 9 1-7 * 1", false},
		{"  0   9 *  * 1-5 ", "America/New_York", "CRON_TZ=America/New_York 0 9 * * 1-5", false},
		{"30 0 9 * * 1", "Asia/Kolkata", "CRON_TZ=Asia/Kolkata 30 0 9 * * 1", true},
	}
	for _, tt := range tests {
		s, err := pulse.ParseSchedule(tt.expr, tt.zone)
		if err != nil {
			t.Errorf("ParseSchedule(%q, %q): %v, want it accepted", tt.expr, tt.zone, err)
			continue
		}
		if s.Crontab != tt.wantCrontab || s.WithSeconds != tt.wantSeconds {
			t.Errorf("ParseSchedule(%q, %q) = crontab %q seconds %v, want %q %v", tt.expr, tt.zone, s.Crontab, s.WithSeconds, tt.wantCrontab, tt.wantSeconds)
		}
		if got := s.Location().String(); got != tt.zone {
			t.Errorf("ParseSchedule(%q, %q).Location() = %s, want %s", tt.expr, tt.zone, got, tt.zone)
		}
	}
}

func TestParseScheduleSixFieldCronFiresOnTheSecond(t *testing.T) {
	s, err := pulse.ParseSchedule("30 0 9 * * 1", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	berlin := mustLoad(t, "Europe/Berlin")
	from := time.Date(2026, 6, 1, 8, 0, 0, 0, berlin) // a Monday
	got := s.Next(from).In(berlin)
	want := time.Date(2026, 6, 1, 9, 0, 30, 0, berlin)
	if !got.Equal(want) {
		t.Errorf("Next(%v) = %v, want %v", from, got, want)
	}
}

func TestParseScheduleRefusesBadInputWithAFieldError(t *testing.T) {
	tests := []struct {
		name, expr, zone string
		field            string
		// wantInMessage is a fragment the person must see.
		wantInMessage string
	}{
		{"minute out of range", "61 9 * * 1", "UTC", "cron", "not a valid cron expression"},
		{"four fields", "0 9 * *", "UTC", "cron", "has 4 fields"},
		{"a word", "hello", "UTC", "cron", "has 1 fields"},
		{"empty cron", "   ", "UTC", "cron", "give a cron expression"},
		{"CRON_TZ prefix", "CRON_TZ=Europe/Berlin 0 9 * * 1", "Europe/Berlin", "cron", "without a zone"},
		{"TZ prefix", "TZ=UTC 0 9 * * 1", "UTC", "cron", "without a zone"},
		{"@every", "@every 1h", "UTC", "cron", "@every"},
		{"never fires", "0 0 31 2 *", "UTC", "cron", "never happens"},
		{"unknown zone", "0 9 * * 1", "Mars/Olympus", "timezone", "Mars/Olympus"},
		{"empty zone", "0 9 * * 1", "", "timezone", "IANA"},
		{"Local", "0 9 * * 1", "Local", "timezone", "IANA"},
		{"local lower case", "0 9 * * 1", "local", "timezone", "IANA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := pulse.ParseSchedule(tt.expr, tt.zone)
			if s != nil {
				t.Errorf("ParseSchedule(%q, %q) returned a schedule %q, want none", tt.expr, tt.zone, s.Crontab)
			}
			e := fieldError(t, err, tt.field)
			if !strings.Contains(e.Message, tt.wantInMessage) {
				t.Errorf("message %q, want it to mention %q", e.Message, tt.wantInMessage)
			}
		})
	}
}

// Europe/Berlin springs forward on Sunday 29 March 2026 (02:00 CET → 03:00
// CEST) and falls back on Sunday 25 October 2026 (03:00 CEST → 02:00 CET),
// per the EU rule of the last Sunday of March and October in the IANA tz
// database.
var (
	springForward2026 = time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	fallBack2026      = time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)
)

func TestScheduleKeepsMonday0900BerlinAcrossBothDaylightSavingChanges(t *testing.T) {
	s, err := pulse.ParseSchedule("0 9 * * 1", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	berlin := s.Location()
	slots := s.Upcoming(time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC), 36)
	if len(slots) != 36 {
		t.Fatalf("Upcoming gave %d slots, want 36", len(slots))
	}
	if want := time.Date(2026, 3, 16, 8, 0, 0, 0, time.UTC); !slots[0].Equal(want) {
		t.Fatalf("first slot %v, want %v (09:00 CET)", slots[0].UTC(), want)
	}
	if last := slots[len(slots)-1]; !last.After(fallBack2026) {
		t.Fatalf("last slot %v, want the slots to run past the October change", last)
	}
	var gaps []time.Duration
	for i, slot := range slots {
		local := slot.In(berlin)
		if local.Weekday() != time.Monday || local.Hour() != 9 || local.Minute() != 0 || local.Second() != 0 {
			t.Errorf("slot %d = %s, want Monday 09:00:00 in Berlin", i, local.Format(time.RFC1123Z))
		}
		if i == 0 {
			continue
		}
		prev := slots[i-1]
		if y, m, d := prev.In(berlin).AddDate(0, 0, 7).Date(); local.Year() != y || local.Month() != m || local.Day() != d {
			t.Errorf("slot %d on %s, want one calendar week after %s", i, local.Format("2006-01-02"), prev.In(berlin).Format("2006-01-02"))
		}
		gap := slot.Sub(prev)
		want := 168 * time.Hour
		switch {
		case prev.Before(springForward2026) && slot.After(springForward2026):
			want = 167 * time.Hour
		case prev.Before(fallBack2026) && slot.After(fallBack2026):
			want = 169 * time.Hour
		}
		if gap != want {
			t.Errorf("slot %s → %s: %v apart, want %v", prev.UTC(), slot.UTC(), gap, want)
		}
		gaps = append(gaps, gap)
	}
	var short, long int
	for _, g := range gaps {
		switch g {
		case 167 * time.Hour:
			short++
		case 169 * time.Hour:
			long++
		}
	}
	if short != 1 || long != 1 {
		t.Errorf("saw %d 167h gaps and %d 169h gaps, want exactly one of each", short, long)
	}
}

func TestScheduleLatestFindsTheSlotJustBeforeNowAcrossDaylightSavingChanges(t *testing.T) {
	s, err := pulse.ParseSchedule("0 9 * * 1", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		since, now time.Time
		want       time.Time // zero: none
	}{
		{"after spring forward", time.Date(2026, 3, 24, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC)}, // 09:00 CEST
		{"before spring forward", time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 29, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC)}, // 09:00 CET
		{"after fall back", time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC),
			time.Date(2026, 10, 26, 8, 0, 0, 0, time.UTC)}, // exactly at 09:00 CET
		{"one second early", time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 26, 7, 59, 59, 0, time.UTC),
			time.Time{}},
		{"several slots: the latest", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 7, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 4, 6, 7, 0, 0, 0, time.UTC)},
		{"since is exclusive", time.Date(2026, 3, 30, 7, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
			time.Time{}},
	}
	for _, tt := range tests {
		got := s.Latest(tt.since, tt.now)
		if !got.Equal(tt.want) {
			t.Errorf("%s: Latest(%v, %v) = %v, want %v", tt.name, tt.since, tt.now, got.UTC(), tt.want)
		}
	}
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

// validProgram is a program that passes Validate.
func validProgram() pulse.Program {
	p := pulse.Defaults()
	p.AudienceUnitID = 1
	p.TimeZone = "Europe/Berlin"
	p.Channel = pulse.ChannelLog
	return p
}

func TestDefaultProgramWithAnAudienceIsValid(t *testing.T) {
	p := validProgram()
	if err := p.Validate(); err != nil {
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
		{"bad cron", func(p *pulse.Program) { p.Cron = "61 9 * * 1" }, "cron"},
		{"bad zone", func(p *pulse.Program) { p.TimeZone = "Mars/Olympus" }, "timezone"},
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
			err := p.Validate()
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
	if err := p.Validate(); err != nil {
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
