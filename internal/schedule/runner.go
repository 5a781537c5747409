// Package schedule runs Tandem's background work: a gocron v2 scheduler
// with one job per active program, fired at the slots pulse computes for
// its cadence (creating rounds exactly once per slot, as pulse plans and
// admits them), housekeeping that catches up missed slots, closes rounds
// and queues reminders, and the outbox worker that delivers messages with
// retries. The rules of the round lifecycle live in pulse; this package
// only runs them. Every job body takes the current time as an argument, so
// tests can run "next Monday 09:00" without waiting for it.
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
	// Rollups, when set, is called at the end of every housekeeping,
	// after rounds close, to work out what the reports keep of closed
	// rounds (serve: report.AgreementRollupSaver, a few rounds a time),
	// at the housekeeping's now.
	Rollups func(ctx context.Context, now time.Time) error
}

// NewRunner returns the job bodies over st.
func NewRunner(st *store.Store, log *slog.Logger) *Runner {
	return &Runner{store: st, log: log}
}

// FireProgram is the body of a program's job: it creates the rounds of
// the slots due at now (pulse.Program.DueSlots: the latest slot not after
// now, and slots missed since the last round whose window is still open).
// A double fire, a restart or another replica firing the same slot finds
// the round made and creates nothing; a slot on a day a round was already
// sent by hand is skipped and logged.
func (r *Runner) FireProgram(ctx context.Context, programID int64, now time.Time) (pulse.Round, bool, error) {
	p, err := r.store.Program(ctx, programID)
	if err != nil {
		return pulse.Round{}, false, err
	}
	if !p.Active {
		return pulse.Round{}, false, nil
	}
	sched, err := p.Schedule()
	if err != nil {
		return pulse.Round{}, false, err
	}
	last, hadRound, err := r.store.LatestScheduledSlot(ctx, p.ID)
	if err != nil {
		return pulse.Round{}, false, err
	}
	var round pulse.Round
	made := false
	for _, slot := range p.DueSlots(sched, now, last, hadRound) {
		if hadRound && slot.Equal(last) {
			// Made already (a repeated firing, or housekeeping's catch-up
			// every minute): a read, not a write transaction.
			if rd, ok, err := r.store.RoundAt(ctx, p.ID, slot); err != nil {
				return rd, made, err
			} else if ok {
				rd.ProgramName, rd.TimeZone = p.Name, p.Cadence.Zone
				round = rd
				continue
			}
		}
		rd, created, err := r.createRound(ctx, &p, slot, false, now)
		if pulse.IsDayTaken(err) {
			r.log.Info("scheduled round skipped: a round of the program already started that day", "program", p.ID, "slot", slot, "reason", err)
			continue
		}
		if err != nil {
			return rd, made, err
		}
		round, made = rd, made || created
	}
	return round, made, nil
}

// SendNow creates an extra round of the program starting now ("send a
// round now" in the program page). It is refused while a round of the
// program is open or one started that day (pulse.Program.Admit); a second
// click within pulse.ManualRoundGuard finds the round made.
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

// Housekeep closes rounds whose window passed, queues due reminders and
// then runs Rollups.
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
	if r.Rollups != nil {
		return r.Rollups(ctx, now)
	}
	return nil
}
