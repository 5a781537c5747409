package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
)

// terminal is what a person running `tandem demo` sees: the log and the
// command's own output interleaved in one stream.
type terminal struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

// TestDemoPrintsItsSignInDetailsLast runs the demo as a person would and
// reads the terminal: the few hundred invitations (and, from the
// reminder's day on, reminders) the demo's open round sends through the
// log transport are one summary line, and that line and
// every other start-up message come before the sign-in details, which
// stay the last thing printed.
func TestDemoPrintsItsSignInDetailsLast(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whole demo organisation (about 10 s)")
	}
	var term terminal
	old := logOutput
	logOutput = &term
	t.Cleanup(func() { logOutput = old })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	db := filepath.Join(t.TempDir(), "demo.db")
	go func() {
		done <- runDemo(ctx, []string{"--db", db, "--addr", "127.0.0.1:0"}, &term)
	}()
	deadline := time.After(2 * time.Minute)
	for !strings.Contains(term.String(), "Press Ctrl+C to stop.") {
		select {
		case err := <-done:
			t.Fatalf("demo ended before its banner: %v\n%s", err, term.String())
		case <-deadline:
			t.Fatalf("no banner after 2 minutes:\n%s", term.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	// Anything the background work still had to say would come now.
	time.Sleep(2500 * time.Millisecond)
	out := term.String()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo: %v", err)
	}

	if n := strings.Count(out, "mail not sent"); n != 0 {
		t.Errorf("%d messages were logged one by one, want one summary line", n)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	summary, banner := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "messages logged, not sent") {
			if summary >= 0 {
				t.Errorf("second summary line %q, want one", l)
			}
			summary = i
		}
		if strings.HasPrefix(l, "Tandem demo is running at") {
			banner = i
		}
	}
	if summary < 0 || banner < 0 || summary > banner {
		t.Fatalf("summary line %d, banner line %d: want a summary of the logged messages before the banner\n%s", summary, banner, out)
	}
	// The open round's invitations go out at start on any day, so the
	// line always has something to count: what the outbox sent.
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d messages logged, not sent", counts["sent"]); counts["sent"] == 0 || !strings.Contains(lines[summary], want) {
		t.Errorf("summary %q, want %q (outbox: %v)", lines[summary], want, counts)
	}
	if !strings.Contains(out, "admin@example.com") {
		t.Errorf("the banner names no admin account:\n%s", out)
	}
	if last := lines[len(lines)-1]; last != "Press Ctrl+C to stop." {
		t.Errorf("last line %q, want the banner's \"Press Ctrl+C to stop.\"; output after the banner:\n%s", last, strings.Join(lines[banner:], "\n"))
	}
}
