package stats

import (
	"math"
	"strconv"
	"testing"
)

// The lag-recovery property of issue 16: organisations simulated as the demo
// builds them (see simOrg), with a lag planted, must get that lag back from
// ScanLags. Seeds are fixed (seed·1000 + lag + 10) and were fixed before the
// tests were first run.

// seedFor is the simulation seed of run i for a planted lag.
func seedFor(i, lag int) uint64 { return uint64(i*1000 + lag + 10) }

// lagVerdict classifies one scan against the planted lag.
type lagVerdict struct {
	namedPlanted   bool // a lag or interval is named and contains the planted lag
	namedElsewhere bool // something is named that does not contain it
	namedWrongSign bool // a named lag lies on the other side of zero, or the peak's R is negative
	stray          bool // a significant lag no 3-lag interval around the planted one holds, or of the wrong sign
}

func judge(scan LagScan, planted int) lagVerdict {
	var v lagVerdict
	s := scan.Summary
	if s.Named {
		v.namedPlanted = s.From <= planted && planted <= s.To
		v.namedElsewhere = !v.namedPlanted
		v.namedWrongSign = s.From*planted < 0 || s.To*planted < 0 || scan.Lags[s.Peak+MaxLag].R < 0
	}
	lo, hi := planted, planted
	for _, e := range scan.Lags {
		if !e.Significant {
			continue
		}
		lo, hi = min(lo, e.Lag), max(hi, e.Lag)
		if e.Lag*planted < 0 || e.R < 0 {
			v.stray = true
		}
	}
	if hi-lo > 2 {
		v.stray = true
	}
	return v
}

func TestScanLagsNamesThePlantedLagIn200TeamOrganisations(t *testing.T) {
	t.Parallel()
	// 200 teams × 52 weeks: the planted lag, or an interval of at most 3
	// adjacent lags holding it, is named in at least 19 of 20 seeds per
	// planted lag; no seed names anything else or a lag of the wrong sign.
	// Significant lags outside such an interval are not named; at the
	// stated 5 % familywise rate they may occur in at most 3 of the 60
	// seeds (persistence that leaked through the filter would put them in
	// most seeds, as it does for raw correlations).
	seeds, minNamed, maxStray := 20, 19, 3
	if testing.Short() {
		seeds, minNamed, maxStray = 5, 4, 1
	}
	strays := 0
	for _, lag := range []int{2, 4, -3} {
		named := 0
		for i := 1; i <= seeds; i++ {
			team, period, x, y := demoLike(200, 52, lag).generate(seedFor(i, lag))
			scan := ScanLags(team, period, x, y)
			v := judge(scan, lag)
			if v.namedPlanted {
				named++
			}
			if v.namedElsewhere || v.namedWrongSign {
				t.Errorf("planted lag %d, seed %d: named %d…%d (peak %d), want an interval holding %d on its side of zero",
					lag, i, scan.Summary.From, scan.Summary.To, scan.Summary.Peak, lag)
			}
			if v.stray {
				strays++
				t.Logf("planted lag %d, seed %d: named %d…%d, significant but not named %v", lag, i, scan.Summary.From, scan.Summary.To, scan.Summary.Outside)
			}
		}
		t.Logf("planted lag %d: named in %d of %d seeds", lag, named, seeds)
		if named < minNamed {
			t.Errorf("planted lag %d: named in %d of %d seeds, want at least %d", lag, named, seeds, minNamed)
		}
	}
	if strays > maxStray {
		t.Errorf("significant lags outside a 3-lag interval around the planted one in %d of %d seeds, want at most %d", strays, 3*seeds, maxStray)
	}
}

// rawLagR returns, for lags −MaxLag…MaxLag, the uncorrected within-team
// correlation of engagement in week w with customers in week w+L (rmcorr: no
// filter, no period effects), and its p-value.
func rawLagR(team []string, period []int, x, y []float64) (r, p []float64) {
	type key struct {
		team   string
		period int
	}
	yAt := map[key]float64{}
	for i := range team {
		yAt[key{team[i], period[i]}] = y[i]
	}
	for lag := -MaxLag; lag <= MaxLag; lag++ {
		var s []string
		var a, b []float64
		for i := range team {
			if v, ok := yAt[key{team[i], period[i] + lag}]; ok {
				s, a, b = append(s, team[i]), append(a, x[i]), append(b, v)
			}
		}
		rm := RMCorr(s, a, b)
		r, p = append(r, rm.R), append(p, rm.P)
	}
	return r, p
}

// rawLagClaims returns the lags at which the raw within-team correlation is
// positive and significant after Bonferroni over the 13 lags: what a reader
// of a raw lag chart would claim.
func rawLagClaims(team []string, period []int, x, y []float64) []int {
	r, p := rawLagR(team, period, x, y)
	var claims []int
	for i := range r {
		if r[i] > 0 && 13*p[i] < LagAlpha {
			claims = append(claims, i-MaxLag)
		}
	}
	return claims
}

func TestRawWithinTeamLagsShowCustomersLeadingWhereScanLagsSeesNothing(t *testing.T) {
	t.Parallel()
	// Customers planted 4 weeks after engagement (the demo's lag), 200 teams
	// × 52 weeks, 10 seeds. Engagement's persistence spreads the raw
	// within-team correlation (rmcorr, as the report computes it today) over
	// every nearby lag, so a reader of the raw lag chart sees customers
	// "leading": positive r at lags −1 and −2 (about 0.10 and 0.08 averaged
	// over seeds; single seeds vary with the company-wide swings, which
	// rmcorr does not remove). After the correction those lags are
	// significant in no seed and their R averages about 0 (standard error
	// about 0.01 per seed).
	const lag, seeds = 4, 10
	var raw, corrected [2]float64
	for i := 1; i <= seeds; i++ {
		team, period, x, y := demoLike(200, 52, lag).generate(seedFor(i, lag))
		r, _ := rawLagR(team, period, x, y)
		scan := ScanLags(team, period, x, y)
		for k, l := range []int{-1, -2} {
			e := scan.Lags[l+MaxLag]
			if e.Significant {
				t.Errorf("seed %d: ScanLags finds lag %d significant (R %.3f, PAdj %.3g)", i, l, e.R, e.PAdj)
			}
			raw[k] += r[l+MaxLag] / float64(seeds)
			corrected[k] += e.R / float64(seeds)
		}
	}
	for k, l := range []int{-1, -2} {
		t.Logf("lag %d: mean raw r %.3f, mean corrected R %.3f", l, raw[k], corrected[k])
		if raw[k] < 0.05 {
			t.Errorf("lag %d: mean raw r %.3f, want at least 0.05 (the artefact this test guards against)", l, raw[k])
		}
		if math.Abs(corrected[k]) > 0.02 {
			t.Errorf("lag %d: mean corrected R %.3f, want within ±0.02", l, corrected[k])
		}
	}
}

func TestScanLagsAtTheDemosSizeRarelyNamesALagOfTheWrongSign(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: 300 simulated organisations, about 1.5 s of CPU; the full run keeps them")
	}
	// 11 teams × 52 weeks (the demo), 100 seeds per planted lag. The data
	// carry too little signal to name the lag often (a few per cent of
	// seeds). Any test at a 5 % familywise rate names some lag by chance in
	// up to 5 % of organisations, about half of them on the wrong side of
	// zero, so "never" cannot be promised for every organisation; what is
	// checked is that wrong-sign names stay within that chance rate (at most
	// 5 of 100). Raw within-team correlations, for comparison, are
	// significant at a wrong-sign lag in 40–55 of 100 (logged).
	const seeds = 100
	for _, lag := range []int{2, 4, -3} {
		wrong, rawWrong, named := 0, 0, 0
		for i := 1; i <= seeds; i++ {
			team, period, x, y := demoLike(11, 52, lag).generate(seedFor(i, lag))
			v := judge(ScanLags(team, period, x, y), lag)
			if v.namedWrongSign {
				wrong++
			}
			if v.namedPlanted {
				named++
			}
			for _, l := range rawLagClaims(team, period, x, y) {
				if l*lag < 0 {
					rawWrong++
					break
				}
			}
		}
		t.Logf("planted lag %d: ScanLags names it in %d, names a wrong-sign lag in %d; raw correlations claim a wrong-sign lag in %d (of %d seeds)",
			lag, named, wrong, rawWrong, seeds)
		if limit := seeds / 20; wrong > limit {
			t.Errorf("planted lag %d: a wrong-sign lag named in %d of %d seeds, want at most %d", lag, wrong, seeds, limit)
		}
	}
}

// BenchmarkScanLags times one scan of a simulated organisation at the
// demo's size, at 200 teams × 52 weeks, and at issue 19's size of 2,500
// teams × 104 weeks, each also through an FECache that holds its panels:
//
//	go test ./internal/stats -run '^$' -bench ScanLags -benchmem
func BenchmarkScanLags(b *testing.B) {
	for _, size := range []struct{ teams, periods int }{{11, 52}, {200, 52}, {2500, 104}} {
		team, period, x, y := demoLike(size.teams, size.periods, 4).generate(1)
		name := strconv.Itoa(size.teams) + "x" + strconv.Itoa(size.periods)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				ScanLags(team, period, x, y)
			}
		})
		// The same scan again through a cache that holds its panels: the
		// correlation report after a rating that adds no team-period.
		b.Run(name+"/cached", func(b *testing.B) {
			c := NewFECache()
			c.ScanLags(team, period, x, y)
			for b.Loop() {
				c.ScanLags(team, period, x, y)
			}
		})
	}
}
