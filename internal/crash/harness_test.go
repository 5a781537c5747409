package crash

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver, to read the file with the server stopped

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
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
	flag.Parse()
	if testing.Short() {
		return m.Run() // every test skips with a message
	}
	bin, err := testbin.BuildCached("crash")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tandemBin = bin
	return m.Run()
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test builds and runs the tandem binary")
	}
}

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

// quietLog is the logger of what the tests run in-process.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// org is a seeded SQLite file: a roster of people in two teams of one
// company, an open round of a program for all of them with one answer
// link per invitation, and an API key that may post ratings.
type org struct {
	path    string
	roundID int64
	// invitations[i] is opened by tokens[i].
	invitations []int64
	tokens      []string
	questions   []pulse.Question
	// form is a complete answer to the round's questions.
	form   string
	apiKey string
}

// seed creates tandem.db in a new temporary folder; see seedIn.
func seed(t *testing.T, people int) *org {
	t.Helper()
	return seedIn(t, t.TempDir(), people)
}

// seedIn creates dir/tandem.db the way an operator would (`tandem import
// roster`), then, in-process and before any server runs, a program, a
// round whose messages are cancelled (the test hands the links out
// itself), the links, an account (so that the server does not create a
// setup link at start) and an API key.
func seedIn(t *testing.T, dir string, people int) *org {
	t.Helper()
	o := &org{path: filepath.Join(dir, "tandem.db")}
	file := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(file, rosterCSV(people), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runTandem(t, "import", "roster", file, "--db", o.path)
	if !strings.Contains(out, fmt.Sprintf("%d added", people)) {
		t.Fatalf("tandem import roster: want %d added, got:\n%s", people, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, o.path, store.Options{})
	if err != nil {
		t.Fatalf("open the store: %v", err)
	}
	defer st.Close()
	// The org lives on the machine's clock: the server the test starts
	// next answers on it.
	org := tandemtest.On(t, st, time.Now())
	if len(org.Tree.Roots()) != 1 {
		t.Fatalf("want one company unit, got roots %v", org.Tree.Roots())
	}
	p := org.Program("Acme", func(p *pulse.Program) { p.Name = "Crash pulse" })
	round, created, err := schedule.NewRunner(st, quietLog).SendNow(ctx, p.ID, org.Now)
	if err != nil || !created {
		t.Fatalf("send a round now: created %v, %v", created, err)
	}
	o.roundID = round.ID
	if err := st.CancelRoundMessages(ctx, round.ID, "the test hands the links out"); err != nil {
		t.Fatal(err)
	}
	links := org.AnswerLinks(round)
	if len(links) != people {
		t.Fatalf("%d answer links, want one per person (%d)", len(links), people)
	}
	for _, l := range links {
		o.invitations = append(o.invitations, l.InvitationID)
		o.tokens = append(o.tokens, l.Token)
	}
	if o.questions, err = st.RoundQuestions(ctx, round.ID); err != nil {
		t.Fatal(err)
	}
	o.form = testbin.AnswerForm(o.questions)
	org.User("hr@example.com", tandem.RoleHR, "")
	if o.apiKey, _, err = st.CreateAPIKey(ctx, "crash test", []string{store.ScopeRatingsWrite}, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return o
}

// rosterCSV is people employees, alternately in two teams of one company
// (Acme/Support, Acme/Sales).
func rosterCSV(people int) []byte {
	return []byte(tandemtest.RosterCSV(tandemtest.Alternating(people, "Acme/Support", "Acme/Sales")))
}

// rated reports whether answers to q are added to round_scores.
func rated(q pulse.Question) bool { return q.Kind == pulse.Likert5 || q.Kind == pulse.Scale010 }

// server is one `tandem serve` process.
type server struct{ *testbin.Server }

// startServer starts `tandem serve` on the database with the extra flags,
// on a free loopback port, and waits until GET /readyz answers 200. The
// process is killed when the test ends; on failure the end of its log is
// printed. env, when not nil, is added to the child's environment.
func startServer(t *testing.T, dbPath string, env []string, extra ...string) *server {
	t.Helper()
	s := testbin.ServeT(t, testbin.ServeOptions{Bin: tandemBin, DB: dbPath, Env: env, Ready: 20 * time.Second,
		Args: append([]string{"--rate-limit", "0", "--log-format", "json", "--log-level", "warn"}, extra...)})
	return &server{s}
}

func (s *server) url() string { return s.URL() }

// kill ends the process with SIGKILL and waits for it.
func (s *server) kill() { s.Kill() }

// stop sends SIGTERM and waits for a clean exit, as a service manager
// would.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.Stop(20 * time.Second); err != nil {
		t.Fatalf("tandem serve, stopped with SIGTERM: %v\n%s", err, s.Tail(20))
	}
}

// openDB opens the file directly, read-write so that SQLite recovers the
// write-ahead log a killed server left. Only while no server runs.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// count runs a query that returns one number.
func count(t *testing.T, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkIntegrity runs PRAGMA integrity_check and foreign_key_check.
func checkIntegrity(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	rows.Close()
	if len(msgs) != 1 || msgs[0] != "ok" {
		t.Errorf("PRAGMA integrity_check: %q, want ok", msgs)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM pragma_foreign_key_check"); n != 0 {
		t.Errorf("PRAGMA foreign_key_check: %d rows violate a foreign key", n)
	}
}

// responded returns the ids of the round's answered invitations.
func responded(t *testing.T, db *sql.DB, roundID int64) map[int64]bool {
	t.Helper()
	rows, err := db.Query("SELECT id FROM invitations WHERE round_id = ? AND responded", roundID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	return out
}

// checkResponses checks that the round's stored answers are whole: one
// response per answered invitation, every response with all its answers,
// and running totals that count each response once.
func (o *org) checkResponses(t *testing.T, db *sql.DB) (responses int) {
	t.Helper()
	answered := len(responded(t, db, o.roundID))
	responses = count(t, db, "SELECT COUNT(*) FROM responses WHERE round_id = ?", o.roundID)
	if responses != answered {
		t.Errorf("%d responses stored for %d answered invitations, want one each", responses, answered)
	}
	if got, want := count(t, db, "SELECT COUNT(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.round_id = ?", o.roundID),
		responses*len(o.questions); got != want {
		t.Errorf("%d answers stored, want %d (%d questions × %d responses): a response was stored in part", got, want, len(o.questions), responses)
	}
	for _, q := range o.questions {
		if !rated(q) {
			continue
		}
		if got := count(t, db, "SELECT COALESCE(SUM(n), 0) FROM round_scores WHERE round_id = ? AND question_id = ?", o.roundID, q.ID); got != responses {
			t.Errorf("round_scores of question %d (%s) count %d answers, want %d (one per response)", q.ID, q.Key, got, responses)
		}
	}
	return responses
}
