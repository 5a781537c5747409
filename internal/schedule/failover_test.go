package schedule_test

import (
	"context"
	"testing"
	"time"
)

// When the replica that runs the jobs dies just before a slot, gocron on
// the next leader does not run the job it missed. The next leader's
// housekeeping (every minute) catches up: it creates the missed round,
// while its window is open, once.
func TestCatchUpOfTheNextLeaderCreatesTheSlotTheOldOneMissed(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), nil) // Mondays 09:00 Berlin, open 5 days
	runner := o.runner()
	first := o.at0900(2026, 6, 8)
	if _, created, err := runner.FireProgram(ctx, p.ID, first); err != nil || !created {
		t.Fatalf("first Monday: %v %v", created, err)
	}
	// The leader died before 15 June 09:00; the next one's housekeeping
	// runs 40 seconds later.
	missed := first.AddDate(0, 0, 7)
	if n, err := runner.CatchUp(ctx, missed.Add(40*time.Second)); err != nil || n != 1 {
		t.Fatalf("catch-up after the slot: made %d (%v), want 1", n, err)
	}
	rs := o.rounds(t, p.ID)
	if len(rs) != 2 || !rs[0].ScheduledAt.Equal(missed) || !rs[1].ScheduledAt.Equal(first) {
		t.Fatalf("rounds %v, want the missed Monday and the first", rs)
	}
	// The next minute's housekeeping, and the job firing late, find it.
	if n, err := runner.CatchUp(ctx, missed.Add(100*time.Second)); err != nil || n != 0 {
		t.Errorf("a second catch-up made %d (%v), want 0", n, err)
	}
	if _, created, _ := runner.FireProgram(ctx, p.ID, missed.Add(time.Hour)); created {
		t.Error("a late firing created a round")
	}
}
