package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/demo"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// newPgSchema creates a schema of the test's own on the server named by
// TANDEM_TEST_POSTGRES (or skips) and returns a URL that uses it.
func newPgSchema(t *testing.T) string {
	t.Helper()
	server := os.Getenv("TANDEM_TEST_POSTGRES")
	if server == "" {
		t.Skip("TANDEM_TEST_POSTGRES is not set: copying into PostgreSQL needs a server")
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	// The machine's clock only makes the schema's name unique.
	schema := fmt.Sprintf("t_migrate_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// tableRows returns the rows of a table, each written out as text in the
// same way whatever the engine (booleans as 0/1), sorted.
func tableRows(t *testing.T, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT * FROM "` + table + `"`)
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		// Columns by name: the engines may order added columns apart.
		fields := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case bool:
				if x {
					v = int64(1)
				} else {
					v = int64(0)
				}
			case []byte:
				v = string(x)
			case float64:
				v = strconv.FormatFloat(x, 'g', -1, 64)
			case int32:
				v = int64(x)
			}
			fields[i] = fmt.Sprintf("%s=%v", cols[i], v)
		}
		slices.Sort(fields)
		out = append(out, strings.Join(fields, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// tableCounts counts the rows of every table of db but schema_migrations.
func tableCounts(t *testing.T, db *sql.DB, tables []string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range tables {
		var n int64
		if err := db.QueryRow(`SELECT COUNT(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// fillEveryTable gives each table the demo leaves empty one row, written
// to the SQLite file at path, and fails when any table of the schema is
// still empty: a copy that skipped a table would go unseen there. A table
// that a later migration adds fails the test until it gets a row here.
func fillEveryTable(t *testing.T, path string, tables []string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const (
		user    = "(SELECT MIN(id) FROM users)"
		unit    = "(SELECT MIN(id) FROM org_units)"
		program = "(SELECT MIN(id) FROM programs)"
	)
	rows := map[string]string{
		"api_keys":     "INSERT INTO api_keys (name, prefix, key_hash, scopes, created_by, created_at, expires_at, revoked_at, last_used_at) VALUES ('ci', 'tdm_ab', 'h1', 'reports:read', " + user + ", 1700000000, 1800000000, NULL, 1700000100)",
		"comment_acks": "INSERT INTO comment_acks (response_id, question_id, user_id, user_email, at) VALUES ((SELECT MIN(id) FROM responses), 0, " + user + ", 'admin@example.com', 1700000000)",
		// The first closed round, outside the range of the report compared
		// below (which saves the inputs of the rounds it reads).
		"round_agreement":       "INSERT INTO round_agreement (round_id, unit_id, n, mean, ss, rwg, rwg_n) VALUES ((SELECT MIN(id) FROM rounds WHERE closed = 1), " + unit + ", 3, 62.5, 0.1, NULL, 0)",
		"round_agreement_sets":  "INSERT INTO round_agreement_sets (round_id, units) VALUES ((SELECT MIN(id) FROM rounds WHERE closed = 1), 1)",
		"round_notes":           "INSERT INTO round_notes (round_id, unit_id, text, user_id, user_email, updated_at) VALUES ((SELECT MIN(id) FROM rounds), " + unit + ", 'We heard you: fewer meetings.', " + user + ", 'admin@example.com', 1700000000)",
		"audit_log":             "INSERT INTO audit_log (at, user_id, user_email, action, detail) VALUES (1700000000, " + user + ", 'admin@example.com', 'settings', 'k 5 → 7, “quotes”')",
		"employments":           "INSERT INTO employments (employee_id, hired_on, exited_on, exit_type, regretted, exit_reason) VALUES ((SELECT MIN(id) FROM employees), '2020-01-06', '2023-05-31', 'voluntary', 1, 'pay')",
		"expired_links":         "INSERT INTO expired_links (token_hash, round_id) VALUES ('t1', (SELECT MIN(id) FROM rounds))",
		"helpdesk_connectors":   "INSERT INTO helpdesk_connectors (kind, name, source, base_url, secret, every_seconds, lookback_days, start_at, cursor, created_at, updated_at) VALUES ('zendesk', 'Support', 'zendesk:acme', 'https://acme.zendesk.com', 'sealed', 3600, 14, 1690000000, '{\"page\":2}', 1700000000, 1700000000)",
		"helpdesk_groups":       "INSERT INTO helpdesk_groups (connector_id, group_id, name, unit_id, seen_at) VALUES ((SELECT MIN(id) FROM helpdesk_connectors), 'g1', 'Tier 1', " + unit + ", 1700000000)",
		"helpdesk_set_aside":    "INSERT INTO helpdesk_set_aside (connector_id, external_id, occurred_at, created_at, score, agent, group_name, reason, first_seen_at, last_seen_at) VALUES ((SELECT MIN(id) FROM helpdesk_connectors), 'r9', 0, 1700000000, 'good', 'ann@example.com', 'Tier 9', 'no unit for group', 1700000000, 1700000500)",
		"login_addresses":       "INSERT INTO login_addresses (email, ip, last_at) VALUES ('admin@example.com', '192.0.2.1', 1700000000)",
		"login_failures":        "INSERT INTO login_failures (email, ip, at) VALUES ('admin@example.com', '192.0.2.9', 1700000000)",
		"program_exclusions":    "INSERT INTO program_exclusions (program_id, unit_id) VALUES (" + program + ", " + unit + ")",
		"program_skips":         "INSERT INTO program_skips (program_id, day) VALUES (" + program + ", '2026-12-28')",
		"question_translations": "INSERT INTO question_translations (question_id, lang, text, choices) VALUES ((SELECT MIN(id) FROM questions), 'de', 'Wie zufrieden sind Sie?', '')",
		"sessions":              "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ('s1', " + user + ", 'c1', 1700000000, 1700000100, 1800000000)",
		"setup_tokens":          "INSERT INTO setup_tokens (token_hash, expires_at, used_at) VALUES ('st1', 1800000000, NULL)",
		"sso_logins":            "INSERT INTO sso_logins (state_hash, browser_hash, nonce, verifier, next, expires_at) VALUES ('st', 'b', 'n', 'v', '/reports', 1800000000)",
		"sso_rules":             "INSERT INTO sso_rules (kind, value, role, scope_unit_id, created_at) VALUES ('group', 'hr-team', 'hr', " + unit + ", 1700000000)",
		// Bytes that are not UTF-8: the copy must keep them as bytes.
		"uploads": "INSERT INTO uploads (id_hash, user_id, kind, filename, options, data, created_at, expires_at) VALUES ('u1', " + user + ", 'roster', 'roster.csv', '', X'00FF8081656D61696C0A', 1700000000, 1800000000)",
	}
	for _, table := range tables {
		var n int64
		if err := db.QueryRow(`SELECT COUNT(*) FROM "` + table + `"`).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		if n > 0 {
			continue
		}
		q, ok := rows[table]
		if !ok {
			t.Errorf("table %s is empty in the test's database: give it a row in fillEveryTable, so that its copy is tested", table)
			continue
		}
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("fill %s: %v", table, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func TestMigrateToPostgresCopiesEveryRowAndTheReportsAgree(t *testing.T) {
	target := newPgSchema(t)
	ctx := context.Background()
	// The demo's data and the reports compared are dated by the test: the
	// migration itself reads no clock that dates a row.
	now := tandemtest.Date
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "tandem.db")
	src, err := store.Open(ctx, path, store.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Generate(ctx, src, demo.Options{Seed: 7, Today: tandem.Today(now), Now: now}); err != nil {
		t.Fatal(err)
	}
	var tables []string
	rows, err := src.DB().Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	fillEveryTable(t, path, tables)
	params, err := report.ParseCorrelationParams(func(k string) string {
		if k == "from" {
			return tandem.FormatDate(now.AddDate(0, 0, -7*40))
		}
		return ""
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	before, err := report.NewCorrelationLoader(src).Load(ctx, params, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Counted after the report, which saves its rounds' agreement inputs.
	want := tableCounts(t, src.DB(), tables)
	src.Close()

	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "--db", path, "--to", target}, &out); err != nil {
		t.Fatalf("tandem migrate --to: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "the counts agree") {
		t.Errorf("output does not confirm the counts:\n%s", out.String())
	}

	dst, err := store.Open(ctx, target, store.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	got := tableCounts(t, dst.DB(), tables)
	for _, table := range tables {
		if got[table] != want[table] {
			t.Errorf("table %s: %d rows in PostgreSQL, %d in SQLite", table, got[table], want[table])
		}
	}
	if want["responses"] == 0 || want["csat_events"] == 0 || want["employees"] == 0 {
		t.Fatalf("the demo left tables empty that the copy should be tested with: %v", want)
	}
	// Every row arrived as it was: each table's rows, written out the same
	// way from both databases, are the same.
	srcDB, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer srcDB.Close()
	for _, table := range tables {
		a, b := tableRows(t, srcDB, table), tableRows(t, dst.DB(), table)
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("table %s differs after the copy", table)
		}
	}
	// And the report on PostgreSQL says what it said on SQLite. (Sums that
	// the engines add in their own order may differ in the last bit.)
	after, err := report.NewCorrelationLoader(dst).Load(ctx, params, 0)
	if err != nil {
		t.Fatal(err)
	}
	if after.NPairs != before.NPairs || math.Abs(float64(after.Pearson.R-before.Pearson.R)) > 1e-12 {
		t.Errorf("the correlation report differs after the copy: %d pairs, r = %v; before %d pairs, r = %v",
			after.NPairs, after.Pearson.R, before.NPairs, before.Pearson.R)
	}

	// The sequences continue after the copied ids: new rows get new ids.
	plan, err := dst.PlanRoster(ctx, strings.NewReader("email,name,team\nnew.person@example.com,New Person,Newco/Fresh Team\n"), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dst.ApplyRoster(ctx, plan, tandem.Today(now)); err != nil {
		t.Fatalf("a roster import after the copy: %v", err)
	}

	// A second copy into the same (now full) database is refused whole.
	out.Reset()
	err = run(ctx, []string{"migrate", "--db", path, "--to", target}, &out)
	if err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Fatalf("a copy into a database with data: %v, want a refusal that says it holds data", err)
	}
	if n := tableCounts(t, dst.DB(), []string{"employees"})["employees"]; n != want["employees"]+1 {
		t.Errorf("%d employees after the refused copy, want %d", n, want["employees"]+1)
	}
}

func TestMigrateToPostgresThatFailsHalfwayLeavesTheTargetEmpty(t *testing.T) {
	target := newPgSchema(t)
	ctx := context.Background()
	path := newCorrelationDB(t)
	// The target has Tandem's tables, and a trigger that fails the copy
	// of one of the last tables copied.
	dst, err := store.Open(ctx, target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	var builtins int64
	dst.DB().QueryRow("SELECT COUNT(*) FROM questions").Scan(&builtins)
	for _, q := range []string{
		`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`,
		`CREATE TRIGGER refuse BEFORE INSERT ON answers FOR EACH ROW EXECUTE FUNCTION refuse()`,
	} {
		if _, err := dst.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	err = run(ctx, []string{"migrate", "--db", path, "--to", target}, &out)
	if err == nil || !strings.Contains(err.Error(), "refused by the test") {
		t.Fatalf("copy with a failing table: %v, want the trigger's error", err)
	}
	counts := tableCounts(t, dst.DB(), []string{"org_units", "employees", "rounds", "responses", "questions"})
	if counts["org_units"]+counts["employees"]+counts["rounds"]+counts["responses"] != 0 || counts["questions"] != builtins {
		t.Errorf("after a failed copy the target holds %v, want nothing but its %d built-in questions", counts, builtins)
	}
}

func TestMigrateToRefusesASourceThatIsNotASQLiteFile(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"migrate", "--db", filepath.Join(t.TempDir(), "missing.db"), "--to", "postgres://127.0.0.1:1/x"}, &out)
	if tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(err.Error(), "no SQLite database there") {
		t.Errorf("copy from a missing file: %v, want an invalid-input error naming the missing database", err)
	}
	err = run(context.Background(), []string{"migrate", "--db", "postgres://127.0.0.1:1/a", "--to", "postgres://127.0.0.1:1/b"}, &out)
	if tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(err.Error(), "SQLite file to copy from") {
		t.Errorf("copy from PostgreSQL: %v, want an invalid-input error", err)
	}
}
