// Package memlimit sizes the Go runtime's soft memory limit from what the
// server keeps alive, so that an operator need not.
//
// A server keeps what its reports read from closed rounds, and a report
// built after new data needs about as much again while it is built. Left
// alone, Go's collector lets the heap grow to twice what was alive at its
// last collection, so a collection that ends during a report sets the
// peak: about four times what is kept. A soft limit a little above what a
// report needs alive bounds that peak, and costs the collector little
// more work; a limit below it makes the collector run almost all the time.
//
// The rule (Rule.Limit) takes what is kept to be the least live heap seen
// over a window of recent collections — between reports the live heap
// falls back to it — and sets the limit at a multiple of it, never under
// a floor that no small organisation reaches. It follows the organisation
// as its history grows, and never needs the operator to know its size.
package memlimit

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Rule is how the limit follows the live heap.
type Rule struct {
	// Floor is the least limit set.
	Floor int64
	// Factor multiplies the live heap kept between reports. It must
	// exceed the ratio of what a report needs alive while it is built to
	// what is kept (about 2 at 50,000 employees, BENCHMARKS.md), with room
	// for the garbage made between collections.
	Factor float64
	// Window is how long a live-heap sample counts towards the least.
	Window time.Duration
	// Every is how often the live heap is read.
	Every time.Duration
}

// Default is the rule `tandem serve` follows without --memory-limit: at
// least 100 MiB, else 2.5 times the least live heap of the last five
// minutes. The runtime collects at least every two minutes, so an idle
// server's window holds collections made between reports.
//
// Measured at 50,000 employees (BENCHMARKS.md, issue 19, ninth pass): the
// least live heap under back-to-back reports was about 38 MiB, so the
// rule alone would set about 95 MiB, and the floor holds the limit at 100
// MiB, where the server peaked at 131–137 MiB against 194–201 MiB with no
// limit. A report there needs well over twice what is kept while it is
// built (under a 90 MiB limit an earlier build's reports slowed from about
// 420 to 609 ms), so 2.5 leaves little room: where the rule binds, a larger
// organisation's reports cost the collector more than with no limit, in
// exchange for a bounded peak.
// In the first five minutes after a start the window still holds the
// readings from before the history was loaded, so the floor holds.
var Default = Rule{Floor: 100 << 20, Factor: 2.5, Window: 5 * time.Minute, Every: 10 * time.Second}

// Limit is the limit for the least live heap of the window, in bytes.
func (r Rule) Limit(leastLive uint64) int64 {
	limit := int64(r.Factor * float64(leastLive))
	return max(limit, r.Floor)
}

// sample is one reading of the live heap.
type sample struct {
	at   time.Time
	live uint64
}

// Follower keeps the runtime's soft memory limit at its rule's limit.
type Follower struct {
	Rule Rule
	// Live reads the heap alive at the latest collection (by default the
	// runtime's /gc/heap/live:bytes).
	Live func() uint64
	// Set sets the soft limit and returns the one before (by default
	// debug.SetMemoryLimit).
	Set func(int64) int64
	// Changed, when set, is told each limit set.
	Changed func(limit int64)

	samples []sample
	limit   int64
}

// Observe records a reading of the live heap at now and sets the limit
// its window asks for, when that differs from the one set by more than a
// twentieth (so that the limit does not move with every collection). It
// returns the limit in force.
func (f *Follower) Observe(now time.Time, live uint64) int64 {
	keep := f.samples[:0]
	for _, s := range f.samples {
		if now.Sub(s.at) < f.Rule.Window {
			keep = append(keep, s)
		}
	}
	f.samples = append(keep, sample{now, live})
	least := live
	for _, s := range f.samples {
		least = min(least, s.live)
	}
	want := f.Rule.Limit(least)
	if f.limit == 0 || want > f.limit+f.limit/20 || want < f.limit-f.limit/20 {
		f.limit = want
		f.set()(want)
		if f.Changed != nil {
			f.Changed(want)
		}
	}
	return f.limit
}

// Run reads the live heap every Rule.Every and follows it until ctx ends;
// then it puts back the limit that was in force before it started.
func (f *Follower) Run(ctx context.Context) {
	before := f.set()(-1)
	defer f.set()(before)
	live := f.Live
	if live == nil {
		live = liveHeap
	}
	tick := time.NewTicker(f.Rule.Every)
	defer tick.Stop()
	for {
		f.Observe(time.Now(), live())
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (f *Follower) set() func(int64) int64 {
	if f.Set != nil {
		return f.Set
	}
	return debug.SetMemoryLimit
}

// liveHeap reads the runtime's live heap at its latest collection.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
