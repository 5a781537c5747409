package store

import (
	"context"
	"path/filepath"
	"testing"
)

// WriterCacheKiB sizes the writer connection's page cache, and only the
// writer's: readers keep their own smaller one (readerCacheKiB).
func TestWriterCacheKiBSetsTheWritersPageCache(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		kib        int
		wantWriter int
	}{{0, -2000}, {65536, -65536}} {
		st, err := Open(ctx, filepath.Join(t.TempDir(), "tandem.db"), Options{WriterCacheKiB: tc.kib})
		if err != nil {
			t.Fatal(err)
		}
		var w, r int
		if err := st.w.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&w); err != nil {
			t.Fatal(err)
		}
		if err := st.r.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&r); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if w != tc.wantWriter || r != -readerCacheKiB {
			t.Errorf("WriterCacheKiB %d: writer cache_size %d, reader %d; want %d and %d", tc.kib, w, r, tc.wantWriter, -readerCacheKiB)
		}
	}
}
