package main

import (
	"context"
	"time"
)

// The commands that date what they write or read (reports' default
// windows, imports' "today", ratings' arrival) take "now" from their
// context: the machine's clock, unless a test puts a fixed one there with
// withClock, so that the data a test builds and the command it runs agree
// on the day whatever the date the suite runs on. Long-running commands
// (serve, demo) keep the machine's clock: their schedulers run on it.

type clockKey struct{}

// withClock returns ctx whose commands read now for the time.
func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

// nowOf is the time for a command run with ctx: withClock's, or the
// machine's.
func nowOf(ctx context.Context) time.Time {
	if now, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return now()
	}
	return time.Now()
}

// clockOf is nowOf as a clock, for a store the command opens.
func clockOf(ctx context.Context) func() time.Time {
	return func() time.Time { return nowOf(ctx) }
}
