package tandem

import (
	"testing"
	"time"
)

func TestParseDateReadsISODatesAndRefusesImpossibleOnes(t *testing.T) {
	for in, want := range map[string]string{
		"2024-02-29": "2024-02-29", " 2026-11-23 ": "2026-11-23", "2026-11-23T09:30:00Z": "2026-11-23",
		"2026-11-23 09:30:00": "2026-11-23", "20261123": "2026-11-23",
	} {
		got, err := ParseDate(in)
		if err != nil || FormatDate(got) != want || got.Location() != time.UTC {
			t.Errorf("ParseDate(%q) = %v, %v; want %s UTC", in, got, err, want)
		}
	}
	for _, in := range []string{"2023-02-29", "2026-13-01", "2026-00-10", "2026-11-31", "23/11/2026", "2026-1-5", "", "abcd-ef-gh"} {
		if _, err := ParseDate(in); err == nil {
			t.Errorf("ParseDate(%q) accepted an impossible or non-ISO date", in)
		}
	}
}
