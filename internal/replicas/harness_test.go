package replicas

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
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
	"github.com/tandem-hq/tandem/internal/testbin"
)

// tandemBin is the binary built once for the whole run by TestMain.
var tandemBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("TANDEM_TEST_POSTGRES") == "" {
		return m.Run() // every test skips with a message
	}
	dir, err := os.MkdirTemp("", "tandem-replicas-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := testbin.Build(dir)
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
	cmd.Env = childEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tandem %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// childEnv is the environment without TANDEM_* settings: the flags each
// test passes decide, not the developer's shell.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TANDEM_") {
			env = append(env, kv)
		}
	}
	return env
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

// rosterCSV is people employees, alternately in two teams of one company.
func rosterCSV(people int) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"employee_id", "email", "name", "team"})
	for i := 1; i <= people; i++ {
		team := "Acme/Support"
		if i%2 == 0 {
			team = "Acme/Sales"
		}
		w.Write([]string{fmt.Sprintf("E%04d", i), fmt.Sprintf("person.%d@example.com", i), fmt.Sprintf("Person %d", i), team})
	}
	w.Flush()
	return buf.Bytes()
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
	name string
	app  string // application_name of its database sessions
	addr string
	log  string // its stderr and stdout
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // from Wait, once done is closed
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
		rs[i] = startReplica(t, fmt.Sprintf("replica-%d", i), logs, dbURL(i), extra)
	}
	for i, r := range rs {
		// A port picked free can be taken before the child binds it; then
		// start that replica again on another.
		for attempt := 0; ; attempt++ {
			err := r.waitReady(20 * time.Second)
			if err == nil {
				break
			}
			if attempt < 2 && errors.Is(err, errAddrInUse) {
				r = startReplica(t, r.name, logs, dbURL(i), extra)
				rs[i] = r
				continue
			}
			t.Fatalf("%s: %v", r.name, err)
		}
	}
	return rs
}

var errAddrInUse = errors.New("address already in use")

func startReplica(t *testing.T, name, logDir, dbURL string, extra []string) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := &replica{name: name, app: appName(dbURL), addr: addr, log: filepath.Join(logDir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano())), done: make(chan struct{})}
	f, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"serve", "--db", dbURL, "--addr", addr, "--log-format", "json"}, extra...)
	r.cmd = exec.Command(tandemBin, args...)
	r.cmd.Env = childEnv()
	r.cmd.Stdout, r.cmd.Stderr = f, f
	dieWithTest(r.cmd)
	if err := r.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		r.err = r.cmd.Wait()
		f.Close()
		close(r.done)
	}()
	t.Cleanup(func() {
		r.kill()
		if t.Failed() {
			t.Logf("--- %s (%s, pid %d) log, last lines:\n%s", r.name, r.addr, r.cmd.Process.Pid, tail(r.log, 40))
		}
	})
	return r
}

// waitReady polls GET /readyz until it answers 200.
func (r *replica) waitReady(timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get("http://" + r.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-r.done:
			log := tail(r.log, 20)
			if strings.Contains(log, "address already in use") {
				return fmt.Errorf("%w: %s", errAddrInUse, r.addr)
			}
			return fmt.Errorf("exited before it was ready (%v):\n%s", r.err, log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("/readyz on %s did not answer 200 within %s:\n%s", r.addr, timeout, tail(r.log, 20))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (r *replica) url() string { return "http://" + r.addr }

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
	if err := r.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %v to %s: %v", sig, r.name, err)
	}
}

// exited reports whether the process has ended.
func (r *replica) exited() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM and waits for the process to exit, as a service
// manager would; it returns the exit error (nil for a clean exit).
func (r *replica) stop(timeout time.Duration) error {
	if r.exited() {
		return fmt.Errorf("%s had already exited: %v", r.name, r.err)
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
		return r.err
	case <-time.After(timeout):
		r.kill()
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", r.name, timeout)
	}
}

// kill ends the process with SIGKILL (also when it is stopped) and waits.
func (r *replica) kill() {
	if r.exited() {
		return
	}
	r.cmd.Process.Kill()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
}

func names(rs []*replica) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.name)
	}
	return strings.Join(out, ", ")
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
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
