package pulse

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// CadenceKind is how a cadence repeats.
type CadenceKind string

// Cadence kinds.
const (
	// Weekly: every Weeks (1–8) weeks on Weekday, counted from Start, so
	// that "every two weeks" is every other week.
	Weekly CadenceKind = "weekly"
	// Monthly: each month on the Nth Weekday (Nth 1–4, or Last), or on
	// Day (1–31; past the month's end, its last day).
	Monthly CadenceKind = "monthly"
	// Quarterly: as Monthly, in the first, fourth, seventh and tenth
	// month counted from Start's month.
	Quarterly CadenceKind = "quarterly"
	// Cron: a five-field cron expression (minute hour day-of-month month
	// day-of-week), for admins who need something else.
	Cron CadenceKind = "cron"
	// TestInterval fires every Seconds seconds. It exists for Tandem's
	// own multi-replica tests, which need many rounds in a minute: no form
	// offers it and Program.Validate refuses it, so only a row written by
	// hand can hold it.
	TestInterval CadenceKind = "test-interval"
)

// Last as Cadence.Nth means the last such weekday of the month.
const Last = -1

// MaxWeeks is the longest weekly cadence.
const MaxWeeks = 8

// Cadence says when a program's rounds start: structured data, not a cron
// string typed by HR. Its slots are computed by Schedule, in one place.
type Cadence struct {
	Kind CadenceKind `json:"kind"`
	// Weeks is the interval of a Weekly cadence, 1–MaxWeeks.
	Weeks int `json:"weeks,omitempty"`
	// Weekday is the day of a Weekly cadence, and of a Monthly or
	// Quarterly one on the Nth weekday.
	Weekday time.Weekday `json:"weekday"`
	// Nth is 1–4 or Last for a Monthly or Quarterly cadence on a weekday;
	// 0 when it is on Day.
	Nth int `json:"nth,omitempty"`
	// Day is the day of the month (1–31) of a Monthly or Quarterly
	// cadence on a day; 0 when it is on the Nth weekday.
	Day int `json:"day,omitempty"`
	// Start is the first date (YYYY-MM-DD, in Zone) a slot may fall on.
	// It anchors the weeks of a Weekly cadence and the months of a
	// Quarterly one; optional for the others.
	Start string `json:"start,omitempty"`
	// Hour and Minute are the local time of day of each slot.
	Hour   int `json:"hour"`
	Minute int `json:"minute"`
	// Expr is the five-field expression of a Cron cadence.
	Expr string `json:"cron,omitempty"`
	// Seconds is the interval of a TestInterval cadence.
	Seconds int `json:"seconds,omitempty"`
	// Zone is the IANA time zone the cadence is read in. Stored beside
	// the rest (the programs' timezone column), not in the JSON.
	Zone string `json:"-"`
}

// MarshalCadence is the cadence as stored: JSON without the zone.
func MarshalCadence(c Cadence) string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // a struct of strings and numbers always marshals
	}
	return string(b)
}

// UnmarshalCadence reads a stored cadence and its zone.
func UnmarshalCadence(s, zone string) (Cadence, error) {
	var c Cadence
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		return Cadence{}, fmt.Errorf("stored cadence %q: %w", s, err)
	}
	c.Zone = zone
	return c, nil
}

// Preset is a ready-made cadence offered in the program form.
type Preset struct {
	Key, Label string
	Cadence    Cadence
}

// Presets are the cadences offered in the program form. Each starts no
// more than one round a day by construction.
var Presets = []Preset{
	{"weekly", "Every week, Monday 09:00", Cadence{Kind: Weekly, Weeks: 1, Weekday: time.Monday, Hour: 9}},
	{"fortnightly", "Every two weeks, Monday 09:00", Cadence{Kind: Weekly, Weeks: 2, Weekday: time.Monday, Hour: 9}},
	{"monthly", "Monthly, first Monday 09:00", Cadence{Kind: Monthly, Nth: 1, Weekday: time.Monday, Hour: 9}},
	{"quarterly", "Quarterly, first Monday 09:00", Cadence{Kind: Quarterly, Nth: 1, Weekday: time.Monday, Hour: 9}},
}

// PresetCadence returns the preset named key with start and zone filled
// in, and whether there is one.
func PresetCadence(key, start, zone string) (Cadence, bool) {
	for _, p := range Presets {
		if p.Key == key {
			c := p.Cadence
			c.Start, c.Zone = start, zone
			return c, true
		}
	}
	return Cadence{}, false
}

// PresetKey returns the key of the preset c is (start and zone aside), or "".
func PresetKey(c Cadence) string {
	for _, p := range Presets {
		q := p.Cadence
		q.Start, q.Zone = c.Start, c.Zone
		if q == c {
			return p.Key
		}
	}
	return ""
}

// NeedsAdmin reports whether only an admin may set the cadence: a cron
// expression is easy to get wrong in ways the words do not show.
func (c Cadence) NeedsAdmin() bool { return c.Kind == Cron }

// CadenceInput is a cadence as typed in the program form, every value a
// string. ParseCadence turns it into a Cadence.
type CadenceInput struct {
	// Repeat is weekly, monthly, quarterly or cron.
	Repeat string
	// On is "weekday" or "day" for monthly and quarterly cadences.
	On      string
	Weeks   string
	Weekday string
	Nth     string
	Day     string
	Start   string
	At      string
	Cron    string
	Zone    string
}

// Form field names of a cadence, as ParseCadence's errors name them.
const (
	FieldRepeat  = "repeat"
	FieldOn      = "on"
	FieldWeeks   = "weeks"
	FieldWeekday = "weekday"
	FieldNth     = "nth"
	FieldDay     = "day"
	FieldStart   = "start"
	FieldAt      = "at"
	FieldCron    = "cron"
	FieldZone    = "timezone"
)

// Input is the cadence as the program form shows it.
func (c Cadence) Input() CadenceInput {
	in := CadenceInput{Repeat: string(c.Kind), Start: c.Start, At: fmt.Sprintf("%02d:%02d", c.Hour, c.Minute), Zone: c.Zone,
		Weeks: "1", Weekday: strconv.Itoa(int(c.Weekday)), Nth: "1", Day: "1", On: "weekday", Cron: c.Expr}
	if c.Weeks > 0 {
		in.Weeks = strconv.Itoa(c.Weeks)
	}
	if c.Nth != 0 {
		in.Nth = strconv.Itoa(c.Nth)
	}
	if c.Day != 0 {
		in.Day, in.On = strconv.Itoa(c.Day), "day"
	}
	return in
}

// ParseCadence checks a cadence as typed and returns it, or every problem
// found, each a field error naming its field (errors.Join).
func ParseCadence(in CadenceInput) (Cadence, error) {
	var errs fieldErrors
	c := Cadence{Kind: CadenceKind(strings.TrimSpace(in.Repeat)), Zone: strings.TrimSpace(in.Zone)}
	if _, err := loadZone(c.Zone); err != nil {
		errs.add(err)
	}
	num := func(field, s, what string, lo, hi int) int {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < lo || v > hi {
			errs.add(tandem.FieldErrorf(field, "%s must be a whole number from %d to %d", what, lo, hi))
			return 0
		}
		return v
	}
	at := func() {
		h, m, ok := parseClock(in.At)
		if !ok {
			errs.add(tandem.FieldErrorf(FieldAt, "give the time of day as HH:MM, for example 09:00"))
		}
		c.Hour, c.Minute = h, m
	}
	weekday := func() {
		c.Weekday = time.Weekday(num(FieldWeekday, in.Weekday, "the weekday", 0, 6))
	}
	start := func(required bool) {
		s := strings.TrimSpace(in.Start)
		if s == "" && !required {
			return
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			errs.add(tandem.FieldErrorf(FieldStart, "give the start date as YYYY-MM-DD, for example 2026-12-07"))
			return
		}
		c.Start = s
	}
	switch c.Kind {
	case Weekly:
		c.Weeks = num(FieldWeeks, in.Weeks, "the number of weeks between rounds", 1, MaxWeeks)
		weekday()
		start(true)
		at()
	case Monthly, Quarterly:
		switch strings.TrimSpace(in.On) {
		case "weekday":
			c.Nth = num(FieldNth, in.Nth, "the week of the month", Last, 4)
			if c.Nth == 0 {
				errs.add(tandem.FieldErrorf(FieldNth, "choose the first, second, third, fourth or last weekday of the month"))
			}
			weekday()
		case "day":
			c.Day = num(FieldDay, in.Day, "the day of the month", 1, 31)
		default:
			errs.add(tandem.FieldErrorf(FieldOn, "choose a weekday of the month (such as the first Monday) or a day of the month"))
		}
		start(c.Kind == Quarterly)
		at()
	case Cron:
		c.Expr = strings.Join(strings.Fields(in.Cron), " ")
		start(false)
		if _, err := parseCron(c.Expr); err != nil {
			errs.add(err)
		}
	default:
		errs.add(tandem.FieldErrorf(FieldRepeat, "choose how often rounds start: weekly, monthly, quarterly or (admins) a cron expression"))
	}
	if err := errs.err(); err != nil {
		return c, err
	}
	return c, nil
}

func parseClock(s string) (h, m int, ok bool) {
	hs, ms, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found || len(ms) != 2 || len(hs) < 1 || len(hs) > 2 {
		return 0, 0, false
	}
	h, err1 := strconv.Atoi(hs)
	m, err2 := strconv.Atoi(ms)
	if err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, 0, false
	}
	return h, m, true
}

// loadZone checks an IANA zone name the way every cadence reads it.
func loadZone(zone string) (*time.Location, error) {
	zone = strings.TrimSpace(zone)
	if zone == "" || strings.EqualFold(zone, "local") {
		return nil, tandem.FieldErrorf(FieldZone, "give an IANA time zone such as Europe/Berlin or America/New_York")
	}
	loc, err := tandem.LoadLocation(zone)
	if err != nil {
		return nil, tandem.FieldErrorf(FieldZone, "%q is not a time zone Tandem knows; use an IANA name such as Europe/Berlin, America/New_York or UTC", zone)
	}
	return loc, nil
}

// parseCron checks an admin's cron expression: five fields, no zone
// prefix, no @ shorthand, and not both day fields restricted (cron joins
// those with OR: "0 9 1-7 * 1" is every day of the first week and every
// Monday, not the first Monday).
func parseCron(expr string) (*cron.SpecSchedule, error) {
	if expr == "" {
		return nil, tandem.FieldErrorf(FieldCron, "give a cron expression such as \"0 9 * * 1\" (Mondays 09:00), or choose weekly, monthly or quarterly")
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, tandem.FieldErrorf(FieldCron, "write the cron expression without a zone; choose the time zone separately")
	}
	if strings.HasPrefix(expr, "@") {
		return nil, tandem.FieldErrorf(FieldCron, "%q is a shorthand (@every, @daily…) Tandem does not take; write five fields: minute hour day-of-month month day-of-week", expr)
	}
	if n := len(strings.Fields(expr)); n != 5 {
		extra := ""
		if n == 6 {
			extra = "; a sixth field for seconds is not taken"
		}
		return nil, tandem.FieldErrorf(FieldCron, "%q has %d fields; a cron expression has 5: minute hour day-of-month month day-of-week%s", expr, n, extra)
	}
	sched, err := cron.ParseStandard(expr)
	if err != nil {
		return nil, tandem.FieldErrorf(FieldCron, "%q is not a valid cron expression (%s); for example \"0 9 * * 1\" is Mondays at 09:00", expr, cleanCronErr(err))
	}
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok {
		return nil, tandem.FieldErrorf(FieldCron, "%q is not a five-field cron expression", expr)
	}
	if spec.Dom&starBit == 0 && spec.Dow&starBit == 0 {
		return nil, tandem.FieldErrorf(FieldCron, "%q restricts both the day of the month and the weekday, which cron joins with OR (every one of those days, and every such weekday); for \"the first Monday\" choose Monthly on the first Monday", expr)
	}
	return spec, nil
}

// starBit marks a cron field written as "*" (robfig/cron's convention).
const starBit = 1 << 63

func cleanCronErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	return msg
}

// fieldErrors collects the problems of a form, one per field.
type fieldErrors struct {
	list []error
	seen map[string]bool
}

func (f *fieldErrors) add(err error) {
	if err == nil {
		return
	}
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	var field string
	if e, ok := err.(*tandem.Error); ok {
		field = e.Field
	}
	if field != "" && f.seen[field] {
		return
	}
	f.seen[field] = true
	f.list = append(f.list, err)
}

func (f *fieldErrors) err() error {
	switch len(f.list) {
	case 0:
		return nil
	case 1:
		return f.list[0]
	}
	return joined(f.list)
}

// joined is errors.Join whose message is the first problem's: the person
// sees each problem beside its field, and this one at the top.
type joined []error

func (j joined) Error() string   { return j[0].Error() }
func (j joined) Unwrap() []error { return j }
