package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Units returns every unit with Path and Depth filled.
func (s *Store) Units(ctx context.Context) ([]tandem.Unit, error) {
	us, err := s.units(ctx, s.r)
	if err != nil {
		return nil, err
	}
	t := tandem.NewTree(us)
	out := make([]tandem.Unit, 0, len(us))
	for _, u := range t.Walk() {
		out = append(out, *u)
	}
	return out, nil
}

// Tree loads the organisation tree.
func (s *Store) Tree(ctx context.Context) (*tandem.Tree, error) {
	us, err := s.Units(ctx)
	if err != nil {
		return nil, err
	}
	return tandem.NewTree(us), nil
}

// CreateUnit adds a unit under parentID (0 for a root) and returns its id.
func (s *Store) CreateUnit(ctx context.Context, parentID int64, name string, customerFacing bool) (int64, error) {
	var id int64
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		id, err = tx.createUnit(ctx, parentID, name, customerFacing)
		return err
	})
	return id, err
}

func (tx *Tx) createUnit(ctx context.Context, parentID int64, name string, customerFacing bool) (int64, error) {
	s := tx.s
	parentPath := "/"
	if parentID != 0 {
		if err := s.queryRow(ctx, tx.tx, "SELECT id_path FROM org_units WHERE id = ?", parentID).Scan(&parentPath); err == sql.ErrNoRows {
			return 0, tandem.Errorf(tandem.ENOTFOUND, "parent unit %d does not exist", parentID)
		} else if err != nil {
			return 0, err
		}
	}
	id, err := s.insert(ctx, tx.tx, "INSERT INTO org_units (parent_id, name, customer_facing, created_at) VALUES (?, ?, ?, ?)",
		nullInt(parentID), name, customerFacing, s.now().Unix())
	if isUniqueViolation(err) {
		return 0, tandem.Errorf(tandem.ECONFLICT, "a unit named %q already exists there", name)
	} else if err != nil {
		return 0, err
	}
	_, err = s.exec(ctx, tx.tx, "UPDATE org_units SET id_path = ? WHERE id = ?", fmt.Sprintf("%s%d/", parentPath, id), id)
	return id, err
}

// UpdateUnit renames a unit and sets whether customers rate it directly.
func (s *Store) UpdateUnit(ctx context.Context, id int64, name string, customerFacing bool) error {
	if err := tandem.ValidateUnitName(name); err != nil {
		return err
	}
	res, err := s.exec(ctx, s.w, "UPDATE org_units SET name = ?, customer_facing = ? WHERE id = ?", name, customerFacing, id)
	if isUniqueViolation(err) {
		return tandem.Errorf(tandem.ECONFLICT, "a sibling unit is already named %q", name)
	} else if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tandem.Errorf(tandem.ENOTFOUND, "unit %d does not exist", id)
	}
	return nil
}

// UnitHeadcounts returns the number of active employees directly in each
// unit on day.
func (s *Store) UnitHeadcounts(ctx context.Context, day time.Time) (map[int64]int, error) {
	rows, err := s.query(ctx, s.r, `SELECT unit_id, COUNT(*) FROM employees
		WHERE exited_on IS NULL OR exited_on > ? GROUP BY unit_id`, tandem.FormatDate(day))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		m[id] = n
	}
	return m, rows.Err()
}

// units reads the units' rows through db (a reader, or a transaction).
func (s *Store) units(ctx context.Context, db queryer) ([]tandem.Unit, error) {
	rows, err := s.query(ctx, db, "SELECT id, COALESCE(parent_id, 0), name, customer_facing FROM org_units")
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
	return us, rows.Err()
}
