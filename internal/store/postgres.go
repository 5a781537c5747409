package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open PostgreSQL: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to PostgreSQL (check TANDEM_DATABASE_URL and that the server runs): %w", err)
	}
	return &Store{engine: Postgres, w: db, r: db}, nil
}

func isPgUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func isPgForeignKeyViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// sqlConn adapts *sql.Conn to connHolder.
type sqlConn struct{ c *sql.Conn }

func (c sqlConn) QueryRowContext(ctx context.Context, q string, args ...any) rowScanner {
	return c.c.QueryRowContext(ctx, q, args...)
}

func (c sqlConn) Close() error { return c.c.Close() }
