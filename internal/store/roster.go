package store

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// RosterResult counts what an applied import did.
type RosterResult struct {
	Added, Updated, Exited, UnitsCreated int
}

// ApplyRoster applies a planned import in one transaction: units are
// created, employees added and updated, managers linked and missing
// employees marked exited. If anything fails, nothing is applied.
//
// The plan must have been made against the current roster; if the roster
// changed in between (another import, an edit), a conflict is reported and
// the caller should plan again.
func (s *Store) ApplyRoster(ctx context.Context, p *roster.Plan, today time.Time) (RosterResult, error) {
	var res RosterResult
	err := s.InTx(ctx, func(tx *Tx) error {
		res = RosterResult{}
		// Units: create each missing path prefix, parents first.
		tree, err := tx.tree(ctx)
		if err != nil {
			return err
		}
		ids := make(map[string]int64, tree.Len())
		for _, u := range tree.Walk() {
			ids[u.Path] = u.ID
		}
		unitID := func(parts []string) int64 { return ids[strings.Join(parts, tandem.PathSeparator)] }
		for _, path := range p.NewUnits {
			if unitID(path) != 0 {
				continue
			}
			var parent int64
			if len(path) > 1 {
				parent = unitID(path[:len(path)-1])
				if parent == 0 {
					return fmt.Errorf("roster plan: parent of %q not created first", strings.Join(path, "/"))
				}
			}
			id, err := tx.createUnit(ctx, parent, path[len(path)-1], false)
			if err != nil {
				return err
			}
			ids[strings.Join(path, tandem.PathSeparator)] = id
			res.UnitsCreated++
		}
		teamOf := func(r roster.Record) (int64, error) {
			id := unitID(r.TeamPath)
			if id == 0 {
				return 0, tandem.Errorf(tandem.ECONFLICT, "line %d: team %q is missing from the plan; run the import again", r.Line, strings.Join(r.TeamPath, "/"))
			}
			return id, nil
		}
		type linked struct {
			id  int64
			rec roster.Record
		}
		var touched []linked
		// New employees go in 100 at a time: a large first import is
		// mostly these inserts.
		for start := 0; start < len(p.Add); start += addChunk {
			part := p.Add[start:min(start+addChunk, len(p.Add))]
			emps := make([]tandem.Employee, len(part))
			for i, r := range part {
				applyRecord(&emps[i], r, p.File)
				if emps[i].UnitID, err = teamOf(r); err != nil {
					return err
				}
			}
			ids, err := tx.insertEmployees(ctx, emps)
			if err != nil {
				return fmt.Errorf("lines %d–%d: %w", part[0].Line, part[len(part)-1].Line, err)
			}
			history := make([]unitFrom, len(part))
			for i, r := range part {
				from := emps[i].HiredOn
				if from.IsZero() || from.After(today) {
					from = today
				}
				history[i] = unitFrom{ids[i], emps[i].UnitID, from}
				touched = append(touched, linked{ids[i], r})
				res.Added++
			}
			if err := tx.recordUnits(ctx, history); err != nil {
				return err
			}
		}
		for _, u := range p.Update {
			e, err := scanEmployee(s.queryRow(ctx, tx.tx, "SELECT "+employeeColumns+
				" FROM employees e LEFT JOIN employees m ON m.id = e.manager_id WHERE e.id = ?", u.EmployeeID))
			if err != nil {
				return tandem.Errorf(tandem.ECONFLICT, "line %d: the employee this row matched is gone; run the import again", u.Record.Line)
			}
			oldUnit := e.UnitID
			if u.Rehired {
				if err := tx.archiveStint(ctx, e); err != nil {
					return err
				}
			}
			applyRecord(&e, u.Record, p.File)
			if u.Rehired {
				// A rehire starts a new employment; the old exit no longer
				// describes the person.
				e.ExitedOn, e.ExitType, e.Regretted, e.ExitReason = time.Time{}, "", false, ""
			}
			if p.File.Has(roster.ColTeam) {
				if e.UnitID, err = teamOf(u.Record); err != nil {
					return err
				}
			}
			if err := tx.saveEmployee(ctx, &e); err != nil {
				return fmt.Errorf("line %d: %w", u.Record.Line, err)
			}
			switch {
			case u.Rehired && !e.HiredOn.IsZero() && !e.HiredOn.After(today):
				// The new stint starts in its unit on the rehire date.
				if err := tx.recordUnit(ctx, e.ID, e.UnitID, e.HiredOn); err != nil {
					return err
				}
			case e.UnitID != oldUnit:
				if err := tx.recordUnit(ctx, e.ID, e.UnitID, today); err != nil {
					return err
				}
			}
			touched = append(touched, linked{e.ID, u.Record})
			res.Updated++
		}
		if p.File.Has(roster.ColManager) {
			// One pass over the roster instead of a lookup per row.
			byRef := map[string]int64{}
			managerOf := map[int64]int64{}
			rows, err := s.query(ctx, tx.tx, "SELECT id, COALESCE(external_id, ''), COALESCE(email, ''), COALESCE(manager_id, 0) FROM employees")
			if err != nil {
				return err
			}
			for rows.Next() {
				var id, mgr int64
				var ext, email string
				if err := rows.Scan(&id, &ext, &email, &mgr); err != nil {
					rows.Close()
					return err
				}
				if email != "" {
					byRef["e:"+email] = id
				}
				if ext != "" {
					byRef["x:"+ext] = id
				}
				managerOf[id] = mgr
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			for _, l := range touched {
				var mgr int64
				if ref := strings.TrimSpace(l.rec.ManagerRef); ref != "" {
					var ok bool
					if mgr, ok = byRef["x:"+ref]; !ok {
						if mgr, ok = byRef["e:"+tandem.NormalizeEmail(ref)]; !ok {
							return tandem.Errorf(tandem.EINVALID, "line %d: manager %q is neither in this file nor on the roster", l.rec.Line, ref)
						}
					}
				}
				if mgr == l.id {
					return tandem.Errorf(tandem.EINVALID, "line %d: an employee cannot be their own manager", l.rec.Line)
				}
				if managerOf[l.id] == mgr {
					continue
				}
				if _, err := s.exec(ctx, tx.tx, "UPDATE employees SET manager_id = ? WHERE id = ?", nullInt(mgr), l.id); err != nil {
					return err
				}
			}
		}
		for _, e := range p.Exit {
			r, err := s.exec(ctx, tx.tx, `UPDATE employees SET exited_on = ?, updated_at = ? WHERE id = ? AND exited_on IS NULL`,
				tandem.FormatDate(p.Options.Today), s.now().Unix(), e.ID)
			if err != nil {
				return err
			}
			if n, _ := r.RowsAffected(); n == 1 {
				res.Exited++
			}
		}
		return nil
	})
	return res, err
}

// applyRecord copies the columns present in the file from r onto e.
func applyRecord(e *tandem.Employee, r roster.Record, f *roster.File) {
	has := f.Has
	if has(roster.ColEmployeeID) || e.ID == 0 {
		e.ExternalID = r.ExternalID
	}
	if has(roster.ColEmail) || e.ID == 0 {
		e.Email = r.Email
	}
	if has(roster.ColName) || has(roster.ColFirstName) || has(roster.ColLastName) || e.ID == 0 {
		e.Name = r.Name
	}
	if has(roster.ColLocation) {
		e.Location = r.Location
	}
	if has(roster.ColLanguage) {
		e.Language = r.Language
	}
	if has(roster.ColHiredOn) {
		e.HiredOn = r.HiredOn
	}
	if has(roster.ColExitedOn) {
		e.ExitedOn = r.ExitedOn
		if r.ExitedOn.IsZero() {
			e.ExitType, e.Regretted, e.ExitReason = "", false, ""
		}
	}
	if has(roster.ColExitType) {
		e.ExitType = r.ExitType
	}
	if has(roster.ColRegretted) {
		e.Regretted = r.Regretted
	}
	if has(roster.ColExitReason) {
		e.ExitReason = r.ExitReason
	}
}

func (tx *Tx) tree(ctx context.Context) (*tandem.Tree, error) {
	rows, err := tx.s.query(ctx, tx.tx, "SELECT id, COALESCE(parent_id, 0), name, customer_facing FROM org_units")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var us []tandem.Unit
	for rows.Next() {
		var u tandem.Unit
		if err := rows.Scan(&u.ID, &u.ParentID, &u.Name, &u.CustomerFacing); err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return tandem.NewTree(us), rows.Err()
}

// PlanRoster reads a roster file and plans its import against the current
// roster: the dry run. Nothing is written.
func (s *Store) PlanRoster(ctx context.Context, r io.Reader, opt roster.Options) (*roster.Plan, error) {
	return roster.Check(r, func() ([]tandem.Employee, []tandem.Unit, error) {
		emps, err := s.AllEmployees(ctx)
		if err != nil {
			return nil, nil, err
		}
		units, err := s.Units(ctx)
		return emps, units, err
	}, opt)
}

// addChunk is how many new employees one INSERT writes.
const addChunk = 100

// insertEmployees inserts new employees in one statement and returns
// their ids in the order given.
func (tx *Tx) insertEmployees(ctx context.Context, emps []tandem.Employee) ([]int64, error) {
	s := tx.s
	now := s.now().Unix()
	var b strings.Builder
	args := make([]any, 0, len(emps)*15)
	for i := range emps {
		e := &emps[i]
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, nullString(e.ExternalID), nullString(tandem.NormalizeEmail(e.Email)), e.Name, e.UnitID, nullInt(e.ManagerID), e.Location,
			nullDate(e.HiredOn), nullDate(e.ExitedOn), e.ExitType, e.Regretted, e.ExitReason, e.Language, searchKey(e), now, now)
	}
	// RETURNING gives no order guarantee: match the ids back by the
	// identifiers each row has (employee id, else email).
	rows, err := s.query(ctx, tx.tx, `INSERT INTO employees (external_id, email, name, unit_id, manager_id, location,
		hired_on, exited_on, exit_type, regretted, exit_reason, language, search, created_at, updated_at)
		VALUES `+b.String()+` RETURNING id, COALESCE(external_id, ''), COALESCE(email, '')`, args...)
	if isUniqueViolation(err) {
		return nil, tandem.Errorf(tandem.ECONFLICT, "another employee already has one of these emails or employee ids; run the import again")
	} else if err != nil {
		return nil, err
	}
	byKey := map[string]int64{}
	for rows.Next() {
		var id int64
		var ext, email string
		if err := rows.Scan(&id, &ext, &email); err != nil {
			rows.Close()
			return nil, err
		}
		if ext != "" {
			byKey["x:"+ext] = id
		} else {
			byKey["e:"+email] = id
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		if isUniqueViolation(err) {
			return nil, tandem.Errorf(tandem.ECONFLICT, "another employee already has one of these emails or employee ids; run the import again")
		}
		return nil, s.wrapErr(err)
	}
	ids := make([]int64, len(emps))
	for i := range emps {
		key := "e:" + tandem.NormalizeEmail(emps[i].Email)
		if emps[i].ExternalID != "" {
			key = "x:" + emps[i].ExternalID
		}
		id, ok := byKey[key]
		if !ok {
			return nil, fmt.Errorf("insert employees: no id came back for %s", key)
		}
		ids[i] = id
	}
	return ids, nil
}

type unitFrom struct {
	employee, unit int64
	from           time.Time
}

// recordUnits is recordUnit for many employees in one statement.
func (tx *Tx) recordUnits(ctx context.Context, us []unitFrom) error {
	if len(us) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, len(us)*3)
	for i, u := range us {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, u.employee, tandem.FormatDate(u.from), u.unit)
	}
	_, err := tx.s.exec(ctx, tx.tx, `INSERT INTO employee_units (employee_id, valid_from, unit_id) VALUES `+b.String()+`
		ON CONFLICT (employee_id, valid_from) DO UPDATE SET unit_id = excluded.unit_id`, args...)
	return err
}
