package pulse

import (
	"cmp"
	"slices"

	"github.com/tandem-hq/tandem/internal/stats"
)

// UnitAgreement is one unit's agreement inputs in one closed round: what
// the correlation report's agreement figures (ICC, rwg) need of the unit's
// individual index answers, a few numbers instead of the answers.
type UnitAgreement struct {
	Unit  int64
	Index stats.GroupMoments // respondents' engagement index (0–100)
	RWG   float64            // rwg(J) over the index items; NaN with fewer than 2 complete respondents
	RWGN  int                // respondents who answered every index item
}

// RoundAgreement is one round's agreement inputs, a unit's at most once,
// in unit id order. (A slice rather than a map by unit: a report server
// keeps one per closed round, and a map's slots took half as much again.)
type RoundAgreement []UnitAgreement

// Of returns unit's agreement inputs, if it has any.
func (r RoundAgreement) Of(unit int64) (UnitAgreement, bool) {
	i, ok := slices.BinarySearchFunc(r, unit, func(a UnitAgreement, u int64) int { return cmp.Compare(a.Unit, u) })
	if !ok {
		return UnitAgreement{}, false
	}
	return r[i], true
}
