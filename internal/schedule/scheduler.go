package schedule

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/google/uuid"
	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/store"
)

// Options tune the scheduler.
type Options struct {
	// Clock drives the scheduler; a fake clock in tests.
	Clock clockwork.Clock
	// Elector, when set, lets only the leader replica run jobs.
	Elector gocron.Elector
	// HousekeepEvery is how often missed rounds are caught up, rounds
	// closed and reminders queued (default one minute).
	HousekeepEvery time.Duration
	// DigestCron is when the weekly HR digest is queued, in UTC (default
	// DigestCron); "-" turns it off.
	DigestCron string
	// Periodic are further jobs run every so often on the leader, such as
	// the helpdesk sync.
	Periodic []Periodic
}

// Periodic is a job run every Every; Run takes the time it fires.
type Periodic struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context, now time.Time) error
}

// Scheduler keeps one gocron job per active program in step with the
// programs in the store.
type Scheduler struct {
	runner *Runner
	store  *store.Store
	log    *slog.Logger
	clock  clockwork.Clock
	gc     gocron.Scheduler
	// ctx is the scheduler's lifetime, passed to job bodies.
	ctx context.Context

	mu   sync.Mutex
	jobs map[int64]programJob

	stop, done chan struct{}
	stopOnce   sync.Once
}

type programJob struct {
	id uuid.UUID
	// key is what the job was made from: the cadence, its zone and the
	// skipped dates. A program whose key changed gets a new job.
	key string
}

// jobKey names what a program's job runs on.
func jobKey(p pulse.Program) string {
	return pulse.MarshalCadence(p.Cadence) + " " + p.Cadence.Zone + " skip " + strings.Join(p.Skips, ",")
}

// cadenceCron lets gocron fire a program's job at the slots its schedule
// computes (pulse.Schedule): gocron keeps the timer, pulse says when.
type cadenceCron struct{ s *pulse.Schedule }

func (c cadenceCron) IsValid(_ string, _ *time.Location, now time.Time) error {
	if c.s.Next(now).IsZero() {
		return fmt.Errorf("the cadence has no slot after %v", now)
	}
	return nil
}

// Next is in UTC, like gocron's own times, so that its check for a
// repeated wall-clock time never mistakes two different slots for one.
func (c cadenceCron) Next(last time.Time) time.Time { return c.s.Next(last).UTC() }

// New builds a scheduler; Start starts it.
func New(runner *Runner, st *store.Store, log *slog.Logger, opt Options) (*Scheduler, error) {
	if opt.Clock == nil {
		opt.Clock = clockwork.NewRealClock()
	}
	if opt.HousekeepEvery == 0 {
		opt.HousekeepEvery = time.Minute
	}
	gopts := []gocron.SchedulerOption{gocron.WithClock(opt.Clock), gocron.WithLocation(time.UTC), gocron.WithStopTimeout(30 * time.Second)}
	if opt.Elector != nil {
		gopts = append(gopts, gocron.WithDistributedElector(opt.Elector))
	}
	gc, err := gocron.NewScheduler(gopts...)
	if err != nil {
		return nil, fmt.Errorf("create scheduler: %w", err)
	}
	s := &Scheduler{runner: runner, store: st, log: log, clock: opt.Clock, gc: gc, jobs: map[int64]programJob{}, stop: make(chan struct{})}
	_, err = gc.NewJob(gocron.DurationJob(opt.HousekeepEvery), gocron.NewTask(func() {
		now := s.clock.Now()
		// gocron runs no job it missed: a replica that becomes the
		// leader after a slot passed creates that slot's round here.
		if n, err := runner.CatchUp(s.ctx, now); err != nil && s.ctx.Err() == nil {
			log.Error("catch up missed rounds", "err", err)
		} else if n > 0 {
			log.Info("created rounds whose slot passed without them", "count", n)
		}
		if err := runner.Housekeep(s.ctx, now); err != nil && s.ctx.Err() == nil {
			log.Error("housekeeping", "err", err)
		}
	}), gocron.WithName("housekeeping"), gocron.WithSingletonMode(gocron.LimitModeReschedule))
	if err != nil {
		return nil, err
	}
	if opt.DigestCron == "" {
		opt.DigestCron = DigestCron
	}
	if opt.DigestCron != "-" {
		_, err = gc.NewJob(gocron.CronJob("CRON_TZ=UTC "+opt.DigestCron, false), gocron.NewTask(func() {
			if _, err := runner.Digest(s.ctx, s.clock.Now()); err != nil && s.ctx.Err() == nil {
				log.Error("weekly digest", "err", err)
			}
		}), gocron.WithName("digest"), gocron.WithSingletonMode(gocron.LimitModeReschedule))
		if err != nil {
			return nil, fmt.Errorf("digest schedule %q: %w", opt.DigestCron, err)
		}
	}
	for _, p := range opt.Periodic {
		_, err = gc.NewJob(gocron.DurationJob(p.Every), gocron.NewTask(func() {
			if err := p.Run(s.ctx, s.clock.Now()); err != nil && s.ctx.Err() == nil {
				log.Error(p.Name, "err", err)
			}
		}), gocron.WithName(p.Name), gocron.WithSingletonMode(gocron.LimitModeReschedule))
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Start syncs jobs with the programs, creates rounds missed while Tandem
// was down, and starts firing. Job bodies run with ctx.
func (s *Scheduler) Start(ctx context.Context) error {
	s.ctx = ctx
	if err := s.Sync(ctx); err != nil {
		return err
	}
	if n, err := s.runner.CatchUp(ctx, s.clock.Now()); err != nil {
		return err
	} else if n > 0 {
		s.log.Info("created rounds missed while tandem was not running", "count", n)
	}
	if err := s.runner.Housekeep(ctx, s.clock.Now()); err != nil {
		s.log.Error("housekeeping", "err", err)
	}
	s.gc.Start()
	// Programs may change through another replica: follow them.
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		t := time.NewTicker(SyncEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-s.stop:
				return
			case <-t.C:
				if err := s.Sync(ctx); err != nil && ctx.Err() == nil {
					s.log.Warn("sync scheduler with programs", "err", err)
				}
			}
		}
	}()
	return nil
}

// SyncEvery is how often a scheduler re-reads the programs, so that a
// change made through another replica takes effect without a restart.
var SyncEvery = 15 * time.Second

// Stop stops the scheduler and waits for running jobs to finish.
func (s *Scheduler) Stop() error {
	s.stopOnce.Do(func() {
		close(s.stop)
		if s.done != nil {
			<-s.done
		}
	})
	return s.gc.Shutdown()
}

// Sync brings the jobs in line with the programs: a job per active program
// with its current cadence and skipped dates, none for paused or deleted
// programs. Call it after a program changes; no restart is needed.
func (s *Scheduler) Sync(ctx context.Context) error {
	programs, err := s.store.Programs(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[int64]pulse.Program{}
	for _, p := range programs {
		if p.Active {
			want[p.ID] = p
		}
	}
	for id, j := range s.jobs {
		if p, ok := want[id]; ok && jobKey(p) == j.key {
			continue
		}
		if err := s.gc.RemoveJob(j.id); err != nil {
			s.log.Warn("remove program job", "program", id, "err", err)
		}
		delete(s.jobs, id)
	}
	for id, p := range want {
		if _, ok := s.jobs[id]; ok {
			continue
		}
		sch, err := p.Schedule()
		if err != nil {
			s.log.Error("program has an invalid cadence; it will not run", "program", id, "err", err)
			continue
		}
		programID, key := id, jobKey(p)
		job, err := s.gc.NewJob(gocron.CronJob(key, false), gocron.NewTask(func() {
			if _, _, err := s.runner.FireProgram(s.ctx, programID, s.clock.Now()); err != nil && s.ctx.Err() == nil {
				s.log.Error("create round", "program", programID, "err", err)
			}
		}), gocron.WithName(fmt.Sprintf("program-%d", programID)), gocron.WithTags("program"),
			// Wait, not Reschedule: a slot that comes while the previous
			// run is still finishing runs after it instead of being dropped
			// until housekeeping's catch-up; FireProgram is idempotent per
			// slot, so a late run never makes a second round.
			gocron.WithCronImplementation(cadenceCron{sch}), gocron.WithSingletonMode(gocron.LimitModeWait))
		if err != nil {
			s.log.Error("schedule program", "program", id, "err", err)
			continue
		}
		s.jobs[id] = programJob{id: job.ID(), key: key}
	}
	return nil
}

// NextRun returns when a program's job fires next (zero if it has none).
func (s *Scheduler) NextRun(programID int64) time.Time {
	s.mu.Lock()
	j, ok := s.jobs[programID]
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	for _, job := range s.gc.Jobs() {
		if job.ID() == j.id {
			t, err := job.NextRun()
			if err == nil {
				return t
			}
		}
	}
	return time.Time{}
}

// SendNow starts an extra round of a program at once, unless a round of
// it is open or one started today (pulse.Program.Admit).
func (s *Scheduler) SendNow(ctx context.Context, programID int64, now time.Time) (pulse.Round, bool, error) {
	return s.runner.SendNow(ctx, programID, now)
}
