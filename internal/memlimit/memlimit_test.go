package memlimit

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

const mib = 1 << 20

// The limit is the factor times the least live heap of the window, never
// under the floor.
func TestTheLimitIsAMultipleOfWhatIsKeptAboveAFloor(t *testing.T) {
	r := Rule{Floor: 100 * mib, Factor: 2.5}
	for _, tc := range []struct {
		live uint64
		want int64
	}{{0, 100 * mib}, {12 * mib, 100 * mib}, {40 * mib, 100 * mib}, {48 * mib, 120 * mib}, {400 * mib, 1000 * mib}} {
		if got := r.Limit(tc.live); got != tc.want {
			t.Errorf("least live %d MiB: limit %d MiB, want %d MiB", tc.live/mib, got/mib, tc.want/mib)
		}
	}
}

// A follower sets the limit from the least live heap of its window: a
// report's high-water does not raise it, a history that grows raises it
// once the smaller readings have left the window, and a change under a
// twentieth is not set at all.
func TestAFollowerTracksTheLeastLiveHeapOfItsWindow(t *testing.T) {
	var set []int64
	f := Follower{Rule: Rule{Floor: 100 * mib, Factor: 2, Window: 5 * time.Minute},
		Set: func(n int64) int64 { set = append(set, n); return 0 }}
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		after time.Duration
		live  uint64
		want  int64
	}{
		{0, 10 * mib, 100 * mib},                // a fresh server: the floor
		{time.Minute, 80 * mib, 100 * mib},      // the first reports: 10 MiB is still the least
		{2 * time.Minute, 60 * mib, 100 * mib},  // kept between reports
		{6 * time.Minute, 150 * mib, 120 * mib}, // 10 MiB has left the window; 60 is the least
		{7 * time.Minute, 61 * mib, 120 * mib},  // 60 has left; 122 MiB is within a twentieth, not set
		{8 * time.Minute, 70 * mib, 120 * mib},  // 61 is still the least
		{12 * time.Minute, 70 * mib, 140 * mib}, // 61 has left
		{20 * time.Minute, 20 * mib, 100 * mib}, // the history shrank: back to the floor
	}
	for _, s := range steps {
		if got := f.Observe(t0.Add(s.after), s.live); got != s.want {
			t.Errorf("at %v reading %d MiB: limit %d MiB, want %d MiB", s.after, s.live/mib, got/mib, s.want/mib)
		}
	}
	want := []int64{100 * mib, 120 * mib, 140 * mib, 100 * mib}
	if len(set) != len(want) {
		t.Fatalf("limits set %v, want %v", set, want)
	}
	for i := range want {
		if set[i] != want[i] {
			t.Errorf("limit set %d: %d MiB, want %d MiB", i, set[i]/mib, want[i]/mib)
		}
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
	f := Follower{Rule: Rule{Floor: 64 * mib, Factor: 3, Window: time.Minute, Every: time.Millisecond},
		Live: func() uint64 { return 50 * mib }, Changed: func(n int64) { changed <- n }}
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

// The runtime's live heap is what the default follower reads: after a
// collection with 32 MiB alive, it reads at least that.
func TestLiveHeapReadsTheRuntime(t *testing.T) {
	keep := make([]byte, 32*mib)
	runtime.GC()
	if got := liveHeap(); got < 32*mib {
		t.Errorf("live heap %d MiB with 32 MiB alive", got/mib)
	}
	runtime.KeepAlive(keep)
}
