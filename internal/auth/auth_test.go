package auth

import (
	"testing"
	"time"
)

func TestThrottleSlowsPairsAndAddressesButNeverLocks(t *testing.T) {
	last := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	th := DefaultThrottle
	for _, tt := range []struct {
		name string
		f    Failures
		want time.Duration // after last; 0: at once
	}{
		{"no failures", Failures{}, 0},
		{"4 failures of the pair", Failures{Pair: 4, PairLast: last}, 0},
		{"5 failures of the pair: a minute", Failures{Pair: 5, PairLast: last}, time.Minute},
		{"6: two minutes", Failures{Pair: 6, PairLast: last}, 2 * time.Minute},
		{"8: eight minutes", Failures{Pair: 8, PairLast: last}, 8 * time.Minute},
		{"9: capped at fifteen", Failures{Pair: 9, PairLast: last}, 15 * time.Minute},
		{"500: still fifteen", Failures{Pair: 500, PairLast: last}, 15 * time.Minute},
		{"known address, 19 failures", Failures{Pair: 19, PairLast: last, Known: true}, 0},
		{"known address, 20 failures", Failures{Pair: 20, PairLast: last, Known: true}, time.Minute},
		{"address spraying: 20 over all accounts", Failures{Pair: 1, PairLast: last, Address: 20, AddressLast: last}, time.Minute},
		{"address spraying, 22", Failures{Address: 22, AddressLast: last}, 4 * time.Minute},
		{"address spraying does not hold up a known address", Failures{Pair: 1, PairLast: last, Address: 200, AddressLast: last, Known: true}, 0},
	} {
		got := th.Until(tt.f)
		var want time.Time
		if tt.want > 0 {
			want = last.Add(tt.want)
		}
		if !got.Equal(want) {
			t.Errorf("%s: until %v, want %v", tt.name, got, want)
		}
	}
}
