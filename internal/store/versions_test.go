package store

import (
	"context"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestReleasedVersionMovesWithACloseAndARatingIngestButNotWithAnOpenRoundsAnswer(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		version := func() int64 {
			t.Helper()
			v, err := st.ReleasedVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		r, hashes, answers := linkRound(t, st, 5)
		v0 := version()
		if err := st.SubmitResponse(ctx, hashes[0], answers, "", testNow); err != nil {
			t.Fatal(err)
		}
		if v := version(); v != v0 {
			t.Errorf("an answer to an open round moved the version from %d to %d; its results are not released", v0, v)
		}
		if n, err := st.CloseDueRounds(ctx, r.ClosesAt); err != nil || n != 1 {
			t.Fatalf("close: %d, %v", n, err)
		}
		v1 := version()
		if v1 != v0+1 {
			t.Errorf("closing a round: version %d, want %d", v1, v0+1)
		}
		tree, _ := st.Tree(ctx)
		team := tree.ByPath([]string{"Acme", "Team"}).ID
		rating := []tandem.Rating{{Source: "test", ExternalID: "1", OccurredAt: testNow.Add(-time.Hour).Truncate(time.Second),
			UnitID: team, Metric: tandem.MetricCSAT, Score: 5}}
		if _, err := st.IngestRatings(ctx, rating, testNow); err != nil {
			t.Fatal(err)
		}
		v2 := version()
		if v2 != v1+1 {
			t.Errorf("a rating ingest: version %d, want %d", v2, v1+1)
		}
		if res, err := st.IngestRatings(ctx, rating, testNow); err != nil || res.Duplicates != 1 {
			t.Fatalf("the same rating again: %+v, %v", res, err)
		}
		if v := version(); v != v2 {
			t.Errorf("a batch of duplicates changed nothing but moved the version from %d to %d", v2, v)
		}
	})
}
