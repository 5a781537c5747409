// Package schedule runs Tandem's background work: a gocron v2 scheduler
// with one job per active program (creating rounds exactly once per
// scheduled slot), housekeeping that closes rounds and queues reminders,
// and the outbox worker that delivers messages with retries. Every job body
// takes the current time as an argument, so tests can run "next Monday
// 09:00" without waiting for it.
package schedule

import (
	"context"
	"log/slog"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
)

// Runner holds the job bodies. It is safe for concurrent use.
type Runner struct {
	store *store.Store
	log   *slog.Logger
	// OnRound is called after a round is created or messages are queued
	// (to wake the outbox).
	OnRound func(pulse.Round)
	// BaseURL prefixes links in digests.
	BaseURL string
}

// NewRunner returns the job bodies over st.
func NewRunner(st *store.Store, log *slog.Logger) *Runner {
	return &Runner{store: st, log: log}
}

// FireProgram is the body of a program's job: it creates the round of the
// latest slot at or before now. A double fire, a restart or another
// replica firing the same slot finds the round made and creates nothing.
func (r *Runner) FireProgram(ctx context.Context, programID int64, now time.Time) (pulse.Round, bool, error) {
	p, err := r.store.Program(ctx, programID)
	if err != nil {
		return pulse.Round{}, false, err
	}
	if !p.Active {
		return pulse.Round{}, false, nil
	}
	sched, err := pulse.ParseSchedule(p.Cron, p.TimeZone)
	if err != nil {
		return pulse.Round{}, false, err
	}
	// A job fires at its slot, perhaps a little late: the slot is the
	// latest one not after now, looked for within the answer window.
	// The window is counted in days of the program's zone, as the store
	// counts closes_at: across a daylight-saving change a window of days is
	// an hour shorter or longer than days × 24 h.
	loc := sched.Location()
	since := now.In(loc).AddDate(0, 0, -p.WindowDays)
	if p.CreatedAt.After(since) {
		since = p.CreatedAt.Add(-time.Second)
	}
	// Every slot since the last scheduled round whose window is still
	// open gets its round: normally just the one that fired, but after a
	// leader replica died, the slot it missed too. At most maxCatchUp.
	last, hadRound, err := r.store.LatestScheduledSlot(ctx, p.ID)
	if err != nil {
		return pulse.Round{}, false, err
	}
	if hadRound && last.After(since) {
		// From the last round itself: firing its slot again finds it.
		since = last.Add(-time.Second)
	}
	var slots []time.Time
	for t := sched.Next(since); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		// A round that would be closed already is not created.
		if now.Before(t.In(loc).AddDate(0, 0, p.WindowDays)) {
			slots = append(slots, t)
		}
	}
	keep := maxCatchUp
	if !hadRound {
		keep = 1 // a program's first firing starts with the current slot only
	}
	if len(slots) > keep {
		slots = slots[len(slots)-keep:]
	}
	var round pulse.Round
	made := false
	for _, slot := range slots {
		rd, created, err := r.createRound(ctx, &p, slot, false, now)
		if err != nil {
			return rd, made, err
		}
		round, made = rd, made || created
	}
	return round, made, nil
}

// maxCatchUp bounds how many missed slots one firing creates.
const maxCatchUp = 10

// SendNow creates an extra round of the program starting now ("send a
// round now" in the program page). A second click in the same second finds
// the round made.
func (r *Runner) SendNow(ctx context.Context, programID int64, now time.Time) (pulse.Round, bool, error) {
	p, err := r.store.Program(ctx, programID)
	if err != nil {
		return pulse.Round{}, false, err
	}
	return r.createRound(ctx, &p, now, true, now)
}

func (r *Runner) createRound(ctx context.Context, p *pulse.Program, slot time.Time, manual bool, now time.Time) (pulse.Round, bool, error) {
	round, created, err := r.store.CreateRound(ctx, p, slot, manual, now)
	if err != nil {
		return round, false, err
	}
	if created {
		r.log.Info("round created", "program", p.ID, "round", round.ID, "seq", round.Seq, "scheduled_at", round.ScheduledAt, "manual", manual)
		if r.OnRound != nil {
			r.OnRound(round)
		}
	}
	return round, created, nil
}

// CatchUp creates, once, the latest round of each active program that was
// due while Tandem was not running and whose answer window is still open.
// gocron does not run missed jobs; the rounds table is the record of which
// slots ran.
func (r *Runner) CatchUp(ctx context.Context, now time.Time) (int, error) {
	programs, err := r.store.Programs(ctx)
	if err != nil {
		return 0, err
	}
	made := 0
	for _, p := range programs {
		if !p.Active {
			continue
		}
		_, created, err := r.FireProgram(ctx, p.ID, now)
		if err != nil {
			r.log.Error("catch up program", "program", p.ID, "err", err)
			continue
		}
		if created {
			made++
		}
	}
	return made, nil
}

// Housekeep closes rounds whose window passed and queues due reminders.
func (r *Runner) Housekeep(ctx context.Context, now time.Time) error {
	closed, err := r.store.CloseDueRounds(ctx, now)
	if err != nil {
		return err
	}
	if closed > 0 {
		r.log.Info("rounds closed", "count", closed)
	}
	queued, err := r.store.QueueDueReminders(ctx, now)
	if err != nil {
		return err
	}
	if queued > 0 {
		r.log.Info("reminders queued", "count", queued)
		if r.OnRound != nil {
			r.OnRound(pulse.Round{})
		}
	}
	return nil
}
