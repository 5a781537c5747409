package roster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// mustParse parses a file that has no problems.
func mustParse(t *testing.T, s string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return f
}

// parseErrors parses a file that has problems and returns them.
func parseErrors(t *testing.T, s string) []RowError {
	t.Helper()
	f, err := Parse(strings.NewReader(s))
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("Parse: got error %v (file %v), want an *ImportError", err, f)
	}
	if f != nil {
		t.Errorf("Parse: got a file with an error, want nil")
	}
	return ie.Errors
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func date(s string) time.Time {
	d, err := tandem.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestParseReadsCanonicalFile(t *testing.T) {
	f := mustParse(t, readTestdata(t, "canonical.csv"))
	wantCols := []Column{ColEmployeeID, ColEmail, ColName, ColTeam, ColManager, ColLocation, ColHiredOn, ColExitedOn, ColExitType, ColRegretted, ColExitReason}
	if !reflect.DeepEqual(f.Columns, wantCols) {
		t.Errorf("Columns: got %v, want %v", f.Columns, wantCols)
	}
	if len(f.Records) != 4 {
		t.Fatalf("got %d records, want 4", len(f.Records))
	}
	got := f.Records[2]
	want := Record{
		Line: 4, ExternalID: "E3", Email: "chloe.martin@example.com", Name: "Chloé Martin",
		TeamPath: []string{"Engineering", "Platform"}, ManagerRef: "E2", Location: "Remote, EU",
		HiredOn: date("2021-01-04"), ExitedOn: date("2023-06-30"), ExitType: tandem.ExitVoluntary,
		Regretted: true, ExitReason: `Moved abroad, "for love"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record on line 4:\n got %+v\nwant %+v", got, want)
	}
	if r := f.Records[3]; r.ExternalID != "" || r.ManagerRef != "ana.lima@example.com" {
		t.Errorf("line 5: got id %q manager %q, want no id and manager ana.lima@example.com", r.ExternalID, r.ManagerRef)
	}
}

func TestParseReadsBambooHRExport(t *testing.T) {
	f := mustParse(t, readTestdata(t, "bamboohr.csv"))
	if len(f.Records) != 4 {
		t.Fatalf("got %d records, want 4", len(f.Records))
	}
	for _, c := range []struct {
		col    Column
		header string
	}{
		{ColEmployeeID, "Employee #"}, {ColEmail, "Work Email"}, {ColFirstName, "First Name"},
		{ColLastName, "Last Name"}, {ColTeam, "Department"}, {ColManager, "Supervisor Email"},
		{ColLocation, "Location"}, {ColHiredOn, "Hire Date"}, {ColExitedOn, "Termination Date"},
		{ColExitType, "Termination Type"}, {ColExitReason, "Termination Reason"},
	} {
		if got := f.Headers[c.col]; got != c.header {
			t.Errorf("header of %s: got %q, want %q", c.col, got, c.header)
		}
	}
	if !f.Has(ColName) {
		t.Errorf("Has(name): got false, want true (from First Name and Last Name)")
	}
	wantIgnored := []string{"Preferred Name", "Home Email", "Division", "Supervisor"}
	if !reflect.DeepEqual(f.Ignored, wantIgnored) {
		t.Errorf("Ignored: got %q, want %q", f.Ignored, wantIgnored)
	}
	b := f.Records[1]
	if b.Name != "Bruno Costa" || b.Email != "bruno.costa@example.com" || b.ManagerRef != "ana.lima@example.com" ||
		!reflect.DeepEqual(b.TeamPath, []string{"Engineering", "Platform"}) || b.Line != 3 {
		t.Errorf("Bruno: got %+v", b)
	}
	c := f.Records[2]
	if c.ExitType != tandem.ExitVoluntary || c.ExitReason != `Moved abroad, "for love"` || c.Location != "Remote, EU" {
		t.Errorf("Chloé: got exit type %q, reason %q, location %q", c.ExitType, c.ExitReason, c.Location)
	}
}

func TestParseReadsWorkdayExportWithSemicolons(t *testing.T) {
	f := mustParse(t, readTestdata(t, "workday.csv"))
	if len(f.Records) != 3 {
		t.Fatalf("got %d records, want 3", len(f.Records))
	}
	if got := f.Headers[ColHiredOn]; got != "Hire Date" {
		t.Errorf("hire date column: got %q, want Hire Date (Original Hire Date is less specific)", got)
	}
	c := f.Records[2]
	want := Record{
		Line: 4, ExternalID: "W-19", Email: "chloe.martin@example.com", Name: "Martin; Chloé",
		TeamPath: []string{"Sales", "EMEA"}, ManagerRef: "W-17", Location: "Paris",
		HiredOn: date("2020-01-06"), ExitedOn: date("2024-11-29"), ExitType: tandem.ExitInvoluntary,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("line 4:\n got %+v\nwant %+v", c, want)
	}
}

func TestParseMatchesHeaderAliases(t *testing.T) {
	tests := []struct {
		header string
		want   Column
	}{
		{"Employee ID", ColEmployeeID}, {"employee_number", ColEmployeeID}, {"Employee No.", ColEmployeeID},
		{"Employee#", ColEmployeeID}, {"EMP-ID", ColEmployeeID}, {"ID", ColEmployeeID}, {"Worker ID", ColEmployeeID},
		{"External ID", ColEmployeeID}, {"Personnel Number", ColEmployeeID}, {"Staff ID", ColEmployeeID},
		{"E-mail", ColEmail}, {"Work E-mail", ColEmail}, {"Email Address", ColEmail}, {"business_email", ColEmail},
		{" EMAIL ", ColEmail},
		{"Full Name", ColName}, {"Employee Name", ColName}, {"Display name", ColName},
		{"Team Path", ColTeam}, {"Unit", ColTeam}, {"Org Unit", ColTeam}, {"department.path", ColTeam}, {"Department", ColTeam},
		{"Manager Email", ColManager}, {"Manager ID", ColManager}, {"Reports To", ColManager}, {"Supervisor", ColManager},
		{"Line Manager", ColManager}, {"Manager Employee ID", ColManager},
		{"Office", ColLocation}, {"Site", ColLocation}, {"City", ColLocation}, {"Work Location", ColLocation},
		{"Hire Date", ColHiredOn}, {"Start Date", ColHiredOn}, {"Date of Hire", ColHiredOn}, {"Joined", ColHiredOn},
		{"Original Hire Date", ColHiredOn}, {"hired", ColHiredOn},
		{"Exit Date", ColExitedOn}, {"Termination Date", ColExitedOn}, {"End Date", ColExitedOn}, {"Left On", ColExitedOn},
		{"Leaving Date", ColExitedOn}, {"Last Day", ColExitedOn},
		{"Exit Type", ColExitType}, {"Termination Type", ColExitType}, {"Leave Type", ColExitType},
		{"Regrettable", ColRegretted}, {"Regretted Exit", ColRegretted},
		{"Exit Reason", ColExitReason}, {"Termination Reason", ColExitReason}, {"Reason", ColExitReason},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			a, ok := aliases[csvfile.HeaderKey(tt.header)]
			if !ok || a.col != tt.want {
				t.Errorf("header %q: got %v (known %v), want %s", tt.header, a.col, ok, tt.want)
			}
		})
	}
	if _, ok := aliases[csvfile.HeaderKey("Preferred Name")]; ok {
		t.Errorf("Preferred Name: got a column, want none (BambooHR fills it with a first name)")
	}
}

func TestParseUsesTheMostSpecificOfSeveralColumnsForOneField(t *testing.T) {
	f := mustParse(t, "ID,Name,Email,Department,Team,City,Office\n7,Ana Lima,ana@example.com,Engineering,Platform,Porto,Lisbon HQ\n")
	r := f.Records[0]
	if !reflect.DeepEqual(r.TeamPath, []string{"Platform"}) || r.Location != "Lisbon HQ" {
		t.Errorf("got team %q location %q, want [Platform] and Lisbon HQ", r.TeamPath, r.Location)
	}
	if want := []string{"Department", "City"}; !reflect.DeepEqual(f.Ignored, want) {
		t.Errorf("Ignored: got %q, want %q", f.Ignored, want)
	}
}

func TestParseCombinesFirstAndLastNameWhenThereIsNoName(t *testing.T) {
	f := mustParse(t, "first_name,last_name,email,team\nAna,Lima,ana@example.com,Sales\n,Mononym,m@example.com,Sales\n")
	if got := []string{f.Records[0].Name, f.Records[1].Name}; !reflect.DeepEqual(got, []string{"Ana Lima", "Mononym"}) {
		t.Errorf("names: got %q", got)
	}
}

func TestParseStripsByteOrderMark(t *testing.T) {
	f := mustParse(t, "\uFEFFemail,name,team\nana@example.com,Ana Lima,Sales\n")
	if !f.Has(ColEmail) || f.Headers[ColEmail] != "email" {
		t.Errorf("got columns %v headers %v, want email read despite the BOM", f.Columns, f.Headers)
	}
}

func TestParseDetectsDelimiterFromHeader(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"comma", "email,name,team\nana@example.com,\"Lima; Ana\",Sales/EMEA\n"},
		{"semicolon", "email;name;team\nana@example.com;\"Lima; Ana\";Sales/EMEA\n"},
		{"semicolon with a quoted comma in the header", "email;name;team;\"Notes, misc\"\nana@example.com;\"Lima; Ana\";Sales/EMEA;\n"},
		{"tab", "email\tname\tteam\nana@example.com\tLima; Ana\tSales/EMEA\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.in)
			if len(f.Records) != 1 || f.Records[0].Email != "ana@example.com" || !reflect.DeepEqual(f.Records[0].TeamPath, []string{"Sales", "EMEA"}) {
				t.Errorf("got %+v", f.Records)
			}
		})
	}
}

func TestParseKeepsLineNumbersAcrossQuotedNewlines(t *testing.T) {
	in := "email,name,team,exit_reason,exited_on\r\n" +
		"ana@example.com,\"Lima, Ana\",Sales,,\r\n" +
		"bob@example.com,\"Bob \"\"The Builder\"\" Jones\",Sales,\"Moved\r\nto the\r\ncountry\",2024-01-31\r\n" +
		"\r\n" +
		"cy@example.com,Cy,Sales,,\r\n" +
		"dee@,Dee,Sales,,\r\n"
	errs := parseErrors(t, in)
	if len(errs) != 1 || errs[0].Line != 8 || errs[0].Column != "email" {
		t.Fatalf("got %v, want one error on line 8, column email", errs)
	}
	f := mustParse(t, strings.Replace(in, "dee@,", "dee@example.com,", 1))
	var lines []int
	for _, r := range f.Records {
		lines = append(lines, r.Line)
	}
	if want := []int{2, 3, 7, 8}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines: got %v, want %v", lines, want)
	}
	if r := f.Records[1]; r.Name != `Bob "The Builder" Jones` || r.ExitReason != "Moved\nto the\ncountry" {
		t.Errorf("line 3: got name %q reason %q", r.Name, r.ExitReason)
	}
}

func TestParseReportsEveryBadRowWithLineAndColumn(t *testing.T) {
	in := `Employee ID,Work Email,Full Name,Department,Hire Date,Exit Date,Exit Type,Regretted,Exit Reason
E1,ana@example.com,Ana Lima,Sales,2020-01-01,,,,
E2,bob@,Bob,Sales//EMEA,03/04/2021,,,,
E3,cy@example.com,,,2020-01-01,2019-12-31,retired,maybe,
,,Dee,Sales,,,voluntary,yes,Moved
E5,eve@example.com,Eve,Sales,2020-01-01,2021-01-01,Resignation,Y,Better offer
E6,fay@example.com,Fay,Sales,2020-01-01
`
	type want struct {
		line   int
		column string
		value  string
		reason string // a part of the reason
	}
	wants := []want{
		{3, "Work Email", "bob@", `"bob@" is not a valid email address; write one address like name@example.com`},
		{3, "Department", "Sales//EMEA", "empty part"},
		{3, "Hire Date", "03/04/2021", `"03/04/2021" is not an ISO 8601 date; write it as YYYY-MM-DD`},
		{4, "Full Name", "", "the name is empty"},
		{4, "Department", "", "the team is empty; give it as Division/Department/Team"},
		{4, "Exit Type", "retired", `"retired" is not an exit type; write voluntary or involuntary`},
		{4, "Regretted", "maybe", `"maybe" is not yes or no`},
		{4, "Exit Date", "2019-12-31", "the exit date 2019-12-31 is before the hire date 2020-01-01"},
		{5, "Work Email", "", "neither an email nor an employee id"},
		{5, "Exit Type", "voluntary", "an exit type needs an exit date"},
		{5, "Regretted", "yes", "a regretted exit needs an exit date"},
		{5, "Exit Reason", "Moved", "an exit reason needs an exit date"},
		{7, "", "", "the row has 5 fields but the header has 9"},
	}
	errs := parseErrors(t, in)
	if len(errs) != len(wants) {
		t.Errorf("got %d errors, want %d:\n%v", len(errs), len(wants), (&ImportError{errs}).Error())
	}
	for i, w := range wants {
		if i >= len(errs) {
			break
		}
		g := errs[i]
		if g.Line != w.line || g.Column != w.column || g.Value != w.value || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("error %d: got %+v, want line %d column %q value %q reason containing %q", i, g, w.line, w.column, w.value, w.reason)
		}
	}
}

func TestParseAcceptsExitTypeAndRegrettedSpellings(t *testing.T) {
	tests := []struct {
		exitType, regretted string
		wantType            string
		wantRegretted       bool
	}{
		{"Voluntary", "Yes", tandem.ExitVoluntary, true},
		{"resignation", "y", tandem.ExitVoluntary, true},
		{"INVOLUNTARY", "no", tandem.ExitInvoluntary, false},
		{"Termination", "FALSE", tandem.ExitInvoluntary, false},
		{"dismissal", "1", tandem.ExitInvoluntary, true},
		{"Layoff", "0", tandem.ExitInvoluntary, false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.exitType+"/"+tt.regretted, func(t *testing.T) {
			f := mustParse(t, fmt.Sprintf("email,name,team,exited_on,exit_type,regretted\nana@example.com,Ana,Sales,2024-05-31,%s,%s\n", tt.exitType, tt.regretted))
			r := f.Records[0]
			if r.ExitType != tt.wantType || r.Regretted != tt.wantRegretted {
				t.Errorf("got %q/%v, want %q/%v", r.ExitType, r.Regretted, tt.wantType, tt.wantRegretted)
			}
		})
	}
}

func TestParseAllowsRegrettedNoForActiveEmployees(t *testing.T) {
	f := mustParse(t, "email,name,team,exited_on,regretted\nana@example.com,Ana,Sales,,no\n")
	if r := f.Records[0]; r.Regretted || !r.ExitedOn.IsZero() {
		t.Errorf("got %+v, want an active, unregretted employee", r)
	}
}

func TestParseRejectsInvalidUTF8WithLine(t *testing.T) {
	// "Chloé" in Windows-1252, as Excel's "CSV (Comma delimited)" saves it.
	in := "email,name,team\nana@example.com,Ana,Sales\nchloe@example.com,Chlo\xe9 Martin,Sales\n"
	errs := parseErrors(t, in)
	if len(errs) != 1 || errs[0].Line != 3 || !strings.Contains(errs[0].Reason, "byte 0xE9 at character 23 is not UTF-8") ||
		!strings.Contains(errs[0].Reason, "CSV UTF-8") {
		t.Errorf("got %v, want one error on line 3 naming byte 0xE9 at character 23 and CSV UTF-8", errs)
	}
}

func TestParseRejectsUTF16(t *testing.T) {
	errs := parseErrors(t, "\xff\xfee\x00m\x00")
	if len(errs) != 1 || !strings.Contains(errs[0].Reason, "UTF-16") {
		t.Errorf("got %v, want one error naming UTF-16", errs)
	}
}

func TestParseReportsMissingRequiredColumns(t *testing.T) {
	tests := []struct {
		header string
		want   []string // a part of each reason, in order
	}{
		{"email,team", []string{"no name column"}},
		{"email,first_name,team", []string{"no name column; add one (accepted headers: name, full name"}},
		{"email,name", []string{"no team column; add one (accepted headers: team, team path, unit"}},
		{"name,team,location", []string{"neither an email nor an employee_id column"}},
		{"phone,title", []string{"no name column", "no team column", "neither an email nor an employee_id column"}},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			errs := parseErrors(t, tt.header+"\nx,y,z\n")
			if len(errs) != len(tt.want) {
				t.Fatalf("got %v, want %d errors", errs, len(tt.want))
			}
			for i, w := range tt.want {
				if errs[i].Line != 1 || !strings.Contains(errs[i].Reason, w) {
					t.Errorf("error %d: got %v, want line 1 and %q", i, errs[i], w)
				}
			}
		})
	}
}

func TestParseRejectsTwoColumnsForOneField(t *testing.T) {
	errs := parseErrors(t, "Email,Name,Team,E-mail\na@example.com,A,Sales,b@example.com\n")
	if len(errs) != 1 || errs[0].Line != 1 || !strings.Contains(errs[0].Reason, `columns "Email" and "E-mail" all give the email`) {
		t.Errorf("got %v, want one error about Email and E-mail", errs)
	}
}

func TestParseReportsDuplicatePeopleOnTheLaterLine(t *testing.T) {
	in := "employee_id,email,name,team\nE1,ana@example.com,Ana,Sales\nE2,bob@example.com,Bob,Sales\nE1,cy@example.com,Cy,Sales\nE4,Ana@Example.com,Ana again,Sales\n"
	errs := parseErrors(t, in)
	want := []RowError{
		{Line: 4, Column: "employee_id", Value: "E1", Reason: `employee id "E1" is already on line 2; give each person one row and one id`},
		{Line: 5, Column: "email", Value: "Ana@Example.com", Reason: "email ana@example.com is already on line 2; give each person one row and their own address"},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("got %v\nwant %v", errs, want)
	}
}

func TestParseChecksFieldCountPerRow(t *testing.T) {
	in := "email,name,team\na@example.com,A,Sales,,\nb@example.com,B\nc@example.com,Lima, C,Sales\n,,\n"
	errs := parseErrors(t, in)
	if len(errs) != 2 || errs[0].Line != 3 || errs[1].Line != 4 ||
		!strings.Contains(errs[0].Reason, "2 fields but the header has 3; add empty fields") ||
		!strings.Contains(errs[1].Reason, `must be in quotes, like "Lima, Ana"`) {
		t.Errorf("got %v, want errors on lines 3 and 4 only (trailing empty fields and empty rows are fine)", errs)
	}
}

func TestParseSkipsEmptyRows(t *testing.T) {
	f := mustParse(t, "email,name,team\n\n , , \na@example.com,A,Sales\n,,\n\n")
	if len(f.Records) != 1 || f.Records[0].Line != 4 {
		t.Errorf("got %+v, want one record on line 4", f.Records)
	}
}

func TestParseReportsBrokenQuotes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		want string
	}{
		{"bare quote", "email,name,team\na@example.com,A,Sales\nb@example.com,Bob \"B\" Jones,Sales\n", 3, `put the whole value in quotes`},
		{"text after closing quote", "email,name,team\na@example.com,\"Bob\" Jones,Sales\n", 2, `text after its closing quote`},
		{"unclosed", "email,name,team\na@example.com,\"Bob,Sales\nb@example.com,B,Sales\n", 3, `the quoted value that starts on line 2 is not closed`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := parseErrors(t, tt.in)
			last := errs[len(errs)-1]
			if last.Line != tt.line || !strings.Contains(last.Reason, tt.want) || !strings.Contains(last.Reason, "the rest of the file was not checked") {
				t.Errorf("got %v, want line %d and %q", errs, tt.line, tt.want)
			}
		})
	}
}

func TestParseRejectsEmptyAndHeaderOnlyFiles(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "the file is empty",
		"\uFEFF\n\n":        "the file is empty",
		"email,name,team\n": "the file has a header but no rows",
	} {
		errs := parseErrors(t, in)
		if len(errs) != 1 || !strings.Contains(errs[0].Reason, want) {
			t.Errorf("Parse(%q): got %v, want %q", in, errs, want)
		}
	}
}

func TestParseRejectsMoreThanMaxRows(t *testing.T) {
	var b strings.Builder
	b.WriteString("employee_id,name,team\n")
	for i := range MaxRows + 1 {
		fmt.Fprintf(&b, "E%d,Person %d,Sales\n", i, i)
	}
	errs := parseErrors(t, b.String())
	if len(errs) != 1 || errs[0].Line != MaxRows+2 || !strings.Contains(errs[0].Reason, "more than 100000 rows") {
		t.Errorf("got %v, want one error on line %d about the limit", errs, MaxRows+2)
	}
}

func TestParseUndoesFormulaQuoting(t *testing.T) {
	f := mustParse(t, "email,name,team,location\na@example.com,'=cmd|' /C calc'!A0,'+Sales,'@home\nb@example.com,'-',Sales,''=x\n")
	got := []string{f.Records[0].Name, f.Records[0].TeamPath[0], f.Records[0].Location, f.Records[1].Name, f.Records[1].Location}
	// "-'" starts with a minus and is no number: the writer quotes it.
	want := []string{"=cmd|' /C calc'!A0", "+Sales", "@home", "-'", "'=x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestImportErrorIsInvalidInput(t *testing.T) {
	_, err := Parse(strings.NewReader("email,name\n"))
	if got := tandem.ErrorCode(err); got != tandem.EINVALID {
		t.Errorf("ErrorCode: got %q, want %q", got, tandem.EINVALID)
	}
	if got := tandem.ErrorMessage(err); !strings.Contains(got, "line 1: the header has no team column") {
		t.Errorf("ErrorMessage: got %q, want the listing", got)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.csv"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("email;name;team\n\"a@example.com\";\"x\ny\";S/T\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(strings.NewReader(string(data)))
		if err == nil {
			if file == nil {
				t.Fatal("got no file and no error")
			}
			for _, r := range file.Records {
				if r.Line < 2 || r.Name == "" || len(r.TeamPath) == 0 || (r.Email == "" && r.ExternalID == "") {
					t.Fatalf("got an invalid record %+v", r)
				}
			}
			return
		}
		var ie *ImportError
		if !errors.As(err, &ie) || file != nil || len(ie.Errors) == 0 {
			t.Fatalf("got file %v and error %T %v, want nil and an *ImportError", file, err, err)
		}
		for _, re := range ie.Errors {
			if re.Reason == "" || re.Line < 0 {
				t.Fatalf("got a row error without reason or with a bad line: %+v", re)
			}
		}
	})
}

func TestParseRefusesANULByteWithItsLine(t *testing.T) {
	_, err := Parse(strings.NewReader("email,name,team\nana@example.com,An\x00a,Acme\n"))
	ie, ok := err.(*ImportError)
	if !ok || len(ie.Errors) == 0 || ie.Errors[0].Line != 2 || !strings.Contains(ie.Errors[0].Reason, "NUL") {
		t.Fatalf("err = %v, want a line-2 error about the NUL byte", err)
	}
}

// TestParseRefusesOverlongFieldsByLineAndColumn gives each column a value
// over its limit (a 15 MB name among them): each is refused on its line and
// column, and no error quotes more than a few dozen characters of it.
func TestParseRefusesOverlongFieldsByLineAndColumn(t *testing.T) {
	huge := strings.Repeat("N", 15<<20)
	long := func(n int) string { return strings.Repeat("é", n+1) }
	deep := strings.TrimSuffix(strings.Repeat("T/", tandem.MaxUnitDepth+1), "/")
	file := "employee_id,email,name,team,location,exit_reason,exited_on,hired_on\n" +
		"E1,a@example.com," + huge + ",Sales,,,,\n" +
		long(tandem.MaxIDLength) + ",b@example.com,Bo,Sales,,,,\n" +
		"E3," + strings.Repeat("c", tandem.MaxEmailLength) + "@example.com,Cy,Sales,,,,\n" +
		"E4,d@example.com,Di,Sales/" + long(tandem.MaxNameLength) + ",,,,\n" +
		"E5,e@example.com,Ed," + deep + ",,,,\n" +
		"E6,f@example.com,Fe,Sales," + long(tandem.MaxNameLength) + ",,,\n" +
		"E7,g@example.com,Gu,Sales,,\"" + long(tandem.MaxCommentLength) + "\",2024-01-01,\n" +
		"E8,h@example.com,Hu,Sales,,,," + strings.Repeat("2", 1<<20) + "\n" +
		"E9,i@example.com,Ida,Sales,,,,\n"
	errs := parseErrors(t, file)
	want := map[int]string{2: "name", 3: "employee_id", 4: "email", 5: "team", 6: "team", 7: "location", 8: "exit_reason", 9: "hired_on"}
	got := map[int]string{}
	for _, e := range errs {
		got[e.Line] = e.Column
		if s := e.String(); len(s) > 300 || len([]rune(e.Value)) > 80 {
			t.Errorf("line %d: an error of %d bytes with a value of %d bytes; quote at most a few dozen characters", e.Line, len(s), len(e.Value))
		}
	}
	for line, col := range want {
		if got[line] != col {
			t.Errorf("line %d: problem in column %q, want %q", line, got[line], col)
		}
	}
	if _, ok := got[10]; ok || len(got) != len(want) {
		t.Errorf("problems on lines %v, want exactly lines 2 to 9", got)
	}
}

// TestParseRefusesAHeaderWithTooManyColumns reads a header of a million
// columns: refused at once on line 1, with the count and what to do.
func TestParseRefusesAHeaderWithTooManyColumns(t *testing.T) {
	header := "email,name,team" + strings.Repeat(",x", 1_000_000)
	errs := parseErrors(t, header+"\na@example.com,Ana,Sales\n")
	if len(errs) != 1 || errs[0].Line != 1 || !strings.Contains(errs[0].Reason, "1,000,003 columns") || len(errs[0].String()) > 300 {
		t.Fatalf("got %v, want one short problem on line 1 giving the count", errs)
	}
}

// TestParseReadsHeadersWrittenAsJoinedWords: HR systems and developers
// write EmployeeNumber and WorkEmail as well as Employee Number.
func TestParseReadsHeadersWrittenAsJoinedWords(t *testing.T) {
	f, err := Parse(strings.NewReader("EmployeeNumber,WorkEmail,FullName,TeamPath,ManagerEmail,HireDate\n" +
		"E1,ana@example.com,Ana Silva,Sales/EMEA,,2021-03-01\n"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := map[Column]string{ColEmployeeID: "EmployeeNumber", ColEmail: "WorkEmail", ColName: "FullName", ColTeam: "TeamPath",
		ColManager: "ManagerEmail", ColHiredOn: "HireDate"}
	if !reflect.DeepEqual(f.Headers, want) || len(f.Ignored) > 0 {
		t.Errorf("headers read %v (ignored %v), want %v", f.Headers, f.Ignored, want)
	}
	if r := f.Records[0]; r.ExternalID != "E1" || r.Email != "ana@example.com" || r.Name != "Ana Silva" {
		t.Errorf("record %+v", r)
	}
}
