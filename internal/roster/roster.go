// Package roster reads roster CSV files and plans their import: which
// employees are added, which change and which are marked exited. It does no
// I/O beyond the reader it is given; the store applies a Plan in one
// transaction.
package roster

import (
	"fmt"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Column is a canonical roster column name.
type Column string

// The roster columns Tandem understands. Header names in a file are matched
// case-insensitively against these and their aliases (see Aliases).
const (
	ColEmployeeID Column = "employee_id"
	ColEmail      Column = "email"
	ColName       Column = "name"
	ColFirstName  Column = "first_name"
	ColLastName   Column = "last_name"
	ColTeam       Column = "team"
	ColManager    Column = "manager"
	ColLocation   Column = "location"
	ColHiredOn    Column = "hired_on"
	ColExitedOn   Column = "exited_on"
	ColExitType   Column = "exit_type"
	ColRegretted  Column = "regretted"
	ColExitReason Column = "exit_reason"
	// ColLanguage is optional: the language a person's invitations and
	// answer page speak (a BCP 47 tag such as de or pt-BR).
	ColLanguage Column = "language"
)

// Record is one valid row of a roster file.
type Record struct {
	// Line is the 1-based line number of the row in the file (the header is
	// line 1), counting physical lines, so that a quoted field with a line
	// break moves the numbers the way an editor shows them.
	Line       int
	ExternalID string
	Email      string // normalised: lower case, trimmed
	Name       string
	TeamPath   []string
	// ManagerRef is the manager's employee id or email as given in the file;
	// "" for none.
	ManagerRef string
	Location   string
	HiredOn    time.Time
	ExitedOn   time.Time
	ExitType   string
	Regretted  bool
	ExitReason string
	// Language is a checked BCP 47 tag in its canonical spelling, "" for
	// none.
	Language string
}

// File is a parsed roster file: the canonical columns it had and its rows.
type File struct {
	// Columns are the columns the records carry, in canonical order. ColName
	// is among them when the name comes from first and last name columns.
	Columns []Column
	// Headers is the header of each column as written in the file, for
	// messages that point at a cell.
	Headers map[Column]string
	// Ignored lists the headers that were not read: unknown columns and
	// less specific aliases of a column the file also had (Department when
	// there is a Team column).
	Ignored []string
	Records []Record
	// rejected holds the employee ids and emails of rows with problems
	// (see Check).
	rejected map[string]bool
}

// Has reports whether the file had column c. A column absent from the file
// leaves that field of existing employees untouched.
func (f *File) Has(c Column) bool {
	for _, x := range f.Columns {
		if x == c {
			return true
		}
	}
	return false
}

// header returns the header of column c as written in the file.
func (f *File) header(c Column) string {
	if h := f.Headers[c]; h != "" {
		return h
	}
	return string(c)
}

// RowError is one problem in one cell, in one row when Column is "", or in
// the whole file when Line is 0.
type RowError struct {
	Line   int
	Column string
	Value  string
	Reason string
}

func (e RowError) String() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d", e.Line)
	} else {
		b.WriteString("file")
	}
	if e.Column != "" {
		fmt.Fprintf(&b, ", column %s", e.Column)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// ImportError lists every problem found in a file. Nothing from a file with
// an ImportError is applied.
type ImportError struct {
	Errors []RowError
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the roster has %d problem(s); nothing was imported:", len(e.Errors))
	for i, re := range e.Errors {
		if i == 50 {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Errors)-50)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(re.String())
	}
	return b.String()
}

// Unwrap makes an ImportError invalid input for tandem.ErrorCode and
// tandem.ErrorMessage, with the whole listing as the message, so that the
// web layer shows it like any other user error.
func (e *ImportError) Unwrap() error {
	return &tandem.Error{Code: tandem.EINVALID, Message: e.Error()}
}

// Change is one field that an import changes on an existing employee.
type Change struct {
	Column Column
	// Field names the field for people: "team", "hire date".
	Field string
	Old   string
	New   string
}

// Update is an existing employee that a row changes.
type Update struct {
	EmployeeID int64
	// Record is the row as it will be applied: an empty employee id or
	// email cell is filled from the employee, since an empty cell never
	// removes an identifier.
	Record  Record
	Changes []Change
	// Rehired is set when the employee had exited and the row's hire date
	// is after that exit; the exit is cleared.
	Rehired bool
}

// Options control how a file is planned.
type Options struct {
	// MarkMissingExited treats the file as the full roster: active
	// employees not in it are marked exited on Today.
	MarkMissingExited bool
	// Today is the exit date given to employees missing from a full roster.
	Today time.Time
}

// Plan is what an import will do. It is shown as a dry run and applied as is.
type Plan struct {
	File   *File
	Add    []Record
	Update []Update
	// Unchanged counts rows that match an employee and change nothing.
	Unchanged int
	// Exit lists active employees missing from a full-roster file.
	Exit []tandem.Employee
	// NewUnits lists the team paths that do not exist yet, parents first.
	NewUnits [][]string
	Options  Options
}

// Empty reports whether applying p would change nothing.
func (p *Plan) Empty() bool {
	return len(p.Add) == 0 && len(p.Update) == 0 && len(p.Exit) == 0 && len(p.NewUnits) == 0
}
