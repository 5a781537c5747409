package web

import (
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// TestHiddenHeatCellNamesTheThresholdOfItsRound: a hidden cell says how
// many people a figure needs by the k its round was decided with, not the
// program's current k (which an admin may have changed since).
func TestHiddenHeatCellNamesTheThresholdOfItsRound(t *testing.T) {
	t.Parallel()
	tree := tandem.NewTree([]tandem.Unit{{ID: 1, Name: "Acme"}})
	round := pulse.Round{ID: 1, Period: "2026-06-08", MinGroup: 3, Closed: true}
	h := report.Heatmap{Measures: []string{pulse.MeasureIndex}, Rounds: []*pulse.Round{&round}, Window: 1,
		Rows: []report.HeatRow{{Unit: tree.Unit(1), Cells: []report.HeatCell{{Shown: false, Round: round}}}}}
	tab := buildHeatTable(h, tree, 0, heatView{}, "/dashboard", nil, func(*tandem.Unit) string { return "" })
	if len(tab.Rows) != 1 || len(tab.Rows[0].Cells) != 1 {
		t.Fatalf("table %+v, want one row of one cell", tab)
	}
	if title := tab.Rows[0].Cells[0].Title; !strings.Contains(title, "at least 3 people") {
		t.Errorf("hidden cell says %q, want the round's k, 3", title)
	}
}
