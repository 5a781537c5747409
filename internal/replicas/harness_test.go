package replicas

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandemtest"
	"github.com/tandem-hq/tandem/internal/testbin"
)

// tandemBin is the binary TestMain builds, or finds up to date, for the
// whole run (testbin.BuildCached).
var tandemBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("TANDEM_TEST_POSTGRES") == "" {
		return m.Run() // every test skips with a message
	}
	bin, err := testbin.BuildCached("replicas")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tandemBin = bin
	return m.Run()
}

// serverDSN returns TANDEM_TEST_POSTGRES or skips the test.
func serverDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("TANDEM_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("TANDEM_TEST_POSTGRES is not set: these tests run tandem serve replicas on PostgreSQL " +
			`(e.g. TANDEM_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/test?sslmode=disable")`)
	}
	return dsn
}

// withParams returns dsn with the URL query parameters kv (name, value, …)
// set. pgx sends parameters it does not know, such as search_path and
// application_name, to the server as run-time settings.
func withParams(t testing.TB, dsn string, kv ...string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %q: %v", dsn, err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// withDatabase returns dsn naming another database on the same server.
func withDatabase(t testing.TB, dsn, name string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse %q: %v", dsn, err)
	}
	u.Path = "/" + name
	return u.String()
}

// schemaDB is a schema of the test's own on the test server.
type schemaDB struct {
	server string // TANDEM_TEST_POSTGRES
	schema string
	url    string // server with search_path=schema
}

// newSchema creates a schema t_<nanos> and drops it when the test ends
// (after the replicas started later have been stopped: cleanups run last
// registered first).
func newSchema(t *testing.T) *schemaDB {
	t.Helper()
	server := serverDSN(t)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	// The machine's clock only makes the schema's name unique.
	schema := fmt.Sprintf("t_%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema on %s: %v", server, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return &schemaDB{server: server, schema: schema, url: withParams(t, server, "search_path", schema)}
}

// replicaURL is the database URL of replica i: the schema, and an
// application name that pg_stat_activity shows, to tell who holds a lock.
func (d *schemaDB) replicaURL(t testing.TB, i int) string {
	return withParams(t, d.url, "application_name", d.appName(i))
}

func (d *schemaDB) appName(i int) string { return fmt.Sprintf("tandem-%d-%s", i, d.schema) }

// runTandem runs a tandem subcommand to completion and returns its output.
func runTandem(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tandemBin, args...)
	cmd.Env = testbin.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tandem %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// org is a seeded schema: a roster in two teams under one company, opened
// in-process for what has no command (programs, rounds).
type org struct {
	db     *schemaDB
	st     *store.Store
	root   int64
	people int
}

// newOrg seeds a new schema the way an operator would: `tandem migrate`,
// then `tandem import roster` of people employees in two teams.
func newOrg(t *testing.T, people int) *org {
	t.Helper()
	d := newSchema(t)
	out := runTandem(t, "migrate", "--db", d.url)
	if !strings.Contains(out, "schema version") {
		t.Fatalf("tandem migrate said %q", out)
	}
	file := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(file, rosterCSV(people), 0o600); err != nil {
		t.Fatal(err)
	}
	out = runTandem(t, "import", "roster", file, "--db", d.url)
	if !strings.Contains(out, fmt.Sprintf("%d added", people)) {
		t.Fatalf("tandem import roster: want %d added, got:\n%s", people, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := store.Open(ctx, d.url, store.Options{})
	if err != nil {
		t.Fatalf("open the store on %s: %v", d.url, err)
	}
	t.Cleanup(func() { st.Close() })
	tree, err := st.Tree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(tree.Roots()) != 1 {
		t.Fatalf("want one company unit, got roots %v", tree.Roots())
	}
	return &org{db: d, st: st, root: tree.Roots()[0], people: people}
}

// rosterCSV is people employees, alternately in two teams of one company
// (Acme/Support, Acme/Sales).
func rosterCSV(people int) []byte {
	return []byte(tandemtest.RosterCSV(tandemtest.Alternating(people, "Acme/Support", "Acme/Sales")))
}

// program saves a program for the whole company: Tandem's defaults,
// changed by edit.
func (o *org) program(t *testing.T, edit func(p *pulse.Program)) pulse.Program {
	t.Helper()
	p := pulse.Defaults()
	p.Name = "Replica pulse"
	p.AudienceUnitID = o.root
	if edit != nil {
		edit(&p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.st.SaveProgram(ctx, &p); err != nil {
		t.Fatalf("save program: %v", err)
	}
	return p
}

// sql is the test's own connection pool (PostgreSQL placeholders: $1).
func (o *org) sql() *sql.DB { return o.st.DB() }

// count runs a query that returns one number.
func (o *org) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	if err := o.sql().QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// replica is one `tandem serve` process.
type replica struct {
	*testbin.Server
	name string
	app  string // application_name of its database sessions
}

// startReplicas starts n `tandem serve` processes on free loopback ports,
// replica i on the database URL dbURL(i) with the extra flags, and waits
// until each answers GET /readyz with 200. Every process is killed when the
// test ends, and on failure the end of each one's log is printed.
func startReplicas(t *testing.T, n int, dbURL func(i int) string, extra ...string) []*replica {
	t.Helper()
	logs := t.TempDir()
	rs := make([]*replica, n)
	for i := range rs {
		name := fmt.Sprintf("replica-%d", i)
		s, err := testbin.Serve(testbin.ServeOptions{Bin: tandemBin, DB: dbURL(i), Log: filepath.Join(logs, name+".log"),
			Ready: 20 * time.Second, Poll: 25 * time.Millisecond, Args: append([]string{"--log-format", "json"}, extra...)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		r := &replica{Server: s, name: name, app: appName(dbURL(i))}
		t.Cleanup(func() {
			r.Kill()
			if t.Failed() {
				t.Logf("--- %s (%s, pid %d) log, last lines:\n%s", r.name, r.Addr, r.Cmd.Process.Pid, r.Tail(40))
			}
		})
		rs[i] = r
	}
	return rs
}

func (r *replica) url() string { return r.URL() }

// appName returns the application_name parameter of a database URL.
func appName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("application_name")
}

func (r *replica) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := r.Signal(sig); err != nil {
		t.Fatalf("send %v to %s: %v", sig, r.name, err)
	}
}

// exited reports whether the process has ended.
func (r *replica) exited() bool { return r.Exited() }

// stop sends SIGTERM and waits for the process to exit, as a service
// manager would; it returns the exit error (nil for a clean exit).
func (r *replica) stop(timeout time.Duration) error {
	if err := r.Stop(timeout); err != nil {
		return fmt.Errorf("%s: %w", r.name, err)
	}
	return nil
}

// kill ends the process with SIGKILL (also when it is stopped) and waits.
func (r *replica) kill() { r.Kill() }

func names(rs []*replica) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.name)
	}
	return strings.Join(out, ", ")
}

// The scheduler's advisory lock (internal/store/elector.go) has two keys:
// the hash of the schema and this constant. pg_locks shows a two-key lock
// as classid (the first key, as an unsigned oid), objid (the second) and
// objsubid 2.
const leaderLockKey int64 = 0x7464_6d02

// leaderName returns the application name of the session holding the
// scheduler's lock in this database ("" when nobody holds it).
func leaderName(t *testing.T, db *sql.DB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid::bigint = (hashtext(current_schema())::bigint & 4294967295) AND l.objid::bigint = $1 AND l.objsubid = 2`, leaderLockKey)
	if err != nil {
		t.Fatalf("find the scheduler's leader: %v", err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	t.Fatalf("%d sessions hold the scheduler's lock: %q", len(names), names)
	return ""
}

// leader returns the replica holding the scheduler's lock, waiting up to
// timeout for one to take it.
func (o *org) leader(t *testing.T, rs []*replica, timeout time.Duration) (int, *replica) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		name := leaderName(t, o.sql())
		for i, r := range rs {
			if name == r.app {
				return i, r
			}
		}
		if name != "" && !strings.HasSuffix(name, "-"+o.db.schema) {
			t.Fatalf("the scheduler's lock is held by %q, not by a replica of this test: is another tandem running on this database?", name)
		}
		if name != "" {
			t.Fatalf("the scheduler's lock is held by %q, which is none of %s", name, names(rs))
		}
		if time.Now().After(deadline) {
			t.Fatalf("no replica took the scheduler's lock within %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rated reports whether answers to q are added to round_scores.
func rated(q pulse.Question) bool { return q.Kind == pulse.Likert5 || q.Kind == pulse.Scale010 }

// quietLog is the logger of what the tests run in-process.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))
