package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/retention"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// archiveStint keeps a finished stint of e (before a rehire replaces it).
func (tx *Tx) archiveStint(ctx context.Context, e tandem.Employee) error {
	if e.ExitedOn.IsZero() {
		return nil
	}
	_, err := tx.s.exec(ctx, tx.tx, `INSERT INTO employments (employee_id, hired_on, exited_on, exit_type, regretted, exit_reason)
		VALUES (?, ?, ?, ?, ?, ?)`, e.ID, nullDate(e.HiredOn), tandem.FormatDate(e.ExitedOn), e.ExitType, e.Regretted, e.ExitReason)
	return err
}

// Stints returns every period of employment — current ones and those
// kept from before a rehire — with the unit history of each.
func (s *Store) Stints(ctx context.Context) ([]retention.Stint, error) {
	history := map[int64][]retention.UnitFrom{}
	rows, err := s.query(ctx, s.r, "SELECT employee_id, valid_from, unit_id FROM employee_units ORDER BY employee_id, valid_from")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, unit int64
		var from string
		if err := rows.Scan(&id, &from, &unit); err != nil {
			rows.Close()
			return nil, err
		}
		day, _ := tandem.ParseDate(from)
		history[id] = append(history[id], retention.UnitFrom{From: day, UnitID: unit})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []retention.Stint
	add := func(id, unit int64, hired, exited sql.NullString, exitType string, regretted bool) {
		st := retention.Stint{EmployeeID: id, Hired: parseNullDate(hired), Exited: parseNullDate(exited),
			Voluntary: exitType == tandem.ExitVoluntary, Involuntary: exitType == tandem.ExitInvoluntary, Regretted: regretted}
		for _, u := range history[id] {
			// The stint's units: history entries inside it, and the one in
			// force when it began.
			if !st.Exited.IsZero() && !u.From.Before(st.Exited) {
				continue
			}
			if !st.Hired.IsZero() && u.From.Before(st.Hired) {
				st.Units = []retention.UnitFrom{{From: st.Hired, UnitID: u.UnitID}}
				continue
			}
			st.Units = append(st.Units, u)
		}
		if len(st.Units) == 0 {
			st.Units = []retention.UnitFrom{{From: st.Hired, UnitID: unit}}
		}
		out = append(out, st)
	}
	rows, err = s.query(ctx, s.r, "SELECT id, unit_id, hired_on, exited_on, exit_type, regretted FROM employees")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, unit int64
		var hired, exited sql.NullString
		var typ string
		var reg bool
		if err := rows.Scan(&id, &unit, &hired, &exited, &typ, &reg); err != nil {
			rows.Close()
			return nil, err
		}
		add(id, unit, hired, exited, typ, reg)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.query(ctx, s.r, "SELECT m.employee_id, e.unit_id, m.hired_on, m.exited_on, m.exit_type, m.regretted FROM employments m JOIN employees e ON e.id = m.employee_id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, unit int64
		var hired, exited sql.NullString
		var typ string
		var reg bool
		if err := rows.Scan(&id, &unit, &hired, &exited, &typ, &reg); err != nil {
			return nil, err
		}
		add(id, unit, hired, exited, typ, reg)
	}
	return out, rows.Err()
}

// PastStints returns an employee's earlier periods of employment.
func (s *Store) PastStints(ctx context.Context, employeeID int64) ([]tandem.Employee, error) {
	rows, err := s.query(ctx, s.r, "SELECT hired_on, exited_on, exit_type, regretted, exit_reason FROM employments WHERE employee_id = ? ORDER BY exited_on", employeeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tandem.Employee
	for rows.Next() {
		var e tandem.Employee
		var hired, exited sql.NullString
		if err := rows.Scan(&hired, &exited, &e.ExitType, &e.Regretted, &e.ExitReason); err != nil {
			return nil, err
		}
		e.ID, e.HiredOn, e.ExitedOn = employeeID, parseNullDate(hired), parseNullDate(exited)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Exit is one leaver, as the API records it.
type Exit struct {
	// EmployeeRef is the employee id (from the HR system) or email.
	EmployeeRef string
	ExitedOn    time.Time
	Type        string
	Regretted   bool
	Reason      string
}

// ScopeRosterWrite lets an API key record exits.
const ScopeRosterWrite = "roster:write"

// RecordExits marks employees exited, all or none: an unknown employee, an
// exit before the hire date or a bad exit type fails the whole batch, with
// the position of each bad entry.
func (s *Store) RecordExits(ctx context.Context, exits []Exit) (int, error) {
	var problems []string
	changed := 0
	err := s.InTx(ctx, func(tx *Tx) error {
		for i, x := range exits {
			ref := strings.TrimSpace(x.EmployeeRef)
			e, err := scanEmployee(s.queryRow(ctx, tx.tx, "SELECT "+employeeColumns+
				` FROM employees e LEFT JOIN employees m ON m.id = e.manager_id WHERE e.external_id = ? OR e.email = ?
				ORDER BY CASE WHEN e.external_id = ? THEN 0 ELSE 1 END LIMIT 1`, ref, tandem.NormalizeEmail(ref), ref))
			if err == sql.ErrNoRows {
				problems = append(problems, fmt.Sprintf("exit %d: no employee has id or email %q", i, ref))
				continue
			} else if err != nil {
				return err
			}
			e.ExitedOn, e.ExitType, e.Regretted, e.ExitReason = x.ExitedOn, x.Type, x.Regretted, x.Reason
			if e.ExitType != tandem.ExitVoluntary {
				e.Regretted = false
			}
			if x.ExitedOn.IsZero() {
				problems = append(problems, fmt.Sprintf("exit %d: exited_on is required (YYYY-MM-DD)", i))
				continue
			}
			if err := e.Validate(); err != nil {
				problems = append(problems, fmt.Sprintf("exit %d (%s): %s", i, ref, tandem.ErrorMessage(err)))
				continue
			}
			if err := tx.saveEmployee(ctx, &e); err != nil {
				return err
			}
			changed++
		}
		if len(problems) > 0 {
			return tandem.Errorf(tandem.EINVALID, "nothing was recorded: %s", strings.Join(problems, "; "))
		}
		return nil
	})
	return changed, err
}

// RosterVersion changes whenever employees, their units or their stints
// change: counts of each, and the latest change in seconds. It lets a
// report keep Stints in memory between requests. fresh is false when the
// latest change is so recent that another within the same second could
// follow unseen. The store's clock decides, the one that stamped the
// changes.
func (s *Store) RosterVersion(ctx context.Context) (version string, fresh bool, err error) {
	var n, units, past, last int64
	err = s.queryRow(ctx, s.r, `SELECT COUNT(*), COALESCE(MAX(updated_at), 0),
		(SELECT COUNT(*) FROM employee_units), (SELECT COUNT(*) FROM employments) FROM employees`).Scan(&n, &last, &units, &past)
	if err != nil {
		return "", false, err
	}
	return fmt.Sprintf("%d/%d/%d/%d", n, last, units, past), s.now().Unix()-last >= 2, nil
}
