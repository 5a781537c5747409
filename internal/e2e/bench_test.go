package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// BenchmarkRosterImport10k measures the whole import of a 10,000-employee
// roster into an empty SQLite database: parse, plan (the dry run) and apply
// in one transaction. The target is under 1 s. Opening and closing
// the fresh database of each iteration is not timed.
//
//	go test ./internal/e2e -run '^$' -bench RosterImport10k -count 5
func BenchmarkRosterImport10k(b *testing.B) {
	today := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	data, teams := generateRoster(10_000, today)
	b.SetBytes(int64(len(data)))
	ctx := context.Background()
	var plan, apply time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir, err := os.MkdirTemp(b.TempDir(), "import")
		if err != nil {
			b.Fatal(err)
		}
		st, err := store.Open(ctx, filepath.Join(dir, "tandem.db"), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()

		t0 := time.Now()
		p, err := st.PlanRoster(ctx, bytes.NewReader(data), roster.Options{Today: today})
		if err != nil {
			b.Fatalf("plan: %v", err)
		}
		t1 := time.Now()
		res, err := st.ApplyRoster(ctx, p, today)
		if err != nil {
			b.Fatalf("apply: %v", err)
		}
		t2 := time.Now()
		plan += t1.Sub(t0)
		apply += t2.Sub(t1)

		b.StopTimer()
		if res.Added != 10_000 {
			b.Fatalf("import added %d employees, want 10000 (%+v)", res.Added, res)
		}
		st.Close()
		os.RemoveAll(dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(teams), "teams")
	b.ReportMetric(float64(plan.Milliseconds())/float64(b.N), "plan-ms/op")
	b.ReportMetric(float64(apply.Milliseconds())/float64(b.N), "apply-ms/op")
}

// TestGeneratedRosterIsValid keeps the benchmark's data honest: the file
// parses, has n rows, about 500 teams four levels deep, and every manager
// it names is in it.
func TestGeneratedRosterIsValid(t *testing.T) {
	t.Parallel()
	data, teams := generateRoster(10_000, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
	f, err := roster.Parse(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(f.Records) != 10_000 {
		t.Errorf("rows = %d, want 10000", len(f.Records))
	}
	if teams < 450 || teams > 550 {
		t.Errorf("teams = %d, want about 500", teams)
	}
	ids := map[string]bool{}
	depth := map[int]int{}
	exited := 0
	for _, r := range f.Records {
		ids[r.ExternalID] = true
		depth[len(r.TeamPath)]++
		if !r.ExitedOn.IsZero() {
			exited++
		}
	}
	for _, r := range f.Records {
		if r.ManagerRef != "" && !ids[r.ManagerRef] {
			t.Fatalf("line %d: manager %s is not in the file", r.Line, r.ManagerRef)
		}
	}
	if depth[4] < 9000 {
		t.Errorf("rows per team depth = %v, want most in level-4 teams", depth)
	}
	if exited < 300 || exited > 1500 {
		t.Errorf("exited = %d, want some hundreds", exited)
	}
}

// generateRoster writes a roster CSV of n employees in the README's format:
// a company, 8 divisions, 8 departments in each and 7 to 8 teams in each
// department (about 500 teams, four levels), a lead for every unit who
// reports to the lead above, hire dates over ten years, and about 8% who
// have left. It returns the file and the number of teams. The same n gives
// the same file.
func generateRoster(n int, today time.Time) ([]byte, int) {
	rng := rand.New(rand.NewPCG(10_000, 2026))
	first := strings.Fields("Ana Ben Chloé Dmitri Emeka Fatima Giulia Hiro Ines Jonas Kavya Liam Maya Nadia Omar Priya Quinn Rosa Samir Tomás Uma Viktor Wen Ximena Yusuf Zoe Aisha Bruno Carmen Diego Elif Farah")
	last := strings.Fields("Silva Okafor Martin Petrov Eze Haddad Rossi Tanaka García Weber Iyer Murphy Cohen Rahman Farouk Sharma Byrne Moreno Aziz Costa Lund Novak Chen López Kaya Laurent Andersen Nakamura Dubois Mensah")
	divisions := strings.Fields("Sales Support Success Operations Engineering Product Finance People")
	cities := strings.Fields("Lisbon London Dublin Berlin Austin Madrid Singapore Leeds")

	const company = "Acme Group"
	var teams []string
	var units []string // every unit path, parents first
	units = append(units, company)
	for d, div := range divisions {
		dp := company + "/" + div
		units = append(units, dp)
		for dep := 1; dep <= 8; dep++ {
			depPath := fmt.Sprintf("%s/%s Dept %d", dp, div, dep)
			units = append(units, depPath)
			nTeams := 7 + (d+dep)%2
			for tm := 1; tm <= nTeams; tm++ {
				tp := fmt.Sprintf("%s/Team %c", depPath, 'A'+tm-1)
				units = append(units, tp)
				teams = append(teams, tp)
			}
		}
	}

	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"employee_id", "email", "name", "team", "manager", "location", "hired_on", "exited_on", "exit_type", "regretted", "exit_reason"})
	count := 0
	person := func(team, manager string, canExit bool) string {
		count++
		id := fmt.Sprintf("E%05d", count)
		fn, ln := first[rng.IntN(len(first))], last[rng.IntN(len(last))]
		email := fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(fn), strings.ToLower(ln), count)
		hired := today.AddDate(0, 0, -30-rng.IntN(3650))
		row := []string{id, email, fn + " " + ln, team, manager, cities[rng.IntN(len(cities))], tandem.FormatDate(hired), "", "", "", ""}
		if canExit && rng.Float64() < 0.08 {
			span := int(today.Sub(hired).Hours()/24) - 1
			exit := hired.AddDate(0, 0, 1+rng.IntN(max(span, 1)))
			row[7], row[8] = tandem.FormatDate(exit), []string{"voluntary", "involuntary"}[rng.IntN(2)]
			row[9], row[10] = []string{"yes", "no"}[rng.IntN(2)], []string{"career move", "relocation", "pay", "performance"}[rng.IntN(4)]
		}
		w.Write(row)
		return id
	}
	// Leads first, so each row's manager comes before it (the import does
	// not need that order; a real export often has it).
	lead := map[string]string{}
	for _, u := range units {
		parent := ""
		if i := strings.LastIndexByte(u, '/'); i >= 0 {
			parent = lead[u[:i]]
		}
		lead[u] = person(u, parent, false)
	}
	for i := 0; count < n; i++ {
		t := teams[i%len(teams)]
		person(t, lead[t], true)
	}
	w.Flush()
	return buf.Bytes(), len(teams)
}
