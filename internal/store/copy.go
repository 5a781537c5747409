package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// TableCount is how many rows of a table were copied.
type TableCount struct {
	Table string
	Rows  int64
}

// CopyToPostgres copies every row of the SQLite store src into the
// PostgreSQL database at dsn (`tandem migrate --to`), for an organisation
// that moves from one machine to several replicas and keeps its history.
//
// The target gets Tandem's schema first (its migrations), and must hold no
// data: nothing but the rows its migrations put there (built-in questions,
// data versions). The
// copy is one transaction on the target, read from one snapshot of the
// source: every table is copied whole (COPY, parents before the tables
// that refer to them), its rows are counted on both sides and must agree,
// and the id sequences continue after the largest id copied. On any
// failure the target is left as it was.
func CopyToPostgres(ctx context.Context, src *Store, dsn string) ([]TableCount, error) {
	if src.engine != SQLite {
		return nil, tandem.Errorf(tandem.EINVALID, "the database to copy from must be a SQLite file; it is %s", src.engine)
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return nil, tandem.Errorf(tandem.EINVALID, "--to must be a postgres:// URL")
	}
	// Both sides at this binary's schema.
	dst, err := Open(ctx, dsn, Options{})
	if err != nil {
		return nil, err
	}
	dst.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(context.Background())

	tables, err := pgTables(ctx, tx)
	if err != nil {
		return nil, err
	}
	order, err := pgCopyOrder(ctx, tx, tables)
	if err != nil {
		return nil, err
	}
	if err := refuseData(ctx, tx, order); err != nil {
		return nil, err
	}
	// The rows the migrations put there (built-in questions, data
	// versions) make way for the source's own, as it has changed them
	// since.
	for _, t := range []string{"questions", "data_versions"} {
		if _, err := tx.Exec(ctx, "DELETE FROM "+t); err != nil {
			return nil, err
		}
	}

	// One snapshot of the source: a read transaction on SQLite sees the
	// database as it was at its first read, whatever is written meanwhile.
	stx, err := src.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, src.wrapErr(err)
	}
	defer stx.Rollback()
	srcTables, err := sqliteTables(ctx, stx)
	if err != nil {
		return nil, err
	}
	var missing, extra []string
	for _, t := range order {
		if !slices.Contains(srcTables, t) {
			missing = append(missing, t)
		}
	}
	for _, t := range srcTables {
		if _, ok := tables[t]; !ok {
			extra = append(extra, t)
		}
	}
	if len(missing) > 0 || len(extra) > 0 {
		return nil, fmt.Errorf("the two databases' tables differ (only in PostgreSQL: %v; only in SQLite: %v): both should be at this binary's schema", missing, extra)
	}

	var counts []TableCount
	for _, table := range order {
		cols := tables[table]
		var want int64
		if err := stx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+quoteIdent(table)).Scan(&want); err != nil {
			return nil, fmt.Errorf("count %s in SQLite: %w", table, err)
		}
		names := make([]string, len(cols))
		quoted := make([]string, len(cols))
		for i, c := range cols {
			names[i], quoted[i] = c.name, quoteIdent(c.name)
		}
		rows, err := stx.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+quoteIdent(table))
		if err != nil {
			return nil, fmt.Errorf("read %s from SQLite: %w", table, err)
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, &sqliteRows{rows: rows, cols: cols, table: table})
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", table, err)
		}
		var got int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+quoteIdent(table)).Scan(&got); err != nil {
			return nil, fmt.Errorf("count %s in PostgreSQL: %w", table, err)
		}
		if n != want || got != want {
			return nil, fmt.Errorf("table %s: %d rows in SQLite, %d copied, %d in PostgreSQL; nothing was kept", table, want, n, got)
		}
		counts = append(counts, TableCount{Table: table, Rows: got})
	}
	if err := resetSequences(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit the copy: %w", err)
	}
	return counts, nil
}

type pgColumn struct {
	name, typ string
}

// pgTables lists the target's tables (but schema_migrations, which its
// migrations filled) with their columns.
func pgTables(ctx context.Context, tx pgx.Tx) (map[string][]pgColumn, error) {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
		AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')
		ORDER BY table_name, ordinal_position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]pgColumn{}
	for rows.Next() {
		var t string
		var c pgColumn
		if err := rows.Scan(&t, &c.name, &c.typ); err != nil {
			return nil, err
		}
		out[t] = append(out[t], c)
	}
	return out, rows.Err()
}

// pgCopyOrder orders the tables so that each comes after the tables its
// foreign keys name. A table naming itself (a unit's parent) needs no
// order: PostgreSQL checks those keys at the end of the COPY.
func pgCopyOrder(ctx context.Context, tx pgx.Tx, tables map[string][]pgColumn) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT DISTINCT cl.relname, ref.relname FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class ref ON ref.oid = c.confrelid
		WHERE c.contype = 'f' AND cl.relnamespace = current_schema()::regnamespace`)
	if err != nil {
		return nil, err
	}
	needs := map[string][]string{}
	for rows.Next() {
		var t, ref string
		if err := rows.Scan(&t, &ref); err != nil {
			rows.Close()
			return nil, err
		}
		if t != ref {
			needs[t] = append(needs[t], ref)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(tables))
	for t := range tables {
		names = append(names, t)
	}
	slices.Sort(names)
	var order []string
	done := map[string]bool{}
	for len(order) < len(names) {
		progress := false
		for _, t := range names {
			if done[t] {
				continue
			}
			ready := true
			for _, ref := range needs[t] {
				if _, ok := tables[ref]; ok && !done[ref] {
					ready = false
				}
			}
			if ready {
				done[t] = true
				order = append(order, t)
				progress = true
			}
		}
		if !progress {
			return nil, fmt.Errorf("the tables' foreign keys form a cycle; cannot order the copy")
		}
	}
	return order, nil
}

// refuseData refuses a target that holds anything but the built-in
// questions its migrations added.
func refuseData(ctx context.Context, tx pgx.Tx, tables []string) error {
	var full []string
	for _, t := range tables {
		q := "SELECT EXISTS (SELECT 1 FROM " + quoteIdent(t) + ")"
		switch t {
		case "questions":
			q = "SELECT EXISTS (SELECT 1 FROM questions WHERE NOT builtin)"
		case "data_versions":
			continue // the migrations' own rows
		}
		var has bool
		if err := tx.QueryRow(ctx, q).Scan(&has); err != nil {
			return fmt.Errorf("look into %s: %w", t, err)
		}
		if has {
			full = append(full, t)
		}
	}
	if len(full) > 0 {
		return tandem.Errorf(tandem.EINVALID, "the PostgreSQL database already holds data (in %s): copy into an empty database, or a new schema (search_path in the URL); nothing was copied", strings.Join(full, ", "))
	}
	return nil
}

// resetSequences lets each id column's sequence continue after the
// largest id copied, so that the next row PostgreSQL numbers is new.
func resetSequences(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_name), column_name)
		FROM information_schema.columns WHERE table_schema = current_schema()
		AND pg_get_serial_sequence(quote_ident(table_name), column_name) IS NOT NULL`)
	if err != nil {
		return err
	}
	type seq struct{ table, column, name string }
	var seqs []seq
	for rows.Next() {
		var s seq
		if err := rows.Scan(&s.table, &s.column, &s.name); err != nil {
			rows.Close()
			return err
		}
		seqs = append(seqs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range seqs {
		// With no rows the sequence starts again at 1.
		_, err := tx.Exec(ctx, "SELECT setval($1, COALESCE(MAX("+quoteIdent(s.column)+"), 1), MAX("+quoteIdent(s.column)+") IS NOT NULL) FROM "+quoteIdent(s.table), s.name)
		if err != nil {
			return fmt.Errorf("reset the sequence of %s.%s: %w", s.table, s.column, err)
		}
	}
	return nil
}

// sqliteTables lists the source's tables but schema_migrations.
func sqliteTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// sqliteRows feeds a SQLite query to COPY, turning SQLite's values into
// the target column's type: its 0/1 into booleans, its text into bytes
// where PostgreSQL keeps bytes.
type sqliteRows struct {
	rows  *sql.Rows
	cols  []pgColumn
	table string
	err   error
}

func (r *sqliteRows) Next() bool { return r.err == nil && r.rows.Next() }

func (r *sqliteRows) Values() ([]any, error) {
	raw := make([]any, len(r.cols))
	ptrs := make([]any, len(r.cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		r.err = err
		return nil, err
	}
	for i, c := range r.cols {
		v, err := toPostgres(raw[i], c.typ)
		if err != nil {
			r.err = fmt.Errorf("table %s, column %s: %w", r.table, c.name, err)
			return nil, r.err
		}
		raw[i] = v
	}
	return raw, nil
}

func (r *sqliteRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

func toPostgres(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		}
	case "bigint", "integer", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
	case "double precision", "real", "numeric":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case "text", "character varying":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("value %v (%T) does not fit a %s column", v, v, typ)
}
