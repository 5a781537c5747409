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
// The rule (Rule) takes what is kept to be the least live heap seen over a
// window of recent collections — between reports the live heap falls back
// to it — and sets the limit at a multiple of it, never under a floor that
// no small organisation reaches. Where that is too tight, the collector's
// share of the CPU says so, and the limit gives way. It follows the
// organisation as its history grows, and never needs the operator to know
// its size.
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
	// what is kept, with room for the garbage made between collections.
	Factor float64
	// GiveWay is the share of the CPU the process's Go code and collector
	// use that the collector may take over one reading: above it the
	// limit is too tight for what the server does, and is raised to half
	// as much again as the live heap of the latest collection (what the
	// server needs now), or by a quarter if that is more; a raise holds
	// for Window. Busy is the least CPU a reading must have used for its
	// share to count: an idle server's few collections say nothing.
	GiveWay float64
	Busy    time.Duration
	// Window is how long a reading counts: its live heap towards the
	// least, its raise towards the limit.
	Window time.Duration
	// Every is how often the runtime is read.
	Every time.Duration
}

// Default is the rule `tandem serve` follows without --memory-limit: at
// least 100 MiB, else 2.5 times the least live heap of the last five
// minutes, raised whenever the collector takes over a fifth of the CPU
// the server uses. The runtime collects at least every two minutes, so an
// idle server's window holds collections made between reports.
//
// Measured (BENCHMARKS.md, issue 19, ninth pass): at 50,000 employees the
// least live heap under back-to-back reports was about 38 MiB and the
// collector took 9–10% of the CPU under the 100 MiB floor, so the limit
// stays there and the server peaks at about 133 MiB, against about 208
// with no limit. At 100,000 employees the floor made the collector take
// 25–31% and reports half as long again, until the give-way raised the
// limit to about 200–240 MiB; then reports took as long as with no limit,
// and the server peaked at 226–269 MiB against 360–369. A report needs
// well over twice what is kept while it is built, so the factor alone
// leaves little room; the give-way is what keeps it from costing CPU.
var Default = Rule{Floor: 100 << 20, Factor: 2.5, GiveWay: 0.2, Busy: time.Second,
	Window: 5 * time.Minute, Every: 5 * time.Second}

// Reading is what the runtime says at one time.
type Reading struct {
	// Live is the heap alive at the latest collection.
	Live uint64
	// GC and Code are the CPU time the collector and the Go code have
	// used since the process started.
	GC, Code time.Duration
}

// mark is a reading's part in the window: its live heap, or a raise.
type mark struct {
	at    time.Time
	live  uint64
	raise int64
}

// Follower keeps the runtime's soft memory limit at its rule's limit.
type Follower struct {
	Rule Rule
	// Read reads the runtime (by default runtime/metrics'
	// /gc/heap/live:bytes, /cpu/classes/gc/total:cpu-seconds and
	// /cpu/classes/user:cpu-seconds).
	Read func() Reading
	// Set sets the soft limit and returns the one before (by default
	// debug.SetMemoryLimit).
	Set func(int64) int64
	// Changed, when set, is told each limit set, and the collector's
	// share of the CPU over the reading that set it (0 when the reading
	// did not count).
	Changed func(limit int64, gcShare float64)

	lives, raises []mark
	last          Reading
	read          bool
	limit         int64
}

// Observe takes a reading at now and sets the limit its window asks for:
// the rule's multiple of the least live heap, or the largest raise still
// in the window, whichever is more, and never under the floor. It sets it
// when it differs from the one set by more than a twentieth (so that the
// limit does not move with every collection), and returns the limit in
// force.
func (f *Follower) Observe(now time.Time, r Reading) int64 {
	share := 0.0
	if f.read {
		gc, code := r.GC-f.last.GC, r.Code-f.last.Code
		if busy := gc + code; busy >= f.Rule.Busy && busy > 0 {
			share = float64(gc) / float64(busy)
		}
	}
	f.last, f.read = r, true
	if share > f.Rule.GiveWay && f.limit > 0 {
		raise := max(f.limit+f.limit/4, int64(r.Live+r.Live/2))
		f.raises = append(f.raises, mark{at: now, raise: raise})
	}
	f.lives = append(f.lives, mark{at: now, live: r.Live})
	f.lives, f.raises = f.inWindow(now, f.lives), f.inWindow(now, f.raises)
	least := r.Live
	for _, m := range f.lives {
		least = min(least, m.live)
	}
	want := max(int64(f.Rule.Factor*float64(least)), f.Rule.Floor)
	for _, m := range f.raises {
		want = max(want, m.raise)
	}
	if f.limit == 0 || want > f.limit+f.limit/20 || want < f.limit-f.limit/20 {
		f.limit = want
		f.set()(want)
		if f.Changed != nil {
			f.Changed(want, share)
		}
	}
	return f.limit
}

// inWindow drops the marks that have left the window at now.
func (f *Follower) inWindow(now time.Time, marks []mark) []mark {
	keep := marks[:0]
	for _, m := range marks {
		if now.Sub(m.at) < f.Rule.Window {
			keep = append(keep, m)
		}
	}
	return keep
}

// Run reads the runtime every Rule.Every and follows it until ctx ends;
// then it puts back the limit that was in force before it started.
func (f *Follower) Run(ctx context.Context) {
	before := f.set()(-1)
	defer f.set()(before)
	read := f.Read
	if read == nil {
		read = readRuntime
	}
	tick := time.NewTicker(f.Rule.Every)
	defer tick.Stop()
	for {
		f.Observe(time.Now(), read())
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

// readRuntime reads the live heap and the CPU classes from
// runtime/metrics.
func readRuntime() Reading {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/user:cpu-seconds"}}
	metrics.Read(s)
	var r Reading
	if s[0].Value.Kind() == metrics.KindUint64 {
		r.Live = s[0].Value.Uint64()
	}
	seconds := func(v metrics.Value) time.Duration {
		if v.Kind() != metrics.KindFloat64 {
			return 0
		}
		return time.Duration(v.Float64() * float64(time.Second))
	}
	r.GC, r.Code = seconds(s[1].Value), seconds(s[2].Value)
	return r
}
