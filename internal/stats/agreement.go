package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// ICCResult holds the intraclass correlations of one measure across groups
// (teams); see [ICC].
type ICCResult struct {
	N, Groups int     // responses and groups used
	MeanSize  float64 // k = N / Groups, the group size used in ICC1
	MSB, MSW  float64 // between- and within-group mean squares of the one-way ANOVA
	F, P      float64 // F = MSB/MSW with (Groups−1, N−Groups) df, and its upper-tail p
	ICC1      float64 // share of a single response's variance that lies between groups; may be negative
	ICC2      float64 // reliability of a group mean; may be negative
	Reason    string  // why values are NaN; empty when defined
}

// ICC returns ICC(1) and ICC(2) of response-level values grouped by team,
// from the one-way ANOVA value ~ group, as R's multilevel package computes
// them (ICC1(aov(...)), ICC2(aov(...)); Bliese 2000, in Klein & Kozlowski
// (eds.), Multilevel Theory, Research, and Methods in Organizations):
//
//	ICC(1) = (MSB − MSW) / (MSB + (k − 1)·MSW),   ICC(2) = (MSB − MSW) / MSB,
//
// with k = N/Groups, the mean group size, for unequal groups (multilevel's
// GSIZE). For equal groups these are psych::ICC's "ICC1" and "ICC1k" (Shrout
// & Fleiss 1979, ICC(1,1) and ICC(1,k)). Two related estimators are not used:
// the ANOVA group size k0 = (N − Σn²/N)/(Groups − 1) of Snedecor & Cochran,
// and multilevel::mult.icc, which fits a REML random-intercept model; both
// differ from these values when groups are unequal.
//
// ICC(1) says how much team membership explains of one person's answer (≈
// .05–.20 is usual for work attitudes, Bliese 2000); ICC(2) says whether a
// team's mean can be told from other teams' means (≥ .70 is the usual
// threshold, Klein et al. 2000). Both can be negative when teams differ less
// than chance; they are reported as computed.
//
// Pairs with a NaN value are dropped. A group with one response counts, as
// in aov. Degenerate input gives NaN values and a Reason: lengths that
// differ, an infinite value, fewer than two groups, no more responses than
// groups (MSW undefined), or MSW = 0 (F undefined; ICC2 is then 1 when MSB >
// 0).
func ICC(group []string, value []float64) ICCResult {
	nan := math.NaN()
	res := ICCResult{MeanSize: nan, MSB: nan, MSW: nan, F: nan, P: nan, ICC1: nan, ICC2: nan}
	if len(group) != len(value) {
		res.Reason = "group and value have different lengths"
		return res
	}
	idx := map[string]int{}
	var groups [][]float64
	for i, v := range value {
		if math.IsNaN(v) {
			continue
		}
		if math.IsInf(v, 0) {
			res.Reason = "a value is infinite"
			return res
		}
		g, ok := idx[group[i]]
		if !ok {
			g = len(groups)
			idx[group[i]] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], v)
		res.N++
	}
	res.Groups = len(groups)
	switch {
	case res.Groups < 2:
		res.Reason = "needs at least two groups"
		return res
	case res.N <= res.Groups:
		res.Reason = "needs more responses than groups"
		return res
	}
	var all []float64
	for _, g := range groups {
		all = append(all, g...)
	}
	grand := stat.Mean(all, nil)
	var ssb, ssw float64
	for _, g := range groups {
		m := stat.Mean(g, nil)
		ssb += float64(len(g)) * (m - grand) * (m - grand)
		for _, v := range g {
			ssw += (v - m) * (v - m)
		}
	}
	d1, d2 := float64(res.Groups-1), float64(res.N-res.Groups)
	res.MSB, res.MSW = ssb/d1, ssw/d2
	res.MeanSize = float64(res.N) / float64(res.Groups)
	if res.MSW > 0 {
		res.F = res.MSB / res.MSW
		res.P = distuv.F{D1: d1, D2: d2}.Survival(res.F)
	}
	if den := res.MSB + (res.MeanSize-1)*res.MSW; den > 0 {
		res.ICC1 = (res.MSB - res.MSW) / den
	}
	if res.MSB > 0 {
		res.ICC2 = (res.MSB - res.MSW) / res.MSB
	}
	if res.MSW == 0 {
		res.Reason = "every group's responses are identical"
	}
	return res
}

// RWGResult is the within-group agreement of one group (a team in one
// period); see [RWGJ].
type RWGResult struct {
	N, Items     int     // respondents with every item answered, and items J
	MeanVariance float64 // mean over items of the item's sample variance (n−1) in the group
	RWG          float64 // rwg(J) in [0, 1]; NaN with fewer than 2 respondents
}

// UniformNullVariance returns the variance of answers spread evenly over an
// A-point scale, (A² − 1)/12 (James, Demaree & Wolf 1984): 2 for a 1–5 scale.
// It returns NaN when A < 2.
func UniformNullVariance(points int) float64 {
	if points < 2 {
		return math.NaN()
	}
	a := float64(points)
	return (a*a - 1) / 12
}

// RWGJ returns James, Demaree & Wolf's (1984, J. Applied Psychology 69(1))
// within-group agreement over J parallel items, as multilevel::rwg.j(x,
// grpid, ranvar) computes it for one group:
//
//	rwg(J) = J(1 − s̄²/σ²_E) / (J(1 − s̄²/σ²_E) + s̄²/σ²_E),
//
// where s̄² is the mean of the J items' sample variances among the group's
// respondents and σ²_E = [UniformNullVariance](points), the variance of
// random answers. When s̄² exceeds σ²_E (more disagreement than chance)
// s̄² is set to σ²_E and rwg(J) is 0, as multilevel does. With one item this
// is rwg = 1 − s²/σ²_E (multilevel::rwg).
//
// answers holds one row per respondent, one column per item; respondents
// with a NaN answer are left out (multilevel's na.exclude), as are rows of a
// different length from the first. RWG is NaN with fewer than 2 respondents
// left or an invalid scale. Whether a group may be shown at all (the report
// shows rwg only for groups of at least 2k) is the caller's rule, not this
// function's.
func RWGJ(answers [][]float64, points int) RWGResult {
	res := RWGResult{MeanVariance: math.NaN(), RWG: math.NaN()}
	if len(answers) == 0 {
		return res
	}
	res.Items = len(answers[0])
	var rows [][]float64
	for _, row := range answers {
		if len(row) != res.Items {
			continue
		}
		complete := true
		for _, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				complete = false
			}
		}
		if complete {
			rows = append(rows, row)
		}
	}
	res.N = len(rows)
	sigma := UniformNullVariance(points)
	if res.N < 2 || res.Items == 0 || math.IsNaN(sigma) {
		return res
	}
	col := make([]float64, res.N)
	var s float64
	for j := 0; j < res.Items; j++ {
		for i, row := range rows {
			col[i] = row[j]
		}
		s += stat.Variance(col, nil)
	}
	s /= float64(res.Items)
	res.MeanVariance = s
	s = math.Min(s, sigma)
	j := float64(res.Items)
	agree := j * (1 - s/sigma)
	res.RWG = agree / (agree + s/sigma)
	return res
}

// AgreementBand names how strongly a group's members agree.
type AgreementBand string

// The bands of LeBreton & Senter (2008, Organizational Research Methods
// 11(4), Table 3) for rwg and rwg(J).
const (
	AgreementLacking    AgreementBand = "lack"        // .00–.30: lack of agreement
	AgreementWeak       AgreementBand = "weak"        // .31–.50: weak agreement
	AgreementModerate   AgreementBand = "moderate"    // .51–.70: moderate agreement
	AgreementStrong     AgreementBand = "strong"      // .71–.90: strong agreement
	AgreementVeryStrong AgreementBand = "very strong" // .91–1.00: very strong agreement
)

// BandOf returns the LeBreton & Senter (2008) band of an rwg or rwg(J)
// value. Their bands are stated on values rounded to two decimals, so the
// value is rounded first (0.705 is "strong", 0.70 "moderate"). NaN gives "".
func BandOf(rwg float64) AgreementBand {
	if math.IsNaN(rwg) {
		return ""
	}
	v := math.Round(rwg * 100)
	switch {
	case v <= 30:
		return AgreementLacking
	case v <= 50:
		return AgreementWeak
	case v <= 70:
		return AgreementModerate
	case v <= 90:
		return AgreementStrong
	}
	return AgreementVeryStrong
}

// DisagreementCutoff is the conventional rwg below which a group's members
// are taken not to agree enough for its mean to stand for the group (James,
// Demaree & Wolf 1984; LeBreton & Senter 2008 discuss the .70 heuristic).
const DisagreementCutoff = 0.70

// Disagrees reports whether rwg is below DisagreementCutoff; false for NaN.
func Disagrees(rwg float64) bool { return rwg < DisagreementCutoff }

// AgreementSummary counts rwg values of many groups by band; see
// [SummarizeAgreement].
type AgreementSummary struct {
	Groups    int                   // groups with a defined rwg
	Disagree  int                   // of them, how many have rwg < DisagreementCutoff
	ByBand    map[AgreementBand]int // groups per band
	MedianRWG float64               // median rwg; NaN when Groups is 0
}

// SummarizeAgreement counts defined rwg values (NaN ones are skipped) by
// BandOf and by Disagrees, and gives their median.
func SummarizeAgreement(rwg []float64) AgreementSummary {
	s := AgreementSummary{ByBand: map[AgreementBand]int{}, MedianRWG: math.NaN()}
	vals := make([]float64, 0, len(rwg))
	for _, v := range rwg {
		if math.IsNaN(v) {
			continue
		}
		vals = append(vals, v)
		s.ByBand[BandOf(v)]++
		if Disagrees(v) {
			s.Disagree++
		}
	}
	s.Groups = len(vals)
	if len(vals) > 0 {
		s.MedianRWG = median(vals)
	}
	return s
}

// median returns the median of v (the mean of the middle two for even
// length); v is sorted in place.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// GroupMoments summarises one group's responses for [ICCOfGroups]: how
// many, their mean, and the sum of squared deviations from that mean.
type GroupMoments struct {
	N    int
	Mean float64
	SS   float64
}

// MomentsOf returns the GroupMoments of values (NaN values are skipped),
// with the mean and the squared deviations computed in two passes.
func MomentsOf(values []float64) GroupMoments {
	var g GroupMoments
	var s float64
	for _, v := range values {
		if !math.IsNaN(v) {
			g.N++
			s += v
		}
	}
	if g.N == 0 {
		g.Mean = math.NaN()
		return g
	}
	g.Mean = s / float64(g.N)
	for _, v := range values {
		if !math.IsNaN(v) {
			g.SS += (v - g.Mean) * (v - g.Mean)
		}
	}
	return g
}

// ICCOfGroups is [ICC] from each group's moments instead of every response,
// so that a caller can keep a few numbers per group (a report remembers
// closed rounds this way) and still get the one-way ANOVA's ICC(1) and
// ICC(2): the same sums of squares, SSB = Σ n_g (m_g − m)² with m the
// response-weighted grand mean and SSW = Σ SS_g. Groups with N = 0 or a
// NaN or infinite moment are skipped. Equal to ICC on the same responses up
// to rounding (agreement_test.go checks both on multilevel's reference).
func ICCOfGroups(groups []GroupMoments) ICCResult {
	nan := math.NaN()
	res := ICCResult{MeanSize: nan, MSB: nan, MSW: nan, F: nan, P: nan, ICC1: nan, ICC2: nan}
	// Two passes over the groups usable, not a copy of them: a report
	// passes one group per team-round, 6 MB at 2,500 teams and two years.
	usable := func(g GroupMoments) bool {
		return g.N > 0 && !math.IsNaN(g.Mean) && !math.IsInf(g.Mean, 0) && !math.IsNaN(g.SS) && !math.IsInf(g.SS, 0) && g.SS >= 0
	}
	var sum float64
	for _, g := range groups {
		if !usable(g) {
			continue
		}
		res.Groups++
		res.N += g.N
		sum += g.Mean * float64(g.N)
	}
	switch {
	case res.Groups < 2:
		res.Reason = "needs at least two groups"
		return res
	case res.N <= res.Groups:
		res.Reason = "needs more responses than groups"
		return res
	}
	grand := sum / float64(res.N)
	var ssb, ssw float64
	for _, g := range groups {
		if !usable(g) {
			continue
		}
		ssb += float64(g.N) * (g.Mean - grand) * (g.Mean - grand)
		ssw += g.SS
	}
	d1, d2 := float64(res.Groups-1), float64(res.N-res.Groups)
	res.MSB, res.MSW = ssb/d1, ssw/d2
	res.MeanSize = float64(res.N) / float64(res.Groups)
	if res.MSW > 0 {
		res.F = res.MSB / res.MSW
		res.P = distuv.F{D1: d1, D2: d2}.Survival(res.F)
	}
	if den := res.MSB + (res.MeanSize-1)*res.MSW; den > 0 {
		res.ICC1 = (res.MSB - res.MSW) / den
	}
	if res.MSB > 0 {
		res.ICC2 = (res.MSB - res.MSW) / res.MSB
	}
	if res.MSW == 0 {
		res.Reason = "every group's responses are identical"
	}
	return res
}
