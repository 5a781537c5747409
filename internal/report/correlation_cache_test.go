package report

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestAWarmReportComesFromTheCacheUntilNewReleasedDataOrAnotherTreeArrives(t *testing.T) {
	st, last := benchData(t, 20, 8)
	ctx := context.Background()
	if _, err := st.CloseDueRounds(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	p, err := ParseCorrelationParams(func(n string) string {
		if n == "from" {
			return tandem.FormatDate(last.AddDate(0, 0, -7*7))
		}
		return ""
	}, last.AddDate(0, 0, 6))
	if err != nil {
		t.Fatal(err)
	}
	loader := NewCorrelationLoader(st)
	load := func(scope int64) *Correlation {
		t.Helper()
		c, err := loader.Load(ctx, p, scope)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// fresh is the report built from nothing remembered.
	fresh := func(scope int64) string {
		t.Helper()
		c, err := NewCorrelationLoader(st).Load(ctx, p, scope)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	same := func(name string, c *Correlation, scope int64) {
		t.Helper()
		if b, _ := json.Marshal(c); string(b) != fresh(scope) {
			t.Errorf("%s: the loader's report differs from one built afresh", name)
		}
	}

	first := load(0)
	if first.NPairs == 0 {
		t.Fatal("the fixture gives no pairs")
	}
	if again := load(0); again != first {
		t.Error("the same report asked again was built again, not served from the cache")
	}
	tree, _ := st.Tree(ctx)
	division := tree.Roots()[0]
	for _, id := range tree.Children(division) {
		division = id
		break
	}
	if scoped := load(division); scoped == first {
		t.Error("a leader's scope was served the whole organisation's report")
	} else {
		same("a leader's scope", scoped, division)
	}

	// A rating in the report's range: new released data.
	team := tree.Children(division)[0]
	if _, err := st.IngestRatings(ctx, []tandem.Rating{{Source: "test", ExternalID: "late", OccurredAt: last.Add(-48 * time.Hour),
		UnitID: team, Metric: tandem.MetricCSAT, Score: 1}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	afterRating := load(0)
	if afterRating == first {
		t.Error("after a new rating the cached report was served")
	}
	same("after a new rating", afterRating, 0)

	// Another organisation: a unit added.
	if _, err := st.CreateUnit(ctx, division, "A new team", true); err != nil {
		t.Fatal(err)
	}
	if afterUnit := load(0); afterUnit == afterRating {
		t.Error("after the organisation changed the cached report was served")
	}
}
