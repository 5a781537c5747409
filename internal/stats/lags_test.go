package stats

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
)

// readLagPanel reads testdata/lagpanel.csv: team,period,x,y with empty
// cells for missing values.
func readLagPanel(t *testing.T) (team []string, period []int, x, y []float64) {
	t.Helper()
	f, err := os.Open("testdata/lagpanel.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	num := func(s string) float64 {
		if s == "" {
			return math.NaN()
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, rec := range recs[1:] {
		p, err := strconv.Atoi(rec[1])
		if err != nil {
			t.Fatal(err)
		}
		team, period = append(team, rec[0]), append(period, p)
		x, y = append(x, num(rec[2])), append(y, num(rec[3]))
	}
	return team, period, x, y
}

func TestScanLagsMatchesTheProcedureWrittenOutInR(t *testing.T) {
	t.Parallel()
	// testdata/lags.R writes ScanLags' documented procedure out in R 4.2.2
	// (lm for the two-way residuals and fits, lm.wfit and uniroot for the
	// variogram, sandwich::vcovCL + lmtest::coeftest for the clustered p) on
	// lagpanel.csv: 9 teams over 40 periods, one joining at period 11, about
	// 8 % of cells missing on each side, customers planted 2 periods after
	// engagement.
	team, period, x, y := readLagPanel(t)
	got := ScanLags(team, period, x, y)
	if got.Reason != "" {
		t.Fatalf("Reason: %q", got.Reason)
	}
	per := got.Persistence
	// R: K 10 pairs 2436 phi 0.67251853550669349 nugget 0.0062713859450215549 sill 0.027536169068093242
	if per.Distances != 10 || per.Pairs != 2436 || per.Reason != "" {
		t.Errorf("Distances, Pairs, Reason: got %d, %d, %q, want 10, 2436, none", per.Distances, per.Pairs, per.Reason)
	}
	assertClose(t, "Phi", per.Phi, 0.67251853550669349, within)
	assertClose(t, "Nugget", per.Nugget, 0.0062713859450215549, within)
	assertClose(t, "Sill", per.Sill, 0.027536169068093242, within)

	// lag, n, teams, df, r, lo, hi, p, pserial, inflation, pcluster, padj
	type row struct {
		lag, n, teams, df                      int
		r, lo, hi, p, pserial, infl, pcl, padj float64
	}
	want := []row{
		{-6, 190, 9, 148, -0.026855869302783275, -0.20012455539519766, 0.14804168660543351, 0.76438397864403074, 0.76438397864403074, 1.183866706758177, 0.71014565702806975, 1},
		{-5, 191, 9, 148, 0.011470753505793444, -0.16857438720576229, 0.19151589421734908, 0.8984838989566768, 0.8984838989566768, 1.1917422460205369, 0.88683286462564392, 1},
		{-4, 196, 9, 152, -0.091550728672009751, -0.30321406295483427, 0.12011260561081454, 0.34777138358750959, 0.30977377491385033, 1.2351002566881109, 0.34777138358750959, 1},
		{-3, 206, 9, 161, 0.17820295505710931, -0.088768974072429993, 0.44517488418664958, 0.16230560848728676, 0.030379398274142155, 1.1045859233434916, 0.16230560848728676, 1},
		{-2, 215, 9, 169, -0.13110063931824498, -0.28120748585219923, 0.025268233505839892, 0.099971738524105055, 0.099971738524105055, 1.0793042305742073, 0.075171010239394209, 1},
		{-1, 219, 9, 172, 0.08369033615153959, -0.072716755343825351, 0.23607980416664018, 0.29368017701143534, 0.29368017701143534, 1.0928955223664949, 0.13355816180078633, 1},
		{0, 220, 9, 172, 0.071354249690681507, -0.1290320681683457, 0.27174056754970843, 0.43535696641362909, 0.38082645263703141, 1.1393542506448053, 0.43535696641362909, 1},
		{1, 212, 9, 165, 0.0037594283411779123, -0.15954573151799809, 0.16706458820035386, 0.96269330551959975, 0.96269330551959975, 1.0624837129003502, 0.95896488600774665, 1},
		{2, 204, 9, 158, 0.31360808477158825, 0.16148391928870789, 0.45148717350784934, 0.0007785079752345433, 9.2919697639390887e-05, 1.0672656329620891, 0.0007785079752345433, 0.010120603678049064},
		{3, 201, 9, 156, 0.032694225454704996, -0.13244565514699588, 0.19606806819361894, 0.69877826979907265, 0.69877826979907265, 1.1101934791721688, 0.60085656546145616, 1},
		{4, 203, 9, 159, 0.05008335912345252, -0.11536678140526013, 0.21282958952940872, 0.55335526104980159, 0.55335526104980159, 1.1325428016868371, 0.09874852899766659, 1},
		{5, 199, 9, 156, -0.068814755295895549, -0.27758761579781865, 0.13995810520602806, 0.46900377692305473, 0.42431382127991346, 1.1557403999181195, 0.46900377692305473, 1},
		{6, 189, 9, 147, 0.045717141904939432, -0.1523606341237429, 0.2437949179336216, 0.61384457427419714, 0.61384457427419714, 1.2030125457497114, 0.60902295024026176, 1},
	}
	if len(got.Lags) != len(want) || got.Tests != 13 {
		t.Fatalf("lags, Tests: got %d, %d, want %d, 13", len(got.Lags), got.Tests, len(want))
	}
	for i, w := range want {
		g := got.Lags[i]
		name := "lag " + strconv.Itoa(w.lag) + " "
		if g.Lag != w.lag || g.N != w.n || g.Teams != w.teams || g.DF != w.df || g.Reason != "" {
			t.Errorf("%sLag, N, Teams, DF, Reason: got %d %d %d %d %q, want %d %d %d %d none",
				name, g.Lag, g.N, g.Teams, g.DF, g.Reason, w.lag, w.n, w.teams, w.df)
		}
		assertClose(t, name+"R", g.R, w.r, within)
		assertClose(t, name+"CILow", g.CILow, w.lo, 1e-6)
		assertClose(t, name+"CIHigh", g.CIHigh, w.hi, 1e-6)
		assertClose(t, name+"P", g.P, w.p, within)
		assertClose(t, name+"PSerial", g.PSerial, w.pserial, within)
		assertClose(t, name+"Inflation", g.Inflation, w.infl, within)
		assertClose(t, name+"PCluster", g.PCluster, w.pcl, within)
		assertClose(t, name+"PAdj", g.PAdj, w.padj, within)
		assertClose(t, name+"EffectiveDF", g.EffectiveDF, float64(w.df)/w.infl, within)
		if g.Significant != (w.padj < 0.05) {
			t.Errorf("%sSignificant: got %v, want %v", name, g.Significant, w.padj < 0.05)
		}
	}
	// Only lag 2 is significant; its neighbours' estimates lie outside its
	// interval (0.161, 0.451), so it is named alone.
	s := got.Summary
	if s.Significant != 1 || s.Peak != 2 || !s.Named || s.From != 2 || s.To != 2 || len(s.Outside) != 0 {
		t.Errorf("Summary: got %+v, want lag 2 named alone", s)
	}
}

func TestTheFilterNeverReachesAcrossAGap(t *testing.T) {
	t.Parallel()
	// One team with periods 0–2 and 4–6 (period 3 missing): e_p = v_p −
	// 0.5·v_{p−1} exists at 1, 2, 5 and 6 only.
	s := &series{lo: []int{0}, vals: [][]float64{{1, 2, 4, math.NaN(), 8, 16, 32}}, span: 7}
	got := s.filter(0.5).vals[0]
	want := []float64{math.NaN(), 1.5, 3, math.NaN(), math.NaN(), 12, 24}
	for i := range want {
		assertClose(t, "e_"+strconv.Itoa(i), got[i], want[i], 0)
	}
	// φ = 0 leaves every value, gaps and all.
	for i, v := range s.filter(0).vals[0] {
		assertClose(t, "unfiltered "+strconv.Itoa(i), v, s.vals[0][i], 0)
	}
}

func TestScanLagsDependsOnlyOnThePeriodsOrderNotTheirNumbers(t *testing.T) {
	t.Parallel()
	// A fortnightly program passes its own fortnight index; where the index
	// starts, and the teams' names, change nothing.
	team, period, x, y := readLagPanel(t)
	want := ScanLags(team, period, x, y)
	shifted := make([]int, len(period))
	renamed := make([]string, len(team))
	for i := range period {
		shifted[i] = period[i] + 1000
		renamed[i] = "unit " + team[i]
	}
	got := ScanLags(renamed, shifted, x, y)
	assertClose(t, "Phi", got.Persistence.Phi, want.Persistence.Phi, 1e-12)
	for i := range want.Lags {
		assertClose(t, "R", got.Lags[i].R, want.Lags[i].R, 1e-12)
		assertClose(t, "P", got.Lags[i].P, want.Lags[i].P, 1e-12)
	}
}

func TestScanLagsGivenWeekNumbersForAFortnightlyProgramFindsNoConsecutivePeriods(t *testing.T) {
	t.Parallel()
	// Every period two apart: no team has period p−1 for any p, so the
	// persistence fit has only even distances and the filtered series are
	// empty — the caller must number periods in the program's own cadence.
	team, period, x, y := readLagPanel(t)
	doubled := make([]int, len(period))
	for i, p := range period {
		doubled[i] = 2 * p
	}
	got := ScanLags(team, doubled, x, y)
	if got.Persistence.Phi == 0 {
		t.Skip("persistence not fitted; nothing to filter")
	}
	for _, e := range got.Lags {
		if !math.IsNaN(e.R) || e.Reason == "" {
			t.Errorf("lag %d: got R %v, Reason %q, want NaN and a reason", e.Lag, e.R, e.Reason)
		}
	}
	if got.Tests != 0 || got.Summary.Named {
		t.Errorf("Tests, Named: got %d, %v, want 0, false", got.Tests, got.Summary.Named)
	}
}

func TestScanLagsRefusesInputItCannotUse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		team   []string
		period []int
		x, y   []float64
		reason string
	}{
		{"lengths differ", []string{"a"}, []int{1, 2}, []float64{1}, []float64{1}, "team, period, x and y have different lengths"},
		{"no rows", nil, nil, nil, nil, "no rows"},
		{"period twice", []string{"a", "a", "b"}, []int{1, 1, 2}, []float64{1, 2, 3}, []float64{1, 2, 3}, `team "a" has period 1 twice`},
		{"infinite", []string{"a", "b"}, []int{1, 2}, []float64{1, math.Inf(-1)}, []float64{1, 2}, "a value is infinite"},
		{"periods far apart", []string{"a", "b"}, []int{0, 1 << 40}, []float64{1, 2}, []float64{1, 2},
			"periods run from 0 to 1099511627776; number them consecutively in the program's cadence"},
		{"one team", []string{"a", "a", "a"}, []int{1, 2, 3}, []float64{1, 2, 3}, []float64{1, 2, 3}, "engagement: needs at least two teams"},
		{"no customers", []string{"a", "a", "b", "b"}, []int{1, 2, 1, 2}, []float64{1, 2, 3, 5}, []float64{math.NaN(), math.NaN(), math.NaN(), math.NaN()},
			"customers: needs at least two teams"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ScanLags(tc.team, tc.period, tc.x, tc.y)
			if got.Reason != tc.reason || len(got.Lags) != 0 || got.Summary.Named {
				t.Errorf("got Reason %q, %d lags, named %v; want %q, none, false", got.Reason, len(got.Lags), got.Summary.Named, tc.reason)
			}
		})
	}
}

// Teams given as codes in order of first appearance give the scan of the
// same teams given by name, to the bit; a code outside [0, teams) is
// refused.
func TestScanLagsCodesEqualsScanLagsByName(t *testing.T) {
	t.Parallel()
	team, period, x, y := readLagPanel(t)
	codeOf := map[string]int{}
	codes := make([]int, len(team))
	for i, name := range team {
		if _, ok := codeOf[name]; !ok {
			codeOf[name] = len(codeOf)
		}
		codes[i] = codeOf[name]
	}
	want := ScanLags(team, period, x, y)
	got := NewFECache().ScanLagsCodes(codes, len(codeOf), period, x, y)
	if want.Reason != "" || len(want.Lags) == 0 {
		t.Fatalf("the reference panel gives no scan: %q", want.Reason)
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Fatalf("codes give\n%#v\nnames give\n%#v", got, want)
	}
	if got32 := ScanLagsCodesIn(NewFECache(), int32s(codes), len(codeOf), int32s(period), x, y); fmt.Sprintf("%#v", got32) != fmt.Sprintf("%#v", want) {
		t.Fatalf("int32 codes give\n%#v\nnames give\n%#v", got32, want)
	}
	codes[3] = len(codeOf)
	if r := NewFECache().ScanLagsCodes(codes, len(codeOf), period, x, y).Reason; r != fmt.Sprintf("row 3 has team code %d, outside 0 to %d", len(codeOf), len(codeOf)-1) {
		t.Fatalf("a code outside the range: Reason %q", r)
	}
}
