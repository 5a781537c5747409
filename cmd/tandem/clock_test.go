package main

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// testNow is the tests' "now": the kit's fixed date. The commands a test
// runs read it too (testContext), and the stores a test opens stand still
// at it (testClock), so a test's dated data, the store and the command
// agree on the day whatever the date the suite runs on.
var testNow = tandemtest.Date

func testClock() time.Time { return testNow }

// testContext is the context a test runs commands with: their clock is
// testNow.
func testContext() context.Context {
	return withClock(context.Background(), testClock)
}

func TestCommandsReadTheClockTheirContextCarries(t *testing.T) {
	if got := nowOf(testContext()); !got.Equal(testNow) {
		t.Errorf("with a fixed clock a command's now is %s, want %s", got, testNow)
	}
	before := time.Now()
	got := nowOf(context.Background())
	if got.Before(before) || got.After(time.Now()) {
		t.Errorf("without one it is %s, want the machine's clock (%s)", got, before)
	}
	if got := clockOf(testContext())(); !got.Equal(testNow) {
		t.Errorf("a store's clock from a fixed context reads %s, want %s", got, testNow)
	}
}
