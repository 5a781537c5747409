package pulse

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// CadenceFromCron turns a program's cron expression, as Tandem stored
// programs before cadences, into a cadence:
//
//   - a plain weekly expression (one minute, one hour, one weekday) is
//     the weekly cadence;
//   - "M H 1-7,15-21 * D" (the old "every two weeks" preset, which cron
//     read as every day of the first and third weeks and every D) is every
//     two weeks on D, anchored on anchor's week;
//   - "M H 1-7 * D" (and 8-14, 15-21, 22-28: the old "first Monday"
//     shape) is monthly on the first (second…) D;
//   - any other five-field expression that restricts at most one of the
//     day fields stays a cron cadence;
//   - one that restricts both, has six fields or starts with @ is not
//     converted: ok is false and the program must be paused.
//
// note says in words what happened, for the program's page. anchor is the
// program's last scheduled round, or its creation when it has none; its
// date in zone is the cadence's start.
func CadenceFromCron(expr, zone string, anchor time.Time) (c Cadence, ok bool, note string) {
	expr = strings.Join(strings.Fields(expr), " ")
	start := anchor.UTC().Format(time.DateOnly)
	if loc, err := loadZone(zone); err == nil {
		start = anchor.In(loc).Format(time.DateOnly)
	}
	c = Cadence{Kind: Cron, Expr: expr, Zone: zone}
	paused := func(why string) (Cadence, bool, string) {
		return c, false, fmt.Sprintf("This program was paused when Tandem moved to cadences: its schedule, the cron expression %q, %s. Choose a cadence and resume it.", expr, why)
	}
	fields := strings.Fields(expr)
	switch {
	case strings.HasPrefix(expr, "@"):
		return paused("is a shorthand that can fire more often than once a day")
	case len(fields) == 6:
		return paused("has a seconds field and can fire many times a day")
	case len(fields) != 5:
		return paused("is not a five-field cron expression")
	}
	sched, err := cron.ParseStandard(expr)
	spec, isSpec := sched.(*cron.SpecSchedule)
	if err != nil || !isSpec {
		return paused("is not a valid cron expression")
	}
	minute, errM := strconv.Atoi(fields[0])
	hour, errH := strconv.Atoi(fields[1])
	dow, errD := strconv.Atoi(fields[4])
	if errD != nil {
		if d, ok := weekdayNames[strings.ToLower(fields[4])]; ok {
			dow, errD = int(d), nil
		}
	}
	simple := errM == nil && errH == nil && errD == nil && minute >= 0 && minute < 60 && hour >= 0 && hour < 24 && dow >= 0 && dow <= 6 && fields[3] == "*"
	converted := func(n Cadence) (Cadence, bool, string) {
		n.Zone, n.Hour, n.Minute, n.Weekday = zone, hour, minute, time.Weekday(dow)
		if n.Kind == Weekly {
			n.Start = start
		}
		return n, true, fmt.Sprintf("Tandem now keeps schedules as cadences. This program's cron expression %q is now: %s.", expr, n.Describe())
	}
	if simple {
		switch fields[2] {
		case "*":
			return converted(Cadence{Kind: Weekly, Weeks: 1})
		case "1-7,15-21":
			c, ok, _ := converted(Cadence{Kind: Weekly, Weeks: 2})
			return c, ok, fmt.Sprintf("Tandem now keeps schedules as cadences. This program's cron expression %q meant every day of the first and third weeks of each month and every %s (cron joins the two day fields with OR); it is now: %s.",
				expr, time.Weekday(dow), c.Describe())
		case "1-7", "8-14", "15-21", "22-28":
			first, _ := strconv.Atoi(strings.Split(fields[2], "-")[0])
			c, ok, _ := converted(Cadence{Kind: Monthly, Nth: first/7 + 1})
			return c, ok, fmt.Sprintf("Tandem now keeps schedules as cadences. This program's cron expression %q meant every day of one week of each month and every %s (cron joins the two day fields with OR); it is now: %s.",
				expr, time.Weekday(dow), c.Describe())
		}
	}
	if spec.Dom&starBit == 0 && spec.Dow&starBit == 0 {
		return paused("restricts both the day of the month and the weekday, which cron joins with OR, so it fired on more days than it seemed to")
	}
	return c, true, fmt.Sprintf("Tandem now keeps schedules as cadences. This program keeps its cron expression: %s.", c.Describe())
}

var weekdayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// MoveToCadence gives a program stored with a cron expression its
// cadence (CadenceFromCron, in the program's zone, p.Cadence.Zone), and
// pauses it, saying why in CadenceNote, when the result fails the guard
// rails at now (for example a weekday cron whose answer window outlasts
// the day to the next round).
func (p *Program) MoveToCadence(expr string, anchor, now time.Time) {
	c, ok, note := CadenceFromCron(expr, p.Cadence.Zone, anchor)
	p.Cadence, p.CadenceNote = c, note
	if !ok {
		p.Active = false
		return
	}
	if err := p.Validate(now); err != nil {
		p.Active = false
		p.CadenceNote = fmt.Sprintf("This program was paused when Tandem moved to cadences: its schedule, %s, fails a check that new programs pass (%s). Change its settings and resume it.",
			c.Describe(), tandem.ErrorMessage(err))
	}
}
