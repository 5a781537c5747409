package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// eachStore runs fn against a fresh store of every engine available: a
// SQLite file in a temp dir always, PostgreSQL when TANDEM_TEST_POSTGRES
// names a server.
func eachStore(t *testing.T, fn func(t *testing.T, st *Store)) {
	t.Helper()
	t.Run(SQLite, func(t *testing.T) { fn(t, newSQLite(t)) })
	if pg := newPostgres(t); pg != nil {
		t.Run(Postgres, func(t *testing.T) { fn(t, pg) })
	}
}

func newSQLite(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "tandem.db"), Options{Now: testClock})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var today = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// testNow is the tests' "now", midday of today: tandemtest.Date, which the
// store's own tests cannot import (the kit imports the store). The stores
// the tests open stand still at it, so a round built at testNow is open
// for the store too, whatever day the suite runs.
var testNow = today.Add(12 * time.Hour)

// testClock is the store clock of the tests.
func testClock() time.Time { return testNow }

func importCSV(t *testing.T, st *Store, csv string, full bool) (*roster.Plan, RosterResult) {
	t.Helper()
	ctx := context.Background()
	plan, err := st.PlanRoster(ctx, strings.NewReader(csv), roster.Options{MarkMissingExited: full, Today: today})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	res, err := st.ApplyRoster(ctx, plan, today)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return plan, res
}

func TestMigrationsApplyFromEmptyAndAgainAsNoOp(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.Current != v.Latest || v.Latest == 0 {
			t.Fatalf("after open: version %d of %d, want all applied", v.Current, v.Latest)
		}
		applied, err := st.Migrate(ctx)
		if err != nil {
			t.Fatalf("re-apply: %v", err)
		}
		if len(applied) != 0 {
			t.Errorf("re-apply applied %v, want nothing", applied)
		}
	})
}

func TestDatabaseNewerThanBinaryIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tandem.db")
	ctx := context.Background()
	st, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := st.SchemaVersion(ctx)
	if _, err := st.w.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'from_the_future', 0)", v.Latest+1); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = Open(ctx, path, Options{})
	if err == nil {
		t.Fatal("open succeeded on a newer database, want a refusal")
	}
	if !strings.Contains(err.Error(), "newer") || tandem.ErrorCode(err) != tandem.EINVALID {
		t.Errorf("error %q (code %s), want a clear 'newer' refusal", err, tandem.ErrorCode(err))
	}
}

func TestSQLiteConnectionsHaveForeignKeysWALAndBusyTimeout(t *testing.T) {
	st := newSQLite(t)
	ctx := context.Background()
	var mode string
	if err := st.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	// Several reader connections at once must each have the pragmas.
	conns := make([]interface{ Close() error }, 0, 3)
	for i := 0; i < 3; i++ {
		c, err := st.r.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var fk, busy int
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
			t.Errorf("reader %d: foreign_keys = %d (%v), want 1", i, fk, err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil || busy < 1000 {
			t.Errorf("reader %d: busy_timeout = %d (%v), want ≥ 1000", i, busy, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	if _, err := st.r.ExecContext(ctx, "INSERT INTO settings (key, value) VALUES ('x', 'y')"); err == nil {
		t.Error("the read pool accepted a write, want read-only connections")
	}
	// Foreign keys are enforced on the writer.
	_, err := st.w.ExecContext(ctx, "INSERT INTO employees (name, unit_id, created_at, updated_at) VALUES ('x', 999, 0, 0)")
	if err == nil {
		t.Error("an employee in a missing unit was accepted, want a foreign key error")
	}
}

const firstRoster = `employee_id,email,name,team,manager,location,hired_on
E1,ana@example.com,Ana Silva,Acme/Sales/EMEA,E3,Lisbon,2021-03-01
E2,ben@example.com,Ben Okafor,Acme/Sales/EMEA,E3,London,2020-01-15
E3,cara@example.com,Cara Diaz,Acme/Sales,,Madrid,2018-09-17
E4,dev@example.com,Dev Iyer,Acme/Support/Tier 1,E3,Pune,2022-06-01
`

func TestRosterImportCreatesUnitsEmployeesAndManagers(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		_, res := importCSV(t, st, firstRoster, false)
		if res.Added != 4 || res.UnitsCreated != 5 {
			t.Fatalf("result %+v, want 4 added and 5 units (Acme, Sales, EMEA, Support, Tier 1)", res)
		}
		tree, _ := st.Tree(ctx)
		emea := tree.ByPath([]string{"Acme", "Sales", "EMEA"})
		if emea == nil || emea.Path != "Acme / Sales / EMEA" || emea.Depth != 2 {
			t.Fatalf("EMEA unit = %+v", emea)
		}
		emps, total, err := st.Employees(ctx, EmployeeFilter{UnitID: tree.ByPath([]string{"Acme", "Sales"}).ID, Today: today})
		if err != nil || total != 3 {
			t.Fatalf("Sales subtree: %d employees (%v), want 3", total, err)
		}
		for _, e := range emps {
			if e.Name == "Ana Silva" && e.ManagerName != "Cara Diaz" {
				t.Errorf("Ana's manager = %q, want Cara Diaz", e.ManagerName)
			}
		}
		found, _, _ := st.Employees(ctx, EmployeeFilter{Query: "BEN@", Today: today})
		if len(found) != 1 || found[0].Name != "Ben Okafor" {
			t.Errorf("search BEN@ found %v, want Ben Okafor", found)
		}
		unit, err := st.EmployeeUnitOn(ctx, found[0].ID, today)
		if err != nil || unit != emea.ID {
			t.Errorf("Ben's unit on import day = %d (%v), want EMEA %d", unit, err, emea.ID)
		}
	})
}

func TestReimportChangesTeamAndMarksAbsentExitedOnlyWhenAsked(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		// Ana moves to Support; Dev is missing from the file.
		second := `employee_id,email,name,team
E1,ana@example.com,Ana Silva,Acme/Support/Tier 1
E2,ben@example.com,Ben Okafor,Acme/Sales/EMEA
E3,cara@example.com,Cara Diaz,Acme/Sales
`
		plan, res := importCSV(t, st, second, false)
		if res.Updated != 1 || res.Exited != 0 || plan.Unchanged != 2 {
			t.Fatalf("partial re-import: %+v unchanged %d, want 1 updated, 0 exited, 2 unchanged", res, plan.Unchanged)
		}
		plan, res = importCSV(t, st, second, true)
		if res.Exited != 1 || len(plan.Exit) != 1 || plan.Exit[0].Name != "Dev Iyer" {
			t.Fatalf("full re-import: %+v exit %v, want Dev Iyer exited", res, plan.Exit)
		}
		all, _ := st.AllEmployees(ctx)
		for _, e := range all {
			switch e.Name {
			case "Dev Iyer":
				if !e.ExitedOn.Equal(today) {
					t.Errorf("Dev exited on %v, want %v", e.ExitedOn, today)
				}
			case "Ana Silva":
				if e.UnitPath != "Acme / Support / Tier 1" {
					t.Errorf("Ana's unit %q, want Acme / Support / Tier 1", e.UnitPath)
				}
				if e.Location != "Lisbon" || e.ManagerName != "Cara Diaz" {
					t.Errorf("columns absent from the file changed Ana: location %q manager %q", e.Location, e.ManagerName)
				}
				before, _ := st.EmployeeUnitOn(ctx, e.ID, today.AddDate(0, 0, -1))
				now, _ := st.EmployeeUnitOn(ctx, e.ID, today)
				if before == now {
					t.Errorf("unit history did not record the move: %d both days", now)
				}
			}
		}
	})
}

func TestBadRosterAppliesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		bad := `employee_id,email,name,team,hired_on
E1,ana@example.com,Ana Silva,Acme/Sales,2021-03-01
E2,not-an-email,Ben Okafor,Acme/Sales,2021-03-01
E3,cara@example.com,,Acme/Sales,03/04/2021
`
		_, err := st.PlanRoster(ctx, strings.NewReader(bad), roster.Options{Today: today})
		ie, ok := err.(*roster.ImportError)
		if !ok {
			t.Fatalf("err = %v, want *roster.ImportError", err)
		}
		lines := map[int]bool{}
		for _, e := range ie.Errors {
			lines[e.Line] = true
		}
		if !lines[3] || !lines[4] || lines[2] {
			t.Errorf("errors on lines %v, want 3 and 4 only", lines)
		}
		n, _, _ := st.Employees(ctx, EmployeeFilter{Status: "all"})
		units, _ := st.Units(ctx)
		if len(n) != 0 || len(units) != 0 {
			t.Errorf("a bad file left %d employees and %d units, want none", len(n), len(units))
		}
	})
}

func TestApplyRosterIsAllOrNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, firstRoster, false)
		// Plan an import, then make it collide before it is applied: the
		// apply must fail and leave everything as it was.
		plan, err := st.PlanRoster(ctx, strings.NewReader(`employee_id,email,name,team
E9,zoe@example.com,Zoe Park,Acme/New Team
E1,ana@example.com,Ana Renamed,Acme/Sales/EMEA
`), roster.Options{Today: today})
		if err != nil {
			t.Fatal(err)
		}
		ben, _, _ := st.Employees(ctx, EmployeeFilter{Query: "ben@"})
		ben[0].Email = "zoe@example.com"
		if err := st.UpdateEmployee(ctx, &ben[0], today); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApplyRoster(ctx, plan, today); err == nil {
			t.Fatal("apply succeeded despite a duplicate email, want an error")
		}
		all, _ := st.AllEmployees(ctx)
		for _, e := range all {
			if e.Name == "Ana Renamed" || e.Name == "Zoe Park" {
				t.Errorf("half-applied import: found %s", e.Name)
			}
		}
		tree, _ := st.Tree(ctx)
		if tree.ByPath([]string{"Acme", "New Team"}) != nil {
			t.Error("half-applied import: unit New Team exists")
		}
	})
}

func TestUpdateUserKeepsAnAdmin(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		u := &tandem.User{Email: "Admin@Example.com", Role: tandem.RoleAdmin, PasswordHash: "x"}
		if err := st.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if u.Email != "admin@example.com" {
			t.Errorf("email stored as %q, want lower case", u.Email)
		}
		if err := st.CreateUser(ctx, &tandem.User{Email: "admin@example.com", Role: tandem.RoleHR}); tandem.ErrorCode(err) != tandem.ECONFLICT {
			t.Errorf("duplicate account: %v, want conflict", err)
		}
		u.Role = tandem.RoleHR
		if err := st.UpdateUser(ctx, u); tandem.ErrorCode(err) != tandem.ECONFLICT {
			t.Errorf("demoting the last admin: %v, want conflict", err)
		}
		got, _ := st.User(ctx, u.ID)
		if got.Role != tandem.RoleAdmin {
			t.Errorf("role after refused change = %s, want admin", got.Role)
		}
	})
}

func TestSessionsExpireAndDisabledUsersHaveNone(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		u := &tandem.User{Email: "a@example.com", Role: tandem.RoleAdmin, PasswordHash: "x"}
		st.CreateUser(ctx, u)
		u2 := &tandem.User{Email: "b@example.com", Role: tandem.RoleAdmin, PasswordHash: "x"}
		st.CreateUser(ctx, u2)
		now := time.Unix(1_800_000_000, 0)
		if err := st.CreateSession(ctx, Session{IDHash: "h1", UserID: u.ID, CSRFToken: "c", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if _, got, err := st.SessionUser(ctx, "h1", now.Add(time.Minute)); err != nil || got.ID != u.ID {
			t.Fatalf("live session: %v %v", got, err)
		}
		if _, _, err := st.SessionUser(ctx, "h1", now.Add(2*time.Hour)); tandem.ErrorCode(err) != tandem.EUNAUTHORIZED {
			t.Errorf("expired session: %v, want unauthorized", err)
		}
		u.Disabled = true
		if err := st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		if _, _, err := st.SessionUser(ctx, "h1", now.Add(time.Minute)); tandem.ErrorCode(err) != tandem.EUNAUTHORIZED {
			t.Errorf("disabled user's session: %v, want unauthorized", err)
		}
	})
}

func TestSearchFindsNamesWithAccentsWhateverTheCase(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, "email,name,team\nemile@example.com,Émile Zola,Acme\nodon@example.com,Ödön Horváth,Acme\nann@example.com,Ann Lee,Acme\n", false)
		for q, want := range map[string]string{"Émile": "Émile Zola", "émile": "Émile Zola", "EMILE": "Émile Zola", "ÖDÖN": "Ödön Horváth",
			"horvath": "Ödön Horváth", "ann@": "Ann Lee", "50%": ""} {
			got, _, err := st.Employees(ctx, EmployeeFilter{Query: q, Today: today})
			if err != nil {
				t.Fatal(err)
			}
			if want == "" {
				if len(got) != 0 {
					t.Errorf("search %q found %v, want nothing", q, got)
				}
				continue
			}
			if len(got) != 1 || got[0].Name != want {
				t.Errorf("search %q found %v, want %s", q, got, want)
			}
		}
	})
}

func TestRehireKeepsTheEarlierStint(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		importCSV(t, st, "employee_id,email,name,team,hired_on,exited_on,exit_type,regretted\nE1,ana@example.com,Ana,Acme/Sales,2019-01-07,2024-05-31,voluntary,yes\n", false)
		importCSV(t, st, "employee_id,email,name,team,hired_on\nE1,ana@example.com,Ana,Acme/Support,2025-09-01\n", false)
		emps, _ := st.AllEmployees(ctx)
		if len(emps) != 1 || !emps[0].ExitedOn.IsZero() || emps[0].HiredOn != mustDate("2025-09-01") {
			t.Fatalf("after the rehire: %+v, want one active employee hired 2025-09-01", emps)
		}
		past, _ := st.PastStints(ctx, emps[0].ID)
		if len(past) != 1 || past[0].ExitedOn != mustDate("2024-05-31") || past[0].ExitType != "voluntary" || !past[0].Regretted {
			t.Fatalf("earlier stints %+v, want the 2019–2024 voluntary regretted one", past)
		}
		stints, _ := st.Stints(ctx)
		if len(stints) != 2 {
			t.Fatalf("%d stints, want 2", len(stints))
		}
		tree, _ := st.Tree(ctx)
		sales, support := tree.ByPath([]string{"Acme", "Sales"}).ID, tree.ByPath([]string{"Acme", "Support"}).ID
		for _, s := range stints {
			switch {
			case s.Exited.IsZero() && s.UnitOn(mustDate("2025-10-01")) != support:
				t.Errorf("current stint in unit %d, want Support", s.UnitOn(mustDate("2025-10-01")))
			case !s.Exited.IsZero() && s.UnitOn(mustDate("2023-01-01")) != sales:
				t.Errorf("earlier stint in unit %d, want Sales", s.UnitOn(mustDate("2023-01-01")))
			}
		}
	})
}

func mustDate(s string) time.Time {
	d, err := tandem.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}
