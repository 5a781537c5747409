package store

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/tandem-hq/tandem/db"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Migration is one numbered SQL file.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations for engine, in order.
func Migrations(engine string) ([]Migration, error) {
	dir := path.Join("migrations", engine)
	entries, err := fs.ReadDir(db.Migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("no migrations for %s: %w", engine, err)
	}
	var ms []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s: name must be NNNN_description.sql", name)
		}
		b, err := fs.ReadFile(db.Migrations, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: rest, SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := range ms {
		if ms[i].Version != i+1 {
			return nil, fmt.Errorf("migrations for %s: expected version %d, found %d (%s)", engine, i+1, ms[i].Version, ms[i].Name)
		}
	}
	return ms, nil
}

// MigrationStatus says where a database stands.
type MigrationStatus struct {
	Current int // highest applied version
	Latest  int // highest version this binary knows
}

// SchemaVersion returns the database's and the binary's schema versions.
func (s *Store) SchemaVersion(ctx context.Context) (MigrationStatus, error) {
	ms, err := Migrations(s.engine)
	if err != nil {
		return MigrationStatus{}, err
	}
	st := MigrationStatus{Latest: len(ms)}
	var exists int
	if err := s.queryRow(ctx, s.r, s.tableExistsSQL(), "schema_migrations").Scan(&exists); err != nil {
		return st, err
	}
	if exists == 0 {
		return st, nil
	}
	err = s.queryRow(ctx, s.r, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&st.Current)
	return st, err
}

func (s *Store) tableExistsSQL() string {
	if s.engine == Postgres {
		return "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?"
	}
	return "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the versions applied. A database whose schema is newer than this
// binary is refused: running old code on it could lose data.
func (s *Store) Migrate(ctx context.Context) ([]int, error) {
	return s.migrateTo(ctx, 0)
}

// migrateTo applies the pending migrations up to version upTo (0 for all).
func (s *Store) migrateTo(ctx context.Context, upTo int) ([]int, error) {
	ms, err := Migrations(s.engine)
	if err != nil {
		return nil, err
	}
	unlock, err := s.migrationLock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := s.exec(ctx, s.w, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := s.queryRow(ctx, s.w, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&current); err != nil {
		return nil, err
	}
	if current > len(ms) {
		return nil, tandem.Errorf(tandem.EINVALID,
			"the database schema is at version %d but this tandem binary only knows up to version %d: "+
				"the database was used by a newer Tandem. Run that newer version (or restore a backup); "+
				"this binary will not start on it so that nothing is lost", current, len(ms))
	}
	var applied []int
	for _, m := range ms[current:] {
		if upTo > 0 && m.Version > upTo {
			break
		}
		err := s.InTx(ctx, func(tx *Tx) error {
			if _, err := tx.tx.ExecContext(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
			}
			if after := afterMigration[m.Name]; after != nil {
				if err := after(ctx, tx); err != nil {
					return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
				}
			}
			_, err := s.exec(ctx, tx.tx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, s.now().Unix())
			return err
		})
		if err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// afterMigration holds the steps a migration needs besides its SQL, by the
// migration's name (numbers may change when branches merge): they run in
// the migration's transaction, after its SQL.
var afterMigration = map[string]func(ctx context.Context, tx *Tx) error{
	"cadences": moveProgramsToCadences,
}

// migrationLock keeps two processes from migrating at once. SQLite's single
// IMMEDIATE writer already serialises them; PostgreSQL takes an advisory
// lock on a dedicated connection.
func (s *Store) migrationLock(ctx context.Context) (func(), error) {
	if s.engine != Postgres {
		return func() {}, nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(hashtext(current_schema()), $1)", advisoryMigrate); err != nil {
		conn.Close()
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(hashtext(current_schema()), $1)", advisoryMigrate)
		conn.Close()
	}, nil
}

// Advisory lock of migrations (PostgreSQL), with the schema's hash as the
// first key.
const advisoryMigrate = 0x7464_6d01
