package report

import (
	"math"

	"github.com/tandem-hq/tandem/internal/stats"
)

// The views of the correlation report beyond the pooled figures (issue 16):
//
// Within teams and periods (Within): stats.TwoWayWithin over the pairs at
// the chosen lag, team and engagement-period fixed effects — a team's
// deviation from its own mean and from what every team did that period.
// Its interval is reported twice: conventional (Fisher's z with DF+2, as
// rmcorr) and clustered by team (Arellano, t with Teams−1 df); the
// headline counts a link only when both exclude zero.
//
// Between teams (BetweenTeams): Pearson r of the team means of the pairs
// at the chosen lag, one point per team, so that n is the number of teams.
//
// Lags both ways (LagScan): stats.ScanLags over every team's engagement
// and customer series, lags −6…+6 (positive: customers after engagement),
// corrected for engagement's persistence (prewhitening by the AR(1)
// operator of the within-team engagement signal, fitted to its variogram)
// and for testing 13 lags (Bonferroni, familywise 5 %). Periods are the
// report's weeks or months, numbered consecutively; a program that runs
// every g-th period (a fortnightly program read by week: g = 2) is scanned
// in its own cadence, at the periods it ran, so that a lag is g report
// periods and the persistence filter links consecutive rounds rather than
// never finding a previous period. Missing team-periods are gaps the filter
// does not cross (see ScanLags).
//
// Power: the smallest correlation a two-sided test at α = 0.05 finds with
// power 0.8 (stats.MinDetectableR, pwr::pwr.r.test), for n = teams between
// teams and n = DF + 2 within; and how many teams would find r = 0.3.

// PowerAlpha, PowerTarget and PowerExampleR are the settings of the power
// sentences: "only a link of r ≥ … would be found 8 times in 10".
const (
	PowerAlpha    = 0.05
	PowerTarget   = 0.8
	PowerExampleR = 0.3
)

// WithinCoef is the two-way within view: team and period effects removed.
type WithinCoef struct {
	R      Num `json:"r"`
	CILow  Num `json:"ci_low"`
	CIHigh Num `json:"ci_high"`
	P      Num `json:"p"`
	DF     int `json:"df"`
	N      int `json:"n"`
	Teams  int `json:"teams"`
	// Periods is the number of engagement periods among the pairs.
	Periods int `json:"periods"`
	// Slope is the change in the customer measure per point of the
	// engagement measure, SE its conventional standard error.
	Slope Num `json:"slope"`
	SE    Num `json:"se"`
	// The team-clustered standard error and p (Student's t with Teams−1
	// df), and the clustered interval on the correlation scale.
	ClusterSE     Num `json:"cluster_se"`
	ClusterP      Num `json:"cluster_p"`
	ClusterCILow  Num `json:"cluster_ci_low"`
	ClusterCIHigh Num `json:"cluster_ci_high"`
}

// excludesZero says whether both intervals lie on one side of zero.
func (w WithinCoef) excludesZero() bool {
	return sameSide(w.CILow, w.CIHigh) && sameSide(w.ClusterCILow, w.ClusterCIHigh) &&
		(float64(w.CILow) > 0) == (float64(w.ClusterCILow) > 0)
}

func sameSide(lo, hi Num) bool {
	l, h := float64(lo), float64(hi)
	return !math.IsNaN(l) && !math.IsNaN(h) && (l > 0 || h < 0)
}

// WithinLag is one lag of the scan.
type WithinLag struct {
	// Lag is in steps of the program's cadence; Periods = Lag × step, in
	// the report's weeks or months. Positive: customers after engagement.
	Lag     int `json:"lag"`
	Periods int `json:"periods"`
	R       Num `json:"r"`
	CILow   Num `json:"ci_low"`
	CIHigh  Num `json:"ci_high"`
	P       Num `json:"p"`
	// PAdj is P adjusted for the lags tested (Bonferroni).
	PAdj        Num  `json:"p_adjusted"`
	Significant bool `json:"significant"`
	N           int  `json:"n"`
	Teams       int  `json:"teams"`
	DF          int  `json:"df"`
	EffectiveDF Num  `json:"effective_df"`
}

// LagScan is the lag scan in the report.
type LagScan struct {
	// Step is the number of report periods per lag (the program's cadence).
	Step int `json:"step"`
	// Persistence is the AR(1) coefficient of the engagement signal the
	// series were filtered with; 0: not filtered.
	Persistence Num         `json:"persistence"`
	Correction  string      `json:"correction"`
	Alpha       Num         `json:"alpha"`
	Tests       int         `json:"tests"`
	Lags        []WithinLag `json:"lags"`
	// Significant counts the lags whose adjusted p is below Alpha.
	Significant int `json:"significant"`
	// Named: one lag (From == To) or an interval of at most 3 adjacent lags
	// is named, in report periods.
	Named bool `json:"named"`
	From  int  `json:"from"`
	To    int  `json:"to"`
	// TiedFrom…TiedTo are the lags (report periods) around the strongest
	// significant lag that lie within each other's intervals.
	TiedFrom int `json:"tied_from"`
	TiedTo   int `json:"tied_to"`
	// Outside lists significant lags outside TiedFrom…TiedTo (report
	// periods), not named.
	Outside []int `json:"outside"`
	// Sentence says the finding in words; Reason why nothing was scanned.
	Sentence string `json:"sentence"`
	Reason   string `json:"reason"`
}

// Power says what the data could have found.
type Power struct {
	Power Num `json:"power"`
	Alpha Num `json:"alpha"`
	// BetweenN teams; BetweenMinR the smallest r found with that power.
	BetweenN    int `json:"between_n"`
	BetweenMinR Num `json:"between_min_r"`
	// WithinN = the within view's df + 2.
	WithinN    int `json:"within_n"`
	WithinMinR Num `json:"within_min_r"`
	// TeamsNeeded teams would find ExampleR with that power.
	ExampleR    Num `json:"example_r"`
	TeamsNeeded int `json:"teams_needed"`
}

// withinAt fits the two-way within view of the pairs x, y whose teams
// and periods are codes in [0, nTeams) and [0, nPeriods).
func withinAt[C stats.Code](fe *stats.FECache, x, y []float64, teams []C, nTeams int, periods []C, nPeriods int) WithinCoef {
	r := stats.TwoWayWithinCodesIn(fe, teams, nTeams, periods, nPeriods, x, y)
	return WithinCoef{R: Num(r.R), CILow: Num(r.RLow), CIHigh: Num(r.RHigh), P: Num(r.P), DF: r.DF, N: r.N, Teams: r.Teams, Periods: r.Periods,
		Slope: Num(r.Slope), SE: Num(r.SE), ClusterSE: Num(r.ClusterSE), ClusterP: Num(r.ClusterP),
		ClusterCILow: Num(r.RClusterLow), ClusterCIHigh: Num(r.RClusterHigh)}
}

// betweenTeams correlates the team means of the pairs: one point per
// team (teams are codes in [0, nTeams), numbered in order of first
// appearance).
func betweenTeams[C stats.Code](x, y []float64, teams []C, nTeams int) Coef {
	mx, my, n := make([]float64, nTeams), make([]float64, nTeams), make([]float64, nTeams)
	for i, k := range teams {
		mx[k] += x[i]
		my[k] += y[i]
		n[k]++
	}
	for k := range mx {
		mx[k] /= n[k]
		my[k] /= n[k]
	}
	return coefOf(stats.Pearson(mx, my))
}

// powerOf fills in the power figures.
func powerOf(teams int, w WithinCoef) Power {
	p := Power{Power: PowerTarget, Alpha: PowerAlpha, BetweenN: teams, ExampleR: PowerExampleR,
		BetweenMinR: Num(stats.MinDetectableR(float64(teams), PowerTarget, PowerAlpha)), WithinMinR: Num(math.NaN())}
	if w.DF > 0 {
		p.WithinN = w.DF + 2
		p.WithinMinR = Num(stats.MinDetectableR(float64(p.WithinN), PowerTarget, PowerAlpha))
	}
	if n := stats.SampleSizeR(PowerExampleR, PowerTarget, PowerAlpha); !math.IsNaN(n) {
		p.TeamsNeeded = int(math.Ceil(n))
	}
	return p
}

// cadence returns the step g between the engagement periods of measure m
// (the greatest common divisor of their distances from the first; 1 when
// there is one period) and that first period.
func (pn *panel) cadence(m int) (g, first int) {
	first = -1
	for _, t := range pn.teams {
		for pi := pn.pre; pi < pn.pre+pn.nEng && t.weight[m] != nil; pi++ {
			if t.weight[m][pi] > 0 && (first < 0 || pi < first) {
				first = pi
			}
		}
	}
	for _, t := range pn.teams {
		for pi := pn.pre; pi < pn.pre+pn.nEng && t.weight[m] != nil; pi++ {
			if t.weight[m][pi] > 0 {
				g = gcd(g, pi-first)
			}
		}
	}
	return max(g, 1), first
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// lagScan runs stats.ScanLags on measure m against the customer measure,
// every team's series in the program's cadence.
func (pn *panel) lagScan(m int) LagScan {
	out := LagScan{Step: 1, Persistence: Num(math.NaN()), Correction: "bonferroni", Alpha: stats.LagAlpha, Lags: []WithinLag{}, Outside: []int{}}
	if m < 0 {
		out.Reason = "no engagement measure"
		return out
	}
	g, first := pn.cadence(m)
	out.Step = g
	if first < 0 {
		out.Reason = "no engagement values"
		return out
	}
	// Each team's series at the periods of the cadence where it has a
	// value on either side; counted first, so that the four arrays (over
	// 290,000 rows at 2,500 teams and two years of weeks) are allocated
	// once.
	// (The rows are appended in the loops below, not in a function called
	// with each: a slice stored through a closure's pointer passes the
	// collector's write barrier on every store while a collection runs.)
	row := func(t *team, pi int) (x, y float64, ok bool) {
		if ((pi-first)%g+g)%g != 0 {
			return 0, 0, false
		}
		x = math.NaN()
		if pi >= pn.pre && pi < pn.pre+pn.nEng {
			x, _ = t.value(m, pi)
		}
		y = t.cust[pi]
		return x, y, !math.IsNaN(x) || !math.IsNaN(y)
	}
	n := 0
	for _, t := range pn.teams {
		for pi := range pn.periodDays {
			if _, _, ok := row(t, pi); ok {
				n++
			}
		}
	}
	// Teams numbered in order of first appearance, as ScanLags numbers
	// names, without a string per row.
	teams, periods := make([]int32, 0, n), make([]int32, 0, n)
	xs, ys := make([]float64, 0, n), make([]float64, 0, n)
	code := 0
	for _, t := range pn.teams {
		before := len(teams)
		for pi := range pn.periodDays {
			if x, y, ok := row(t, pi); ok {
				teams, periods, xs, ys = append(teams, int32(code)), append(periods, int32((pi-first)/g)), append(xs, x), append(ys, y)
			}
		}
		if len(teams) > before {
			code++
		}
	}
	scan := stats.ScanLagsCodesIn(pn.fe, teams, code, periods, xs, ys)
	out.Reason = scan.Reason
	out.Tests = scan.Tests
	if scan.Reason == "" {
		out.Persistence = Num(scan.Persistence.Phi)
	}
	for _, l := range scan.Lags {
		out.Lags = append(out.Lags, WithinLag{Lag: l.Lag, Periods: l.Lag * g, R: Num(l.R), CILow: Num(l.CILow), CIHigh: Num(l.CIHigh),
			P: Num(l.P), PAdj: Num(l.PAdj), Significant: l.Significant, N: l.N, Teams: l.Teams, DF: l.DF, EffectiveDF: Num(l.EffectiveDF)})
	}
	s := scan.Summary
	out.Significant = s.Significant
	if s.Significant > 0 {
		out.TiedFrom, out.TiedTo = s.TiedFrom*g, s.TiedTo*g
	}
	if s.Named {
		out.Named, out.From, out.To = true, s.From*g, s.To*g
	}
	for _, o := range s.Outside {
		out.Outside = append(out.Outside, o*g)
	}
	return out
}

// peakR is the correlation at the strongest significant lag.
func (l LagScan) peakR() float64 {
	best := math.NaN()
	for _, e := range l.Lags {
		if e.Significant && (math.IsNaN(best) || math.Abs(float64(e.R)) > math.Abs(best)) {
			best = float64(e.R)
		}
	}
	return best
}

// driverScore sets the score, change and priority of driver d's link: the
// respondent-weighted mean of the driver over the report's teams in the
// last engagement period that has it, the difference from the period with
// it before that, and stats.DriverPriority of the score and the lower end
// of the driver's link with customers. Measure m's sums must be laid out.
func (pn *panel) driverScore(d *DriverLink, m int, dates []string) {
	d.Score, d.Change, d.Priority = Num(math.NaN()), Num(math.NaN()), Num(math.NaN())
	var got []float64
	var at []int
	for pi := pn.pre + pn.nEng - 1; pi >= pn.pre && len(got) < 2; pi-- {
		var s, w float64
		for _, t := range pn.teams {
			if t.weight[m] != nil && t.weight[m][pi] > 0 {
				s += t.sum[m][pi]
				w += float64(t.weight[m][pi])
			}
		}
		if w > 0 {
			got, at = append(got, s/w), append(at, pi)
		}
	}
	if len(got) == 0 {
		return
	}
	d.Score, d.ScorePeriod = Num(got[0]), dates[at[0]]
	if len(got) == 2 {
		d.Change, d.ChangeFrom = Num(got[0]-got[1]), dates[at[1]]
	}
	d.Priority = Num(stats.DriverPriority(got[0], float64(d.CILow)))
}
