package memlimit

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

const mib = 1 << 20

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

// step is one reading and the limit wanted after it.
type step struct {
	after time.Duration
	live  uint64
	// gc and code are the CPU the collector and the code used since the
	// reading before.
	gc, code time.Duration
	want     int64
}

// follow feeds the steps to f, as cumulative readings, and checks the
// limit after each; it returns the limits f set.
func follow(t *testing.T, f *Follower, steps []step) []int64 {
	t.Helper()
	var set []int64
	f.Set = func(n int64) int64 { set = append(set, n); return 0 }
	var r Reading
	for _, s := range steps {
		r.Live, r.GC, r.Code = s.live, r.GC+s.gc, r.Code+s.code
		if got := f.Observe(t0.Add(s.after), r); got != s.want {
			t.Errorf("at %v reading %d MiB (gc %v, code %v): limit %d MiB, want %d MiB", s.after, s.live/mib, s.gc, s.code, got/mib, s.want/mib)
		}
	}
	return set
}

func sameLimits(t *testing.T, got, want []int64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("limits set %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("limit set %d: %d MiB, want %d MiB", i, got[i]/mib, want[i]/mib)
		}
	}
}

// The limit is the factor times the least live heap of the window, never
// under the floor: a report's high-water does not raise it, a history that
// grows raises it once the smaller readings have left the window, and a
// change under a twentieth is not set at all.
func TestTheLimitIsAMultipleOfTheLeastLiveHeapAboveAFloor(t *testing.T) {
	f := &Follower{Rule: Rule{Floor: 100 * mib, Factor: 2, GiveWay: 0.5, Busy: time.Second, Window: 5 * time.Minute}}
	set := follow(t, f, []step{
		{after: 0, live: 10 * mib, want: 100 * mib},                 // a fresh server: the floor
		{after: time.Minute, live: 80 * mib, want: 100 * mib},       // the first reports: 10 MiB is still the least
		{after: 2 * time.Minute, live: 60 * mib, want: 100 * mib},   // kept between reports
		{after: 6 * time.Minute, live: 150 * mib, want: 120 * mib},  // 10 MiB has left the window; 60 is the least
		{after: 7 * time.Minute, live: 61 * mib, want: 120 * mib},   // 60 has left; 122 MiB is within a twentieth, not set
		{after: 8 * time.Minute, live: 70 * mib, want: 120 * mib},   // 61 is still the least
		{after: 12 * time.Minute, live: 70 * mib, want: 140 * mib},  // 61 has left
		{after: 13 * time.Minute, live: 400 * mib, want: 140 * mib}, // a report's high-water
		{after: 20 * time.Minute, live: 20 * mib, want: 100 * mib},  // the history shrank: back to the floor
	})
	sameLimits(t, set, []int64{100 * mib, 120 * mib, 140 * mib, 100 * mib})
}

// When the collector takes more than its share of a busy reading's CPU,
// the limit gives way: to half as much again as the live heap, or by a
// quarter if that is more, again at each such reading, and the raise
// holds for the window; a share at or under the rule's, or one over too
// little CPU to count, raises nothing.
func TestTheLimitGivesWayWhenTheCollectorWorksTooHard(t *testing.T) {
	f := &Follower{Rule: Rule{Floor: 100 * mib, Factor: 2, GiveWay: 0.2, Busy: time.Second, Window: 5 * time.Minute}}
	var told []float64
	f.Changed = func(_ int64, share float64) { told = append(told, share) }
	s := time.Second
	const twice = 125*mib + 125*mib/4 // 100 MiB raised by a quarter twice
	set := follow(t, f, []step{
		{after: 0, live: 30 * mib, want: 100 * mib},
		{after: 10 * s, live: 30 * mib, gc: 200 * time.Millisecond, code: 800 * time.Millisecond, want: 100 * mib}, // 20%: not over
		{after: 20 * s, live: 30 * mib, gc: 300 * time.Millisecond, code: 600 * time.Millisecond, want: 100 * mib}, // 33%, but under a second of CPU
		{after: 30 * s, live: 70 * mib, gc: 3 * s, code: 7 * s, want: 125 * mib},                                   // 30%: a quarter more, over 1.5 × 70
		{after: 40 * s, live: 70 * mib, gc: 3 * s, code: 7 * s, want: twice},                                       // and again
		{after: 50 * s, live: 140 * mib, gc: 3 * s, code: 7 * s, want: 210 * mib},                                  // 1.5 × 140, over a quarter more
		{after: 60 * s, live: 90 * mib, gc: 1 * s, code: 9 * s, want: 210 * mib},                                   // 10%: it holds
		{after: 5*time.Minute + 55*s, live: 40 * mib, want: 100 * mib},                                             // the raises have left the window
	})
	sameLimits(t, set, []int64{100 * mib, 125 * mib, twice, 210 * mib, 100 * mib})
	if len(told) != 5 || told[1] != 0.3 || told[2] != 0.3 || told[3] != 0.3 {
		t.Errorf("told the collector's shares %v, want 0.3 for the raises", told)
	}
}

// Run sets the runtime's own limit while it runs and puts back the one
// before when its context ends.
func TestRunSetsTheRuntimesLimitUntilItsContextEnds(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	changed := make(chan int64, 1)
	f := Follower{Rule: Rule{Floor: 64 * mib, Factor: 3, GiveWay: 0.5, Busy: time.Second, Window: time.Minute, Every: time.Millisecond},
		Read: func() Reading { return Reading{Live: 50 * mib} }, Changed: func(n int64, _ float64) { changed <- n }}
	go func() { f.Run(ctx); close(done) }()
	if got := <-changed; got != 150*mib || debug.SetMemoryLimit(-1) != 150*mib {
		t.Errorf("while running: told %d MiB, the runtime has %d MiB; want 150 MiB", got/mib, debug.SetMemoryLimit(-1)/mib)
	}
	cancel()
	<-done
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("after its context ended the runtime's limit is %d, want %d as before", got, before)
	}
}

// The default follower reads the runtime: after a collection with 32 MiB
// alive, a live heap of at least that, and CPU that the collector and the
// code used, both growing.
func TestTheRuntimeIsRead(t *testing.T) {
	first := readRuntime()
	keep := make([]byte, 32*mib)
	for i := range keep {
		keep[i] = byte(i)
	}
	runtime.GC()
	r := readRuntime()
	if r.Live < 32*mib {
		t.Errorf("live heap %d MiB with 32 MiB alive", r.Live/mib)
	}
	if r.GC <= first.GC || r.Code < first.Code || r.Code <= 0 {
		t.Errorf("CPU read %v then %v: want the collector's and the code's, growing", first, r)
	}
	runtime.KeepAlive(keep)
}
