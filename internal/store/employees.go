package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// EmployeeFilter selects employees for a listing.
type EmployeeFilter struct {
	// Query matches name or email, case-insensitively, anywhere.
	Query string
	// UnitID limits the list to a unit and its subtree (0: everyone).
	UnitID int64
	// Status is "active" (default), "exited" or "all", judged on Today.
	Status string
	Today  time.Time
	Limit  int
	Offset int
}

const employeeColumns = `e.id, COALESCE(e.external_id, ''), COALESCE(e.email, ''), e.name, e.unit_id,
	COALESCE(e.manager_id, 0), e.location, e.hired_on, e.exited_on, e.exit_type, e.regretted, e.exit_reason,
	COALESCE(m.name, ''), e.language`

func scanEmployee(sc interface{ Scan(...any) error }) (tandem.Employee, error) {
	var e tandem.Employee
	var hired, exited sql.NullString
	err := sc.Scan(&e.ID, &e.ExternalID, &e.Email, &e.Name, &e.UnitID, &e.ManagerID, &e.Location,
		&hired, &exited, &e.ExitType, &e.Regretted, &e.ExitReason, &e.ManagerName, &e.Language)
	e.HiredOn, e.ExitedOn = parseNullDate(hired), parseNullDate(exited)
	return e, err
}

// Employees returns one page of employees matching f, ordered by name, and
// the number matching in all.
func (s *Store) Employees(ctx context.Context, f EmployeeFilter) ([]tandem.Employee, int, error) {
	var where []string
	var args []any
	if f.UnitID != 0 {
		var p string
		if err := s.queryRow(ctx, s.r, "SELECT id_path FROM org_units WHERE id = ?", f.UnitID).Scan(&p); err == sql.ErrNoRows {
			return nil, 0, tandem.Errorf(tandem.ENOTFOUND, "unit %d does not exist", f.UnitID)
		} else if err != nil {
			return nil, 0, err
		}
		where = append(where, "e.unit_id IN (SELECT id FROM org_units WHERE id_path LIKE ?)")
		args = append(args, p+"%")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		like := "%" + escapeLike(tandem.SearchKey(q)) + "%"
		where = append(where, `(e.search LIKE ? ESCAPE '\' OR COALESCE(e.external_id, '') = ?)`)
		args = append(args, like, q)
	}
	today := tandem.FormatDate(f.Today)
	if today == "" {
		today = tandem.FormatDate(tandem.Today(s.now()))
	}
	switch f.Status {
	case "all":
	case "exited":
		where = append(where, "e.exited_on IS NOT NULL AND e.exited_on <= ?")
		args = append(args, today)
	default:
		where = append(where, "(e.exited_on IS NULL OR e.exited_on > ?)")
		args = append(args, today)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.queryRow(ctx, s.r, "SELECT COUNT(*) FROM employees e"+cond, args...).Scan(&total); err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = -1
		if s.engine == Postgres {
			limit = 1 << 30
		}
	}
	rows, err := s.query(ctx, s.r, "SELECT "+employeeColumns+" FROM employees e LEFT JOIN employees m ON m.id = e.manager_id"+
		cond+" ORDER BY e.name, e.id LIMIT ? OFFSET ?", append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []tandem.Employee
	for rows.Next() {
		e, err := scanEmployee(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// AllEmployees returns everyone on the roster, exited or not, with UnitPath
// filled, ordered by id.
func (s *Store) AllEmployees(ctx context.Context) ([]tandem.Employee, error) {
	tree, err := s.Tree(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.query(ctx, s.r, "SELECT "+employeeColumns+" FROM employees e LEFT JOIN employees m ON m.id = e.manager_id ORDER BY e.id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tandem.Employee
	for rows.Next() {
		e, err := scanEmployee(rows)
		if err != nil {
			return nil, err
		}
		if u := tree.Unit(e.UnitID); u != nil {
			e.UnitPath = u.Path
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Employee returns one employee by id.
func (s *Store) Employee(ctx context.Context, id int64) (tandem.Employee, error) {
	e, err := scanEmployee(s.queryRow(ctx, s.r, "SELECT "+employeeColumns+" FROM employees e LEFT JOIN employees m ON m.id = e.manager_id WHERE e.id = ?", id))
	if err == sql.ErrNoRows {
		return e, tandem.Errorf(tandem.ENOTFOUND, "employee %d does not exist", id)
	}
	return e, err
}

// UpdateEmployee saves an edited employee. A change of unit is recorded in
// the unit history from today.
func (s *Store) UpdateEmployee(ctx context.Context, e *tandem.Employee, today time.Time) error {
	if err := e.Validate(); err != nil {
		return err
	}
	if e.ManagerID == e.ID {
		return tandem.FieldErrorf("manager", "an employee cannot be their own manager")
	}
	return s.InTx(ctx, func(tx *Tx) error {
		old, err := scanEmployee(s.queryRow(ctx, tx.tx, "SELECT "+employeeColumns+" FROM employees e LEFT JOIN employees m ON m.id = e.manager_id WHERE e.id = ?", e.ID))
		if err == sql.ErrNoRows {
			return tandem.Errorf(tandem.ENOTFOUND, "employee %d does not exist", e.ID)
		} else if err != nil {
			return err
		}
		oldUnit := old.UnitID
		// Clearing an exit and giving a hire date after it is a rehire:
		// the finished stint is kept.
		if !old.ExitedOn.IsZero() && e.ExitedOn.IsZero() && !e.HiredOn.IsZero() && !e.HiredOn.Before(old.ExitedOn) {
			if err := tx.archiveStint(ctx, old); err != nil {
				return err
			}
		}
		if err := tx.saveEmployee(ctx, e); err != nil {
			return err
		}
		if oldUnit != e.UnitID {
			return tx.recordUnit(ctx, e.ID, e.UnitID, today)
		}
		return nil
	})
}

// saveEmployee inserts e when e.ID is 0, else updates it.
func (tx *Tx) saveEmployee(ctx context.Context, e *tandem.Employee) error {
	s := tx.s
	now := s.now().Unix()
	var err error
	if e.ID == 0 {
		e.ID, err = s.insert(ctx, tx.tx, `INSERT INTO employees (external_id, email, name, unit_id, manager_id, location,
			hired_on, exited_on, exit_type, regretted, exit_reason, language, search, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			nullString(e.ExternalID), nullString(tandem.NormalizeEmail(e.Email)), e.Name, e.UnitID, nullInt(e.ManagerID), e.Location,
			nullDate(e.HiredOn), nullDate(e.ExitedOn), e.ExitType, e.Regretted, e.ExitReason, e.Language, searchKey(e), now, now)
	} else {
		_, err = s.exec(ctx, tx.tx, `UPDATE employees SET external_id = ?, email = ?, name = ?, unit_id = ?, manager_id = ?,
			location = ?, hired_on = ?, exited_on = ?, exit_type = ?, regretted = ?, exit_reason = ?, language = ?, search = ?, updated_at = ?
			WHERE id = ?`,
			nullString(e.ExternalID), nullString(tandem.NormalizeEmail(e.Email)), e.Name, e.UnitID, nullInt(e.ManagerID), e.Location,
			nullDate(e.HiredOn), nullDate(e.ExitedOn), e.ExitType, e.Regretted, e.ExitReason, e.Language, searchKey(e), now, e.ID)
	}
	if isUniqueViolation(err) {
		return tandem.Errorf(tandem.ECONFLICT, "another employee already has email %q or employee id %q", e.Email, e.ExternalID)
	}
	return err
}

// recordUnit notes that employee is in unit from day on.
func (tx *Tx) recordUnit(ctx context.Context, employee, unit int64, day time.Time) error {
	_, err := tx.s.exec(ctx, tx.tx, `INSERT INTO employee_units (employee_id, valid_from, unit_id) VALUES (?, ?, ?)
		ON CONFLICT (employee_id, valid_from) DO UPDATE SET unit_id = excluded.unit_id`, employee, tandem.FormatDate(day), unit)
	return err
}

// EmployeeUnitOn returns the unit employee belonged to on day, from the
// unit history, falling back to the current unit.
func (s *Store) EmployeeUnitOn(ctx context.Context, employee int64, day time.Time) (int64, error) {
	var unit int64
	err := s.queryRow(ctx, s.r, `SELECT unit_id FROM employee_units WHERE employee_id = ? AND valid_from <= ?
		ORDER BY valid_from DESC LIMIT 1`, employee, tandem.FormatDate(day)).Scan(&unit)
	if err == sql.ErrNoRows {
		err = s.queryRow(ctx, s.r, "SELECT unit_id FROM employees WHERE id = ?", employee).Scan(&unit)
		if err == sql.ErrNoRows {
			return 0, tandem.Errorf(tandem.ENOTFOUND, "employee %d does not exist", employee)
		}
	}
	return unit, err
}

func searchKey(e *tandem.Employee) string {
	return tandem.SearchKey(e.Name + " " + e.Email)
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}
