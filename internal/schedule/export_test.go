package schedule

// JobsIdle reports whether no job of the scheduler is running. Tests that
// drive a fake clock from one run to the next wait for it: a job in
// singleton mode that fires while its previous run is still finishing is
// skipped by gocron (LimitModeReschedule), and a test advancing the clock
// faster than real work finishes would lose that run.
func (s *Scheduler) JobsIdle() bool {
	for _, job := range s.gc.Jobs() {
		if running, err := job.IsRunning(); err != nil || running {
			return false
		}
	}
	return true
}
