package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// newRetentionDB writes a roster of 12 people in Acme/Ops hired two years
// ago, of whom five left in the last year: two voluntarily, one
// involuntarily and two with no exit type recorded.
func newRetentionDB(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tandem.db")
	st, err := store.Open(ctx, path, store.Options{Now: testClock})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// `tandem report retention` runs at testNow (runTandem), so the
	// roster is dated from it.
	today := tandem.Today(testNow)
	hired := tandem.FormatDate(today.AddDate(-2, 0, 0))
	var b strings.Builder
	b.WriteString("email,name,team,hired_on,exited_on,exit_type\n")
	exits := []string{"voluntary", "voluntary", "involuntary", "", ""}
	for i := 0; i < 12; i++ {
		exited, typ := "", ""
		if i < len(exits) {
			exited, typ = tandem.FormatDate(today.AddDate(0, -2*(i+1), 0)), exits[i]
		}
		fmt.Fprintf(&b, "p%d@example.com,Person %d,Acme/Ops,%s,%s,%s\n", i, i, hired, exited, typ)
	}
	plan, err := st.PlanRoster(ctx, strings.NewReader(b.String()), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyRoster(ctx, plan, today.AddDate(-2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	return path
}

// `tandem report retention` prints the tenure distribution and the
// Kaplan–Meier curve its --help promises, in every format, and counts the
// exits without a type as unknown, apart from involuntary ones.
func TestReportRetentionPrintsEveryPartInEveryFormat(t *testing.T) {
	db := newRetentionDB(t)
	table, err := runTandem(t, "report", "retention", "--db", db)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Tenure today:", "2–5 years", "Retention curve (Kaplan-Meier), the whole organisation: 12 stints, 5 exits",
		"months since hire", "type unknown", "1 involuntary, 2 of unknown type"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	js, err := runTandem(t, "report", "retention", "--db", db, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		TTM struct {
			Exits       int `json:"exits"`
			Voluntary   int `json:"voluntary"`
			Involuntary int `json:"involuntary"`
			Unknown     int `json:"unknown_type"`
		} `json:"trailing_12_months"`
	}
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	if r.TTM.Exits != 5 || r.TTM.Voluntary != 2 || r.TTM.Involuntary != 1 || r.TTM.Unknown != 2 {
		t.Errorf("JSON trailing 12 months %+v, want 5 exits: 2 voluntary, 1 involuntary, 2 unknown", r.TTM)
	}

	out, err := runTandem(t, "report", "retention", "--db", db, "--format", "csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, out)
	}
	if strings.Join(rows[0], ",") != "section,unit,label,from,to,measure,value" {
		t.Errorf("header %v", rows[0])
	}
	figure := map[string]string{}
	sections := map[string]int{}
	tenure := 0
	for _, row := range rows[1:] {
		if len(row) != 7 {
			t.Fatalf("row %v has %d cells", row, len(row))
		}
		sections[row[0]]++
		figure[row[0]+"/"+row[1]+"/"+row[5]] = row[6]
		if row[0] == "tenure" {
			n, _ := strconv.Atoi(row[6])
			tenure += n
		}
	}
	for k, want := range map[string]string{"trailing_12_months/the whole organisation/exits": "5", "trailing_12_months/the whole organisation/involuntary": "1",
		"trailing_12_months/the whole organisation/unknown_type": "2", "trailing_12_months/the whole organisation/voluntary": "2"} {
		if figure[k] != want {
			t.Errorf("CSV %s = %q, want %s", k, figure[k], want)
		}
	}
	if tenure != 7 {
		t.Errorf("CSV tenure rows count %d people, want the 7 still employed", tenure)
	}
	if sections["survival"] == 0 || sections["period"] == 0 {
		t.Errorf("CSV sections %v, want periods and the survival curve", sections)
	}

	if _, err := runTandem(t, "report", "retention", "--db", db, "--format", "xml"); err == nil || !strings.Contains(err.Error(), "--format must be table, csv or json") {
		t.Errorf("--format xml: %v", err)
	}
}
