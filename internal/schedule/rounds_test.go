package schedule_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestRoundIsCreatedOnceWhenJobFiresTwice(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	runner := o.runner()
	slot := o.at0900(2026, 6, 8) // a Monday

	first, created, err := runner.FireProgram(ctx, p.ID, slot)
	if err != nil || !created {
		t.Fatalf("first fire: created %v, err %v; want a new round", created, err)
	}
	if !first.ScheduledAt.Equal(slot) {
		t.Errorf("round scheduled at %v, want the slot %v", first.ScheduledAt, slot)
	}
	again, created, err := runner.FireProgram(ctx, p.ID, slot.Add(3*time.Second))
	if err != nil || created {
		t.Fatalf("second fire 3s later: created %v, err %v; want the existing round", created, err)
	}
	if again.ID != first.ID {
		t.Errorf("second fire returned round %d, want round %d", again.ID, first.ID)
	}

	rs := o.rounds(t, p.ID)
	if len(rs) != 1 {
		t.Fatalf("%d rounds after two fires, want 1", len(rs))
	}
	if rs[0].Invited != orgSize || rs[0].Seq != 1 || rs[0].Manual {
		t.Errorf("round = invited %d seq %d manual %v, want %d invited, seq 1, not manual", rs[0].Invited, rs[0].Seq, rs[0].Manual, orgSize)
	}
	if got := o.countKind(t, "invite", ""); got != orgSize {
		t.Errorf("%d invitations queued, want %d (one per person, not per fire)", got, orgSize)
	}
}

func TestRoundIsCreatedOnceWhenReplicasFireTheSameSlotTogether(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	slot := o.at0900(2026, 6, 8)

	// Four replicas (runners over the same database) fire within a second.
	const replicas = 4
	var wg sync.WaitGroup
	createdBy := make([]bool, replicas)
	errs := make([]error, replicas)
	for i := 0; i < replicas; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, createdBy[i], errs[i] = o.runner().FireProgram(context.Background(), p.ID, slot.Add(time.Duration(i)*200*time.Millisecond))
		}(i)
	}
	wg.Wait()
	made := 0
	for i := range createdBy {
		if errs[i] != nil {
			t.Errorf("replica %d: %v", i, errs[i])
		}
		if createdBy[i] {
			made++
		}
	}
	if made != 1 {
		t.Errorf("%d replicas reported creating the round, want exactly 1", made)
	}
	if rs := o.rounds(t, p.ID); len(rs) != 1 {
		t.Errorf("%d rounds, want 1", len(rs))
	}
	if got := o.countKind(t, "invite", ""); got != orgSize {
		t.Errorf("%d invitations queued, want %d", got, orgSize)
	}
}

func TestFireProgramDoesNothingForAPausedProgram(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	if err := o.st.SetProgramActive(ctx, p.ID, false); err != nil {
		t.Fatal(err)
	}
	_, created, err := o.runner().FireProgram(ctx, p.ID, o.at0900(2026, 6, 8))
	if err != nil || created {
		t.Fatalf("fire on a paused program: created %v, err %v; want nothing", created, err)
	}
	if rs := o.rounds(t, p.ID); len(rs) != 0 {
		t.Errorf("%d rounds for a paused program, want 0", len(rs))
	}
}

// mondaysAt0900 lists 09:00 Berlin time on every Monday from the first to
// the last date, computed from the calendar (not from the cron library).
func (o *testOrg) mondaysAt0900(from, to time.Time) []time.Time {
	var out []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Monday {
			out = append(out, o.at0900(d.Year(), d.Month(), d.Day()))
		}
	}
	return out
}

// Europe/Berlin changes to summer time on Sunday 29 March 2026 and back on
// Sunday 25 October 2026 (the EU's last-Sunday rule, IANA tz database).
var (
	springForward = time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)
	fallBack      = time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)
)

// assertWeeklyAt0900Berlin checks rounds (oldest first) against the
// Mondays they should fall on.
func assertWeeklyAt0900Berlin(t *testing.T, o *testOrg, rounds []pulse.Round, want []time.Time) {
	t.Helper()
	if len(rounds) != len(want) {
		t.Fatalf("%d rounds, want %d", len(rounds), len(want))
	}
	for i, r := range rounds {
		local := r.ScheduledAt.In(o.berlin)
		if local.Weekday() != time.Monday || local.Hour() != 9 || local.Minute() != 0 || local.Second() != 0 {
			t.Errorf("round %d at %s, want Monday 09:00 in Berlin", r.Seq, local.Format(time.RFC1123Z))
		}
		if !r.ScheduledAt.Equal(want[i]) {
			t.Errorf("round %d at %v, want %v", r.Seq, r.ScheduledAt.UTC(), want[i].UTC())
		}
		if r.Period != local.Format("2006-01-02") {
			t.Errorf("round %d period %s, want its Berlin date %s", r.Seq, r.Period, local.Format("2006-01-02"))
		}
		if r.Seq != i+1 {
			t.Errorf("round at %v has seq %d, want %d", local, r.Seq, i+1)
		}
		if i == 0 {
			continue
		}
		prev := rounds[i-1].ScheduledAt
		gap := r.ScheduledAt.Sub(prev)
		wantGap := 168 * time.Hour
		switch {
		case prev.Before(springForward) && r.ScheduledAt.After(springForward):
			wantGap = 167 * time.Hour
		case prev.Before(fallBack) && r.ScheduledAt.After(fallBack):
			wantGap = 169 * time.Hour
		}
		if gap != wantGap {
			t.Errorf("rounds %d → %d are %v apart, want %v", rounds[i-1].Seq, r.Seq, gap, wantGap)
		}
	}
}

// oldestFirst reverses Store.Rounds' newest-first order.
func oldestFirst(rs []pulse.Round) []pulse.Round {
	out := make([]pulse.Round, len(rs))
	for i, r := range rs {
		out[len(rs)-1-i] = r
	}
	return out
}

// TestRoundsFollowWallClockAcrossDaylightSavingChanges runs the scheduler
// on a fake clock from March to November: gocron arms the program's timer
// at each Monday 09:00 Berlin, on both sides of both changes, and the job
// firing there makes that Monday's round. The test only waits for things
// that must happen (a timer armed, a round written), never for the
// machine's clock to pass or for a run that should not happen.
func TestRoundsFollowWallClockAcrossDaylightSavingChanges(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	p := o.newProgram(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	// Sunday 15 March, noon: the first round is Monday 16 March, two
	// weeks before the spring change; the last is after the autumn one.
	fc := clockwork.NewFakeClockAt(time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC))
	want := o.mondaysAt0900(time.Date(2026, 3, 16, 0, 0, 0, 0, o.berlin), time.Date(2026, 11, 2, 0, 0, 0, 0, o.berlin))

	// Housekeeping's catch-up also makes a round whose slot has passed;
	// set to once a year it does not fire in these eight months, so every
	// round here is made by the program's own job at its slot. No digest:
	// two timers, the program's and housekeeping's.
	sched := o.startScheduler(t, fc, schedule.Options{HousekeepEvery: 365 * 24 * time.Hour, DigestCron: "-"})
	blockUntilTimers(t, fc, 2)
	if rs := o.rounds(t, p.ID); len(rs) != 0 {
		t.Fatalf("%d rounds before the first Monday, want 0", len(rs))
	}

	for i, slot := range want {
		// gocron has armed the timer for this very slot.
		eventually(t, "the job's next run to be "+slot.String(), func() bool { return sched.NextRun(p.ID).Equal(slot) })
		blockUntilTimers(t, fc, 2)
		fc.Advance(slot.Sub(fc.Now()))
		// The round is written before the clock moves on, so the next
		// slot's run cannot be the one that makes it.
		eventually(t, "round "+slot.In(o.berlin).Format(time.RFC1123Z), func() bool { return len(o.rounds(t, p.ID)) == i+1 })
	}
	assertWeeklyAt0900Berlin(t, o, oldestFirst(o.rounds(t, p.ID)), want)
}

func TestFireProgramAtEachWeeklySlotAcrossDaylightSavingChanges(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	sch, err := p.Schedule()
	if err != nil {
		t.Fatal(err)
	}
	want := o.mondaysAt0900(time.Date(2026, 3, 2, 0, 0, 0, 0, o.berlin), time.Date(2026, 11, 30, 0, 0, 0, 0, o.berlin))
	runner := o.runner()
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for i, w := range want {
		slot := sch.Next(from)
		if !slot.Equal(w) {
			t.Fatalf("slot %d: Next(%v) = %v, want %v", i, from.UTC(), slot.UTC(), w.UTC())
		}
		// A job firing at its slot, and again an hour late, makes one round.
		for _, now := range []time.Time{slot, slot.Add(time.Hour)} {
			r, _, err := runner.FireProgram(ctx, p.ID, now)
			if err != nil {
				t.Fatalf("fire at %v: %v", now, err)
			}
			if !r.ScheduledAt.Equal(slot) {
				t.Fatalf("fire at %v made round for %v, want %v", now.UTC(), r.ScheduledAt.UTC(), slot.UTC())
			}
		}
		from = slot
	}
	assertWeeklyAt0900Berlin(t, o, oldestFirst(o.rounds(t, p.ID)), want)
}

func TestRestartDoesNotDuplicateRounds(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	slot := o.at0900(2026, 6, 8)

	// The first process creates the round at its slot and then stops.
	fc := clockwork.NewFakeClockAt(slot.Add(-time.Minute).UTC())
	sched := o.startScheduler(t, fc, schedule.Options{HousekeepEvery: 24 * time.Hour})
	blockUntilTimers(t, fc, 2)
	fc.Advance(time.Minute)
	eventually(t, "the round of "+slot.String(), func() bool { return len(o.rounds(t, p.ID)) == 1 })
	if err := sched.Stop(); err != nil {
		t.Fatal(err)
	}

	// A new process, two days later, inside the five-day window.
	restarted := clockwork.NewFakeClockAt(slot.AddDate(0, 0, 2).UTC())
	sched2 := o.startScheduler(t, restarted, schedule.Options{HousekeepEvery: 24 * time.Hour})
	if rs := o.rounds(t, p.ID); len(rs) != 1 {
		t.Fatalf("%d rounds after the restart, want still 1", len(rs))
	}
	made, err := o.runner().CatchUp(ctx, restarted.Now())
	if err != nil || made != 0 {
		t.Errorf("CatchUp after the restart made %d (%v), want 0", made, err)
	}
	if got := o.countKind(t, "invite", ""); got != orgSize {
		t.Errorf("%d invitations queued, want %d", got, orgSize)
	}
	// The restarted scheduler waits for next Monday.
	if got, want := sched2.NextRun(p.ID), slot.AddDate(0, 0, 7); !got.Equal(want) {
		t.Errorf("NextRun after restart = %v, want %v", got, want)
	}
}

func TestMissedRoundIsCreatedOnceOnStart(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	slot := o.at0900(2026, 6, 8)
	p := o.newProgram(t, slot.AddDate(0, 0, -3), nil) // window 5 days

	// Tandem was down at the slot and starts a day later.
	fc := clockwork.NewFakeClockAt(slot.AddDate(0, 0, 1).UTC())
	o.startScheduler(t, fc, schedule.Options{HousekeepEvery: 24 * time.Hour})
	rs := o.rounds(t, p.ID)
	if len(rs) != 1 {
		t.Fatalf("%d rounds after start, want the missed one", len(rs))
	}
	if !rs[0].ScheduledAt.Equal(slot) {
		t.Errorf("missed round scheduled at %v, want the slot %v", rs[0].ScheduledAt, slot)
	}
	if rs[0].Manual || rs[0].Closed || rs[0].Invited != orgSize {
		t.Errorf("missed round: manual %v closed %v invited %d, want a scheduled open round for %d", rs[0].Manual, rs[0].Closed, rs[0].Invited, orgSize)
	}
	if want := slot.AddDate(0, 0, 5); !rs[0].ClosesAt.Equal(want) {
		t.Errorf("closes at %v, want the slot's window end %v", rs[0].ClosesAt, want)
	}

	made, err := o.runner().CatchUp(ctx, fc.Now())
	if err != nil || made != 0 {
		t.Errorf("second CatchUp made %d (%v), want 0", made, err)
	}
	if rs := o.rounds(t, p.ID); len(rs) != 1 {
		t.Errorf("%d rounds after a second catch-up, want 1", len(rs))
	}
}

func TestMissedRoundIsNotCreatedOnceItsWindowHasPassed(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	slot := o.at0900(2026, 6, 8)
	p := o.newProgram(t, slot.AddDate(0, 0, -3), nil) // window 5 days

	fc := clockwork.NewFakeClockAt(slot.AddDate(0, 0, 6).UTC())
	o.startScheduler(t, fc, schedule.Options{HousekeepEvery: 24 * time.Hour})
	if rs := o.rounds(t, p.ID); len(rs) != 0 {
		t.Errorf("%d rounds for a slot whose window closed a day ago, want 0", len(rs))
	}
}

func TestMissedRoundIsNotCreatedExactlyWhenItsWindowCloses(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	slot := o.at0900(2026, 6, 8)
	p := o.newProgram(t, slot.AddDate(0, 0, -3), nil)
	runner := o.runner()
	if n, err := runner.CatchUp(ctx, slot.AddDate(0, 0, 5)); err != nil || n != 0 {
		t.Errorf("CatchUp at the closing time made %d (%v), want 0", n, err)
	}
	if n, err := runner.CatchUp(ctx, slot.AddDate(0, 0, 5).Add(-time.Second)); err != nil || n != 1 {
		t.Errorf("CatchUp a second before closing made %d (%v), want 1", n, err)
	}
	if rs := o.rounds(t, p.ID); len(rs) != 1 || !rs[0].ScheduledAt.Equal(slot) {
		t.Errorf("rounds %+v, want one at %v", rs, slot)
	}
}

func TestProgramCreatedAfterASlotGetsNoBackfilledRound(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	slot := o.at0900(2026, 6, 8)
	// Created an hour after Monday's slot, started the next day.
	p := o.newProgram(t, slot.Add(time.Hour), nil)
	fc := clockwork.NewFakeClockAt(slot.AddDate(0, 0, 1).UTC())
	sched := o.startScheduler(t, fc, schedule.Options{HousekeepEvery: 24 * time.Hour})
	if rs := o.rounds(t, p.ID); len(rs) != 0 {
		t.Fatalf("%d rounds for a slot before the program existed, want 0", len(rs))
	}
	if got, want := sched.NextRun(p.ID), slot.AddDate(0, 0, 7); !got.Equal(want) {
		t.Errorf("NextRun = %v, want the next Monday %v", got, want)
	}
}

// The window is counted in days of the program's zone, as closes_at is:
// across a daylight-saving change those days are 143 or 145 hours long.
func TestCatchUpCountsTheWindowInTheProgramsDaysAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		slot time.Time
		// now relative to the round's closing time.
		offset      time.Duration
		wantCreated bool
	}{
		// Monday 23 March 09:00 CET + 6 days = Sunday 29 March 09:00 CEST: 143 h.
		{"spring: half an hour after closing", time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC), 30 * time.Minute, false},
		{"spring: half an hour before closing", time.Date(2026, 3, 23, 9, 0, 0, 0, time.UTC), -30 * time.Minute, true},
		// Monday 19 October 09:00 CEST + 6 days = Sunday 25 October 09:00 CET: 145 h.
		{"autumn: half an hour before closing", time.Date(2026, 10, 19, 9, 0, 0, 0, time.UTC), -30 * time.Minute, true},
		{"autumn: half an hour after closing", time.Date(2026, 10, 19, 9, 0, 0, 0, time.UTC), 30 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrg(t)
			ctx := context.Background()
			slot := o.at0900(tt.slot.Year(), tt.slot.Month(), tt.slot.Day())
			p := o.newProgram(t, slot.AddDate(0, 0, -7), func(p *pulse.Program) { p.WindowDays, p.ReminderDays = 6, 0 })
			closes := slot.AddDate(0, 0, 6)
			// In UTC, as a server's clock gives it: the zone of now must not
			// change the answer.
			now := closes.Add(tt.offset).UTC()
			_, created, err := o.runner().FireProgram(ctx, p.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if created != tt.wantCreated {
				t.Errorf("FireProgram %v after the slot (closes %v after): created %v, want %v",
					now.Sub(slot), closes.Sub(slot), created, tt.wantCreated)
			}
			for _, r := range o.rounds(t, p.ID) {
				if !r.ClosesAt.Equal(closes) || !r.OpenAt(now) {
					t.Errorf("round closes %v, open at %v: %v; want an open round closing %v", r.ClosesAt, now, r.OpenAt(now), closes)
				}
			}
		})
	}
}

func TestSyncFollowsProgramChangesWithoutRestart(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	// Sunday 7 June, noon.
	fc := clockwork.NewFakeClockAt(time.Date(2026, 6, 7, 12, 0, 0, 0, time.UTC))
	sched := o.startScheduler(t, fc, schedule.Options{HousekeepEvery: 24 * time.Hour})
	if got, want := sched.NextRun(p.ID), o.at0900(2026, 6, 8); !got.Equal(want) {
		t.Fatalf("NextRun = %v, want Monday 09:00 Berlin %v", got, want)
	}

	// Paused: no job, and Monday passes without a round.
	if err := o.st.SetProgramActive(ctx, p.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := sched.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sched.NextRun(p.ID); !got.IsZero() {
		t.Errorf("NextRun of a paused program = %v, want zero", got)
	}
	blockUntilTimers(t, fc, 1) // housekeeping only
	fc.Advance(o.at0900(2026, 6, 8).Add(time.Hour).Sub(fc.Now()))
	time.Sleep(50 * time.Millisecond) // room for a job that should not run
	if rs := o.rounds(t, p.ID); len(rs) != 0 {
		t.Fatalf("%d rounds while paused, want 0", len(rs))
	}

	// Resumed: the job is back, for next Monday.
	if err := o.st.SetProgramActive(ctx, p.ID, true); err != nil {
		t.Fatal(err)
	}
	if err := sched.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	next := o.at0900(2026, 6, 15)
	if got := sched.NextRun(p.ID); !got.Equal(next) {
		t.Fatalf("NextRun after resuming = %v, want %v", got, next)
	}
	blockUntilTimers(t, fc, 2)
	fc.Advance(next.Sub(fc.Now()))
	eventually(t, "the round of 15 June", func() bool { return len(o.rounds(t, p.ID)) == 1 })
	if rs := o.rounds(t, p.ID); !rs[0].ScheduledAt.Equal(next) {
		t.Errorf("round after resuming at %v, want %v", rs[0].ScheduledAt, next)
	}

	// A new cadence: Wednesdays 14:30 in New York.
	p, err := o.st.Program(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	p.Cadence = pulse.Cadence{Kind: pulse.Weekly, Weeks: 1, Weekday: time.Wednesday, Hour: 14, Minute: 30, Start: "2026-01-05", Zone: "America/New_York"}
	if err := o.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if err := sched.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	want := time.Date(2026, 6, 17, 14, 30, 0, 0, ny)
	eventually(t, "the new cadence's next run", func() bool { return sched.NextRun(p.ID).Equal(want) })

	// The same cadence in another zone is a new cadence too.
	p.Cadence.Zone = "Asia/Tokyo"
	if err := o.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if err := sched.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	// Now is Monday 15 June 09:00 Berlin = 16:00 Tokyo; Wednesday 14:30 Tokyo is next.
	want = time.Date(2026, 6, 17, 14, 30, 0, 0, tokyo)
	eventually(t, "the Tokyo cadence's next run", func() bool { return sched.NextRun(p.ID).Equal(want) })

	// A program added while running gets its job at the next Sync.
	q := o.newProgram(t, fc.Now(), func(q *pulse.Program) { q.Name = "Support pulse"; q.Cadence.Weekday, q.Cadence.Hour = time.Tuesday, 10 })
	if got := sched.NextRun(q.ID); !got.IsZero() {
		t.Errorf("NextRun of a program the scheduler has not synced = %v, want zero", got)
	}
	if err := sched.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := sched.NextRun(q.ID), o.at0900(2026, 6, 16).Add(time.Hour); !got.Equal(want) {
		t.Errorf("NextRun of the new program = %v, want Tuesday 10:00 Berlin %v", got, want)
	}
}

func TestSendNowCreatesOneManualRoundForRepeatedClicks(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	now := time.Date(2026, 6, 10, 15, 4, 5, 600_000_000, time.UTC)
	runner := o.runner()
	r, created, err := runner.SendNow(ctx, p.ID, now)
	if err != nil || !created || !r.Manual {
		t.Fatalf("SendNow: created %v manual %v err %v, want a new manual round", created, r.Manual, err)
	}
	if _, created, err := runner.SendNow(ctx, p.ID, now.Add(300*time.Millisecond)); err != nil || created {
		t.Errorf("second click in the same second: created %v, err %v; want the same round", created, err)
	}
	if rs := o.rounds(t, p.ID); len(rs) != 1 {
		t.Errorf("%d rounds, want 1", len(rs))
	}
}

func TestSendNowIsRefusedWhileARoundIsOpenOrOneStartedThatDay(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil) // Mondays 09:00 Berlin, open 5 days
	runner := o.runner()
	monday := o.at0900(2026, 6, 8)
	if _, created, err := runner.FireProgram(ctx, p.ID, monday); err != nil || !created {
		t.Fatalf("scheduled round: %v %v", created, err)
	}
	// Wednesday: the Monday round is open until Saturday 09:00.
	_, created, err := runner.SendNow(ctx, p.ID, monday.AddDate(0, 0, 2))
	if created || tandem.ErrorCode(err) != tandem.ECONFLICT || !strings.Contains(tandem.ErrorMessage(err), "Round 1 is still open until Sat 13 Jun 09:00 CEST") {
		t.Errorf("send now while round 1 is open: created %v, %v; want a refusal naming round 1 and its closing time", created, err)
	}
	// Saturday after closing: allowed, once.
	sat := monday.AddDate(0, 0, 5).Add(time.Hour)
	r, created, err := runner.SendNow(ctx, p.ID, sat)
	if err != nil || !created {
		t.Fatalf("send now after round 1 closed: created %v, %v", created, err)
	}
	if rs := o.rounds(t, p.ID); len(rs) != 2 || !rs[0].Manual || rs[0].ID != r.ID {
		t.Errorf("rounds %+v, want the scheduled one and one sent now", rs)
	}
	if got := o.countKind(t, "invite", ""); got != 2*orgSize {
		t.Errorf("%d invitations, want %d (two rounds)", got, 2*orgSize)
	}
}

func TestScheduledSlotOnADayARoundWasSentNowIsSkippedAndLogged(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	var logged strings.Builder
	o.log = slog.New(slog.NewTextHandler(&logged, nil))
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	runner := o.runner()
	monday := o.at0900(2026, 6, 8)
	// HR sends a round at 07:30 on Monday; the 09:00 slot comes after.
	if _, created, err := runner.SendNow(ctx, p.ID, monday.Add(-90*time.Minute)); err != nil || !created {
		t.Fatalf("send now: %v %v", created, err)
	}
	if _, created, err := runner.FireProgram(ctx, p.ID, monday); err != nil || created {
		t.Fatalf("the slot the same day: created %v, %v; want it skipped without an error", created, err)
	}
	if rs := o.rounds(t, p.ID); len(rs) != 1 || !rs[0].Manual {
		t.Errorf("rounds %+v, want only the one sent now", rs)
	}
	if !strings.Contains(logged.String(), "scheduled round skipped") || !strings.Contains(logged.String(), "2026-06-08") {
		t.Errorf("log %q, want the skipped slot of 2026-06-08 in it", logged.String())
	}
	// The next Monday is a round as usual.
	if _, created, err := runner.FireProgram(ctx, p.ID, monday.AddDate(0, 0, 7)); err != nil || !created {
		t.Errorf("the next Monday: created %v, %v; want its round", created, err)
	}
}
