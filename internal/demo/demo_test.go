package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// demoDates are the days the demo is built on in its tests: spread over a
// year, so that what the tests assert is what the demo's data carries on
// any day, not on the day a test happened to be written.
var demoDates = []string{"2026-01-05", "2026-05-20", "2026-09-09", "2026-12-04"}

// The demo plants a relationship: customer satisfaction follows team
// engagement (LagWeeks later), and lower engagement brings more voluntary
// exits. The reports, reading only what the demo stored, must find the
// direction of both on every day the demo is built. With 11 customer-facing
// teams of noisy weekly measurements the exact lag is not identifiable from
// the demo (neighbouring lags lie within each other's intervals), so the lag
// itself is not asserted here.
func TestReportsRecoverThePlantedSigns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a whole demo organisation per date")
	}
	for _, day := range demoDates {
		t.Run(day, func(t *testing.T) {
			t.Parallel()
			now := mustDay(t, day).Add(10 * time.Hour)
			ctx := context.Background()
			st, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), store.Options{Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			sum, err := Generate(ctx, st, Options{Seed: 42, Today: tandem.Today(now), Now: now, BaseURL: "http://127.0.0.1:8080"})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Employees < 300 || sum.Rounds < 50 || sum.Ratings < 10000 || len(sum.Pulse.Links) == 0 {
				t.Fatalf("demo too small: %+v", sum)
			}
			loader := report.NewCorrelationLoader(st)
			for lag := 0; lag <= 6; lag++ {
				p, err := report.ParseCorrelationParams(func(k string) string {
					switch k {
					case "lag":
						return fmt.Sprint(lag)
					case "from":
						return tandem.FormatDate(now.AddDate(0, 0, -7*45))
					}
					return ""
				}, now)
				if err != nil {
					t.Fatal(err)
				}
				c, err := loader.Load(ctx, p, 0)
				if err != nil {
					t.Fatal(err)
				}
				if c.NPairs < 100 || !(c.Pearson.R > 0.3) || !(c.Pearson.CILow > 0) {
					t.Errorf("lag %d: between-team r = %.2f (CI from %.2f) over %d pairs; the planted link is positive", lag, c.Pearson.R, c.Pearson.CILow, c.NPairs)
				}
				if lag == LagWeeks && !(float64(c.RMCorr.CILow) > 0) {
					t.Errorf("lag %d: within-team r = %.2f (CI %.2f to %.2f); the planted link is positive", lag, float64(c.RMCorr.R), float64(c.RMCorr.CILow), float64(c.RMCorr.CIHigh))
				}
				if lag == 0 {
					checkLagScanSigns(t, c)
				}
			}
			ret, err := report.LoadRetention(ctx, st, report.RetentionParams{Period: "month", From: now.AddDate(-1, 0, 0), To: now}, 0, now)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, l := range ret.Links {
				if l.Measure == pulse.MeasureIndex && l.Horizon == 6 {
					found = true
					if !(l.Pearson.R < 0 && l.RateRatio > 1) {
						t.Errorf("engagement vs voluntary turnover in 6 months: r = %.2f, bottom/top rate ratio %.2f; the planted link is negative", l.Pearson.R, l.RateRatio)
					}
				}
			}
			if !found {
				t.Errorf("the retention report has no engagement link at 6 months: %+v", ret.Links)
			}
		})
	}
}

// checkLagScanSigns asserts what the demo's lag scan may claim: the demo
// plants customers following engagement with a positive link, so no lag
// with customers leading (negative) and no negative link may be significant
// or named, whatever the day. The planted lag itself is not asserted (11
// teams cannot single it out; see TestReportsRecoverThePlantedSigns).
func checkLagScanSigns(t *testing.T, c *report.Correlation) {
	t.Helper()
	s := c.LagScan
	if s.Reason != "" || len(s.Lags) != 13 || s.Tests == 0 {
		t.Fatalf("the lag scan did not run: %+v", s)
	}
	for _, l := range s.Lags {
		if l.Significant && (l.Periods < 0 || l.R < 0) {
			t.Errorf("lag %d is significant with r = %.2f: a wrong-sign claim (customers do not lead, and the link is positive)", l.Periods, float64(l.R))
		}
	}
	if s.Named && s.From < 0 {
		t.Errorf("the scan names lags %d to %d: customers leading, the wrong sign", s.From, s.To)
	}
	t.Logf("%s: headline: %s", c.Params.To.Format(time.DateOnly), c.Headline)
	t.Logf("persistence %.2f; %s", float64(s.Persistence), s.Sentence)
	for _, l := range s.Lags {
		t.Logf("  lag %+d  r %.3f  [%.3f, %.3f]  padj %.3g  n %d", l.Periods, float64(l.R), float64(l.CILow), float64(l.CIHigh), float64(l.PAdj), l.N)
	}
}

func mustDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Generate never reads the machine's clock: without a moment to build the
// demo at it refuses, before writing anything.
func TestGenerateNeedsTheCallersClock(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Generate(ctx, st, Options{Seed: 42}); err == nil || !strings.Contains(err.Error(), "Options.Now") {
		t.Fatalf("Generate without Now: err = %v, want one naming Options.Now", err)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("after the refusal the store has %d users (%v), want 0", n, err)
	}
}
