package csvfile

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"
)

// Writer writes CSV that a spreadsheet opens as data: every CSV Tandem
// writes (exports, reports, the demo's files) goes through it. A cell
// Excel or LibreOffice would run as a formula — one starting with =, +, -,
// @, a tab or a carriage return (OWASP, "CSV Injection") — is written after
// an apostrophe, which Tandem's importers remove again (Restore). Plain
// numbers such as -0.35, -3 or +1e-5 are numbers, not formulas, and are
// written as they are, and so is a lone "-", a common placeholder.
type Writer struct {
	cw  *csv.Writer
	row []string
}

// NewWriter returns a Writer on w, comma separated.
func NewWriter(w io.Writer) *Writer { return &Writer{cw: csv.NewWriter(w)} }

// Write writes one record, neutralising each cell; record is not changed.
func (w *Writer) Write(record []string) error {
	w.row = w.row[:0]
	for _, v := range record {
		w.row = append(w.row, Neutralize(v))
	}
	return w.cw.Write(w.row)
}

// Flush writes any buffered data to the underlying writer.
func (w *Writer) Flush() { w.cw.Flush() }

// Error reports any error of an earlier Write or Flush.
func (w *Writer) Error() error { return w.cw.Error() }

// Neutralize returns v as a CSV cell a spreadsheet will not run: with an
// apostrophe in front when it could be taken for a formula.
func Neutralize(v string) string {
	if formulaLike(v) {
		return "'" + v
	}
	return v
}

// Restore undoes Neutralize: importers call it on every cell they read,
// so that a file Tandem exported imports back unchanged. A cell Neutralize
// would not have written (such as "'plain" or "O'Brien") is kept.
func Restore(v string) string {
	if len(v) > 1 && v[0] == '\'' && formulaLike(v[1:]) {
		return v[1:]
	}
	return v
}

// plainNumber is a decimal number with an optional sign and exponent, the
// form a spreadsheet reads as a number rather than a formula.
var plainNumber = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// formulaLike reports whether a spreadsheet could take v for a formula,
// after any leading apostrophes and spaces. Skipping the apostrophes makes
// Neutralize reversible: a value that itself starts with "'=" gets a
// second one, and Restore removes only that.
func formulaLike(v string) bool {
	s := strings.TrimLeft(v, "' ")
	if s == "" || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return false
	}
	return s != "-" && !plainNumber.MatchString(s)
}
