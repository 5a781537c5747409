package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"
)

// newPostgres opens a store on a fresh schema of the server named by
// TANDEM_TEST_POSTGRES, dropped when the test ends; nil when unset.
func newPostgres(t *testing.T) *Store {
	t.Helper()
	dsn := os.Getenv("TANDEM_TEST_POSTGRES")
	if dsn == "" {
		return nil
	}
	return OpenTestPostgres(t, dsn)
}

// OpenTestPostgres creates a schema of its own on the server at dsn, opens
// a store on it and drops the schema when the test ends.
func OpenTestPostgres(t testing.TB, dsn string) *Store {
	t.Helper()
	return openTestPostgresWith(t, dsn, Options{Now: testClock})
}

// openTestPostgresWith is OpenTestPostgres with options.
func openTestPostgresWith(t testing.TB, dsn string, opt Options) *Store {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The machine's clock only makes the schema's name unique.
	schema := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema on %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := Open(ctx, u.String(), opt)
	if err != nil {
		t.Fatalf("open PostgreSQL store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
