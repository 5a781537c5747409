package roster

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// fieldNames name the columns in a Change, for people.
var fieldNames = map[Column]string{
	ColEmployeeID: "employee id",
	ColEmail:      "email",
	ColName:       "name",
	ColTeam:       "team",
	ColManager:    "manager",
	ColLocation:   "location",
	ColHiredOn:    "hire date",
	ColExitedOn:   "exit date",
	ColExitType:   "exit type",
	ColRegretted:  "regretted",
	ColExitReason: "exit reason",
	ColLanguage:   "language",
}

// MakePlan works out what importing f into the roster would do. Each row is
// matched to an existing employee by employee id, or else by email; a row
// that matches no one is added. Only the columns the file has are compared:
// an absent column never blanks existing data. With opt.MarkMissingExited,
// active employees that no row matches are to be marked exited on opt.Today.
// Every problem is returned together in an *ImportError.
func MakePlan(f *File, existing []tandem.Employee, units []tandem.Unit, opt Options) (*Plan, error) {
	if opt.MarkMissingExited && opt.Today.IsZero() {
		return nil, errors.New("roster: MakePlan needs Options.Today to mark missing employees exited")
	}
	pl := &planner{
		f:      f,
		tree:   tandem.NewTree(units),
		byID:   make(map[int64]*tandem.Employee, len(existing)),
		byExt:  make(map[string]*tandem.Employee),
		byMail: make(map[string]*tandem.Employee),
		recExt: make(map[string]int),
		recEm:  make(map[string]int),
	}
	// Backwards, so that should the roster hold a key twice, the first
	// employee with it wins.
	for i := len(existing) - 1; i >= 0; i-- {
		e := &existing[i]
		pl.byID[e.ID] = e
		if e.ExternalID != "" {
			pl.byExt[e.ExternalID] = e
		}
		if e.Email != "" {
			pl.byMail[tandem.NormalizeEmail(e.Email)] = e
		}
	}
	for i, r := range f.Records {
		if r.ExternalID != "" {
			pl.recExt[r.ExternalID] = i
		}
		if r.Email != "" {
			pl.recEm[r.Email] = i
		}
	}

	p := &Plan{File: f, Options: opt}
	pl.matches = make([]*tandem.Employee, len(f.Records))
	claimed := make(map[int64]int) // employee ID → line of the row that matched it
	for i, r := range f.Records {
		e := pl.match(r)
		if e == nil {
			continue
		}
		if prev, ok := claimed[e.ID]; ok {
			pl.add(r.Line, "", "", fmt.Sprintf("this row and line %d are both %s; give each person one row", prev, describe(e)))
			continue
		}
		claimed[e.ID] = r.Line
		pl.matches[i] = e
	}

	for i, r := range f.Records {
		if f.Has(ColManager) && r.ManagerRef != "" {
			pl.checkManager(i)
		}
		e := pl.matches[i]
		if e == nil {
			p.Add = append(p.Add, r)
			continue
		}
		u := pl.update(e, r)
		if len(u.Changes) == 0 {
			p.Unchanged++
		} else {
			p.Update = append(p.Update, u)
		}
	}

	// Paths are keyed as the store keys them when it creates the units.
	known := make(map[string]bool, pl.tree.Len())
	for _, u := range pl.tree.Walk() {
		known[u.Path] = true
	}
	for _, r := range f.Records {
		for n := 1; n <= len(r.TeamPath); n++ {
			prefix := r.TeamPath[:n]
			if k := strings.Join(prefix, tandem.PathSeparator); !known[k] {
				known[k] = true
				p.NewUnits = append(p.NewUnits, slices.Clone(prefix))
			}
		}
	}

	if opt.MarkMissingExited {
		for _, e := range existing {
			if _, ok := claimed[e.ID]; !ok && e.Active(opt.Today) {
				p.Exit = append(p.Exit, e)
			}
		}
		sort.Slice(p.Exit, func(i, j int) bool {
			if p.Exit[i].Name != p.Exit[j].Name {
				return p.Exit[i].Name < p.Exit[j].Name
			}
			return p.Exit[i].ID < p.Exit[j].ID
		})
	}

	if len(pl.errs) > 0 {
		return nil, importError(pl.errs...)
	}
	return p, nil
}

type planner struct {
	f      *File
	tree   *tandem.Tree
	byID   map[int64]*tandem.Employee
	byExt  map[string]*tandem.Employee
	byMail map[string]*tandem.Employee
	recExt map[string]int // employee id → index of its record
	recEm  map[string]int // email → index of its record
	// matches[i] is the employee record i updates, or nil.
	matches []*tandem.Employee
	errs    []RowError
}

func (pl *planner) add(line int, col Column, value, reason string) {
	h := ""
	if col != "" {
		h = pl.f.header(col)
	}
	pl.errs = append(pl.errs, RowError{Line: line, Column: h, Value: value, Reason: reason})
}

// match finds the employee a record is about, reporting rows whose employee
// id and email point at different people.
func (pl *planner) match(r Record) *tandem.Employee {
	var byExt, byMail *tandem.Employee
	if r.ExternalID != "" {
		byExt = pl.byExt[r.ExternalID]
	}
	if r.Email != "" {
		byMail = pl.byMail[r.Email]
	}
	switch {
	case byExt != nil && byMail != nil && byExt != byMail:
		pl.add(r.Line, ColEmail, r.Email, fmt.Sprintf("email %s belongs to %s, but employee id %q is %s; fix the email or the employee id",
			r.Email, describe(byMail), r.ExternalID, describe(byExt)))
		return nil
	case byExt != nil:
		return byExt
	case byMail != nil && r.ExternalID != "" && byMail.ExternalID != "":
		// The same address with another id: a changed id or a reused
		// address. Guessing either would merge or split people.
		pl.add(r.Line, ColEmployeeID, r.ExternalID, fmt.Sprintf("email %s belongs to %s, whose employee id is %q, not %q; fix the employee id or the email",
			r.Email, describe(byMail), byMail.ExternalID, r.ExternalID))
		return nil
	}
	return byMail
}

// checkManager reports a manager reference that names no one, or the
// employee themselves.
func (pl *planner) checkManager(i int) {
	r := pl.f.Records[i]
	mgr, rec := pl.resolveManager(r.ManagerRef)
	switch {
	case mgr == nil && rec < 0 && (pl.f.rejected[r.ManagerRef] || pl.f.rejected[tandem.NormalizeEmail(r.ManagerRef)]):
		// The manager's own row has a problem, reported already.
	case mgr == nil && rec < 0:
		pl.add(r.Line, ColManager, r.ManagerRef, fmt.Sprintf("manager %q is neither in this file nor on the roster; give the manager's employee id or email, or leave the cell empty",
			r.ManagerRef))
	case rec == i || (mgr != nil && mgr == pl.matches[i]):
		pl.add(r.Line, ColManager, r.ManagerRef, "an employee cannot be their own manager; give their manager's employee id or email, or leave the cell empty")
	}
}

// resolveManager finds the person a manager reference names: an employee
// on the roster by employee id, then by email; or else a row of the file,
// which may itself update an employee. rec is the row's index, or -1.
func (pl *planner) resolveManager(ref string) (e *tandem.Employee, rec int) {
	if e := pl.byExt[ref]; e != nil {
		return e, -1
	}
	email := tandem.NormalizeEmail(ref)
	if e := pl.byMail[email]; e != nil {
		return e, -1
	}
	i, ok := pl.recExt[ref]
	if !ok {
		i, ok = pl.recEm[email]
	}
	if !ok {
		return nil, -1
	}
	return pl.matches[i], i
}

// update compares a record with the employee it matched.
func (pl *planner) update(e *tandem.Employee, r Record) Update {
	f := pl.f
	u := Update{EmployeeID: e.ID, Record: r}
	change := func(c Column, old, next string) {
		if old != next {
			u.Changes = append(u.Changes, Change{Column: c, Field: fieldNames[c], Old: old, New: next})
		}
	}
	if r.ExternalID == "" {
		u.Record.ExternalID = e.ExternalID
	}
	if r.Email == "" {
		u.Record.Email = tandem.NormalizeEmail(e.Email)
	}
	if f.Has(ColEmployeeID) {
		change(ColEmployeeID, e.ExternalID, u.Record.ExternalID)
	}
	if f.Has(ColEmail) {
		change(ColEmail, tandem.NormalizeEmail(e.Email), u.Record.Email)
	}
	if f.Has(ColName) {
		change(ColName, strings.TrimSpace(e.Name), r.Name)
	}
	if f.Has(ColTeam) {
		change(ColTeam, strings.Join(pl.teamOf(e), tandem.PathSeparator), strings.Join(r.TeamPath, tandem.PathSeparator))
	}
	if f.Has(ColManager) {
		old := ""
		if e.ManagerID != 0 {
			old = fmt.Sprintf("employee #%d", e.ManagerID)
			if m := pl.byID[e.ManagerID]; m != nil {
				old = describe(m)
			}
		}
		next := ""
		if r.ManagerRef != "" {
			switch m, rec := pl.resolveManager(r.ManagerRef); {
			case m != nil && m.ID == e.ManagerID:
				next = old
			case m != nil:
				next = describe(m)
			case rec >= 0:
				next = describeRecord(f.Records[rec])
			}
		}
		change(ColManager, old, next)
	}
	if f.Has(ColLocation) {
		change(ColLocation, strings.TrimSpace(e.Location), r.Location)
	}
	if f.Has(ColHiredOn) {
		change(ColHiredOn, tandem.FormatDate(e.HiredOn), tandem.FormatDate(r.HiredOn))
	}
	if f.Has(ColLanguage) {
		change(ColLanguage, e.Language, r.Language)
	}

	// A hire date after the exit is a rehire even when the file has no exit
	// column (an export of active people): the old exit must go, or the
	// employee would have left before they joined.
	u.Rehired = !e.ExitedOn.IsZero() && r.HiredOn.After(e.ExitedOn)
	exited := e.ExitedOn
	if f.Has(ColExitedOn) || (u.Rehired && r.ExitedOn.IsZero()) {
		exited = r.ExitedOn
	}
	exitType, regretted, reason := e.ExitType, e.Regretted, strings.TrimSpace(e.ExitReason)
	if f.Has(ColExitType) {
		exitType = r.ExitType
	}
	if f.Has(ColRegretted) {
		regretted = r.Regretted
	}
	if f.Has(ColExitReason) {
		reason = r.ExitReason
	}
	if exited.IsZero() {
		// The exit's details go with the exit date, whatever the columns.
		exitType, regretted, reason = "", false, ""
	}
	change(ColExitedOn, tandem.FormatDate(e.ExitedOn), tandem.FormatDate(exited))
	change(ColExitType, e.ExitType, exitType)
	change(ColRegretted, yesOrNo(e.Regretted), yesOrNo(regretted))
	change(ColExitReason, strings.TrimSpace(e.ExitReason), reason)
	return u
}

// teamOf returns the names of e's unit from the root down.
func (pl *planner) teamOf(e *tandem.Employee) []string {
	path := e.UnitPath
	if u := pl.tree.Unit(e.UnitID); u != nil {
		path = u.Path
	}
	if path == "" {
		return nil
	}
	parts := strings.Split(path, tandem.PathSeparator)
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func yesOrNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// describe names an employee in a message: "Ana Lima (E17)".
func describe(e *tandem.Employee) string {
	return fmt.Sprintf("%s (%s)", e.Name, firstNonEmpty(e.ExternalID, e.Email, fmt.Sprintf("#%d", e.ID)))
}

func describeRecord(r Record) string {
	return fmt.Sprintf("%s (%s)", r.Name, firstNonEmpty(r.ExternalID, r.Email))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
