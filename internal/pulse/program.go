package pulse

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Channels a program delivers invitations through.
const (
	ChannelEmail   = "email"
	ChannelWebhook = "webhook"
	// ChannelTeams is a 1:1 Microsoft Teams chat message through a Power
	// Automate Workflows flow, addressed by the person's email.
	ChannelTeams = "teams"
	ChannelLog   = "log"
)

// Program is a recurring pulse for an audience.
type Program struct {
	ID   int64
	Name string
	// AudienceUnitID is the root of the audience subtree; ExcludedUnits
	// (and their subtrees) are left out.
	AudienceUnitID int64
	ExcludedUnits  []int64
	// Cadence is when rounds start, in its zone (the program's zone).
	Cadence Cadence
	// Skips are the local dates (YYYY-MM-DD) HR chose to skip.
	Skips []string
	// CadenceNote is what the move from cron strings to cadences did to
	// this program, shown on its page (see CadenceFromCron).
	CadenceNote string
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

// Defaults returns a program with Tandem's defaults: weekly on Monday at
// 09:00 UTC from start (YYYY-MM-DD), open five days. The program form
// sets the zone to the organisation's and leaves the name empty.
func Defaults() Program {
	c, _ := PresetCadence("weekly", defaultStart, "UTC")
	return Program{
		Name: "Weekly pulse", Cadence: c, WindowDays: 5, ReminderDays: 2,
		QuestionsPerRound: 7, DriverCycle: 3, CoreEvery: 1, MinGroup: privacy.DefaultK, Channel: ChannelEmail, Active: true,
	}
}

// defaultStart anchors Defaults' weekly cadence. Any Monday would do: a
// weekly cadence has a slot every week from it.
const defaultStart = "2024-01-01"

// Validate checks a program at now and returns every problem, each a
// field error naming its field (joined; the first is the message). Besides
// the settings' ranges it applies the cadence's guard rails over the next
// 366 days: no two rounds on one local date, and no answer window longer
// than the gap to the next round.
func (p *Program) Validate(now time.Time) error {
	var errs fieldErrors
	p.Name = strings.TrimSpace(p.Name)
	if p.Name == "" {
		errs.add(tandem.FieldErrorf("name", "give the program a name"))
	} else if err := tandem.CheckLength("name", p.Name, tandem.MaxNameLength); err != nil {
		errs.add(err)
	}
	if p.AudienceUnitID == 0 {
		errs.add(tandem.FieldErrorf("audience", "choose the unit whose people this program asks"))
	}
	for _, x := range p.ExcludedUnits {
		if x == p.AudienceUnitID {
			errs.add(tandem.FieldErrorf("excluded", "the audience unit itself cannot be left out"))
		}
	}
	if p.ReminderDays < 0 || (p.ReminderDays > 0 && p.ReminderDays >= p.WindowDays) {
		errs.add(tandem.FieldErrorf("reminder_days", "the reminder must go out before the round closes: 0 (none) to %d days", max(0, p.WindowDays-1)))
	}
	if err := p.CheckCadence(now); err != nil {
		for _, e := range unjoin(err) {
			errs.add(e)
		}
	}
	if err := privacy.CheckThreshold(p.MinGroup); err != nil {
		errs.add(err)
	}
	if p.QuestionsPerRound < 1 || p.QuestionsPerRound > 30 {
		errs.add(tandem.FieldErrorf("questions_per_round", "ask 1 to 30 questions per round (5–8 keeps it under a minute)"))
	}
	if p.DriverCycle < 1 || p.DriverCycle > 52 {
		errs.add(tandem.FieldErrorf("driver_cycle", "cover every driver every 1 to 52 rounds"))
	}
	if p.CoreEvery < 1 || p.CoreEvery > 52 {
		errs.add(tandem.FieldErrorf("core_every", "ask the engagement index and eNPS every 1 to 52 rounds"))
	}
	switch p.Channel {
	case ChannelEmail, ChannelWebhook, ChannelTeams, ChannelLog:
	default:
		errs.add(tandem.FieldErrorf("channel", "%q is not a channel; use email, webhook, teams or log", p.Channel))
	}
	return errs.err()
}

// CheckChannelConfigured refuses a delivery channel this server has no
// transport for (configured lists those it has), so that a program does
// not queue invitations that could only fail in the outbox. Invitations
// by Teams need the Workflows flow that posts each one in a 1:1 chat
// (a channel URL is refused when the server starts, see mail.NewTeamsWorkflow).
func CheckChannelConfigured(channel string, configured []string) error {
	if slices.Contains(configured, channel) {
		return nil
	}
	switch channel {
	case ChannelTeams:
		return tandem.FieldErrorf("channel", "Microsoft Teams is not set up on this server: an admin must create the Workflows flow that posts "+
			"each invitation in a 1:1 chat and set TANDEM_TEAMS_WORKFLOW_URL (docs/deploy.md, \"Microsoft Teams\"); choose another channel until then")
	case ChannelWebhook:
		return tandem.FieldErrorf("channel", "no chat webhook is set up on this server: an admin must set TANDEM_WEBHOOK_URL; choose another channel until then")
	}
	return tandem.FieldErrorf("channel", "%q is not set up on this server; choose another channel", channel)
}

// unjoin lists the errors inside a joined error (and joined errors
// inside it), or err alone.
func unjoin(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		if err == nil {
			return nil
		}
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, unjoin(e)...)
	}
	return out
}

// FieldProblems lists the problems of a form by field: what Validate and
// ParseCadence return, for showing each beside its field. Problems not
// about a field are under "".
func FieldProblems(err error) map[string]string {
	out := map[string]string{}
	for _, e := range unjoin(err) {
		var te *tandem.Error
		if errors.As(e, &te) {
			if _, ok := out[te.Field]; !ok {
				out[te.Field] = te.Message
			}
		}
	}
	return out
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
	// Imported rounds hold past survey results (tandem import history):
	// closed, seq 0, never a scheduled slot, not counted by DefaultProgram.
	Imported bool

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

// Released reports whether the round's results may be shown: once, when
// it has closed. While a round is open no page, export, report or job
// includes its answers or comments, so that saving a figure before and
// after one more answer cannot reveal that answer (n2·mean2 − n1·mean1).
// The store's aggregate reads apply the same rule (rounds.closed) and are
// tested against this one.
func (r Round) Released() bool { return r.Closed }

// ShowsParticipation reports whether the round's participation may be
// shown: only when at least k people were invited, or the counts would tell
// who in a small audience did not answer.
func (r Round) ShowsParticipation() bool {
	return r.Invited >= privacy.Threshold(r.MinGroup)
}

// Participation is Responded/Invited, 0 when nobody was invited.
func (r Round) Participation() float64 {
	if r.Invited == 0 {
		return 0
	}
	return float64(r.Responded) / float64(r.Invited)
}
