package roster

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/tandem"
)

func TestWriteCSVReimportsWithoutChanges(t *testing.T) {
	o := newTestOrg(t)
	o.units = append(o.units, tandem.Unit{ID: 4, ParentID: 3, Name: "=Ops, \"North\"", Path: "Sales / =Ops, \"North\""})
	o.emps = append(o.emps,
		tandem.Employee{ID: 15, ExternalID: "+49", Email: "odd@example.com", Name: "=HYPERLINK(\"http://x\")", UnitID: 4,
			UnitPath: "Sales / =Ops, \"North\"", ManagerID: 12, Location: "@home", HiredOn: date("2021-05-05"),
			ExitedOn: date("2024-02-29"), ExitType: tandem.ExitInvoluntary, ExitReason: "Said:\n\"'=bye\""},
		tandem.Employee{ID: 16, Email: "dash@example.com", Name: "-", UnitID: 3, UnitPath: "Sales", Location: "'=x"},
	)
	for name, ref := range map[string]func(int64) string{
		"default manager refs": nil,
		"emails as manager refs": func(id int64) string {
			for _, e := range o.emps {
				if e.ID == id {
					return e.Email
				}
			}
			return ""
		},
	} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteCSV(&buf, o.emps, ref); err != nil {
				t.Fatalf("WriteCSV: %v", err)
			}
			f, err := Parse(&buf)
			if err != nil {
				t.Fatalf("Parse of the export: %v", err)
			}
			p, err := MakePlan(f, o.emps, o.units, Options{MarkMissingExited: true, Today: date("2025-01-15")})
			if err != nil {
				t.Fatalf("MakePlan: %v", err)
			}
			if !p.Empty() || p.Unchanged != len(o.emps) {
				t.Errorf("got %d added, updates %+v, %d exits, new units %q, %d unchanged; want all %d unchanged",
					len(p.Add), p.Update, len(p.Exit), p.NewUnits, p.Unchanged, len(o.emps))
			}
		})
	}
}

func TestWriteCSVWritesCanonicalColumns(t *testing.T) {
	o := newTestOrg(t)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, o.emps[:4], nil); err != nil {
		t.Fatal(err)
	}
	want := `employee_id,email,name,team,manager,location,hired_on,exited_on,exit_type,regretted,exit_reason
E1,ana@example.com,Ana Lima,Engineering,,Berlin,2019-03-01,,,,
E2,bruno@example.com,Bruno Costa,Engineering/Platform,E1,Berlin,2020-07-15,,,,
,chloe@example.com,Chloé Martin,Engineering/Platform,E2,"Remote, EU",2021-01-04,,,,
E4,dev@example.com,Dev Patel,Sales,E1,London,2022-09-12,2023-06-30,voluntary,yes,Moved abroad
`
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteCSVQuotesCellsASpreadsheetWouldRun(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"=SUM(A1:A9)", "'=SUM(A1:A9)"},
		{"+1 555 0100", "'+1 555 0100"},
		{"@cmd", "'@cmd"},
		{"\tTab", "'\tTab"},
		{"'=already quoted", "''=already quoted"},
		{"-", "-"},
		{"-2+3", "'-2+3"},
		{"-3", "-3"},
		{"O'Brien", "O'Brien"},
		{"'plain", "'plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			emps := []tandem.Employee{{ID: 1, Email: "a@example.com", Name: tt.name, UnitPath: "Sales"}}
			if err := WriteCSV(&buf, emps, nil); err != nil {
				t.Fatal(err)
			}
			line := strings.Split(buf.String(), "\n")[1]
			if want := ",a@example.com," + tt.want + ",Sales,"; !strings.HasPrefix(line, want) {
				t.Errorf("got %q, want it to start with %q", line, want)
			}
			f, err := Parse(&buf)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// Parse trims cells; names on the roster came through Parse too.
			if got, want := f.Records[0].Name, strings.TrimSpace(tt.name); got != want {
				t.Errorf("read back: got %q, want %q", got, want)
			}
		})
	}
}
