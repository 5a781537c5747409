package stats

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
)

// readResponses reads testdata/responses.csv: team,item1,item2,item3 with
// empty cells for skipped answers.
func readResponses(t *testing.T) (team []string, items [][]float64) {
	t.Helper()
	f, err := os.Open("testdata/responses.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs[1:] {
		row := make([]float64, 3)
		for j := range row {
			if rec[j+1] == "" {
				row[j] = math.NaN()
				continue
			}
			if row[j], err = strconv.ParseFloat(rec[j+1], 64); err != nil {
				t.Fatal(err)
			}
		}
		team = append(team, rec[0])
		items = append(items, row)
	}
	return team, items
}

// meanAnswered is a respondent's index: the mean of the items answered
// (R's rowMeans(na.rm = TRUE)).
func meanAnswered(row []float64) float64 {
	var s, n float64
	for _, v := range row {
		if !math.IsNaN(v) {
			s += v
			n++
		}
	}
	return s / n
}

func TestICCMatchesMultilevelOnUnequalTeams(t *testing.T) {
	t.Parallel()
	// testdata/agreement.R: a <- aov(index ~ as.factor(team)); multilevel
	// ICC1(a), ICC2(a) and summary(a), on 55 respondents in 9 teams of 2–11.
	team, items := readResponses(t)
	index := make([]float64, len(items))
	for i, row := range items {
		index[i] = meanAnswered(row)
	}
	got := ICC(team, index)
	if got.N != 55 || got.Groups != 9 || got.Reason != "" {
		t.Errorf("N, Groups, Reason: got %d, %d, %q, want 55, 9, none", got.N, got.Groups, got.Reason)
	}
	assertClose(t, "ICC1", got.ICC1, 0.48418833846917364, within)
	assertClose(t, "ICC2", got.ICC2, 0.85155389967188877, within)
	assertClose(t, "MSB", got.MSB, 2.026738616321953, within)
	assertClose(t, "MSW", got.MSW, 0.30086144397738596, within)
	assertClose(t, "F", got.F, 6.7364518016282986, within)
	assertClose(t, "P", got.P, 8.1692726190915039e-06, within)
	assertClose(t, "MeanSize", got.MeanSize, 55.0/9, within)
}

func TestICCMatchesPsychOnEqualTeams(t *testing.T) {
	t.Parallel()
	// testdata/agreement.R: psych::ICC(b, lmer = FALSE) on 6 teams × 4
	// respondents: Single_raters_absolute (ICC1) and Average_raters_absolute
	// (ICC1k); multilevel's ICC1/ICC2 of the same data agree to every digit.
	b := [][]float64{{4, 5, 4, 4}, {2, 3, 2, 3}, {5, 5, 4, 5}, {3, 4, 2, 3}, {4, 4, 5, 3}, {1, 2, 2, 3}}
	var team []string
	var v []float64
	for i, row := range b {
		for _, x := range row {
			team = append(team, strconv.Itoa(i))
			v = append(v, x)
		}
	}
	got := ICC(team, v)
	assertClose(t, "ICC1", got.ICC1, 0.68949771689497719, within)
	assertClose(t, "ICC2", got.ICC2, 0.89880952380952384, within)
}

func TestICCDegenerateInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		group  []string
		value  []float64
		reason string
	}{
		{"lengths differ", []string{"a"}, []float64{1, 2}, "group and value have different lengths"},
		{"one group", []string{"a", "a", "a"}, []float64{1, 2, 3}, "needs at least two groups"},
		{"one response per group", []string{"a", "b", "c"}, []float64{1, 2, 3}, "needs more responses than groups"},
		{"infinite", []string{"a", "a", "b"}, []float64{1, math.Inf(1), 3}, "a value is infinite"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ICC(tc.group, tc.value)
			if got.Reason != tc.reason {
				t.Errorf("Reason: got %q, want %q", got.Reason, tc.reason)
			}
			assertNaN(t, "ICC1", got.ICC1)
			assertNaN(t, "ICC2", got.ICC2)
		})
	}
	// Identical answers within each group: no within variance. ICC1 and
	// ICC2 are 1 (every difference lies between groups), F is undefined.
	got := ICC([]string{"a", "a", "b", "b"}, []float64{2, 2, 4, 4})
	assertClose(t, "ICC1", got.ICC1, 1, 0)
	assertClose(t, "ICC2", got.ICC2, 1, 0)
	assertNaN(t, "F", got.F)
	if got.Reason == "" {
		t.Error("Reason: got none, want one for MSW = 0")
	}
}

func TestRWGJMatchesMultilevelPerTeam(t *testing.T) {
	t.Parallel()
	// testdata/agreement.R: multilevel::rwg.j(items, team, ranvar = 2) and,
	// for one item, multilevel::rwg(item1, team, ranvar = 2). rwg.j drops
	// the two respondents with a skipped item (t1 and t4 have one each).
	team, items := readResponses(t)
	byTeam := map[string][][]float64{}
	for i, row := range items {
		byTeam[team[i]] = append(byTeam[team[i]], row)
	}
	for _, c := range []struct {
		team    string
		n       int
		rwgj    float64
		rwgItem float64
	}{
		{"t1", 4, 0.88636363636363635, 0.65000000000000002},
		{"t2", 8, 0.83684210526315783, 0.60714285714285721},
		{"t3", 3, 0.85714285714285710, 0.50000000000000000},
		{"t4", 10, 0.81355932203389825, 0.69999999999999996},
		{"t5", 6, 0.73295454545454541, 0.71666666666666667},
		{"t6", 2, 0.93750000000000000, 1},
		{"t7", 7, 0.86577181208053700, 0.92857142857142860},
		{"t8", 4, 0.71739130434782616, 0.50000000000000000},
		{"t9", 9, 0.83877551020408170, 0.62500000000000000},
	} {
		got := RWGJ(byTeam[c.team], 5)
		if got.N != c.n || got.Items != 3 {
			t.Errorf("%s N, Items: got %d, %d, want %d, 3", c.team, got.N, got.Items, c.n)
		}
		assertClose(t, c.team+" rwg(j)", got.RWG, c.rwgj, within)
		var one [][]float64
		for _, row := range byTeam[c.team] {
			one = append(one, row[:1])
		}
		assertClose(t, c.team+" rwg item1", RWGJ(one, 5).RWG, c.rwgItem, within)
	}
}

func TestRWGJIsZeroWhenMembersDisagreeMoreThanChance(t *testing.T) {
	t.Parallel()
	// Answers split between 1 and 5: variance 4 (> 2 for a 5-point scale);
	// multilevel truncates s̄² at σ²_E, giving 0.
	got := RWGJ([][]float64{{1, 5}, {5, 1}, {1, 5}, {5, 1}}, 5)
	assertClose(t, "RWG", got.RWG, 0, 0)
	// Everyone the same: 1.
	assertClose(t, "RWG", RWGJ([][]float64{{4, 4}, {4, 4}}, 5).RWG, 1, 0)
	// One respondent, no scale, no rows: NaN.
	assertNaN(t, "one respondent", RWGJ([][]float64{{4, 4}}, 5).RWG)
	assertNaN(t, "scale of 1", RWGJ([][]float64{{4}, {3}}, 1).RWG)
	assertNaN(t, "no rows", RWGJ(nil, 5).RWG)
}

func TestUniformNullVarianceOfCommonScales(t *testing.T) {
	t.Parallel()
	// James, Demaree & Wolf (1984): (A² − 1)/12; 2.0 for 5 points, 4.0 for 7.
	assertClose(t, "5 points", UniformNullVariance(5), 2, 0)
	assertClose(t, "7 points", UniformNullVariance(7), 4, 0)
	assertClose(t, "11 points", UniformNullVariance(11), 10, 0)
	assertNaN(t, "1 point", UniformNullVariance(1))
}

func TestAgreementBandsFollowLeBretonAndSenter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rwg      float64
		band     AgreementBand
		disagree bool
	}{
		{0, AgreementLacking, true},
		{0.30, AgreementLacking, true},
		{0.31, AgreementWeak, true},
		{0.50, AgreementWeak, true},
		{0.51, AgreementModerate, true},
		{0.69999999999999996, AgreementModerate, false}, // multilevel's 0.7 for t4 above
		{0.699, AgreementModerate, true},
		{0.71, AgreementStrong, false},
		{0.90, AgreementStrong, false},
		{0.91, AgreementVeryStrong, false},
		{1, AgreementVeryStrong, false},
		{math.NaN(), "", false},
	} {
		if got := BandOf(c.rwg); got != c.band {
			t.Errorf("BandOf(%v): got %q, want %q", c.rwg, got, c.band)
		}
		if got := Disagrees(c.rwg); got != c.disagree {
			t.Errorf("Disagrees(%v): got %v, want %v", c.rwg, got, c.disagree)
		}
	}
}

func TestSummarizeAgreementCountsBandsAndDisagreement(t *testing.T) {
	t.Parallel()
	got := SummarizeAgreement([]float64{0.95, 0.2, math.NaN(), 0.8, 0.65, 0.72})
	if got.Groups != 5 || got.Disagree != 2 {
		t.Errorf("Groups, Disagree: got %d, %d, want 5, 2", got.Groups, got.Disagree)
	}
	want := map[AgreementBand]int{AgreementVeryStrong: 1, AgreementLacking: 1, AgreementStrong: 2, AgreementModerate: 1}
	for b, n := range want {
		if got.ByBand[b] != n {
			t.Errorf("ByBand[%q]: got %d, want %d", b, got.ByBand[b], n)
		}
	}
	assertClose(t, "MedianRWG", got.MedianRWG, 0.72, 0)
	assertNaN(t, "median of none", SummarizeAgreement(nil).MedianRWG)
}

func TestICCOfGroupsMatchesMultilevelFromMomentsAlone(t *testing.T) {
	t.Parallel()
	// The same reference as TestICCMatchesMultilevelOnUnequalTeams
	// (testdata/agreement.R, multilevel ICC1/ICC2 of aov(index ~ team)),
	// reached from each team's n, mean and sum of squares only.
	team, items := readResponses(t)
	byTeam := map[string][]float64{}
	var order []string
	for i, row := range items {
		if _, ok := byTeam[team[i]]; !ok {
			order = append(order, team[i])
		}
		byTeam[team[i]] = append(byTeam[team[i]], meanAnswered(row))
	}
	var groups []GroupMoments
	for _, k := range order {
		groups = append(groups, MomentsOf(byTeam[k]))
	}
	groups = append(groups, GroupMoments{}) // an empty group is skipped
	got := ICCOfGroups(groups)
	if got.N != 55 || got.Groups != 9 || got.Reason != "" {
		t.Errorf("N, Groups, Reason: got %d, %d, %q, want 55, 9, none", got.N, got.Groups, got.Reason)
	}
	assertClose(t, "ICC1", got.ICC1, 0.48418833846917364, within)
	assertClose(t, "ICC2", got.ICC2, 0.85155389967188877, within)
	assertClose(t, "MSB", got.MSB, 2.026738616321953, within)
	assertClose(t, "MSW", got.MSW, 0.30086144397738596, within)
	assertClose(t, "F", got.F, 6.7364518016282986, within)
	assertClose(t, "P", got.P, 8.1692726190915039e-06, within)

	if g := ICCOfGroups([]GroupMoments{MomentsOf([]float64{1, 2, 3})}); g.Reason != "needs at least two groups" || !math.IsNaN(g.ICC1) {
		t.Errorf("one group: got %+v", g)
	}
	if g := ICCOfGroups([]GroupMoments{MomentsOf([]float64{1}), MomentsOf([]float64{2})}); g.Reason != "needs more responses than groups" {
		t.Errorf("one response per group: got %+v", g)
	}
}
