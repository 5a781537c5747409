package roster

import (
	"strings"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// FieldsFor lists the roster columns a role may read about an employee, in
// file order: the one rule for which fields a role sees. HR and admins read
// every column. A leader reads who someone is, where they work and when
// they joined or left, but not the HR system's employee id nor how or why
// someone left (exit type, regret, reason). The employee pages, the roster
// export and any API answer show a role exactly these fields.
func FieldsFor(role tandem.Role) []Column {
	if role == tandem.RoleLeader {
		return []Column{ColEmail, ColName, ColTeam, ColManager, ColLocation, ColHiredOn, ColExitedOn}
	}
	out := make([]Column, len(canonicalHeader))
	for i, h := range canonicalHeader {
		out[i] = Column(h)
	}
	return out
}

// FieldLabel names a column for people.
func FieldLabel(c Column) string {
	switch c {
	case ColEmployeeID:
		return "Employee id"
	case ColEmail:
		return "Email"
	case ColName:
		return "Name"
	case ColTeam:
		return "Unit"
	case ColManager:
		return "Manager"
	case ColLocation:
		return "Location"
	case ColHiredOn:
		return "Hired on"
	case ColExitedOn:
		return "Exited on"
	case ColExitType:
		return "Exit type"
	case ColRegretted:
		return "Regretted"
	case ColExitReason:
		return "Exit reason"
	case ColLanguage:
		return "Language"
	}
	return string(c)
}

// FieldValue is the text of column c for e, as the roster file writes it.
// managerRef names a manager (nil: no manager is named).
func FieldValue(e tandem.Employee, c Column, managerRef func(managerID int64) string) string {
	switch c {
	case ColEmployeeID:
		return e.ExternalID
	case ColEmail:
		return e.Email
	case ColName:
		return e.Name
	case ColTeam:
		if e.UnitPath == "" {
			return ""
		}
		team := strings.Split(e.UnitPath, tandem.PathSeparator)
		for i := range team {
			team[i] = strings.TrimSpace(team[i])
		}
		return strings.Join(team, "/")
	case ColManager:
		if e.ManagerID == 0 || managerRef == nil {
			return ""
		}
		return managerRef(e.ManagerID)
	case ColLocation:
		return e.Location
	case ColHiredOn:
		return tandem.FormatDate(e.HiredOn)
	case ColExitedOn:
		return tandem.FormatDate(e.ExitedOn)
	case ColExitType:
		return e.ExitType
	case ColRegretted:
		if e.Regretted {
			return "yes"
		} else if !e.ExitedOn.IsZero() {
			return "no"
		}
		return ""
	case ColExitReason:
		return e.ExitReason
	case ColLanguage:
		return e.Language
	}
	return ""
}
