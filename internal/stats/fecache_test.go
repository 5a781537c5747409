package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
)

// A lag scan through a cache is the scan without one, to the bit, whether
// the cache held nothing, the same panel, the same panel with other values
// (a new rating: values change, presence does not) or a panel one
// team-period smaller; and it finds every factorisation the second time.
func TestScanLagsThroughACacheIsTheSameToTheBitAndFactorisesOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 12))
	c := NewFECache()
	n := 120
	if testing.Short() {
		n = 30
	}
	for i := range n {
		team, period, x, y := lagPanel(rng, uint64(i))
		want := fmt.Sprintf("%+v", ScanLags(team, period, x, y))
		h0, l0 := c.Found()
		if got := fmt.Sprintf("%+v", c.ScanLags(team, period, x, y)); got != want {
			t.Fatalf("panel %d, first time:\n got %s\nwant %s", i, got, want)
		}
		h1, l1 := c.Found()
		if got := fmt.Sprintf("%+v", c.ScanLags(team, period, x, y)); got != want {
			t.Fatalf("panel %d, from the cache:\n got %s\nwant %s", i, got, want)
		}
		h2, l2 := c.Found()
		if fits := l2 - l1; h2-h1 != fits || fits != l1-l0 {
			t.Fatalf("panel %d: the second scan found %d of %d factorisations (the first looked up %d)", i, h2-h1, fits, l1-l0)
		}
		if l1-l0 > 0 && h1-h0 == l1-l0 {
			t.Fatalf("panel %d: the first scan found all %d factorisations in the cache before it had made them", i, l1-l0)
		}

		// Other values in the same team-periods: every panel is found again
		// and the result is the scan without a cache.
		y2 := append([]float64(nil), y...)
		for k := range y2 {
			if !math.IsNaN(y2[k]) {
				y2[k] += rng.NormFloat64()
			}
		}
		want2 := fmt.Sprintf("%+v", ScanLags(team, period, x, y2))
		if got := fmt.Sprintf("%+v", c.ScanLags(team, period, x, y2)); got != want2 {
			t.Fatalf("panel %d, new values:\n got %s\nwant %s", i, got, want2)
		}
		if h3, l3 := c.Found(); h3-h2 != l3-l2 {
			t.Fatalf("panel %d, new values in the same team-periods: found %d of %d factorisations", i, h3-h2, l3-l2)
		}

		// One customer value fewer changes the lag panels, not the answer's
		// agreement with a scan that has no cache.
		for k := range y2 {
			if !math.IsNaN(y2[k]) {
				y2[k] = math.NaN()
				break
			}
		}
		want3 := fmt.Sprintf("%+v", ScanLags(team, period, x, y2))
		if got := fmt.Sprintf("%+v", c.ScanLags(team, period, x, y2)); got != want3 {
			t.Fatalf("panel %d, a value fewer:\n got %s\nwant %s", i, got, want3)
		}
	}
}

// The two-way within fit through a cache is the fit without one, to the
// bit, the first time and from the cache.
func TestTwoWayWithinThroughACacheIsTheSameToTheBit(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 13))
	c := NewFECache()
	for i := range 300 {
		team, period, teams, periods := randomPanel(rng, i%2 == 0)
		x, y := make([]float64, len(team)), make([]float64, len(team))
		for k := range x {
			x[k], y[k] = rng.NormFloat64(), rng.NormFloat64()
		}
		want := fmt.Sprintf("%+v", TwoWayWithinCodes(team, teams, period, periods, x, y))
		for pass := range 2 {
			h0, l0 := c.Found()
			if got := fmt.Sprintf("%+v", c.TwoWayWithinCodes(team, teams, period, periods, x, y)); got != want {
				t.Fatalf("panel %d, pass %d:\n got %s\nwant %s", i, pass, got, want)
			}
			if h, l := c.Found(); pass == 1 && (h != h0+1 || l != l0+1) {
				t.Fatalf("panel %d, pass 2: %d of %d look-ups found a factorisation, want 1 of 1", i, h-h0, l-l0)
			}
		}
	}
}

// Scans sharing a cache at once get what one alone gets (run with -race).
func TestScansSharingACacheAtOnceAgree(t *testing.T) {
	team, period, x, y := demoLike(40, 52, 2).generate(3)
	want := fmt.Sprintf("%+v", ScanLags(team, period, x, y))
	c := NewFECache()
	var wg sync.WaitGroup
	got := make([]string, 4)
	for g := range got {
		wg.Go(func() { got[g] = fmt.Sprintf("%+v", c.ScanLags(team, period, x, y)) })
	}
	wg.Wait()
	for g, s := range got {
		if s != want {
			t.Errorf("scan %d of 4 at once:\n got %s\nwant %s", g, s, want)
		}
	}
}

// The cache keeps the last feCacheSize panels and lets older ones go.
func TestFECacheKeepsTheLastPanels(t *testing.T) {
	c := NewFECache()
	rng := rand.New(rand.NewPCG(19, 14))
	type panel struct {
		team, period   []int
		teams, periods int
	}
	var ps []panel
	for len(ps) < feCacheSize+5 {
		team, period, teams, periods := randomPanel(rng, false)
		if pn := newFEPanelCodes(c, team, teams, period, periods); pn.q > 0 {
			ps = append(ps, panel{team, period, teams, periods})
		}
	}
	if len(c.kept) != feCacheSize || len(c.order) != feCacheSize {
		t.Fatalf("kept %d panels (order %d), want %d", len(c.kept), len(c.order), feCacheSize)
	}
	h0, _ := c.Found()
	newFEPanelCodes(c, ps[len(ps)-1].team, ps[len(ps)-1].teams, ps[len(ps)-1].period, ps[len(ps)-1].periods)
	if h, _ := c.Found(); h != h0+1 {
		t.Errorf("the newest panel was not found")
	}
	newFEPanelCodes(c, ps[0].team, ps[0].teams, ps[0].period, ps[0].periods)
	if h, _ := c.Found(); h != h0+1 {
		t.Errorf("the oldest panel, past the cache's size, was found")
	}
}

// A panel whose factorisation comes from the cache is, field by field and
// in its residuals, the panel built without one; and so is a panel built
// in place from int32 codes (as the lag scan's are), afresh or from the
// cache.
func TestAPanelFromTheCacheIsThePanelBuiltAfresh(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 15))
	c := NewFECache()
	var reused, reused32 fePanel // built in place over and over, as a lag scan does
	for i := range 500 {
		team, period, teams, periods := randomPanel(rng, i%3 == 0)
		want := newFEPanelCodes(nil, team, teams, period, periods)
		newFEPanelCodes(c, team, teams, period, periods)
		h0, _ := c.Found()
		reuseFEPanel(&reused, c, team, teams, period, periods)
		if h, _ := c.Found(); h != h0+1 {
			t.Fatalf("panel %d: not found in the cache the second time", i)
		}
		team32, period32 := make([]int32, len(team)), make([]int32, len(period))
		for k := range team {
			team32[k], period32[k] = int32(team[k]), int32(period[k])
		}
		v := normals(rng, len(team))
		for _, step := range []string{"from int32 codes", "from int32 codes, from the cache"} {
			h0, _ := c.Found()
			reuseFEPanel(&reused32, c, team32, teams, period32, periods)
			if h, _ := c.Found(); strings.HasSuffix(step, "cache") && h != h0+1 {
				t.Fatalf("panel %d, %s: not found in the cache", i, step)
			}
			for _, got := range []*fePanel{&reused, &reused32} {
				if g, w := panelShape(got), panelShape(want); g != w {
					t.Fatalf("panel %d, %s: %s, afresh %s", i, step, g, w)
				}
				if !want.ok {
					continue
				}
				if g, w := got.residualizeTo(make([]float64, len(v)), v), want.residualize(v); !sameBits(g, w) {
					t.Fatalf("panel %d, %s: residuals\n got %v\nwant %v", i, step, g, w)
				}
			}
		}
	}
}
