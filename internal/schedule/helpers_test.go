package schedule_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// orgRoster is a small company: six people with email addresses in three
// teams under Acme.
const orgRoster = `employee_id,email,name,team,manager,location,hired_on
E1,ana@example.com,Ana Silva,Acme/Sales/EMEA,E3,Lisbon,2021-03-01
E2,ben@example.com,Ben Okafor,Acme/Sales/EMEA,E3,London,2020-01-15
E3,cara@example.com,Cara Diaz,Acme/Sales,,Madrid,2018-09-17
E4,dev@example.com,Dev Iyer,Acme/Support/Tier 1,E3,Pune,2022-06-01
E5,eva@example.com,Eva Novak,Acme/Support/Tier 1,E3,Prague,2019-05-06
E6,femi@example.com,Femi Adeyemi,Acme/Support,E3,Lagos,2017-11-20
`

// orgSize is how many people orgRoster invites to a program on Acme.
const orgSize = 6

// storeNow is the store's clock in these tests: the times it stamps
// itself (a program's creation, checked against its cadence) are fixed.
var storeNow = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// mondays0900Berlin is the cadence of the tests' programs.
var mondays0900Berlin = pulse.Cadence{Kind: pulse.Weekly, Weeks: 1, Weekday: time.Monday, Hour: 9, Start: "2026-01-05", Zone: "Europe/Berlin"}

// testOrg is a ready organisation in a real SQLite file, built with the
// test kit (internal/tandemtest).
type testOrg struct {
	*tandemtest.Org
	st     *store.Store
	path   string
	acme   int64 // the root unit
	log    *slog.Logger
	berlin *time.Location
}

func newTestOrg(t *testing.T) *testOrg {
	t.Helper()
	org := tandemtest.New(t, tandemtest.Options{Now: storeNow})
	org.Import(orgRoster, time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return &testOrg{Org: org, st: org.Store, path: org.Path, acme: org.Unit("Acme"), log: slog.New(slog.NewTextHandler(io.Discard, nil)), berlin: berlin}
}

// newProgram saves a program on the whole company, weekly on Mondays at
// 09:00 Berlin time unless change says otherwise, created at created.
func (o *testOrg) newProgram(t *testing.T, created time.Time, change func(p *pulse.Program)) pulse.Program {
	t.Helper()
	p := o.Program("Acme", func(p *pulse.Program) {
		p.Cadence = mondays0900Berlin
		if change != nil {
			change(p)
		}
	})
	o.setCreatedAt(t, p.ID, created)
	p, err := o.st.Program(context.Background(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !p.CreatedAt.Equal(created.Truncate(time.Second)) {
		t.Fatalf("program created at %v, want %v", p.CreatedAt, created)
	}
	return p
}

// setCreatedAt dates a program's creation. SaveProgram stamps created_at
// with the store's clock, not the test's fake one, and the runner does not
// create rounds for slots before a program existed.
func (o *testOrg) setCreatedAt(t *testing.T, id int64, created time.Time) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+o.path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE programs SET created_at = ? WHERE id = ?", created.Unix(), id); err != nil {
		t.Fatalf("backdate program %d: %v", id, err)
	}
}

func (o *testOrg) rounds(t *testing.T, programID int64) []pulse.Round {
	t.Helper()
	rs, err := o.st.Rounds(context.Background(), programID)
	if err != nil {
		t.Fatalf("rounds: %v", err)
	}
	return rs
}

// outbox returns the outbox rows, oldest first.
func (o *testOrg) outbox(t *testing.T) []store.OutboxMessage {
	t.Helper()
	ms, err := o.st.OutboxMessages(context.Background(), "", 1000)
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// countKind counts outbox rows of a kind ("invite", "reminder"), and of a
// status too when status is not "".
func (o *testOrg) countKind(t *testing.T, kind, status string) int {
	t.Helper()
	n := 0
	for _, m := range o.outbox(t) {
		if m.Kind == kind && (status == "" || m.Status == status) {
			n++
		}
	}
	return n
}

// runner returns a Runner over the org's store.
func (o *testOrg) runner() *schedule.Runner { return schedule.NewRunner(o.st, o.log) }

// startScheduler builds and starts a scheduler on clock; it stops when the
// test ends, before the store closes.
func (o *testOrg) startScheduler(t *testing.T, clock clockwork.Clock, opt schedule.Options) *schedule.Scheduler {
	t.Helper()
	opt.Clock = clock
	s, err := schedule.New(o.runner(), o.st, o.log, opt)
	if err != nil {
		t.Fatalf("new scheduler: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		cancel()
		t.Fatalf("start scheduler: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop scheduler: %v", err)
		}
		cancel()
	})
	return s
}

// waitDeadline bounds every wait for background work.
const waitDeadline = 10 * time.Second

// eventually polls cond until it holds or waitDeadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitDeadline)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", waitDeadline, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settle waits until the scheduler's jobs have finished running, and a
// moment more for gocron to release their singleton slots, so that the
// next fake-clock advance is not skipped as an overlapping run.
func settle(t *testing.T, s *schedule.Scheduler) {
	t.Helper()
	eventually(t, "the scheduler's jobs to finish", s.JobsIdle)
	time.Sleep(2 * time.Millisecond)
}

// blockUntilTimers waits until n timers are armed on fc.
func blockUntilTimers(t *testing.T, fc *clockwork.FakeClock, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitDeadline)
	defer cancel()
	if err := fc.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("waiting for %d timers on the fake clock: %v", n, err)
	}
}

// at0900 is 09:00 on the given day in Berlin.
func (o *testOrg) at0900(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 9, 0, 0, 0, o.berlin)
}
