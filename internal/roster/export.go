package roster

import (
	"io"

	"github.com/tandem-hq/tandem/internal/csvfile"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// WriteCSV writes employees as a roster file in the canonical columns, so
// that the file imports back without changes. managerRef returns the
// employee id or email to write for a manager; when it is nil, the
// manager's employee id, or else email, is looked up among emps.
//
// Cells go through csvfile.Writer: a value a spreadsheet would run as a
// formula is written after an apostrophe, which Parse removes again.
func WriteCSV(w io.Writer, emps []tandem.Employee, managerRef func(managerID int64) string) error {
	return WriteColumns(w, emps, managerRef, FieldsFor(tandem.RoleAdmin))
}

// WriteColumns is WriteCSV limited to the given columns (FieldsFor a
// role), in that order. The optional language column is written only when
// someone has a language: a file without it imports back the same.
func WriteColumns(w io.Writer, emps []tandem.Employee, managerRef func(managerID int64) string, cols []Column) error {
	if managerRef == nil {
		refs := make(map[int64]string, len(emps))
		for _, e := range emps {
			refs[e.ID] = firstNonEmpty(e.ExternalID, e.Email)
		}
		managerRef = func(id int64) string { return refs[id] }
	}
	cols = withoutUnusedLanguage(cols, emps)
	cw := csvfile.NewWriter(w)
	head := make([]string, len(cols))
	for i, c := range cols {
		head[i] = string(c)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	row := make([]string, len(cols))
	for _, e := range emps {
		for i, c := range cols {
			row[i] = FieldValue(e, c, managerRef)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// withoutUnusedLanguage drops ColLanguage from cols when no one has a
// language.
func withoutUnusedLanguage(cols []Column, emps []tandem.Employee) []Column {
	for _, e := range emps {
		if e.Language != "" {
			return cols
		}
	}
	out := make([]Column, 0, len(cols))
	for _, c := range cols {
		if c != ColLanguage {
			out = append(out, c)
		}
	}
	return out
}
