package roster

import (
	"io"
	"strings"

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
	if managerRef == nil {
		refs := make(map[int64]string, len(emps))
		for _, e := range emps {
			refs[e.ID] = firstNonEmpty(e.ExternalID, e.Email)
		}
		managerRef = func(id int64) string { return refs[id] }
	}
	cw := csvfile.NewWriter(w)
	if err := cw.Write(canonicalHeader); err != nil {
		return err
	}
	row := make([]string, len(canonicalHeader))
	for _, e := range emps {
		var team []string
		if e.UnitPath != "" {
			team = strings.Split(e.UnitPath, tandem.PathSeparator)
			for i := range team {
				team[i] = strings.TrimSpace(team[i])
			}
		}
		mgr := ""
		if e.ManagerID != 0 {
			mgr = managerRef(e.ManagerID)
		}
		regretted := ""
		if e.Regretted {
			regretted = "yes"
		} else if !e.ExitedOn.IsZero() {
			regretted = "no"
		}
		row = append(row[:0], e.ExternalID, e.Email, e.Name, strings.Join(team, "/"), mgr, e.Location,
			tandem.FormatDate(e.HiredOn), tandem.FormatDate(e.ExitedOn), e.ExitType, regretted, e.ExitReason)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
