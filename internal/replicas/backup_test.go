package replicas

import (
	"context"
	"database/sql"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandemtest"
	"github.com/tandem-hq/tandem/internal/testbin"
)

// TestPgDumpRestoresTheDatabase backs up a Tandem schema with pg_dump, as
// docs/deploy.md says, restores it into a new database, and checks that
// Tandem opens the copy as it was: the same rows, answer links that still
// work, new rows that get fresh ids, and `tandem migrate` with nothing to
// do. Both of the documented forms are restored: a plain SQL dump through
// psql and a custom-format dump through pg_restore. (The SQLite backup has
// its test in internal/store/backup_test.go.)
func TestPgDumpRestoresTheDatabase(t *testing.T) {
	o := newOrg(t, 24)
	dump, psql, restore := pgTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()

	// A round with half of the invitations answered, at the kit's date:
	// no replica serves it, the test answers through the store.
	now := tandemtest.Date
	p := o.program(t, nil)
	round, _, err := schedule.NewRunner(o.st, quietLog).SendNow(ctx, p.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	invs, err := o.st.RoundInvitations(ctx, round.ID)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := o.st.RoundQuestions(ctx, round.ID)
	if err != nil {
		t.Fatal(err)
	}
	answers := fullAnswers(t, qs)
	tokens := make([]string, len(invs))
	for i, inv := range invs {
		tokens[i] = auth.NewToken()
		if err := o.st.AddInvitationToken(ctx, inv.ID, auth.HashToken(tokens[i])); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := o.st.SubmitResponse(ctx, auth.HashToken(tokens[i]), answers, "Good week.", now); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := tableCounts(t, o.sql())
	if want["responses"] != len(invs)/2 || want["employees"] != o.people {
		t.Fatalf("seeded %v", want)
	}

	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		file    string
		dump    []string
		restore func(url, file string) []string
		tool    string
	}{
		{"plain SQL through psql", "tandem.sql", []string{"--no-owner", "--format=plain"},
			func(url, file string) []string { return []string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file, url} }, psql},
		{"custom format through pg_restore", "tandem.dump", []string{"--no-owner", "--format=custom"},
			func(url, file string) []string { return []string{"--no-owner", "--exit-on-error", "-d", url, file} }, restore},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, c.file)
			args := append(slices.Clone(c.dump), "--schema="+o.db.schema, "--file="+file, o.db.server)
			runTool(t, dump, args...)

			target := newDatabase(t, o.db.server)
			runTool(t, c.tool, c.restore(target, file)...)

			restored := withParams(t, target, "search_path", o.db.schema)
			out := runTandem(t, "migrate", "--db", restored)
			if !strings.Contains(out, "nothing to do: the database is up to date") {
				t.Errorf("tandem migrate on the restored database:\n%s", out)
			}
			st, err := store.Open(ctx, restored, store.Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatalf("open the restored database: %v", err)
			}
			defer st.Close()
			got := tableCounts(t, st.DB())
			for table, n := range want {
				if got[table] != n {
					t.Errorf("%s: %d rows restored, want %d", table, got[table], n)
				}
			}

			// Answer links still open their invitations.
			inv, err := st.InvitationByToken(ctx, auth.HashToken(tokens[0]))
			if err != nil || !inv.Responded || inv.RoundID != round.ID {
				t.Errorf("answered link after restore: %+v, %v; want round %d, answered", inv, err, round.ID)
			}
			if err := st.SubmitResponse(ctx, auth.HashToken(tokens[0]), answers, "", now); err != store.ErrAlreadyAnswered {
				t.Errorf("answering an answered link again after restore: %v, want %v", err, store.ErrAlreadyAnswered)
			}
			if err := st.SubmitResponse(ctx, auth.HashToken(tokens[1]), answers, "", now); err != nil {
				t.Errorf("answering an open link after restore: %v", err)
			}
			// The sequences came along: a new round gets new ids.
			// (after the first has closed: one round open at a time)
			r2, created, err := schedule.NewRunner(st, quietLog).SendNow(ctx, p.ID, round.ClosesAt.Add(time.Second))
			if err != nil || !created || r2.ID <= round.ID {
				t.Errorf("a new round after restore: id %d, created %v, %v; want an id after %d", r2.ID, created, err, round.ID)
			}
		})
	}
}

// fullAnswers answers every question of a round the way answerForm does.
func fullAnswers(t *testing.T, qs []pulse.Question) []pulse.Answer {
	t.Helper()
	var out []pulse.Answer
	for _, q := range qs {
		v := map[pulse.Kind]string{pulse.Likert5: "4", pulse.Scale010: "8", pulse.Choice: "0", pulse.Text: "Fine."}[q.Kind]
		a, ok, err := pulse.ParseAnswer(&q, v)
		if err != nil {
			t.Fatalf("question %s: %v", q.Key, err)
		}
		if ok {
			out = append(out, a)
		}
	}
	return out
}

// restoredTables are the tables whose rows a backup must keep.
var restoredTables = []string{"schema_migrations", "org_units", "employees", "employee_units", "questions", "programs",
	"program_questions", "rounds", "round_questions", "invitations", "invitation_tokens", "responses", "answers",
	"round_scores", "outbox", "audit_log", "settings"}

func tableCounts(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]int{}
	for _, table := range restoredTables {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	var sum float64
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(SUM(sum), 0) FROM round_scores").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	out["round_scores.sum"] = int(sum)
	return out
}

// newDatabase creates an empty database on the server and drops it when
// the test ends; it returns its URL.
func newDatabase(t *testing.T, server string) string {
	t.Helper()
	admin, err := sql.Open("pgx", server)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	// The machine's clock only makes the database's name unique.
	name := fmt.Sprintf("tandem_restore_%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, server, name)
}

// pgTools finds pg_dump, psql and pg_restore on PATH or in Debian's
// /usr/lib/postgresql/VERSION/bin (the newest), or skips the test.
func pgTools(t *testing.T) (dump, psql, restore string) {
	t.Helper()
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
		if len(found) == 0 {
			t.Skipf("%s is not on PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL client (Debian: postgresql-client)", name)
		}
		slices.SortFunc(found, func(a, b string) int { return pgVersion(a) - pgVersion(b) })
		return found[len(found)-1]
	}
	return find("pg_dump"), find("psql"), find("pg_restore")
}

// pgVersion is the VERSION in /usr/lib/postgresql/VERSION/bin/x.
func pgVersion(path string) int {
	var v int
	fmt.Sscanf(filepath.Base(filepath.Dir(filepath.Dir(path))), "%d", &v)
	return v
}

func runTool(t *testing.T, tool string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = testbin.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(tool), strings.Join(args, " "), err, out)
	}
}
