// Package stats holds the pure statistics behind Tandem's link report. It
// does no I/O and keeps no state of its own (an [FECache] is the caller's,
// and changes no result); every function takes plain slices and returns
// plain values.
//
// # What lives where
//
//   - correlation.go: [Pearson], [Spearman], [Ranks], [FisherCI],
//     [TTwoSidedP] — one point per team, the between-team view.
//   - rmcorr.go: [RMCorr] — repeated-measures correlation, within teams.
//     [RMCorrCodes] takes team codes instead of names, as do
//     [TwoWayWithinCodes] and [FECache.ScanLagsCodes], for a caller with
//     hundreds of thousands of rows.
//   - within.go: [TwoWayWithin] — team and period fixed effects: within
//     teams and net of the company's movement each period, with conventional
//     and team-clustered inference.
//   - lags.go: [ScanLags] — lags −6…+6 both ways, corrected for
//     engagement's persistence, with a multiple-testing correction and a
//     summary that names a lag, an interval, or nothing.
//   - power.go: [PowerR], [MinDetectableR], [SampleSizeR] — what the data
//     could have found (R's pwr::pwr.r.test).
//   - agreement.go: [ICC], [ICCOfGroups], [RWGJ], [BandOf], [Disagrees],
//     [SummarizeAgreement] — whether team means stand for their members.
//   - priority.go: [DriverPriority] — which driver to act on first.
//   - regression.go: [LeastSquares]; fdr.go: [BenjaminiHochberg].
//
// # Two questions, two methods
//
// The link report asks whether employee engagement and customer satisfaction
// move together, and it asks it in two ways that can give different answers.
//
// Between teams ([Pearson], [Spearman]): with one point per team, r says
// whether teams with higher engagement also tend to have happier customers. A
// stable difference between teams — a strong manager, an easy product line, a
// long-tenured crew — drives this number, and so does anything else that
// differs between teams. Fed several periods of the same team, these functions
// treat every point as independent, which overstates N and the evidence.
//
// Within teams ([RMCorr]): repeated-measures correlation (Bakdash & Marusich
// 2017) removes each team's own average from both measures and asks whether,
// when a given team's engagement rises above its usual level, that team's
// customer satisfaction rises too. Stable differences between teams cannot
// produce it, and its degrees of freedom account for the repeated measures.
// [TwoWayWithin] also removes what every team did that period, so that a
// company-wide swing (a season, a reorganisation) moving both measures at
// once is not read as a link.
//
// The two can disagree, even in sign. In Bland & Altman's (1995) pH and PaCO2
// data, used in this package's tests, the subjects' means correlate at
// r = 0.08 and all 47 points pooled at r = −0.07, while within subjects
// r_rm = −0.51 (p < 0.001). A report shows both, says which question each
// answers, and says "moves together with", never "causes".
//
// Over time ([ScanLags]): a team's engagement drifts slowly, so raw lag
// correlations smear over neighbouring lags and show customers "leading"
// when they follow. ScanLags filters out the persistence first and names a
// lag only when the evidence singles it out.
//
// # Conventions
//
// Pairs in which either value is NaN are dropped before anything is computed;
// results report how many were used. Undefined results are NaN rather than
// errors or panics, so that a report can show "not enough data" for one row and
// numbers for the next. No function in this package panics on any input.
//
// p-values and intervals follow SciPy's scipy.stats.pearsonr and spearmanr and
// R's rmcorr, p.adjust, plm/sandwich, pwr, psych and multilevel; each
// function's comment states its definition, its source, and where it departs
// from those references on degenerate input. The R scripts that produced the
// reference values are in testdata/*.R.
package stats
