package tandem

import (
	"net/mail"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Unit is one node of the organisation tree: company, division, department,
// team — any depth. The root has ParentID 0.
type Unit struct {
	ID       int64
	ParentID int64
	Name     string
	// Path is the names from the root down to this unit, joined by " / ".
	Path string
	// Depth is 0 for a root.
	Depth int
	// CustomerFacing marks units whose work customers rate directly.
	CustomerFacing bool
}

// PathSeparator joins unit names into a path for display and export.
const PathSeparator = " / "

// SplitUnitPath splits a team path such as "Sales/EMEA/Inside Sales" or
// "Sales > EMEA > Inside Sales" into its trimmed parts. It returns an error
// for an empty path, an empty part ("Sales//EMEA"), a part longer than
// MaxNameLength or more than MaxUnitDepth levels.
func SplitUnitPath(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, Errorf(EINVALID, "the team path is empty; give it as Division/Department/Team")
	}
	sep := "/"
	if strings.Contains(s, ">") && !strings.Contains(s, "/") {
		sep = ">"
	}
	if n := strings.Count(s, sep) + 1; n > MaxUnitDepth {
		return nil, Errorf(EINVALID, "team path %q has %d levels; Tandem takes at most %d", Shorten(s, 60), n, MaxUnitDepth)
	}
	parts := strings.Split(s, sep)
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if parts[i] == "" {
			return nil, Errorf(EINVALID, "team path %q has an empty part; give it as Division/Department/Team", Shorten(s, 200))
		}
		if CheckLength("team", parts[i], MaxNameLength) != nil {
			return nil, Errorf(EINVALID, "team name %q is longer than %d characters; shorten it", Shorten(parts[i], 40), MaxNameLength)
		}
	}
	return parts, nil
}

// ValidateUnitName checks a unit's new name: not empty, at most
// MaxNameLength characters, and without "/", which separates the levels of
// a team path (a name with one would not import back from an export).
func ValidateUnitName(name string) error {
	if strings.TrimSpace(name) == "" || strings.Contains(name, "/") {
		return FieldErrorf("name", "a unit needs a name, without a '/' (slashes separate levels in team paths)")
	}
	return CheckLength("name", name, MaxNameLength)
}

// Exit types.
const (
	ExitVoluntary   = "voluntary"
	ExitInvoluntary = "involuntary"
)

// Employee is one person on the roster. Tandem never links an employee to the
// content of their pulse answers; see the pulse package.
type Employee struct {
	ID int64
	// ExternalID is the HR system's employee id; may be empty.
	ExternalID string
	Email      string
	Name       string
	UnitID     int64
	// ManagerID is another employee's ID, or 0.
	ManagerID int64
	Location  string
	// HiredOn and ExitedOn are dates (UTC midnight); zero when unknown or
	// still employed.
	HiredOn    time.Time
	ExitedOn   time.Time
	ExitType   string // "", ExitVoluntary or ExitInvoluntary
	Regretted  bool
	ExitReason string
	// Language is the BCP 47 tag the person is spoken to in ("" for none:
	// their browser's, else the organisation's default).
	Language string

	// Read-only conveniences filled by the store.
	UnitPath    string
	ManagerName string
}

// Active reports whether the employee has not exited on or before day.
func (e *Employee) Active(day time.Time) bool {
	return e.ExitedOn.IsZero() || e.ExitedOn.After(day)
}

// Validate checks the fields a person can get wrong and returns the first
// problem as a field error.
func (e *Employee) Validate() error {
	if strings.TrimSpace(e.Name) == "" {
		return FieldErrorf("name", "is required")
	}
	for _, f := range []struct {
		field, value string
		max          int
	}{
		{"name", e.Name, MaxNameLength}, {"email", e.Email, MaxEmailLength}, {"employee_id", e.ExternalID, MaxIDLength},
		{"location", e.Location, MaxNameLength}, {"exit_reason", e.ExitReason, MaxCommentLength},
	} {
		if err := CheckLength(f.field, f.value, f.max); err != nil {
			return err
		}
	}
	if e.Email == "" && e.ExternalID == "" {
		return FieldErrorf("email", "give an email or an employee id so the person can be matched on the next import")
	}
	if e.Email != "" {
		if err := ValidateEmail(e.Email); err != nil {
			return &Error{Code: EINVALID, Field: "email", Message: err.(*Error).Message}
		}
	}
	if e.UnitID == 0 {
		return FieldErrorf("unit", "is required")
	}
	switch e.ExitType {
	case "", ExitVoluntary, ExitInvoluntary:
	default:
		return FieldErrorf("exit_type", "%q is not an exit type; use voluntary or involuntary", e.ExitType)
	}
	if e.ExitType != "" && e.ExitedOn.IsZero() {
		return FieldErrorf("exited_on", "an exit type needs an exit date")
	}
	if !e.ExitedOn.IsZero() && !e.HiredOn.IsZero() && e.ExitedOn.Before(e.HiredOn) {
		return FieldErrorf("exited_on", "exit date %s is before hire date %s", FormatDate(e.ExitedOn), FormatDate(e.HiredOn))
	}
	return nil
}

// SearchKey folds text for matching what people type: lower case, accents
// removed ("Émile Ødegård" → "emile ødegard"), spaces collapsed.
func SearchKey(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	return strings.Join(strings.Fields(strings.ToLower(folded)), " ")
}

// NormalizeEmail lower-cases and trims an address, so that matching is by
// address, not by spelling.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateEmail checks that s is a single plain address (no display name).
func ValidateEmail(s string) error {
	if CheckLength("email", s, MaxEmailLength) != nil {
		return Errorf(EINVALID, "the address is longer than %d characters, the most an email address can be", MaxEmailLength)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s[strings.LastIndex(s, "@")+1:], ".") {
		return Errorf(EINVALID, "%q is not a valid email address", s)
	}
	return nil
}

// ParseDate reads an ISO 8601 calendar date (2024-03-01) or a date-time
// (2024-03-01T09:30:00Z, 2024-03-01 09:30:00) and returns the date part at
// UTC midnight.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	// The common case, YYYY-MM-DD, without time.Parse's general machinery:
	// reports parse every stored date.
	if len(s) == 10 && s[4] == '-' && s[7] == '-' {
		y, okY := digits(s[0:4])
		m, okM := digits(s[5:7])
		d, okD := digits(s[8:10])
		if okY && okM && okD && m >= 1 && m <= 12 && d >= 1 && d <= 31 {
			t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
			if t.Day() == d { // not 2024-02-30
				return t, nil
			}
		}
	}
	for _, layout := range []string{"2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			y, m, d := t.Date()
			return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
		}
	}
	return time.Time{}, Errorf(EINVALID, "%q is not an ISO 8601 date; write it as YYYY-MM-DD", Shorten(s, 40))
}

// FormatDate writes t as YYYY-MM-DD, or "" for the zero time.
func FormatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01-02")
}

// Today returns the current date at UTC midnight for the clock now.
func Today(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
