// Package store keeps Tandem's data. One Store type serves both engines:
// SQLite (the embedded default) and, for several replicas, PostgreSQL. SQL
// is written once with ? placeholders and rebound for PostgreSQL; the few
// statements that differ by engine ask s.engine.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// DefaultBusyTimeout is how long a SQLite connection waits for a lock
// another holds before it gives up with "database is locked".
const DefaultBusyTimeout = 5 * time.Second

// Engine names.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Store is Tandem's database. It is safe for concurrent use.
type Store struct {
	engine string
	// w takes every write. On SQLite it is a single connection whose
	// transactions begin IMMEDIATE, so writers queue instead of failing.
	w *sql.DB
	// r serves reads; on SQLite a pool of read-only connections that WAL
	// lets run beside the writer. On PostgreSQL r == w.
	r *sql.DB
	// Path is the SQLite file, "" for PostgreSQL.
	path string

	// roundQs caches each round's questions (they never change).
	roundQs sync.Map
	// The SQLite group commit: submissions queue here and one goroutine
	// writes them in batches.
	batch batcher
	// links remembers the answer links this process minted or opened.
	links linkCache
	// checkpoints copies SQLite's log into the database file in the
	// background (nil on PostgreSQL).
	checkpoints *checkpointer
	// now is the store's clock, for the times it records itself
	// (created_at, audit entries, the link cache's ages).
	now func() time.Time
}

// Options tune Open.
type Options struct {
	// Readers is the size of the SQLite read pool (default 4).
	Readers int
	// NoMigrate skips applying migrations (for `tandem migrate --status`).
	NoMigrate bool
	// Logger hears of trouble in the store's background work (default
	// slog.Default()).
	Logger *slog.Logger
	// Now is the clock for the times the store records itself (default
	// time.Now); tests pass a fixed one.
	Now func() time.Time
	// BusyTimeout is how long a SQLite connection waits for a lock
	// another process holds (default DefaultBusyTimeout); tests that
	// provoke a locked database shorten it instead of waiting it out.
	BusyTimeout time.Duration
	// WriterCacheKiB is the SQLite page cache of the writer connection in
	// KiB (0: SQLite's default, 2 MiB). Bulk loads into tables keyed by
	// random ids (responses, answers) touch a random page per row; a cache
	// that holds those tables keeps that work in memory (bench/reportload
	// generates its largest organisation with one).
	WriterCacheKiB int

	// Tests make SQLite's background checkpoints more frequent.
	checkpointEvery time.Duration
	restartFrames   int
}

// Open opens the database named by dsn and applies pending migrations.
// dsn is a file path (or sqlite:PATH / file:PATH) for SQLite, or a
// postgres:// URL.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	if opt.Readers <= 0 {
		opt.Readers = 4
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.BusyTimeout <= 0 {
		opt.BusyTimeout = DefaultBusyTimeout
	}
	if opt.checkpointEvery <= 0 {
		opt.checkpointEvery = checkpointEvery
	}
	if opt.restartFrames <= 0 {
		opt.restartFrames = restartFrames
	}
	var s *Store
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(ctx, dsn)
	default:
		s, err = openSQLite(ctx, dsn, opt)
	}
	if err != nil {
		return nil, err
	}
	s.now = opt.Now
	if !opt.NoMigrate {
		if _, err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
		if err := s.regroupRounds(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// readerCacheKiB and checkpointCacheKiB are the SQLite page caches of
// each reader connection and of the checkpointer, below SQLite's default
// of 2 MiB. Their reads come from the operating system's file cache just
// as fast; a report reads its rounds once and keeps them, and the
// checkpointer only copies pages to the database file. SQLite's caches
// are memory outside Go's heap and its --memory-limit: at the default,
// five connections held 10 MiB of a server at 50,000 employees.
const (
	readerCacheKiB     = 512
	checkpointCacheKiB = 256
)

func openSQLite(ctx context.Context, dsn string, opt Options) (*Store, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" || path == ":memory:" {
		return nil, tandem.Errorf(tandem.EINVALID, "the database must be a file path (an in-memory database is empty on every connection)")
	}
	if dir := filepath.Dir(path); dir != "." {
		if _, err := os.Stat(dir); err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "cannot open database %s: folder %s does not exist", path, dir)
		}
	}
	p := (&url.URL{Path: path}).EscapedPath()
	common := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=on&_synchronous=NORMAL&_stmt_cache_size=64", opt.BusyTimeout.Milliseconds())
	writerDSN := "file:" + p + "?_journal_mode=WAL&_txlock=immediate&" + common
	if opt.WriterCacheKiB > 0 {
		writerDSN += fmt.Sprintf("&_cache_size=-%d", opt.WriterCacheKiB)
	}
	w, err := sql.Open(writerDriver, writerDSN)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before any reader
	// opens it read-only.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, describeSQLiteErr(err))
	}
	r, err := sql.Open("sqlite3", "file:"+p+"?mode=ro&"+common+fmt.Sprintf("&_cache_size=-%d", readerCacheKiB))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}
	r.SetMaxOpenConns(opt.Readers)
	r.SetMaxIdleConns(opt.Readers)
	cp, err := sql.Open("sqlite3", "file:"+p+"?"+common+fmt.Sprintf("&_cache_size=-%d", checkpointCacheKiB))
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("open %s for checkpoints: %w", path, err)
	}
	cp.SetMaxOpenConns(1)
	cp.SetMaxIdleConns(1)
	c := &checkpointer{db: cp, writer: w, log: opt.Logger, busyTimeout: opt.BusyTimeout, every: opt.checkpointEvery, restart: opt.restartFrames}
	c.start()
	return &Store{engine: SQLite, w: w, r: r, path: path, checkpoints: c}, nil
}

func describeSQLiteErr(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrCantOpen:
			return fmt.Errorf("cannot open the file (check the path and its permissions): %w", err)
		case sqlite3.ErrNotADB:
			return fmt.Errorf("the file is not a SQLite database: %w", err)
		case sqlite3.ErrFull:
			return tandem.Errorf(tandem.EUNAVAILABLE, "the disk is full: free some space and try again")
		}
	}
	return err
}

// Engine returns SQLite or Postgres.
func (s *Store) Engine() string { return s.engine }

// Path returns the SQLite file path ("" on PostgreSQL).
func (s *Store) Path() string { return s.path }

// Close closes the database: queued answers are written first, and the
// background checkpoints stop before the writer closes.
func (s *Store) Close() error {
	s.batch.stop()
	var errs []error
	if s.checkpoints != nil {
		errs = append(errs, s.checkpoints.close())
	}
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// Ping checks that the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// queryer is what *sql.DB and *sql.Tx have in common.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a write transaction handed to callers of InTx.
type Tx struct {
	s  *Store
	tx *sql.Tx
}

// InTx runs fn in one write transaction: all of it is applied or none.
func (s *Store) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrapErr(err)
	}
	if err := fn(&Tx{s: s, tx: tx}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return s.wrapErr(err)
	}
	return nil
}

// wrapErr turns engine errors a person can act on into tandem errors.
func (s *Store) wrapErr(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return tandem.Errorf(tandem.EUNAVAILABLE, "the database is busy; please try again in a moment")
		case sqlite3.ErrFull:
			return tandem.Errorf(tandem.EUNAVAILABLE, "the server's disk is full; nothing was saved. Free some space and try again")
		case sqlite3.ErrIoErr:
			// A quota or file-size limit reaches SQLite as an I/O error.
			switch se.SystemErrno {
			case syscall.ENOSPC, syscall.EDQUOT, syscall.EFBIG:
				return tandem.Errorf(tandem.EUNAVAILABLE, "the server's disk is full (or its quota is used up); nothing was saved. Free some space and try again")
			}
		}
	}
	return err
}

// q rewrites ? placeholders for the engine.
func (s *Store) q(query string) string {
	if s.engine != Postgres {
		return query
	}
	return rebind(query)
}

// rebind turns ? into $1, $2 … outside string literals.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	inStr := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			fmt.Fprintf(&b, "$%d", n)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (s *Store) exec(ctx context.Context, db queryer, query string, args ...any) (sql.Result, error) {
	res, err := db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, s.wrapErr(err)
	}
	return res, nil
}

func (s *Store) query(ctx context.Context, db queryer, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.QueryContext(ctx, s.q(query), args...)
	return rows, s.wrapErr(err)
}

func (s *Store) queryRow(ctx context.Context, db queryer, query string, args ...any) *sql.Row {
	return db.QueryRowContext(ctx, s.q(query), args...)
}

// insert runs an INSERT … RETURNING id and returns the id.
func (s *Store) insert(ctx context.Context, db queryer, query string, args ...any) (int64, error) {
	var id int64
	if err := db.QueryRowContext(ctx, s.q(query+" RETURNING id"), args...).Scan(&id); err != nil {
		return 0, s.wrapErr(err)
	}
	return id, nil
}

// isUniqueViolation reports whether err is a unique-constraint failure.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey
	}
	return isPgUniqueViolation(err)
}

// isForeignKeyViolation reports whether err is a foreign-key failure (a
// row that names a unit or account that does not exist).
func isForeignKeyViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintForeignKey
	}
	return isPgForeignKeyViolation(err)
}

// Helpers between Go values and columns.

func unix(t time.Time) int64 { return t.Unix() }

func fromUnix(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(v, 0).UTC()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

func nullDate(t time.Time) sql.NullString {
	return sql.NullString{String: tandem.FormatDate(t), Valid: !t.IsZero()}
}

func parseNullDate(ns sql.NullString) time.Time {
	if !ns.Valid || ns.String == "" {
		return time.Time{}
	}
	t, err := tandem.ParseDate(ns.String)
	if err != nil {
		return time.Time{}
	}
	return t
}

// DB gives tests and tools read access to the underlying database.
func (s *Store) DB() *sql.DB { return s.r }
