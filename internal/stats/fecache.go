package stats

import (
	"hash/maphash"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/mat"
)

// FECache keeps the factorised period normal equations of the
// fixed-effects panels it has seen, so that fitting the same teams and
// periods again skips building and factorising them: the correlation report
// again after a rating that changed values but not which team-periods have
// them (at 2,500 teams and two years of weeks, a third of a lag scan's
// time). A panel is found by its rows' team and period codes, hashed to 128
// bits with two seeds drawn for the cache, and what is kept is exactly what
// building that panel makes, so every result is the same to the bit. It
// keeps the last feCacheSize panels, about 85 KB each at 104 periods. Safe
// for concurrent use; a nil *FECache keeps nothing.
type FECache struct {
	seeds [2]maphash.Seed

	mu      sync.Mutex
	kept    map[feKey]*feFactor
	order   []feKey // oldest first
	hits    int     // fits that found their factorisation here (Found)
	lookups int
}

// feCacheSize is how many panels an FECache keeps: a lag scan fits 15
// (two series and 13 lags) and a report one more, so two report variants
// and a few scopes.
const feCacheSize = 64

type feKey struct {
	n, teams, periods int
	h                 [2]uint64
}

// feFactor is what newFEPanelCodes works out beyond indexing the rows:
// each period's column (−1 for a group's reference), the number of
// groups, and the factorised Gram matrix of the columns, of which there
// are periods − groups (nil when that is 0). Never changed once made, so
// reports may share it.
type feFactor struct {
	colOf []int
	comps int
	chol  *mat.Cholesky
	ok    bool
}

// NewFECache returns an empty cache.
func NewFECache() *FECache {
	return &FECache{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, kept: map[feKey]*feFactor{}}
}

// Found returns how many fits found their factorisation in the cache and
// how many looked for one, since the cache was made.
func (c *FECache) Found() (hits, lookups int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits, c.lookups
}

// key names the panel of these codes.
func feKeyOf[C Code](c *FECache, teamCode []C, nTeams int, periodCode []C, nPeriods int) feKey {
	k := feKey{n: len(teamCode), teams: nTeams, periods: nPeriods}
	for i, seed := range c.seeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.Write(codeBytes(teamCode))
		h.Write(codeBytes(periodCode))
		k.h[i] = h.Sum64()
	}
	return k
}

// codeBytes is the memory of s, for hashing.
func codeBytes[C Code](s []C) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// get returns the factor kept for k, whose rows have periods periods, or
// nil.
func (c *FECache) get(k feKey, periods int) *feFactor {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lookups++
	f := c.kept[k]
	if f == nil || len(f.colOf) != periods {
		return nil
	}
	c.hits++
	return f
}

// put keeps f for k, letting the oldest go past feCacheSize.
func (c *FECache) put(k feKey, f *feFactor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.kept[k]; ok {
		c.kept[k] = f
		return
	}
	if len(c.order) >= feCacheSize {
		delete(c.kept, c.order[0])
		c.order = c.order[1:]
	}
	c.kept[k] = f
	c.order = append(c.order, k)
}
