package pulse

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Channels a program delivers invitations through.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	ChannelLog     = "log"
)

// Program is a recurring pulse for an audience.
type Program struct {
	ID   int64
	Name string
	// AudienceUnitID is the root of the audience subtree; ExcludedUnits
	// (and their subtrees) are left out.
	AudienceUnitID int64
	ExcludedUnits  []int64
	// Cron is a 5-field (minute hour day month weekday) or 6-field (with
	// seconds first) expression in TimeZone.
	Cron     string
	TimeZone string
	// WindowDays is how long a round stays open.
	WindowDays int
	// ReminderDays sends one reminder that many days after a round opens
	// to those who have not answered; 0 for none.
	ReminderDays int
	// QuestionsPerRound caps the rated questions in a round.
	QuestionsPerRound int
	// DriverCycle: every driver is asked at least once every DriverCycle
	// rounds.
	DriverCycle int
	// CoreEvery: the engagement index items and eNPS are asked every
	// CoreEvery rounds (1: every round).
	CoreEvery int
	// MinGroup is the anonymity threshold k.
	MinGroup int
	Channel  string
	Active   bool
	// QuestionIDs is the program's question pool.
	QuestionIDs []int64
	CreatedAt   time.Time
}

// Preset is a ready-made cadence.
type Preset struct {
	Key, Label, Cron string
}

// Presets are the cadences offered in the program form.
var Presets = []Preset{
	{"weekly", "Weekly, Monday 09:00", "0 9 * * 1"},
	{"biweekly", "Every two weeks, Monday 09:00 (1st and 3rd Monday)", "0 9 1-7,15-21 * 1"},
	{"monthly", "Monthly, first Monday 09:00", "0 9 1-7 * 1"},
}

// Defaults returns a program with Tandem's defaults.
func Defaults() Program {
	return Program{
		Name: "Weekly pulse", Cron: Presets[0].Cron, TimeZone: "UTC", WindowDays: 5, ReminderDays: 2,
		QuestionsPerRound: 7, DriverCycle: 3, CoreEvery: 1, MinGroup: privacy.DefaultK, Channel: ChannelEmail, Active: true,
	}
}

// Schedule is a program's parsed cadence.
type Schedule struct {
	cron gocron.Cron
	loc  *time.Location
	// Crontab is what gocron is given: the expression with its zone.
	Crontab     string
	WithSeconds bool
}

// ParseSchedule checks a cron expression and an IANA zone and returns the
// schedule, or an error that says what to write instead.
func ParseSchedule(expr, zone string) (*Schedule, error) {
	expr = strings.Join(strings.Fields(expr), " ")
	if expr == "" {
		return nil, tandem.FieldErrorf("cron", "give a cron expression such as \"0 9 * * 1\" (Mondays 09:00) or pick a preset")
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "@every") {
		return nil, tandem.FieldErrorf("cron", "write the cron expression without a zone or @every; choose the time zone separately")
	}
	zone = strings.TrimSpace(zone)
	if zone == "" || strings.EqualFold(zone, "local") {
		return nil, tandem.FieldErrorf("timezone", "give an IANA time zone such as Europe/Berlin or America/New_York")
	}
	loc, err := tandem.LoadLocation(zone)
	if err != nil {
		return nil, tandem.FieldErrorf("timezone", "%q is not a time zone Tandem knows; use an IANA name such as Europe/Berlin, America/New_York or UTC", zone)
	}
	fields := len(strings.Fields(expr))
	if !strings.HasPrefix(expr, "@") && fields != 5 && fields != 6 {
		return nil, tandem.FieldErrorf("cron", "%q has %d fields; a cron expression has 5 (minute hour day-of-month month day-of-week), or 6 with seconds first", expr, fields)
	}
	s := &Schedule{loc: loc, Crontab: "CRON_TZ=" + loc.String() + " " + expr, WithSeconds: fields == 6}
	s.cron = gocron.NewDefaultCron(s.WithSeconds)
	err = s.cron.IsValid(s.Crontab, loc, cronCheckFrom)
	// An expression that never fires (31 February) is refused too. gocron
	// reports it as ErrCronJobInvalid (a valid expression with no next run),
	// and the person needs to hear that, not "not a valid cron expression".
	if errors.Is(err, gocron.ErrCronJobInvalid) || (err == nil && s.cron.Next(cronCheckFrom).IsZero()) {
		return nil, tandem.FieldErrorf("cron", "%q never happens; check the day and month", expr)
	}
	if err != nil {
		return nil, tandem.FieldErrorf("cron", "%q is not a valid cron expression (%s); for example \"0 9 * * 1\" is Mondays at 09:00", expr, cleanCronErr(err))
	}
	return s, nil
}

// cronCheckFrom is where ParseSchedule looks for an expression's next
// run: a fixed day, so that whether an expression is accepted never
// depends on the day it is typed (the parser looks years ahead, so 29
// February is found from any day).
var cronCheckFrom = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func cleanCronErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	return msg
}

// Location is the schedule's zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Next returns the first slot strictly after t.
func (s *Schedule) Next(t time.Time) time.Time { return s.cron.Next(t) }

// Latest returns the latest slot at or before t that is after since, or the
// zero time when there is none.
func (s *Schedule) Latest(since, t time.Time) time.Time {
	var last time.Time
	for n := s.cron.Next(since); !n.IsZero() && !n.After(t); n = s.cron.Next(n) {
		last = n
	}
	return last
}

// Upcoming returns the next n slots after t.
func (s *Schedule) Upcoming(t time.Time, n int) []time.Time {
	var out []time.Time
	for i := 0; i < n; i++ {
		t = s.cron.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// Validate checks a program and returns the first problem as a field error.
func (p *Program) Validate() error {
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		return tandem.FieldErrorf("name", "give the program a name")
	}
	if err := tandem.CheckLength("name", p.Name, tandem.MaxNameLength); err != nil {
		return err
	}
	if p.AudienceUnitID == 0 {
		return tandem.FieldErrorf("audience", "choose the unit whose people this program asks")
	}
	for _, x := range p.ExcludedUnits {
		if x == p.AudienceUnitID {
			return tandem.FieldErrorf("excluded", "the audience unit itself cannot be excluded")
		}
	}
	if _, err := ParseSchedule(p.Cron, p.TimeZone); err != nil {
		return err
	}
	if p.WindowDays < 1 || p.WindowDays > 60 {
		return tandem.FieldErrorf("window_days", "a round stays open 1 to 60 days")
	}
	if p.ReminderDays < 0 || (p.ReminderDays > 0 && p.ReminderDays >= p.WindowDays) {
		return tandem.FieldErrorf("reminder_days", "the reminder must go out before the round closes: 0 (none) to %d days", p.WindowDays-1)
	}
	if p.MinGroup < privacy.MinK {
		return tandem.FieldErrorf("min_group", "the anonymity threshold must be at least %d", privacy.MinK)
	}
	if p.MinGroup > 50 {
		return tandem.FieldErrorf("min_group", "an anonymity threshold above 50 would hide almost every team")
	}
	if p.QuestionsPerRound < 1 || p.QuestionsPerRound > 30 {
		return tandem.FieldErrorf("questions_per_round", "ask 1 to 30 questions per round (5–8 keeps it under a minute)")
	}
	if p.DriverCycle < 1 || p.DriverCycle > 52 {
		return tandem.FieldErrorf("driver_cycle", "cover every driver every 1 to 52 rounds")
	}
	if p.CoreEvery < 1 || p.CoreEvery > 52 {
		return tandem.FieldErrorf("core_every", "ask the engagement index and eNPS every 1 to 52 rounds")
	}
	switch p.Channel {
	case ChannelEmail, ChannelWebhook, ChannelLog:
	default:
		return tandem.FieldErrorf("channel", "%q is not a channel; use email, webhook or log", p.Channel)
	}
	return nil
}

// CheckPool checks that the rounds can cover the pool's drivers as asked,
// and explains what to change when they cannot.
func (p *Program) CheckPool(pool []Question) error {
	plan := planRotation(pool, p)
	if len(plan.core)+len(plan.always) > p.QuestionsPerRound {
		return tandem.FieldErrorf("questions_per_round", "the engagement index, eNPS and the always-asked questions need %d questions a round; raise questions per round to at least %d",
			len(plan.core)+len(plan.always), len(plan.core)+len(plan.always))
	}
	if need := plan.driverSlots(p.DriverCycle); len(plan.core)+len(plan.always)+need > p.QuestionsPerRound {
		return tandem.FieldErrorf("driver_cycle", "to ask all %d drivers every %d rounds, each round needs %d driver questions besides the %d core ones: raise questions per round to %d or the cycle to %d rounds",
			len(plan.drivers), p.DriverCycle, need, len(plan.core)+len(plan.always), len(plan.core)+len(plan.always)+need,
			ceilDiv(len(plan.drivers), max(1, p.QuestionsPerRound-len(plan.core)-len(plan.always))))
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// Period returns the calendar date of a slot in the program's zone: the
// period a round's answers count for.
func Period(slot time.Time, loc *time.Location) string {
	return slot.In(loc).Format("2006-01-02")
}

// Describe says in words when a cron expression fires, for common shapes.
func (s *Schedule) Describe(now time.Time) string {
	next := s.Upcoming(now, 3)
	var parts []string
	for _, t := range next {
		parts = append(parts, t.In(s.loc).Format("Mon 2 Jan 2006 15:04 MST"))
	}
	return fmt.Sprintf("next: %s", strings.Join(parts, "; "))
}

// Round is one sending of a program's questions.
type Round struct {
	ID          int64
	ProgramID   int64
	ScheduledAt time.Time
	ClosesAt    time.Time
	// RemindAt is zero when the round sends no reminder.
	RemindAt time.Time
	Seq      int
	Reminded bool
	Closed   bool
	Manual   bool
	MinGroup int
	Period   string

	// Filled by listings.
	Invited, Responded int
	ProgramName        string
	// TimeZone is the program's zone, for showing the round's times.
	TimeZone string
}

// OpenAt reports whether the round accepts answers at now.
func (r *Round) OpenAt(now time.Time) bool {
	return !r.Closed && now.Before(r.ClosesAt)
}

// ShowsParticipation reports whether the round's participation may be
// shown: only when at least k people were invited, or the counts would tell
// who in a small audience did not answer.
func (r Round) ShowsParticipation() bool {
	k := r.MinGroup
	if k < 3 {
		k = 3
	}
	return r.Invited >= k
}

// Participation is Responded/Invited, 0 when nobody was invited.
func (r Round) Participation() float64 {
	if r.Invited == 0 {
		return 0
	}
	return float64(r.Responded) / float64(r.Invited)
}
