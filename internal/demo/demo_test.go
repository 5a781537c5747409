package demo

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The demo plants a relationship: customer satisfaction follows team
// engagement four weeks later (LagWeeks), and lower engagement brings more
// voluntary exits. The reports, reading only what the demo stored, must
// find both: the sign, and the lag where teams' own ups and downs line up
// best (the within-team correlation; the between-team one is dominated by
// lasting differences between teams and barely depends on the lag).
func TestReportsRecoverThePlantedSignAndLag(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a whole demo organisation")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "demo.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	sum, err := Generate(ctx, st, Options{Seed: 42, Today: tandem.Today(now), Now: now, BaseURL: "http://127.0.0.1:8080"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Employees < 300 || sum.Rounds < 50 || sum.Ratings < 10000 || len(sum.Pulse.Links) == 0 {
		t.Fatalf("demo too small: %+v", sum)
	}
	loader := report.NewCorrelationLoader(st)
	best, bestR := -1, -2.0
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
			t.Errorf("lag %d: between-team r = %.2f (CI %.2f…) over %d pairs; the planted link is positive", lag, c.Pearson.R, c.Pearson.CILow, c.NPairs)
		}
		if r := float64(c.RMCorr.R); r > bestR {
			best, bestR = lag, r
		}
	}
	if best < LagWeeks-1 || best > LagWeeks+1 || !(bestR > 0.2) {
		t.Errorf("within-team correlation peaks at lag %d (r = %.2f), want about %d weeks", best, bestR, LagWeeks)
	}
	ret, err := report.LoadRetention(ctx, st, report.RetentionParams{Period: "month", From: now.AddDate(-1, 0, 0), To: now}, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ret.Links {
		if l.Measure == store.MeasureIndex && l.Horizon == 6 && !(l.Pearson.R < 0 && l.RateRatio > 1) {
			t.Errorf("engagement vs voluntary turnover in 6 months: r = %.2f, bottom/top rate ratio %.2f; the planted link is negative", l.Pearson.R, l.RateRatio)
		}
	}
}
