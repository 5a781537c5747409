package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
)

// invitationOf returns the invitation id of email's invite in the outbox.
func (o *testOrg) invitationOf(t *testing.T, email string) int64 {
	t.Helper()
	for _, m := range o.outbox(t) {
		if m.Kind == "invite" && m.Recipient == email {
			return m.Ref
		}
	}
	t.Fatalf("no invitation queued for %s", email)
	return 0
}

// answer submits a full response for an invitation through a fresh link,
// as the answer page does.
func (o *testOrg) answer(t *testing.T, invitationID, roundID int64, now time.Time) {
	t.Helper()
	ctx := context.Background()
	token := auth.NewToken()
	if err := o.st.AddInvitationToken(ctx, invitationID, auth.HashToken(token)); err != nil {
		t.Fatalf("add token: %v", err)
	}
	qs, err := o.st.RoundQuestions(ctx, roundID)
	if err != nil {
		t.Fatal(err)
	}
	var answers []pulse.Answer
	for i := range qs {
		raw := "4"
		switch qs[i].Kind {
		case pulse.Scale010:
			raw = "9"
		case pulse.Choice:
			raw = "0"
		case pulse.Text:
			raw = "Fine."
		}
		a, ok, err := pulse.ParseAnswer(&qs[i], raw)
		if err != nil || !ok {
			t.Fatalf("answer %s with %q: %v", qs[i].Key, raw, err)
		}
		answers = append(answers, a)
	}
	if err := o.st.SubmitResponse(ctx, auth.HashToken(token), answers, "", now); err != nil {
		t.Fatalf("submit: %v", err)
	}
}

func TestHousekeepQueuesOneReminderForThoseWhoHaveNotAnsweredAndClosesRoundsOnTime(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil) // window 5, reminder 2
	runner := o.runner()
	slot := o.at0900(2026, 6, 8)
	round, _, err := runner.FireProgram(ctx, p.ID, slot)
	if err != nil {
		t.Fatal(err)
	}
	remindAt, closesAt := slot.AddDate(0, 0, 2), slot.AddDate(0, 0, 5)
	if !round.RemindAt.Equal(remindAt) || !round.ClosesAt.Equal(closesAt) {
		t.Fatalf("round reminds at %v and closes at %v, want %v and %v", round.RemindAt, round.ClosesAt, remindAt, closesAt)
	}
	ana := o.invitationOf(t, "ana@example.com")
	o.answer(t, ana, round.ID, slot.Add(time.Hour))

	housekeep := func(now time.Time) {
		t.Helper()
		if err := runner.Housekeep(ctx, now.UTC()); err != nil {
			t.Fatalf("housekeep at %v: %v", now, err)
		}
	}
	housekeep(slot.AddDate(0, 0, 1))
	housekeep(remindAt.Add(-time.Second))
	if got := o.countKind(t, "reminder", ""); got != 0 {
		t.Fatalf("%d reminders before the reminder time, want 0", got)
	}

	housekeep(remindAt)
	if got := o.countKind(t, "reminder", "pending"); got != orgSize-1 {
		t.Fatalf("%d reminders at the reminder time, want %d (everyone but Ana)", got, orgSize-1)
	}
	for _, m := range o.outbox(t) {
		if m.Kind == "reminder" && m.Ref == ana {
			t.Errorf("Ana, who answered, is reminded")
		}
	}
	if r, _ := o.st.Round(ctx, round.ID); !r.Reminded || r.Closed {
		t.Errorf("round reminded %v closed %v, want reminded and open", r.Reminded, r.Closed)
	}

	housekeep(remindAt.Add(time.Minute))
	housekeep(remindAt.Add(time.Hour))
	if got := o.countKind(t, "reminder", ""); got != orgSize-1 {
		t.Errorf("%d reminders after housekeeping again, want still %d", got, orgSize-1)
	}

	housekeep(closesAt.Add(-time.Second))
	if r, _ := o.st.Round(ctx, round.ID); r.Closed {
		t.Fatal("round closed a second early")
	}
	// The rollups of closed rounds are worked out right after they close.
	rollups := 0
	runner.Rollups = func(ctx context.Context, now time.Time) error {
		if !now.Equal(closesAt) {
			t.Errorf("the rollups ran at %v, want the housekeeping's now %v", now, closesAt)
		}
		if r, _ := o.st.Round(ctx, round.ID); !r.Closed {
			t.Error("the rollups ran before the round closed")
		}
		rollups++
		return nil
	}
	housekeep(closesAt)
	if rollups != 1 {
		t.Errorf("the rollups ran %d times in the housekeeping that closed the round, want once", rollups)
	}
	runner.Rollups = nil
	r, err := o.st.Round(ctx, round.ID)
	if err != nil || !r.Closed {
		t.Fatalf("round closed %v (%v) at its closing time, want closed", r.Closed, err)
	}
	// Nothing was sent (no worker ran): nothing is sent late, and who was
	// reminded (who had not answered) is forgotten with the round.
	if n := o.countKind(t, "invite", "") + o.countKind(t, "reminder", ""); n != 0 {
		t.Errorf("%d invitations and reminders left after the round closed, want none", n)
	}
	housekeep(closesAt.Add(time.Hour))
	if got := o.countKind(t, "reminder", ""); got != 0 {
		t.Errorf("%d reminders after closing, want none", got)
	}
}

func TestRoundThatClosedBeforeHousekeepingRanSendsNoReminders(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	runner := o.runner()
	slot := o.at0900(2026, 6, 8)
	round, _, err := runner.FireProgram(ctx, p.ID, slot)
	if err != nil {
		t.Fatal(err)
	}
	// Tandem was down from Monday until after the round closed.
	if err := runner.Housekeep(ctx, slot.AddDate(0, 0, 6)); err != nil {
		t.Fatal(err)
	}
	if got := o.countKind(t, "reminder", ""); got != 0 {
		t.Errorf("%d reminders for a round that has closed, want 0", got)
	}
	if r, _ := o.st.Round(ctx, round.ID); !r.Closed {
		t.Error("round still open after its window, want closed")
	}
}

func TestProgramWithoutRemindersQueuesNone(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), func(p *pulse.Program) { p.ReminderDays = 0 })
	runner := o.runner()
	slot := o.at0900(2026, 6, 8)
	round, _, err := runner.FireProgram(ctx, p.ID, slot)
	if err != nil {
		t.Fatal(err)
	}
	if !round.RemindAt.IsZero() {
		t.Errorf("round reminds at %v, want never", round.RemindAt)
	}
	for d := 1; d <= 4; d++ {
		if err := runner.Housekeep(ctx, slot.AddDate(0, 0, d)); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.countKind(t, "reminder", ""); got != 0 {
		t.Errorf("%d reminders, want 0", got)
	}
}

func TestSchedulerRunsHousekeepingOnItsClock(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil)
	slot := o.at0900(2026, 6, 8)
	fc := clockwork.NewFakeClockAt(slot.Add(-time.Minute).UTC())
	sched := o.startScheduler(t, fc, schedule.Options{HousekeepEvery: time.Hour})

	blockUntilTimers(t, fc, 2)
	fc.Advance(time.Minute)
	eventually(t, "Monday's round", func() bool { return len(o.rounds(t, p.ID)) == 1 })
	settle(t, sched)

	// Two days and an hour later the hourly housekeeping has queued the
	// reminders; a day after the window it has closed the round.
	blockUntilTimers(t, fc, 2)
	fc.Advance(49 * time.Hour)
	eventually(t, "the reminders", func() bool { return o.countKind(t, "reminder", "") == orgSize })
	settle(t, sched)
	blockUntilTimers(t, fc, 2)
	fc.Advance(3 * 24 * time.Hour)
	eventually(t, "the round to close", func() bool {
		rs := o.rounds(t, p.ID)
		return len(rs) == 1 && rs[0].Closed
	})
}

func TestPeriodicJobsRunOnTheSchedulersClockWithTheirFiringTime(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	start := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	fc := clockwork.NewFakeClockAt(start)
	fired := make(chan time.Time, 4)
	o.startScheduler(t, fc, schedule.Options{HousekeepEvery: time.Hour, DigestCron: "-", Periodic: []schedule.Periodic{{
		Name: "helpdesk sync", Every: time.Minute,
		Run: func(ctx context.Context, now time.Time) error { fired <- now; return nil },
	}}})
	blockUntilTimers(t, fc, 2)
	fc.Advance(time.Minute)
	select {
	case got := <-fired:
		if !got.Equal(start.Add(time.Minute)) {
			t.Errorf("fired with %v, want %v", got, start.Add(time.Minute))
		}
	case <-time.After(waitDeadline):
		t.Fatal("the periodic job did not fire")
	}
}
