package stats

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"
)

// fuzzFloats turns fuzzer bytes into floats. With small set, each byte is a
// small integer (many ties, and -128 stands for NaN) so that realistic data
// are explored; otherwise every 8 bytes are the raw bits of a float64, which
// reaches NaN, ±Inf, subnormals and values near overflow.
func fuzzFloats(data []byte, small bool) []float64 {
	var out []float64
	if small {
		for _, b := range data {
			if int8(b) == math.MinInt8 {
				out = append(out, math.NaN())
				continue
			}
			out = append(out, float64(int8(b)))
		}
		return out
	}
	for len(data) >= 8 {
		out = append(out, math.Float64frombits(binary.LittleEndian.Uint64(data)))
		data = data[8:]
	}
	return out
}

func inUnit(v float64) bool   { return math.IsNaN(v) || (v >= -1 && v <= 1) }
func isPValue(v float64) bool { return math.IsNaN(v) || (v >= 0 && v <= 1) }

func checkCorrelation(t *testing.T, name string, c Correlation, pairs int) {
	t.Helper()
	if !inUnit(c.R) || !isPValue(c.P) || !inUnit(c.CILow) || !inUnit(c.CIHigh) {
		t.Fatalf("%s: out of range: %+v", name, c)
	}
	if c.CILow > c.CIHigh {
		t.Fatalf("%s: CILow > CIHigh: %+v", name, c)
	}
	if !math.IsNaN(c.CILow) && !(c.CILow <= c.R && c.R <= c.CIHigh) {
		t.Fatalf("%s: R outside its interval: %+v", name, c)
	}
	if c.N < 0 || c.N > pairs || c.DF < 0 {
		t.Fatalf("%s: N or DF out of range (pairs %d): %+v", name, pairs, c)
	}
}

func FuzzPearson(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 9}, uint8(2))
	f.Add([]byte{1, 1, 1, 1, 2, 3}, uint8(2))
	f.Add([]byte{0x80, 1, 2, 0x80, 3, 5, 4, 4}, uint8(3))
	f.Add(make([]byte, 32), uint8(0))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0xf0, 0x7f, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1}, uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		v := fuzzFloats(data, mode&2 != 0)
		x, y := make([]float64, 0, len(v)/2), make([]float64, 0, len(v)/2)
		for i := 0; i+1 < len(v); i += 2 {
			x = append(x, v[i])
			y = append(y, v[i+1])
		}
		if mode&1 != 0 && len(y) > 0 {
			y = y[1:] // mismatched lengths
		}
		mismatched := len(x) != len(y)
		for name, c := range map[string]Correlation{"Pearson": Pearson(x, y), "Spearman": Spearman(x, y)} {
			checkCorrelation(t, name, c, len(x))
			if mismatched && (c.N != 0 || !math.IsNaN(c.R)) {
				t.Fatalf("%s of mismatched lengths: %+v", name, c)
			}
		}
		for i, r := range Ranks(x) {
			if math.IsNaN(x[i]) != math.IsNaN(r) || (!math.IsNaN(r) && (r < 1 || r > float64(len(x)))) {
				t.Fatalf("Ranks(%v)[%d] = %v", x, i, r)
			}
		}
		if line, ok := LeastSquares(x, y); ok && (!isFinite(line.Slope) || !isFinite(line.Intercept)) {
			t.Fatalf("LeastSquares ok with non-finite line %+v", line)
		}
	})
}

func FuzzRMCorr(f *testing.F) {
	// Rows of (subject, x, y) bytes in small mode.
	f.Add([]byte{0, 1, 2, 0, 2, 3, 1, 5, 1, 1, 6, 3, 2, 9, 9, 2, 8, 7}, uint8(2))
	f.Add([]byte{0, 1, 1, 0, 1, 2, 1, 3, 3, 1, 3, 4}, uint8(2))
	f.Add([]byte{0, 0x80, 2, 0, 2, 3, 0, 3, 0x80, 1, 1, 1}, uint8(2))
	f.Add(make([]byte, 51), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		small := mode&2 != 0
		width := 17
		if small {
			width = 3
		}
		var subject []string
		var x, y []float64
		for len(data) >= width {
			subject = append(subject, string(rune('a'+data[0]%5)))
			xy := fuzzFloats(data[1:width], small)
			x = append(x, xy[0])
			y = append(y, xy[1])
			data = data[width:]
		}
		if mode&1 != 0 && len(subject) > 0 {
			subject = subject[1:] // mismatched lengths
		}
		got := RMCorr(subject, x, y)
		if !inUnit(got.R) || !isPValue(got.P) || !inUnit(got.CILow) || !inUnit(got.CIHigh) || got.CILow > got.CIHigh {
			t.Fatalf("out of range: %+v", got)
		}
		if !math.IsNaN(got.CILow) && !(got.CILow <= got.R && got.R <= got.CIHigh) {
			t.Fatalf("R outside its interval: %+v", got)
		}
		if got.N < 0 || got.N > len(x) || got.Subjects < 0 || got.Subjects > got.N || got.DF < 0 {
			t.Fatalf("counts out of range: %+v", got)
		}
		if got.DF > 0 && got.DF != got.N-got.Subjects-1 {
			t.Fatalf("DF %d != N-Subjects-1 = %d", got.DF, got.N-got.Subjects-1)
		}
		if len(subject) != len(x) && (got.N != 0 || !math.IsNaN(got.R)) {
			t.Fatalf("mismatched lengths: %+v", got)
		}
	})
}

func FuzzBenjaminiHochberg(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Fuzz(func(t *testing.T, data []byte) {
		p := make([]float64, len(data))
		for i, b := range data {
			p[i] = float64(b) / 200 // some above 1, which must become NaN
		}
		q := BenjaminiHochberg(p)
		for i := range p {
			valid := p[i] <= 1
			if valid != !math.IsNaN(q[i]) || (valid && (q[i] < p[i] || q[i] > 1)) {
				t.Fatalf("p %v -> q %v at %d", p[i], q[i], i)
			}
		}
	})
}

func FuzzTTwoSidedP(f *testing.F) {
	f.Add(2.0, 10.0)
	f.Add(1e200, 1e8)
	f.Add(-3.0, 1e300)
	f.Fuzz(func(t *testing.T, tv, df float64) {
		if p := TTwoSidedP(tv, df); !isPValue(p) || (df > 0 && !math.IsNaN(tv) && math.IsNaN(p)) {
			t.Fatalf("TTwoSidedP(%v, %v) = %v", tv, df, p)
		}
	})
}

// fuzzPanel turns fuzzer bytes into panel rows (team, period, x, y): in
// small mode 4 bytes a row (team of 4, period of 12, small values, -128 =
// NaN), otherwise 2 bytes of team and period and 16 bytes of raw floats.
func fuzzPanel(data []byte, small bool) (team []string, period []int, x, y []float64) {
	width := 4
	if !small {
		width = 18
	}
	for len(data) >= width {
		team = append(team, string(rune('a'+data[0]%4)))
		period = append(period, int(data[1]%12))
		xy := fuzzFloats(data[2:width], small)
		x, y = append(x, xy[0]), append(y, xy[1])
		data = data[width:]
	}
	return team, period, x, y
}

func FuzzTwoWayWithin(f *testing.F) {
	f.Add([]byte{0, 0, 1, 2, 0, 1, 3, 1, 0, 2, 2, 5, 1, 0, 4, 4, 1, 1, 2, 2, 1, 2, 7, 3, 2, 0, 1, 1, 2, 1, 5, 6, 2, 2, 3, 3}, true)
	f.Add([]byte{0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0x80, 3, 3, 3, 4, 4}, true)
	f.Add(make([]byte, 72), false)
	f.Fuzz(func(t *testing.T, data []byte, small bool) {
		team, period, x, y := fuzzPanel(data, small)
		got := TwoWayWithin(team, period, x, y)
		if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", refTwoWayWithin(team, period, x, y)); g != w {
			t.Fatalf("differs from the reference implementation (lagref_test.go):\n got %s\nwant %s", g, w)
		}
		if !inUnit(got.R) || !isPValue(got.P) || !isPValue(got.ClusterP) || !inUnit(got.RLow) || !inUnit(got.RHigh) ||
			!inUnit(got.RClusterLow) || !inUnit(got.RClusterHigh) {
			t.Fatalf("out of range: %+v", got)
		}
		if got.N < 0 || got.N > len(x) || got.Teams > got.N || got.DF < 0 {
			t.Fatalf("counts out of range: %+v", got)
		}
		if math.IsNaN(got.R) != (got.Reason != "") {
			t.Fatalf("R %v with Reason %q", got.R, got.Reason)
		}
		// A slope too large for a float64 is NaN with its errors and
		// intervals; the scale-free figures stand.
		slopeNaN := math.IsNaN(got.Slope)
		if got.Reason == "" && slopeNaN && !(math.IsNaN(got.SE) && math.IsNaN(got.SlopeLow) && math.IsNaN(got.ClusterSE) &&
			math.IsNaN(got.ClusterSlopeHigh)) {
			t.Fatalf("a NaN slope, yet: %+v", got)
		}
		if got.Reason == "" && (!slopeNaN && (!(got.SlopeLow <= got.Slope && got.Slope <= got.SlopeHigh) ||
			!(got.ClusterSlopeLow <= got.Slope && got.Slope <= got.ClusterSlopeHigh)) ||
			!math.IsNaN(got.RLow) && !(got.RLow <= got.R && got.R <= got.RHigh)) {
			t.Fatalf("estimate outside its interval: %+v", got)
		}
	})
}

func FuzzScanLags(f *testing.F) {
	var seed []byte
	for i := 0; i < 4*12; i++ {
		seed = append(seed, byte(i/12), byte(i%12), byte(i*7%11), byte(i*5%13))
	}
	f.Add(seed, true)
	f.Add(append(seed, 0, 3, 1, 1), true) // a team-period twice
	f.Add(make([]byte, 90), false)
	f.Fuzz(func(t *testing.T, data []byte, small bool) {
		team, period, x, y := fuzzPanel(data, small)
		got := ScanLags(team, period, x, y)
		if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", refScanLags(team, period, x, y)); g != w {
			t.Fatalf("differs from the reference implementation (lagref_test.go):\n got %s\nwant %s", g, w)
		}
		if got.Reason != "" {
			if len(got.Lags) != 0 {
				t.Fatalf("Reason %q with %d lags", got.Reason, len(got.Lags))
			}
			return
		}
		if len(got.Lags) != 2*MaxLag+1 || got.Tests > len(got.Lags) {
			t.Fatalf("lags, Tests: %d, %d", len(got.Lags), got.Tests)
		}
		if p := got.Persistence.Phi; !(p >= 0 && p <= PhiMax) {
			t.Fatalf("Phi %v", p)
		}
		for _, e := range got.Lags {
			if !inUnit(e.R) || !isPValue(e.P) || !isPValue(e.PAdj) || !inUnit(e.CILow) || !inUnit(e.CIHigh) {
				t.Fatalf("lag %d out of range: %+v", e.Lag, e)
			}
			if !math.IsNaN(e.R) && !math.IsNaN(e.CILow) && !(e.CILow <= e.R && e.R <= e.CIHigh) {
				t.Fatalf("lag %d: R outside its interval: %+v", e.Lag, e)
			}
		}
		if s := got.Summary; s.Named && (s.To-s.From > 2 || s.From > s.Peak || s.Peak > s.To) {
			t.Fatalf("summary %+v", s)
		}
	})
}
