// Package csvfile holds what Tandem's CSV files share: which separator a
// file people bring uses (Delimiter), and the one writer of every CSV
// Tandem writes, which keeps spreadsheets from running cells as formulas
// (Writer), with its inverse for the importers (Restore), and how a header
// name is matched (HeaderKey).
package csvfile

import (
	"fmt"
	"strings"
	"unicode"
)

// Delimiter returns the separator the header line uses most: comma,
// semicolon (Excel in many European locales) or tab. Separators inside
// quotes do not count; leading blank lines are skipped, as csv.Reader
// skips them.
func Delimiter(data []byte) rune {
	for len(data) > 0 && (data[0] == '\n' || data[0] == '\r') {
		data = data[1:]
	}
	count := map[byte]int{}
	inQuotes := false
scan:
	for _, c := range data {
		switch {
		case c == '"':
			inQuotes = !inQuotes
		case inQuotes:
		case c == '\n':
			break scan
		case c == ',' || c == ';' || c == '\t':
			count[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t'} {
		if count[c] > count[best] {
			best = c
		}
	}
	return rune(best)
}

// MaxColumns is the most columns a file Tandem reads may have. HR and
// helpdesk exports with every field run to a few hundred; a header of a
// million columns (which once took half a minute and 2 GB to read) is
// refused on its first line.
const MaxColumns = 500

// TooManyColumns returns the problem with a header of n columns, or "".
func TooManyColumns(n int) string {
	if n <= MaxColumns {
		return ""
	}
	return fmt.Sprintf("the header has %s columns; Tandem reads at most %d, so delete the columns it does not use (or export only the ones it needs) and try again",
		thousands(n), MaxColumns)
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// HeaderKey folds a header name for matching, the one rule every importer
// uses: case, spaces, underscores, hyphens, dots and the joins between
// words do not count, so "Employee Number", "employee_number",
// "EmployeeNumber" and "EMPLOYEE-NUMBER" are one key, as are "Work Email",
// "WorkEmail" and "work_e-mail". A byte order mark is dropped; other
// characters (such as "#") are kept.
func HeaderKey(s string) string {
	s = strings.TrimPrefix(s, "\uFEFF")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || r == '_' || r == '-' || r == '.':
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}
