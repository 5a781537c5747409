package roster

import (
	"fmt"

	"github.com/tandem-hq/tandem/internal/csvfile"
)

// columnNames lists the headers accepted for each column, as HR systems
// (BambooHR, Workday, Personio, HiBob, Rippling) and spreadsheets write them.
// Names are grouped in tiers of preference: when a file has headers from
// two tiers of one column, the first tier is read and the other ignored
// (BambooHR exports both "Supervisor", a name, and "Supervisor Email"); two
// headers of the same tier are an error, since either could be meant.
//
// "Preferred Name" is not an alias of name on purpose: BambooHR fills it with
// a first name only.
var columnNames = []struct {
	col   Column
	tiers [][]string
}{
	{ColEmployeeID, [][]string{
		{"employee_id", "employee number", "employee no", "employee nr", "employee #",
			"emp id", "emp no", "emp #", "worker id", "external id", "personnel number", "personnel no",
			"staff id", "staff number"},
		{"id"},
	}},
	{ColEmail, [][]string{
		{"email", "e-mail", "email address", "e-mail address", "work email", "work e-mail",
			"work email address", "email - work", "primary work email", "business email",
			"company email", "corporate email", "office email"},
	}},
	{ColName, [][]string{
		{"name", "full name", "employee name", "worker name", "employee full name"},
		{"display name", "legal name", "legal full name"},
	}},
	{ColFirstName, [][]string{
		{"first_name", "firstname", "given name", "forename"},
		{"legal first name"},
	}},
	{ColLastName, [][]string{
		{"last_name", "lastname", "surname", "family name"},
		{"legal last name"},
	}},
	{ColTeam, [][]string{
		{"team", "team path", "unit", "unit path", "org unit", "org unit path", "organizational unit",
			"organisational unit", "department path", "org path", "supervisory organization"},
		{"department", "dept"},
	}},
	{ColManager, [][]string{
		{"manager id", "manager employee id", "manager employee number", "manager employee #",
			"supervisor id", "supervisor eid", "supervisor employee id", "reports to id", "line manager id"},
		{"manager email", "manager e-mail", "manager work email", "supervisor email", "reports to email",
			"line manager email"},
		{"manager", "reports to", "supervisor", "line manager", "direct manager"},
	}},
	{ColLocation, [][]string{
		{"location", "work location", "office location", "primary work location"},
		{"office", "site", "work site"},
		{"city"},
	}},
	{ColHiredOn, [][]string{
		{"hired_on", "hire date", "start date", "hired", "date of hire", "joined",
			"joining date", "date joined", "employment start date", "most recent hire date",
			"latest hire date"},
		{"original hire date"},
	}},
	{ColExitedOn, [][]string{
		{"exited_on", "exit date", "termination date", "left on", "leaving date",
			"last day", "last working day", "separation date", "date of leaving", "employment end date"},
		{"end date"},
	}},
	{ColExitType, [][]string{
		{"exit_type", "termination type", "separation type"},
		{"leave type"},
	}},
	{ColRegretted, [][]string{
		{"regretted", "regrettable", "regretted exit", "regrettable exit", "regrettable termination"},
	}},
	{ColExitReason, [][]string{
		{"exit_reason", "termination reason", "separation reason", "leaving reason",
			"reason for leaving"},
		{"reason"},
	}},
	{ColLanguage, [][]string{
		{"language", "preferred language", "communication language", "language code", "locale"},
	}},
}

type alias struct {
	col  Column
	tier int
}

// aliases maps a normalised header to its column.
var aliases = func() map[string]alias {
	m := make(map[string]alias)
	for _, cn := range columnNames {
		for tier, names := range cn.tiers {
			for _, n := range names {
				k := csvfile.HeaderKey(n)
				if prev, ok := m[k]; ok {
					if prev.col != cn.col {
						panic(fmt.Sprintf("roster: header %q is listed for both %s and %s", n, prev.col, cn.col))
					}
					continue // another spelling of a name listed already
				}
				m[k] = alias{cn.col, tier}
			}
		}
	}
	return m
}()

// Aliases returns the header names accepted for column c, most preferred
// first. Matching ignores case, spaces, '_', '-', '.' and the joins
// between words (csvfile.HeaderKey).
func Aliases(c Column) []string {
	var out []string
	for _, cn := range columnNames {
		if cn.col == c {
			for _, names := range cn.tiers {
				out = append(out, names...)
			}
		}
	}
	return out
}
