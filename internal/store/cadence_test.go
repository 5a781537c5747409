package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// storeClock is the fixed "now" of the stores these tests open: programs
// are checked against their cadence at the store's now.
var storeClock = time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)

// eachUnmigratedStore runs fn on a new SQLite file and, when
// TANDEM_TEST_POSTGRES is set, a new PostgreSQL schema, neither migrated.
func eachUnmigratedStore(t *testing.T, fn func(t *testing.T, st *Store)) {
	t.Helper()
	opt := Options{NoMigrate: true, Now: func() time.Time { return storeClock }}
	t.Run(SQLite, func(t *testing.T) {
		st, err := Open(context.Background(), filepath.Join(t.TempDir(), "tandem.db"), opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	if dsn := os.Getenv("TANDEM_TEST_POSTGRES"); dsn != "" {
		t.Run(Postgres, func(t *testing.T) { fn(t, openTestPostgresWith(t, dsn, opt)) })
	}
}

func TestOldCronProgramsMoveToCadencesWhenTheDatabaseIsMigrated(t *testing.T) {
	eachUnmigratedStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		if _, err := st.migrateTo(ctx, 4); err != nil {
			t.Fatalf("migrate to 0004, the last schema with cron strings: %v", err)
		}
		// The audience unit, written as schema 0004 has it: today's roster
		// code writes columns later migrations add.
		acme, err := st.insert(ctx, st.w, "INSERT INTO org_units (name, created_at) VALUES ('Acme', 0)")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.exec(ctx, st.w, "UPDATE org_units SET id_path = '/' || CAST(id AS TEXT) || '/' WHERE id = ?", acme); err != nil {
			t.Fatal(err)
		}
		created := time.Date(2026, 1, 7, 12, 0, 0, 0, time.UTC).Unix() // a Wednesday
		legacy := []struct {
			name, cron string
			window     int
		}{
			{"Weekly", "0 9 * * 1", 5},
			{"Biweekly preset", "0 9 1-7,15-21 * 1", 5},
			{"Monthly preset", "0 9 1-7 * 1", 5},
			{"Weekdays open 5 days", "0 9 * * 1-5", 5},
			{"Both day fields", "0 9 1-10 * 2", 5},
			{"Every second", "* * * * * *", 1},
			{"Shorthand", "@weekly", 5},
		}
		ids := map[string]int64{}
		for _, l := range legacy {
			id, err := st.insert(ctx, st.w, `INSERT INTO programs (name, audience_unit_id, cron, timezone, window_days, reminder_days,
				questions_per_round, driver_cycle, core_every, min_group, channel, active, created_at, updated_at)
				VALUES (?, ?, ?, 'Europe/Berlin', ?, 0, 7, 3, 1, 5, 'log', ?, ?, ?)`, l.name, acme, l.cron, l.window, true, created, created)
			if err != nil {
				t.Fatal(err)
			}
			ids[l.name] = id
		}
		// The biweekly program last ran on Monday 16 November (CET).
		if _, err := st.exec(ctx, st.w, `INSERT INTO rounds (program_id, scheduled_at, seq, closes_at, manual, min_group, period, created_at)
			VALUES (?, ?, 1, ?, ?, 5, '2026-11-16', ?)`, ids["Biweekly preset"], time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC).Unix(),
			time.Date(2026, 11, 21, 8, 0, 0, 0, time.UTC).Unix(), false, created); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		want := map[string]struct {
			cadence pulse.Cadence
			active  bool
			note    string
		}{
			"Weekly": {pulse.Cadence{Kind: pulse.Weekly, Weeks: 1, Weekday: time.Monday, Hour: 9, Start: "2026-01-07", Zone: "Europe/Berlin"}, true,
				"is now: Every week on Monday at 09:00 Europe/Berlin"},
			"Biweekly preset": {pulse.Cadence{Kind: pulse.Weekly, Weeks: 2, Weekday: time.Monday, Hour: 9, Start: "2026-11-16", Zone: "Europe/Berlin"}, true,
				"every day of the first and third weeks"},
			"Monthly preset": {pulse.Cadence{Kind: pulse.Monthly, Nth: 1, Weekday: time.Monday, Hour: 9, Zone: "Europe/Berlin"}, true,
				"it is now: Monthly on the first Monday at 09:00 Europe/Berlin"},
			"Weekdays open 5 days": {pulse.Cadence{Kind: pulse.Cron, Expr: "0 9 * * 1-5", Zone: "Europe/Berlin"}, false, "rounds would overlap"},
			"Both day fields":      {pulse.Cadence{Kind: pulse.Cron, Expr: "0 9 1-10 * 2", Zone: "Europe/Berlin"}, false, "restricts both"},
			"Every second":         {pulse.Cadence{Kind: pulse.Cron, Expr: "* * * * * *", Zone: "Europe/Berlin"}, false, "seconds field"},
			"Shorthand":            {pulse.Cadence{Kind: pulse.Cron, Expr: "@weekly", Zone: "Europe/Berlin"}, false, "Choose a cadence and resume it"},
		}
		for name, w := range want {
			p, err := st.Program(ctx, ids[name])
			if err != nil {
				t.Fatal(err)
			}
			if p.Cadence != w.cadence || p.Active != w.active || !strings.Contains(p.CadenceNote, w.note) {
				t.Errorf("%s: cadence %+v active %v note %q; want %+v active %v, a note saying %q", name, p.Cadence, p.Active, p.CadenceNote, w.cadence, w.active, w.note)
			}
		}
		// The converted biweekly program keeps its rhythm: two weeks after
		// its last round, not the first and third Monday.
		p, _ := st.Program(ctx, ids["Biweekly preset"])
		s, err := p.Schedule()
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Next(storeClock); !got.Equal(time.Date(2026, 12, 14, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("next round of the converted biweekly program %v, want Monday 14 Dec 09:00 CET", got)
		}
		// A paused one does not resume before it gets a cadence.
		if err := st.SetProgramActive(ctx, ids["Both day fields"], true); tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(tandem.ErrorMessage(err), "cannot resume") {
			t.Errorf("resume a program paused by the move: %v, want it refused", err)
		}
		// The note is shown once: cleared, it stays cleared.
		if err := st.ClearCadenceNote(ctx, ids["Weekly"]); err != nil {
			t.Fatal(err)
		}
		if p, _ := st.Program(ctx, ids["Weekly"]); p.CadenceNote != "" {
			t.Errorf("note after clearing: %q", p.CadenceNote)
		}
	})
}

// pulseClockProgram is newProgram on a store with the fixed clock.
func pulseClockProgram(t *testing.T, st *Store, change func(p *pulse.Program)) pulse.Program {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name,team,hired_on\n")
	for i := range 5 { // an audience of at least k
		fmt.Fprintf(&b, "p%d@example.com,P %d,Acme/Team,2020-01-01\n", i, i)
	}
	importCSV(t, st, b.String(), false)
	tree, _ := st.Tree(context.Background())
	p := pulse.Defaults()
	p.AudienceUnitID = tree.ByPath([]string{"Acme"}).ID
	p.Cadence.Zone = "Europe/Berlin"
	if change != nil {
		change(&p)
	}
	if err := st.SaveProgram(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func eachClockStore(t *testing.T, fn func(t *testing.T, st *Store)) {
	t.Helper()
	opt := Options{Now: func() time.Time { return storeClock }}
	t.Run(SQLite, func(t *testing.T) {
		st, err := Open(context.Background(), filepath.Join(t.TempDir(), "tandem.db"), opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	if dsn := os.Getenv("TANDEM_TEST_POSTGRES"); dsn != "" {
		t.Run(Postgres, func(t *testing.T) { fn(t, openTestPostgresWith(t, dsn, opt)) })
	}
}

// The store keeps no rule of its own about a round's times: what it
// writes and reads back is what pulse.Program.PlanRound planned, also
// across both changes of clocks. A second copy of the window rule in the
// store would fail this.
func TestCreateRoundWritesTheTimesPulsePlanned(t *testing.T) {
	eachClockStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := pulseClockProgram(t, st, func(p *pulse.Program) { p.WindowDays, p.ReminderDays = 7, 3 })
		for _, slot := range []time.Time{
			time.Date(2026, 3, 23, 8, 0, 0, 0, time.UTC),  // Monday before spring forward
			time.Date(2026, 10, 19, 7, 0, 0, 0, time.UTC), // Monday before fall back
			time.Date(2026, 6, 7, 22, 30, 0, 0, time.UTC), // already Monday in Berlin
		} {
			plan, err := p.PlanRound(slot, false)
			if err != nil {
				t.Fatal(err)
			}
			r, created, err := st.CreateRound(ctx, &p, slot, false, slot)
			if err != nil || !created {
				t.Fatalf("round of %v: created %v, %v", slot, created, err)
			}
			back, err := st.Round(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []pulse.Round{r, back} {
				if !got.ScheduledAt.Equal(plan.ScheduledAt) || !got.ClosesAt.Equal(plan.ClosesAt) || !got.RemindAt.Equal(plan.RemindAt) ||
					got.Period != plan.Period || got.MinGroup != plan.MinGroup || got.Manual {
					t.Errorf("stored round %v/%v/%v/%s k %d, want the plan %v/%v/%v/%s k %d", got.ScheduledAt, got.ClosesAt, got.RemindAt, got.Period, got.MinGroup,
						plan.ScheduledAt, plan.ClosesAt, plan.RemindAt, plan.Period, plan.MinGroup)
				}
			}
		}
	})
}

func TestSaveProgramRefusesADuplicateNameAndSavesNothing(t *testing.T) {
	eachClockStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		p := pulseClockProgram(t, st, func(p *pulse.Program) { p.Name = "Engineering pulse" })
		q := pulse.Defaults()
		q.Name, q.AudienceUnitID = "  engineering PULSE ", p.AudienceUnitID
		err := st.SaveProgram(ctx, &q)
		if tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(tandem.ErrorMessage(err), `"Engineering pulse" exists already`) {
			t.Errorf("a second program named like the first: %v, want it refused on the name", err)
		}
		if ps, _ := st.Programs(ctx); len(ps) != 1 {
			t.Errorf("%d programs, want 1", len(ps))
		}
		// Saving a program under its own name is fine.
		p.WindowDays = 4
		if err := st.SaveProgram(ctx, &p); err != nil {
			t.Errorf("saving a program again: %v", err)
		}
	})
}

func TestProgramKeepsItsCadenceAndSkippedDates(t *testing.T) {
	eachClockStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		c := pulse.Cadence{Kind: pulse.Quarterly, Day: 31, Hour: 8, Minute: 15, Start: "2027-01-01", Zone: "Asia/Kolkata"}
		p := pulseClockProgram(t, st, func(p *pulse.Program) { p.Cadence = c })
		for _, d := range []string{"2027-04-30", "2027-01-31", "2027-04-30"} {
			if err := st.SetSkip(ctx, p.ID, d, true); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.SetSkip(ctx, p.ID, "2027-01-31", false); err != nil {
			t.Fatal(err)
		}
		if err := st.SetSkip(ctx, p.ID, "31 Jan", true); tandem.ErrorCode(err) != tandem.EINVALID {
			t.Errorf("skip %q: %v, want it refused", "31 Jan", err)
		}
		back, err := st.Program(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if back.Cadence != c || strings.Join(back.Skips, ",") != "2027-04-30" {
			t.Errorf("read back cadence %+v skips %v, want %+v and [2027-04-30]", back.Cadence, back.Skips, c)
		}
	})
}
