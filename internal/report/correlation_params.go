package report

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Report defaults and limits.
const (
	DefaultMinRatings = 5
	MaxLag            = 6
	DefaultWeeks      = 26
	DefaultMonths     = 12
	// maxRangeYears bounds the date range so one request cannot ask for a
	// century of rounds.
	maxRangeYears = 10
)

// CorrelationParams are the report's parameters after validation. UnitRef
// is the unit as given (a path or an id, "" for the caller's scope);
// LoadCorrelation resolves it into UnitID and Unit.
type CorrelationParams struct {
	Measure    string    // index | enps | driver:<key>
	Customer   string    // csat | nps | ces
	Period     string    // week | month
	From, To   time.Time // engagement periods whose start lies in [From, To]
	Lag        int       // −MaxLag…MaxLag periods; negative: customers before engagement
	MinRatings int       // customer ratings a team-period needs
	ProgramID  int64     // 0: the program with the most rounds
	Program    string    // the program's name, once resolved
	UnitID     int64     // 0: the whole organisation
	Unit       string    // the unit's path, once resolved
	UnitRef    string    // the unit as the caller named it
}

// paramsJSON is the JSON form of CorrelationParams.
type paramsJSON struct {
	Measure    string `json:"measure"`
	Customer   string `json:"customer"`
	Period     string `json:"period"`
	From       string `json:"from"`
	To         string `json:"to"`
	Lag        int    `json:"lag"`
	MinRatings int    `json:"min_ratings"`
	ProgramID  int64  `json:"program_id"`
	Program    string `json:"program"`
	UnitID     int64  `json:"unit_id"`
	Unit       string `json:"unit"`
}

// MarshalJSON writes the parameters with dates as YYYY-MM-DD.
func (p CorrelationParams) MarshalJSON() ([]byte, error) {
	return json.Marshal(paramsJSON{p.Measure, p.Customer, p.Period, tandem.FormatDate(p.From), tandem.FormatDate(p.To), p.Lag, p.MinRatings,
		p.ProgramID, p.Program, p.UnitID, p.Unit})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *CorrelationParams) UnmarshalJSON(b []byte) error {
	var j paramsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = CorrelationParams{Measure: j.Measure, Customer: j.Customer, Period: j.Period, Lag: j.Lag, MinRatings: j.MinRatings,
		ProgramID: j.ProgramID, Program: j.Program, UnitID: j.UnitID, Unit: j.Unit}
	p.From, _ = dateParam(j.From)
	p.To, _ = dateParam(j.To)
	return nil
}

// ParseCorrelationParams reads the report's parameters by name (measure,
// customer, period, from, to, lag, min_ratings, program, unit) through get,
// which returns "" for a parameter not given, applies the defaults and
// checks every value. today is the end of the default range. Errors are
// EINVALID, name the parameter and say what is allowed.
func ParseCorrelationParams(get func(name string) string, today time.Time) (CorrelationParams, error) {
	p := CorrelationParams{Measure: pulse.MeasureIndex, Customer: tandem.MetricCSAT, Period: tandem.Week, MinRatings: DefaultMinRatings}
	val := func(name string) string { return strings.TrimSpace(get(name)) }
	if v := val("measure"); v != "" {
		p.Measure = strings.ToLower(v)
	}
	if err := checkMeasure(p.Measure); err != nil {
		return p, err
	}
	if v := val("customer"); v != "" {
		p.Customer = strings.ToLower(v)
	}
	if _, _, ok := tandem.MetricRange(p.Customer); !ok {
		return p, paramErr("customer", "customer must be csat, nps or ces; got %q", p.Customer)
	}
	if v := val("period"); v != "" {
		p.Period = strings.ToLower(v)
	}
	if p.Period != tandem.Week && p.Period != tandem.Month {
		return p, paramErr("period", "period must be week or month; got %q", p.Period)
	}
	var err error
	if p.Lag, err = intParam(val("lag"), "lag", 0, -MaxLag, MaxLag, "lag must be a whole number of periods from -%d to %d (negative: customers before engagement); got %q", MaxLag, MaxLag); err != nil {
		return p, err
	}
	if p.MinRatings, err = intParam(val("min_ratings"), "min_ratings", DefaultMinRatings, 1, 1_000_000, "min_ratings must be a whole number of at least 1; got %q"); err != nil {
		return p, err
	}
	prog, err := intParam(val("program"), "program", 0, 1, math.MaxInt64, "program must be a program id (a positive whole number); got %q")
	if err != nil {
		return p, err
	}
	p.ProgramID = int64(prog)
	p.UnitRef = val("unit")

	to, from := tandem.Today(today), time.Time{}
	if v := val("to"); v != "" {
		if to, err = dateParam(v); err != nil {
			return p, paramErr("to", "to must be a date written YYYY-MM-DD; got %q", v)
		}
	}
	if v := val("from"); v != "" {
		if from, err = dateParam(v); err != nil {
			return p, paramErr("from", "from must be a date written YYYY-MM-DD; got %q", v)
		}
	} else if p.Period == tandem.Month {
		from = tandem.PeriodStart(tandem.Month, to).AddDate(0, -(DefaultMonths - 1), 0)
	} else {
		from = tandem.PeriodStart(tandem.Week, to).AddDate(0, 0, -7*(DefaultWeeks-1))
	}
	if from.After(to) {
		return p, paramErr("from", "from (%s) must not be after to (%s)", tandem.FormatDate(from), tandem.FormatDate(to))
	}
	if to.After(from.AddDate(maxRangeYears, 0, 0)) {
		return p, paramErr("from", "the range from %s to %s is longer than %d years; choose a shorter one", tandem.FormatDate(from), tandem.FormatDate(to), maxRangeYears)
	}
	p.From, p.To = from, to
	return p, nil
}

func paramErr(field, format string, args ...any) error {
	return &tandem.Error{Code: tandem.EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

func intParam(v, field string, def, lo, hi int, format string, args ...any) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, paramErr(field, format, append(args, v)...)
	}
	return n, nil
}

// dateParam reads a calendar date YYYY-MM-DD (strictly: a report's range is
// not a timestamp).
func dateParam(v string) (time.Time, error) {
	return time.Parse("2006-01-02", v)
}

func checkMeasure(m string) error {
	switch {
	case m == pulse.MeasureIndex, m == pulse.MeasureENPS:
		return nil
	case strings.HasPrefix(m, pulse.DriverMeasurePrefix):
		key := strings.TrimPrefix(m, pulse.DriverMeasurePrefix)
		if pulse.IsDriver(key) {
			return nil
		}
		var keys []string
		for _, d := range pulse.Drivers {
			keys = append(keys, d.Key)
		}
		return paramErr("measure", "measure %q: %q is not a driver; use driver: followed by one of %s", m, key, strings.Join(keys, ", "))
	}
	return paramErr("measure", "measure must be index, enps or driver:<key>; got %q", m)
}

// checked says which parameter is out of range, or returns them with
// defaults filled in; BuildCorrelation accepts parameters however they
// were made.
func (p CorrelationParams) checked() (CorrelationParams, error) {
	if err := checkMeasure(p.Measure); err != nil {
		return p, err
	}
	if _, _, ok := tandem.MetricRange(p.Customer); !ok {
		return p, paramErr("customer", "customer must be csat, nps or ces; got %q", p.Customer)
	}
	if p.Period != tandem.Week && p.Period != tandem.Month {
		return p, paramErr("period", "period must be week or month; got %q", p.Period)
	}
	if p.Lag < -MaxLag || p.Lag > MaxLag {
		return p, paramErr("lag", "lag must be a whole number of periods from -%d to %d (negative: customers before engagement); got %d", MaxLag, MaxLag, p.Lag)
	}
	if p.From.IsZero() || p.To.IsZero() || p.From.After(p.To) {
		return p, paramErr("from", "give a date range: from must not be after to")
	}
	if p.To.After(p.From.AddDate(maxRangeYears, 0, 0)) {
		return p, paramErr("from", "the range is longer than %d years; choose a shorter one", maxRangeYears)
	}
	if p.MinRatings < 1 {
		p.MinRatings = 1
	}
	return p, nil
}
