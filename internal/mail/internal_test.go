package mail

import (
	"strings"
	"testing"
	"time"
)

func TestParseRetryAfterReadsSecondsAndDates(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"Mon, 02 Mar 2026 09:01:30 GMT", 90 * time.Second, true},
		{"Mon, 02 Mar 2026 08:00:00 GMT", 0, true}, // in the past: retry now
		{"99999999999999999", time.Duration(1<<63 - 1).Truncate(time.Second), true},
		{"", 0, false},
		{"-5", 0, false},
		{"soon", 0, false},
	} {
		wait, until, ok := parseRetryAfter(tc.value)
		got := (&RetryAfterError{Wait: wait, Until: until}).WaitFrom(now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %s, %v; want %s, %v", tc.value, got, ok, tc.want, tc.ok)
		}
	}
}

func TestFoldKeepsLinesShortAndUnfoldsToTheValue(t *testing.T) {
	value := strings.Repeat("word ", 60) + "end"
	folded := fold("X-Long", value)
	if !strings.HasSuffix(folded, "\r\n") {
		t.Fatalf("folded field %q does not end in CRLF", folded)
	}
	for _, line := range strings.Split(strings.TrimSuffix(folded, "\r\n"), "\r\n") {
		if len(line) > 78 {
			t.Errorf("line %q is %d long, want at most 78", line, len(line))
		}
	}
	unfolded := strings.ReplaceAll(strings.TrimSuffix(folded, "\r\n"), "\r\n", "")
	if want := "X-Long: " + value; unfolded != want {
		t.Errorf("unfolds to %q, want %q", unfolded, want)
	}
}
