package schedule_test

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// When the replica that runs the jobs dies just before a slot, the next
// leader fires at the following slot: it must create the missed round too
// (its window is still open), each once.
func TestNextFiringCreatesTheSlotALeaderMissed(t *testing.T) {
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), func(p *pulse.Program) {
		p.Cron = "0 9 * * *" // daily
		p.WindowDays = 5
		p.ReminderDays = 0
	})
	runner := o.runner()
	d1 := o.at0900(2026, 6, 8)
	if _, created, err := runner.FireProgram(ctx, p.ID, d1); err != nil || !created {
		t.Fatalf("first day: %v %v", created, err)
	}
	// 9 June was missed; the new leader fires on 10 June.
	d3 := d1.AddDate(0, 0, 2)
	r, created, err := runner.FireProgram(ctx, p.ID, d3.Add(50*time.Millisecond))
	if err != nil || !created || !r.ScheduledAt.Equal(d3) {
		t.Fatalf("third day: round %v created %v err %v; want the round of %v", r.ScheduledAt, created, err, d3)
	}
	rs := o.rounds(t, p.ID)
	if len(rs) != 3 {
		t.Fatalf("%d rounds, want 3 (the missed day included)", len(rs))
	}
	for i, want := range []time.Time{d3, d1.AddDate(0, 0, 1), d1} { // newest first
		if !rs[i].ScheduledAt.Equal(want) {
			t.Errorf("round %d at %v, want %v", i, rs[i].ScheduledAt, want)
		}
	}
	// Firing again creates nothing.
	if _, created, _ := runner.FireProgram(ctx, p.ID, d3.Add(time.Minute)); created {
		t.Error("a repeated firing created a round")
	}
}
