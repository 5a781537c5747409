package report

import (
	"math"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The dashboard claims a link between teams only over at least three teams
// and with an interval that leaves out zero; otherwise it says that the
// data cannot tell.
func TestDashboardHeadlineClaimsABetweenTeamLinkOnlyWithThreeTeamsAndAnIntervalClearOfZero(t *testing.T) {
	nan := Num(math.NaN())
	params := CorrelationParams{Measure: pulse.MeasureIndex, Customer: tandem.MetricCSAT, Period: tandem.Week}
	cases := []struct {
		name        string
		teams       int
		between     Coef
		within      RMCoef
		want, never []string
	}{
		{name: "one team, interval through zero", teams: 1,
			between: Coef{R: 0.21, CILow: -0.3, CIHigh: 0.62, N: 12}, within: RMCoef{R: 0.21, CILow: -0.3, CIHigh: 0.62, DF: 10, Teams: 1},
			want:  []string{"With 1 team over 12 weeks, the data cannot tell whether teams with higher engagement have higher CSAT", "at least 3", "Nor can it tell whether the team's CSAT rises when its own engagement does."},
			never: []string{"teams with higher engagement had", "was higher"}},
		{name: "one team, interval clear of zero", teams: 1,
			between: Coef{R: 0.8, CILow: 0.5, CIHigh: 0.93, N: 12}, within: RMCoef{R: 0.8, CILow: 0.5, CIHigh: 0.93, DF: 10, Teams: 1},
			want:  []string{"cannot tell whether teams with higher engagement have higher CSAT", "When the team's engagement was above its usual level, its CSAT was higher (r = 0.80, 95 % interval 0.50 to 0.93)."},
			never: []string{"teams with higher engagement had"}},
		{name: "two teams, interval clear of zero", teams: 2,
			between: Coef{R: 0.7, CILow: 0.4, CIHigh: 0.86, N: 24}, within: RMCoef{R: nan, CILow: nan, CIHigh: nan},
			want:  []string{"With 2 teams over 12 weeks, the data cannot tell"},
			never: []string{"teams with higher engagement had", "Nor"}},
		{name: "five teams, interval through zero", teams: 5,
			between: Coef{R: 0.2, CILow: -0.05, CIHigh: 0.43, N: 60}, within: RMCoef{R: 0.1, CILow: -0.17, CIHigh: 0.35, DF: 54, Teams: 5},
			want:  []string{"Across 5 teams over 12 weeks, the data cannot tell", "r = 0.20, but its 95 % interval -0.05 to 0.43 includes no link at all", "Nor can it tell whether a team's CSAT"},
			never: []string{"teams with higher engagement had"}},
		{name: "three teams, interval clear of zero", teams: 3,
			between: Coef{R: -0.45, CILow: -0.68, CIHigh: -0.14, N: 36}, within: RMCoef{R: 0.1, CILow: -0.25, CIHigh: 0.43, DF: 32, Teams: 3},
			want:  []string{"Across 3 teams over 12 weeks, teams with higher engagement had lower CSAT: r = -0.45, 95 % interval -0.68 to -0.14. This is a correlation, not proof of cause.", "Within teams, the data cannot tell whether a team's CSAT rises when its own engagement does."},
			never: []string{"Nor"}},
		{name: "no interval", teams: 4,
			between: Coef{R: 0.9, CILow: nan, CIHigh: nan, N: 4}, within: RMCoef{R: nan, CILow: nan, CIHigh: nan},
			want:  []string{"too few pairs to say how sure"},
			never: []string{"teams with higher engagement had"}},
	}
	for _, tc := range cases {
		c := &Correlation{Params: params, NPairs: tc.between.N, NTeams: tc.teams, NPeriods: 12, Pearson: tc.between, RMCorr: tc.within}
		got := DashboardHeadline(c)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: headline\n%s\nlacks\n%s", tc.name, got, w)
			}
		}
		for _, n := range tc.never {
			if strings.Contains(got, n) {
				t.Errorf("%s: headline\n%s\nsays %q", tc.name, got, n)
			}
		}
		for _, jargon := range []string{"r_rm", "rmcorr", "df", " q "} {
			if strings.Contains(got, jargon) {
				t.Errorf("%s: headline uses %q: %s", tc.name, jargon, got)
			}
		}
	}
	empty := &Correlation{Params: params, Pearson: Coef{R: nan}, Summary: "There is not enough data to relate engagement to CSAT."}
	if got := DashboardHeadline(empty); got != empty.Summary {
		t.Errorf("without pairs the headline is %q, want the report's summary", got)
	}
}
