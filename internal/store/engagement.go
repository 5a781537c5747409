package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Reads for the correlation report: which rounds fall in a date range, and
// each unit's scores per round aggregated in SQL, so that a report over two
// years of weekly rounds reads one row per unit, round and measure instead
// of one per question.

// ProgramRoundCounts returns how many rounds each program has sent, for
// pulse.DefaultProgram: imported history does not make a program the
// default.
func (s *Store) ProgramRoundCounts(ctx context.Context) (map[int64]int, error) {
	rows, err := s.query(ctx, s.r, "SELECT program_id, COUNT(*) FROM rounds WHERE imported = ? GROUP BY program_id", false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// RoundsBetween returns a program's released rounds (pulse.Round.Released)
// whose period (the round's date in the program's zone) lies in [from, to],
// oldest first: what the reports read. Unlike Rounds it does not count
// invitations.
func (s *Store) RoundsBetween(ctx context.Context, programID int64, from, to time.Time) ([]pulse.Round, error) {
	rows, err := s.query(ctx, s.r, "SELECT "+roundColumns+" FROM rounds r WHERE r.program_id = ? AND r.period >= ? AND r.period <= ? AND r.closed = ? ORDER BY r.scheduled_at, r.id",
		programID, tandem.FormatDate(from), tandem.FormatDate(to), true)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pulse.Round
	for rows.Next() {
		r, err := scanRound(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// TeamScores returns the TeamScoreRows of the given rounds in one query,
// aggregated per round and unit by the database: one row per unit and
// round, however many questions the round asked.
func (s *Store) TeamScores(ctx context.Context, roundIDs []int64) ([]pulse.TeamScoreRow, error) {
	if len(roundIDs) == 0 {
		return nil, nil
	}
	ph, args := inList(roundIDs)
	// Kinds and driver keys are constants of the code, written into the
	// text; AVG skips the NULLs of questions outside a column.
	likert := "(rs.sum * 1.0 / rs.n - 1) / 4 * 100"
	cols := []string{
		"AVG(CASE WHEN q.kind = '" + string(pulse.Likert5) + "' AND q.in_index = ? THEN " + likert + " END)",
		"AVG(CASE WHEN q.kind = '" + string(pulse.Scale010) + "' AND q.driver = '" + pulse.DriverENPS + "' THEN (rs.promoters - rs.detractors) * 100.0 / rs.n END)",
	}
	for _, d := range pulse.Drivers {
		cols = append(cols, "AVG(CASE WHEN q.driver = '"+d.Key+"' THEN CASE q.kind WHEN '"+string(pulse.Likert5)+"' THEN "+likert+
			" WHEN '"+string(pulse.Scale010)+"' THEN rs.sum * 1.0 / rs.n * 10 END END)")
	}
	q := "SELECT rs.round_id, rs.unit_id, " + strings.Join(cols, ", ") + `
		FROM round_scores rs JOIN questions q ON q.id = rs.question_id
		WHERE rs.round_id IN (` + ph + `) AND rs.n > 0 AND rs.round_id IN (SELECT id FROM rounds WHERE closed = ?)
		GROUP BY rs.round_id, rs.unit_id`
	rows, err := s.query(ctx, s.r, q, append(append([]any{true}, args...), true)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	nulls := make([]sql.NullFloat64, len(cols))
	dest := make([]any, 2+len(cols))
	for i := range nulls {
		dest[2+i] = &nulls[i]
	}
	var out []pulse.TeamScoreRow
	for rows.Next() {
		var r pulse.TeamScoreRow
		dest[0], dest[1] = &r.RoundID, &r.UnitID
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.Values = make([]float64, len(cols))
		for i, v := range nulls {
			r.Values[i] = math.NaN()
			if v.Valid {
				r.Values[i] = v.Float64
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// MetricTotals returns the stored totals of one metric in periods of kind
// (tandem.Week or tandem.Month) from from's period up to, not including,
// to — the rows of CustomerTotalsRows for that metric, with Metric set and
// only the counts the metric's headline uses (CSAT: N and Top; NPS: N,
// Promoters and Detractors; CES: N and Sum). The correlation report reads a
// row per team and period over up to years, and the database driver's cost
// is per column read.
func (s *Store) MetricTotals(ctx context.Context, kind, metric string, from, to time.Time) ([]tandem.CustomerTotalsRow, error) {
	k, err := totalsKind(kind)
	if err != nil {
		return nil, err
	}
	var cols string
	switch metric {
	case tandem.MetricCSAT:
		cols = "top, 0"
	case tandem.MetricNPS:
		cols = "promoters, detractors"
	case tandem.MetricCES:
		cols = "sum, 0"
	default:
		return nil, tandem.FieldErrorf("metric", "%q is not a metric; use csat, nps or ces", metric)
	}
	where := " FROM csat_totals WHERE kind = ? AND metric = ? AND period >= ? AND period < ?"
	args := []any{k, metric, tandem.FormatDate(tandem.PeriodStart(kind, from)), tandem.FormatDate(to)}
	// The rows are counted first so that they fill one array of the right
	// size: two years of weekly totals at 2,500 teams are some 290,000
	// rows of 88 bytes, and growing the array by appending allocated five
	// times that and copied it as often.
	var count int
	if err := s.queryRow(ctx, s.r, "SELECT COUNT(*)"+where, args...).Scan(&count); err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.r, "SELECT period, unit_id, n, "+cols+where+" ORDER BY period, unit_id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	periods := map[string]time.Time{}
	out := make([]tandem.CustomerTotalsRow, 0, count)
	var period sql.RawBytes
	// Counts are scanned as integers and the CES sum as a float: database/sql
	// converts an integer into a float64 through its decimal text. The
	// destinations are the same variables for every row, so that no row
	// escapes to the heap before it is appended.
	var unit, n, a, b int64
	var sum float64
	dest := []any{&period, &unit, &n, &a, &b}
	if metric == tandem.MetricCES {
		dest[3] = &sum
	}
	for rows.Next() {
		r := tandem.CustomerTotalsRow{Metric: metric}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		r.UnitID = unit
		p, ok := periods[string(period)]
		if !ok {
			if p, err = tandem.ParseDate(string(period)); err != nil {
				return nil, fmt.Errorf("csat_totals: bad period %q", period)
			}
			periods[string(period)] = p
		}
		r.Period, r.N = p, int(n)
		switch metric {
		case tandem.MetricCSAT:
			r.Top = int(a)
		case tandem.MetricNPS:
			r.Promoters, r.Detractors = int(a), int(b)
		case tandem.MetricCES:
			r.Sum = sum
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// totalsKind is csat_totals' letter for a kind of period.
func totalsKind(kind string) (string, error) {
	switch kind {
	case tandem.Week:
		return "W", nil
	case tandem.Month:
		return "M", nil
	}
	return "", tandem.FieldErrorf("period", "%q is not a period; use week or month", kind)
}

// MetricTotalsChanged returns, in order, the periods of kind from from's
// period up to, not including, to whose totals of metric changed after
// released-data version since (see ReleasedVersion): the periods a caller
// holding MetricTotals as read at version since must read again. A period
// whose totals were all taken back is among them (it now has no rows).
func (s *Store) MetricTotalsChanged(ctx context.Context, kind, metric string, from, to time.Time, since int64) ([]time.Time, error) {
	k, err := totalsKind(kind)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.r, "SELECT period FROM csat_periods WHERE kind = ? AND metric = ? AND period >= ? AND period < ? AND version > ? ORDER BY period",
		k, metric, tandem.FormatDate(tandem.PeriodStart(kind, from)), tandem.FormatDate(to), since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		d, err := tandem.ParseDate(p)
		if err != nil {
			return nil, fmt.Errorf("csat_periods: bad period %q", p)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
