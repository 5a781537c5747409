// Package privacy decides which group aggregates Tandem may show, under its
// anonymity rules. It is pure: counts in, decisions out, no I/O. Its rules,
// each with one function that every page, export, report and job calls:
//
//   - the threshold in force for a configured k: Threshold (unset means
//     DefaultK; MinK to MaxK are kept), CheckThreshold to validate one and
//     CheckThresholdChange for who may change it (lowering is an admin's);
//   - which units may show an aggregate: Decide, below;
//   - where a round stores each person's answers: StorageGroups, decided
//     once when the round starts, so that no stored row names a group
//     smaller than k.
//
// # Rules
//
// Every aggregate (a mean, an eNPS, a heatmap cell, a comment list, an
// export row) describes a group of people, and no group smaller than k may
// be described, either directly or by subtracting one shown number from
// another. k defaults to DefaultK (5); an admin may lower it to MinK (3),
// never further.
//
//  1. A unit's aggregate covers its whole subtree: its own members plus
//     everyone below it. n(U) is that subtree count.
//  2. A unit with 0 < n < k is hidden ("fewer than 5 respondents"). Its
//     people are rolled up: they are in every ancestor's aggregate anyway,
//     and ShownAncestor tells where to report them (and their comments).
//  3. A unit with n = 0 is empty ("no respondents"): there is nothing to
//     show and nothing to protect. It is hidden, and since it adds 0 to its
//     parent's remainder it never forces anything else to be hidden.
//  4. Complementary suppression. For every shown unit P, its remainder
//     R = n(P) − Σ n(C) over P's shown children C counts the people that
//     "P minus its shown children" would describe: P's direct members and
//     everyone in hidden children. R must be 0 or at least k. When
//     0 < R < k, the shown child with the smallest n is hidden too (ties:
//     lowest unit id); that adds at least k to R, so one extra child is
//     always enough. Smallest first withholds the fewest people; the id,
//     not the name, breaks ties so a rename never changes what is shown.
//  5. Hiding a unit hides its whole subtree. Otherwise the hidden total
//     could be rebuilt as the sum of its shown children (plus a remainder
//     that is itself ≥ k or 0, which is no protection for the hidden unit).
//  6. Roots are shown when n ≥ k, and hidden with their subtree otherwise.
//     Separate roots share no aggregate, so they need no suppression
//     between them. A caller that shows an organisation-wide total over
//     several roots must model it as one root above them.
//
// Decisions are made top-down: a parent settles which of its children are
// shown before those children look at theirs. A decision at a unit only
// changes which of its own children are shown, so it never reopens a
// remainder higher up and one pass is stable.
//
// # Why remainders are enough
//
// Shown units nest (any two are disjoint or one contains the other), so
// every number an attacker can work out by adding and subtracting shown
// aggregates — grandparent minus shown parents, plus or minus shown
// children, and so on — describes a union of "cells", where the cell of a
// shown unit P is the people in P but in no shown proper descendant of P.
// Because hidden units hide their whole subtree, that cell is exactly P's
// remainder, which is 0 or at least k. The tests check this by brute force
// over people, not over the formula.
//
// # One decision, many views
//
// Decide runs once over the whole tree for one set of counts; a leader's
// view is ShownUnits(scope), a filter of that decision. Deciding again on a
// leader's subtree could show a unit the global decision hid (or the
// reverse), and two views that disagree can be subtracted from each other.
// Numbers built from a different set of people (another round, a question
// some skipped) need their own Decide with their own counts.
//
// # Worked example (k = 5)
//
//	Company                 direct 0   n 26   shown, R = 26 − 12 − 14 = 0
//	├── Sales       (id 2)  direct 0   n 12   shown
//	│   ├── Inside  (id 4)  direct 5   n  5   hidden: subtraction
//	│   ├── Field   (id 5)  direct 5   n  5   shown
//	│   └── Partner (id 6)  direct 2   n  2   hidden: fewer than 5
//	└── Support     (id 3)  direct 1   n 14   shown
//	    ├── Tier 1  (id 7)  direct 7   n  7   shown
//	    └── Tier 2  (id 8)  direct 6   n  6   hidden: subtraction
//
// Partner (2) is under k. Showing Sales, Inside and Field would give
// 12 − 5 − 5 = 2: Partner's two answers, worked out. So one more Sales team
// is hidden: Inside and Field tie at 5 and Inside has the lower id. Sales'
// remainder is now 7 (Inside and Partner together). Under Support no team is
// small, but 14 − 7 − 6 = 1 would expose the one person who sits directly in
// Support (often its manager), so the smaller team, Tier 2, is hidden and
// Support's remainder is 7. Company's remainder is 0: nothing to protect.
package privacy
