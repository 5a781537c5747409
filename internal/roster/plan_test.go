package roster

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// testOrg is a small roster: units and employees as the store returns them.
type testOrg struct {
	units []tandem.Unit
	emps  []tandem.Employee
}

// newTestOrg returns:
//
//	Engineering           Ana Lima (E1)
//	Engineering/Platform  Bruno Costa (E2, reports to Ana), Chloé Martin (no id, reports to Bruno)
//	Sales                 Dev Patel (E4, exited 2023-06-30), Eve Stone (E5)
func newTestOrg(t *testing.T) *testOrg {
	t.Helper()
	return &testOrg{
		units: []tandem.Unit{
			{ID: 1, Name: "Engineering", Path: "Engineering"},
			{ID: 2, ParentID: 1, Name: "Platform", Path: "Engineering / Platform"},
			{ID: 3, Name: "Sales", Path: "Sales"},
		},
		emps: []tandem.Employee{
			{ID: 10, ExternalID: "E1", Email: "ana@example.com", Name: "Ana Lima", UnitID: 1, UnitPath: "Engineering",
				Location: "Berlin", HiredOn: date("2019-03-01")},
			{ID: 11, ExternalID: "E2", Email: "bruno@example.com", Name: "Bruno Costa", UnitID: 2, UnitPath: "Engineering / Platform",
				ManagerID: 10, Location: "Berlin", HiredOn: date("2020-07-15")},
			{ID: 12, Email: "chloe@example.com", Name: "Chloé Martin", UnitID: 2, UnitPath: "Engineering / Platform",
				ManagerID: 11, Location: "Remote, EU", HiredOn: date("2021-01-04")},
			{ID: 13, ExternalID: "E4", Email: "dev@example.com", Name: "Dev Patel", UnitID: 3, UnitPath: "Sales",
				ManagerID: 10, Location: "London", HiredOn: date("2022-09-12"), ExitedOn: date("2023-06-30"),
				ExitType: tandem.ExitVoluntary, Regretted: true, ExitReason: "Moved abroad"},
			{ID: 14, ExternalID: "E5", Email: "eve@example.com", Name: "Eve Stone", UnitID: 3, UnitPath: "Sales",
				ManagerID: 10, HiredOn: date("2020-01-01")},
		},
	}
}

// plan parses csv and plans it against the org, failing on any error.
func (o *testOrg) plan(t *testing.T, csv string, opt Options) *Plan {
	t.Helper()
	p, err := MakePlan(mustParse(t, csv), o.emps, o.units, opt)
	if err != nil {
		t.Fatalf("MakePlan: %v", err)
	}
	return p
}

// planErrors parses csv, plans it and returns the plan's problems.
func (o *testOrg) planErrors(t *testing.T, csv string) []RowError {
	t.Helper()
	p, err := MakePlan(mustParse(t, csv), o.emps, o.units, Options{})
	var ie *ImportError
	if !errors.As(err, &ie) || p != nil {
		t.Fatalf("MakePlan: got plan %v and error %v, want an *ImportError", p, err)
	}
	return ie.Errors
}

// changesOf returns the update of the employee with id, or fails.
func changesOf(t *testing.T, p *Plan, id int64) []Change {
	t.Helper()
	for _, u := range p.Update {
		if u.EmployeeID == id {
			return u.Changes
		}
	}
	t.Fatalf("no update of employee %d in %+v", id, p.Update)
	return nil
}

func TestPlanAddsUpdatesAndCountsUnchanged(t *testing.T) {
	o := newTestOrg(t)
	p := o.plan(t, `employee_id,email,name,team,location
E1,ana@example.com,Ana Lima,Engineering,Berlin
E2,bruno@example.com,Bruno Costa,Engineering/Platform,Lisbon
F1,fay@example.com,Fay Wong,Sales,Paris
`, Options{})
	if len(p.Add) != 1 || p.Add[0].Name != "Fay Wong" || p.Add[0].Line != 4 {
		t.Errorf("Add: got %+v, want Fay Wong from line 4", p.Add)
	}
	want := []Change{{Column: ColLocation, Field: "location", Old: "Berlin", New: "Lisbon"}}
	if got := changesOf(t, p, 11); !reflect.DeepEqual(got, want) {
		t.Errorf("Bruno's changes: got %+v, want %+v", got, want)
	}
	if p.Unchanged != 1 || len(p.Update) != 1 || len(p.Exit) != 0 || len(p.NewUnits) != 0 {
		t.Errorf("got %d unchanged, %d updates, %d exits, %d new units; want 1, 1, 0, 0", p.Unchanged, len(p.Update), len(p.Exit), len(p.NewUnits))
	}
	if p.Empty() {
		t.Errorf("Empty: got true, want false")
	}
}

func TestPlanOfAnUnchangedFileIsEmpty(t *testing.T) {
	o := newTestOrg(t)
	p := o.plan(t, "email,name,team\nANA@example.com , Ana Lima , Engineering\n", Options{})
	if !p.Empty() || p.Unchanged != 1 {
		t.Errorf("got %+v, want an empty plan with one unchanged row", p)
	}
}

func TestPlanChangesTeamAndCreatesMissingUnitsParentsFirst(t *testing.T) {
	o := newTestOrg(t)
	p := o.plan(t, `email,name,team
bruno@example.com,Bruno Costa,Engineering/Data/ML
chloe@example.com,Chloé Martin, Engineering >  Platform
fay@example.com,Fay Wong,Marketing/Brand
gus@example.com,Gus Ruiz,Engineering/Data
hal@example.com,Hal Berg,Marketing
`, Options{})
	wantUnits := [][]string{{"Engineering", "Data"}, {"Engineering", "Data", "ML"}, {"Marketing"}, {"Marketing", "Brand"}}
	if !reflect.DeepEqual(p.NewUnits, wantUnits) {
		t.Errorf("NewUnits: got %q, want %q", p.NewUnits, wantUnits)
	}
	want := []Change{{Column: ColTeam, Field: "team", Old: "Engineering / Platform", New: "Engineering / Data / ML"}}
	if got := changesOf(t, p, 11); !reflect.DeepEqual(got, want) {
		t.Errorf("Bruno's changes: got %+v, want %+v", got, want)
	}
	if p.Unchanged != 1 {
		t.Errorf("Unchanged: got %d, want 1 (Chloé's team written another way)", p.Unchanged)
	}
}

func TestPlanTeamNamesAreCaseSensitive(t *testing.T) {
	o := newTestOrg(t)
	p := o.plan(t, "email,name,team\nana@example.com,Ana Lima,engineering\n", Options{})
	if len(p.Update) != 1 || !reflect.DeepEqual(p.NewUnits, [][]string{{"engineering"}}) {
		t.Errorf("got updates %+v and new units %q, want a move to a new unit engineering", p.Update, p.NewUnits)
	}
}

func TestPlanLeavesDataOfAbsentColumnsAndIdentifiersOfEmptyCells(t *testing.T) {
	o := newTestOrg(t)
	// No manager, location or dates: Bruno keeps his. An empty id or email
	// cell does not remove the id or email either.
	p := o.plan(t, `employee_id,email,name,team
,bruno@example.com,Bruno Costa,Engineering/Platform
E1,,Ana Lima-Souza,Engineering
`, Options{})
	if p.Unchanged != 1 || len(p.Update) != 1 {
		t.Fatalf("got %d unchanged and updates %+v, want Bruno unchanged and Ana updated", p.Unchanged, p.Update)
	}
	u := p.Update[0]
	want := []Change{{Column: ColName, Field: "name", Old: "Ana Lima", New: "Ana Lima-Souza"}}
	if !reflect.DeepEqual(u.Changes, want) {
		t.Errorf("Ana's changes: got %+v, want %+v", u.Changes, want)
	}
	if u.Record.Email != "ana@example.com" || u.Record.ExternalID != "E1" {
		t.Errorf("Ana's record: got email %q id %q, want the roster's", u.Record.Email, u.Record.ExternalID)
	}
}

func TestPlanSetsEmployeeIDOfEmployeeMatchedByEmail(t *testing.T) {
	o := newTestOrg(t)
	p := o.plan(t, "employee_id,email,name,team\nE3,Chloe@Example.com,Chloé Martin,Engineering/Platform\n", Options{})
	want := []Change{{Column: ColEmployeeID, Field: "employee id", Old: "", New: "E3"}}
	if got := changesOf(t, p, 12); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestPlanResolvesManagersInFileAndOnRoster(t *testing.T) {
	o := newTestOrg(t)
	tests := []struct {
		name string
		rows string
		id   int64 // employee whose manager is checked
		want []Change
	}{
		{"by employee id on the roster", "E2,bruno@example.com,Bruno Costa,Engineering/Platform,E1\n" +
			",chloe@example.com,Chloé Martin,Engineering/Platform,E1\n", 12,
			[]Change{{ColManager, "manager", "Bruno Costa (E2)", "Ana Lima (E1)"}}},
		{"by email on the roster, any case", ",chloe@example.com,Chloé Martin,Engineering/Platform,ANA@example.com\n", 12,
			[]Change{{ColManager, "manager", "Bruno Costa (E2)", "Ana Lima (E1)"}}},
		{"same manager by email", "E2,bruno@example.com,Bruno Costa,Engineering/Platform,ana@example.com\n", 11, nil},
		{"a new employee in the file", ",chloe@example.com,Chloé Martin,Engineering/Platform,F1\n" +
			"F1,fay@example.com,Fay Wong,Engineering/Platform,E1\n", 12,
			[]Change{{ColManager, "manager", "Bruno Costa (E2)", "Fay Wong (F1)"}}},
		{"an employee id the file gives a roster employee", "E3,chloe@example.com,Chloé Martin,Engineering/Platform,E2\n" +
			"E2,bruno@example.com,Bruno Costa,Engineering/Platform,E3\n", 11,
			[]Change{{ColManager, "manager", "Ana Lima (E1)", "Chloé Martin (chloe@example.com)"}}},
		{"no manager", "E2,bruno@example.com,Bruno Costa,Engineering/Platform,\n", 11,
			[]Change{{ColManager, "manager", "Ana Lima (E1)", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := o.plan(t, "employee_id,email,name,team,manager\n"+tt.rows, Options{})
			if tt.want == nil {
				if len(p.Update) != 0 {
					t.Errorf("got updates %+v, want none", p.Update)
				}
				return
			}
			if got := changesOf(t, p, tt.id); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPlanReportsUnknownManagersAndSelfManagement(t *testing.T) {
	o := newTestOrg(t)
	errs := o.planErrors(t, `Employee ID,Email,Name,Team,Supervisor Email
E1,ana@example.com,Ana Lima,Engineering,E1
E2,bruno@example.com,Bruno Costa,Engineering/Platform,nobody@example.com
F1,fay@example.com,Fay Wong,Sales,fay@example.com
F2,gus@example.com,Gus Ruiz,Sales,F1
`)
	want := []RowError{
		{Line: 2, Column: "Supervisor Email", Value: "E1", Reason: "an employee cannot be their own manager; give their manager's employee id or email, or leave the cell empty"},
		{Line: 3, Column: "Supervisor Email", Value: "nobody@example.com", Reason: `manager "nobody@example.com" is neither in this file nor on the roster; give the manager's employee id or email, or leave the cell empty`},
		{Line: 4, Column: "Supervisor Email", Value: "fay@example.com", Reason: "an employee cannot be their own manager; give their manager's employee id or email, or leave the cell empty"},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("got\n%v\nwant\n%v", errs, want)
	}
}

func TestPlanReportsRowsWhoseIDAndEmailNameDifferentPeople(t *testing.T) {
	o := newTestOrg(t)
	errs := o.planErrors(t, `employee_id,email,name,team
E1,bruno@example.com,Ana Lima,Engineering
E9,chloe@example.com,Chloé Martin,Engineering/Platform
E7,eve@example.com,Eve Stone,Sales
E5,new-eve@example.com,Eve Stone,Sales
`)
	want := []RowError{
		{Line: 2, Column: "email", Value: "bruno@example.com", Reason: `email bruno@example.com belongs to Bruno Costa (E2), but employee id "E1" is Ana Lima (E1); fix the email or the employee id`},
		{Line: 4, Column: "employee_id", Value: "E7", Reason: `email eve@example.com belongs to Eve Stone (E5), whose employee id is "E5", not "E7"; fix the employee id or the email`},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("got\n%v\nwant\n%v", errs, want)
	}
}

func TestPlanReportsTwoRowsForOneEmployee(t *testing.T) {
	o := newTestOrg(t)
	errs := o.planErrors(t, "employee_id,email,name,team\nE1,ana.lima@example.com,Ana Lima,Engineering\n,ana@example.com,Ana L.,Engineering\n")
	if len(errs) != 1 || errs[0].Line != 3 || !strings.Contains(errs[0].Reason, "this row and line 2 are both Ana Lima (E1)") {
		t.Errorf("got %v, want one error on line 3 naming line 2", errs)
	}
}

func TestPlanMarksMissingEmployeesExitedWhenFullRoster(t *testing.T) {
	o := newTestOrg(t)
	o.emps[1].ExitedOn = date("2025-02-28") // Bruno leaves next month: still active today.
	in := "email,name,team\nana@example.com,Ana Lima,Engineering\n"
	today := date("2025-01-15")

	p := o.plan(t, in, Options{MarkMissingExited: true, Today: today})
	var got []string
	for _, e := range p.Exit {
		got = append(got, e.Name)
	}
	if want := []string{"Bruno Costa", "Chloé Martin", "Eve Stone"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Exit: got %q, want %q (by name; Dev has left already)", got, want)
	}
	if p := o.plan(t, in, Options{Today: today}); len(p.Exit) != 0 {
		t.Errorf("Exit without MarkMissingExited: got %d, want 0", len(p.Exit))
	}
	if _, err := MakePlan(mustParse(t, in), o.emps, o.units, Options{MarkMissingExited: true}); err == nil {
		t.Errorf("MarkMissingExited without Today: got no error, want one")
	}
}

func TestPlanRehiresExitedEmployee(t *testing.T) {
	rehire := []Change{
		{ColHiredOn, "hire date", "2022-09-12", "2024-03-01"},
		{ColExitedOn, "exit date", "2023-06-30", ""},
		{ColExitType, "exit type", "voluntary", ""},
		{ColRegretted, "regretted", "yes", "no"},
		{ColExitReason, "exit reason", "Moved abroad", ""},
	}
	tests := []struct {
		name    string
		csv     string
		rehired bool
		want    []Change
	}{
		{"hire date after the exit, no exit columns",
			"employee_id,email,name,team,hired_on\nE4,dev@example.com,Dev Patel,Sales,2024-03-01\n", true, rehire},
		{"hire date after the exit, empty exit date",
			"employee_id,email,name,team,hired_on,exited_on\nE4,dev@example.com,Dev Patel,Sales,2024-03-01,\n", true, rehire},
		{"rehired and left again",
			"employee_id,email,name,team,hired_on,exited_on,exit_type\nE4,dev@example.com,Dev Patel,Sales,2024-03-01,2024-12-31,involuntary\n", true,
			[]Change{
				{ColHiredOn, "hire date", "2022-09-12", "2024-03-01"},
				{ColExitedOn, "exit date", "2023-06-30", "2024-12-31"},
				{ColExitType, "exit type", "voluntary", "involuntary"},
			}},
		{"old export that still has the first hire date",
			"employee_id,email,name,team,hired_on\nE4,dev@example.com,Dev Patel,Sales,2022-09-12\n", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newTestOrg(t)
			p := o.plan(t, tt.csv, Options{})
			if tt.want == nil {
				if len(p.Update) != 0 || p.Unchanged != 1 {
					t.Errorf("got updates %+v, want Dev unchanged", p.Update)
				}
				return
			}
			if len(p.Update) != 1 || p.Update[0].Rehired != tt.rehired {
				t.Fatalf("got %+v, want one update with Rehired %v", p.Update, tt.rehired)
			}
			if got := p.Update[0].Changes; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("changes:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestPlanCanExitAndReactivateThroughTheExitColumn(t *testing.T) {
	o := newTestOrg(t)
	p := o.plan(t, `employee_id,email,name,team,exited_on,exit_type,regretted,exit_reason
E5,eve@example.com,Eve Stone,Sales,2024-10-31,Layoff,no,Restructuring
E4,dev@example.com,Dev Patel,Sales,,,,
`, Options{})
	wantEve := []Change{
		{ColExitedOn, "exit date", "", "2024-10-31"},
		{ColExitType, "exit type", "", "involuntary"},
		{ColExitReason, "exit reason", "", "Restructuring"},
	}
	if got := changesOf(t, p, 14); !reflect.DeepEqual(got, wantEve) {
		t.Errorf("Eve:\n got %+v\nwant %+v", got, wantEve)
	}
	wantDev := []Change{
		{ColExitedOn, "exit date", "2023-06-30", ""},
		{ColExitType, "exit type", "voluntary", ""},
		{ColRegretted, "regretted", "yes", "no"},
		{ColExitReason, "exit reason", "Moved abroad", ""},
	}
	if got := changesOf(t, p, 13); !reflect.DeepEqual(got, wantDev) {
		t.Errorf("Dev:\n got %+v\nwant %+v", got, wantDev)
	}
}
