package pulse

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Describe says the cadence in words, the way every page shows it:
// "Every 2 weeks on Monday at 09:00 Europe/Berlin, starting 7 Dec 2026".
func (c Cadence) Describe() string {
	at := fmt.Sprintf("at %02d:%02d %s", c.Hour, c.Minute, c.Zone)
	starting := ""
	if d, err := time.Parse(time.DateOnly, c.Start); err == nil {
		starting = ", starting " + d.Format("2 Jan 2006")
	}
	switch c.Kind {
	case Weekly:
		every := "Every week"
		if c.Weeks > 1 {
			every = fmt.Sprintf("Every %d weeks", c.Weeks)
		}
		return fmt.Sprintf("%s on %s %s%s", every, c.Weekday, at, starting)
	case Monthly:
		return fmt.Sprintf("Monthly on %s %s%s", c.monthDay(), at, starting)
	case Quarterly:
		months := ""
		if d, err := time.Parse(time.DateOnly, c.Start); err == nil {
			var names []string
			for i := 0; i < 4; i++ {
				names = append(names, d.AddDate(0, 0, 1-d.Day()).AddDate(0, 3*i, 0).Month().String())
			}
			months = " of " + strings.Join(names[:3], ", ") + " and " + names[3]
		}
		return fmt.Sprintf("Quarterly on %s%s %s%s", c.monthDay(), months, at, starting)
	case Cron:
		words := ""
		if spec, err := parseCron(c.Expr); err == nil {
			words = describeCron(spec) + " "
		}
		return fmt.Sprintf("%s(cron %s) %s", capitalise(words), c.Expr, c.Zone)
	case TestInterval:
		return fmt.Sprintf("Every %d seconds (a test cadence)", c.Seconds)
	}
	return "No cadence: choose one"
}

// monthDay is "the first Monday", "the last Friday", "day 15" or
// "day 31 (the last day in shorter months)".
func (c Cadence) monthDay() string {
	if c.Day != 0 {
		if c.Day > 28 {
			return fmt.Sprintf("day %d (the last day in shorter months)", c.Day)
		}
		return fmt.Sprintf("day %d", c.Day)
	}
	return fmt.Sprintf("the %s %s", ordinal(c.Nth), c.Weekday)
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "first"
	case 2:
		return "second"
	case 3:
		return "third"
	case 4:
		return "fourth"
	case Last:
		return "last"
	}
	return fmt.Sprintf("%dth", n)
}

// Ordinals are the choices of the week of the month, for the form.
var Ordinals = []struct {
	N     int
	Label string
}{{1, "first"}, {2, "second"}, {3, "third"}, {4, "fourth"}, {Last, "last"}}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// describeCron says a five-field expression in words, as far as it can:
// "at 09:00 on Monday to Friday", "at 08:30 and 16:30 every day".
func describeCron(sp *cron.SpecSchedule) string {
	var times []string
	for h := 0; h < 24; h++ {
		for m := 0; m < 60; m++ {
			if sp.Hour&(1<<uint(h)) != 0 && sp.Minute&(1<<uint(m)) != 0 {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
	}
	var out string
	if len(times) <= 3 {
		out = "at " + list(times)
	} else {
		out = fmt.Sprintf("%d times a day", len(times))
	}
	domStar, dowStar := sp.Dom&starBit != 0, sp.Dow&starBit != 0
	switch {
	case domStar && dowStar:
		out += " every day"
	case !dowStar:
		var names []string
		for _, r := range runs(sp.Dow, 0, 6) {
			if r[0] == r[1] {
				names = append(names, time.Weekday(r[0]).String())
			} else {
				names = append(names, time.Weekday(r[0]).String()+" to "+time.Weekday(r[1]).String())
			}
		}
		out += " on " + list(names)
	default:
		var days []string
		for _, r := range runs(sp.Dom, 1, 31) {
			if r[0] == r[1] {
				days = append(days, fmt.Sprint(r[0]))
			} else {
				days = append(days, fmt.Sprintf("%d to %d", r[0], r[1]))
			}
		}
		out += " on day " + list(days) + " of the month"
	}
	if sp.Month&starBit == 0 {
		var months []string
		for _, r := range runs(sp.Month, 1, 12) {
			if r[0] == r[1] {
				months = append(months, time.Month(r[0]).String())
			} else {
				months = append(months, time.Month(r[0]).String()+" to "+time.Month(r[1]).String())
			}
		}
		out += " in " + list(months)
	}
	return out
}

// runs groups the set bits of a cron field into ranges [from, to].
func runs(bits uint64, lo, hi int) [][2]int {
	var out [][2]int
	for i := lo; i <= hi; i++ {
		if bits&(1<<uint(i)) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1][1] == i-1 {
			out[n-1][1] = i
		} else {
			out = append(out, [2]int{i, i})
		}
	}
	return out
}

// list joins words as a person would: "a", "a and b", "a, b and c".
func list(words []string) string {
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
