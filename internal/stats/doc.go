// Package stats holds the pure statistics behind Tandem's link report:
// correlation coefficients with p-values and confidence intervals, ranks,
// repeated-measures correlation, least-squares lines and the
// Benjamini–Hochberg false discovery rate. It does no I/O and keeps no state;
// every function takes plain slices and returns plain values.
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
//
// The two can disagree, even in sign. In Bland & Altman's (1995) pH and PaCO2
// data, used in this package's tests, the subjects' means correlate at
// r = 0.08 and all 47 points pooled at r = −0.07, while within subjects
// r_rm = −0.51 (p < 0.001). A report shows both, says which question each
// answers, and says "moves together with", never "causes".
//
// # Conventions
//
// Pairs in which either value is NaN are dropped before anything is computed;
// results report how many were used. Undefined results are NaN rather than
// errors or panics, so that a report can show "not enough data" for one row and
// numbers for the next. No function in this package panics on any input.
//
// p-values and intervals follow SciPy's scipy.stats.pearsonr and spearmanr and
// R's rmcorr and p.adjust; each function's comment states its definition and
// where it departs from those references on degenerate input.
package stats
