package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/lang"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// maxRosterUpload is the largest roster file accepted through the web.
const maxRosterUpload = 20 << 20

func paramID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, tandem.Errorf(tandem.ENOTFOUND, "There is nothing at this address.")
	}
	return id, nil
}

// unitRow is a unit in the tree listing.
type unitRow struct {
	*tandem.Unit
	Direct, Total int
}

func (s *Server) unitsPage(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	counts, err := s.store.UnitHeadcounts(ctx, tandem.Today(s.now()))
	if err != nil {
		return err
	}
	totals := subtreeTotals(tree, counts)
	var rows []unitRow
	top := tree.Roots()
	if sc := scope(c); sc != 0 {
		top = []int64{sc}
	}
	baseDepth := -1
	for _, r := range top {
		for _, id := range tree.Subtree(r) {
			u := tree.Unit(id)
			if baseDepth < 0 {
				baseDepth = u.Depth
			}
			rows = append(rows, unitRow{Unit: u, Direct: counts[id], Total: totals[id]})
		}
	}
	return s.render(c, "units", pageData{Title: "Organisation", Nav: "units", Data: map[string]any{"Rows": rows, "BaseDepth": max(baseDepth, 0)}})
}

func subtreeTotals(tree *tandem.Tree, direct map[int64]int) map[int64]int {
	tot := map[int64]int{}
	var sum func(id int64) int
	sum = func(id int64) int {
		n := direct[id]
		for _, ch := range tree.Children(id) {
			n += sum(ch)
		}
		tot[id] = n
		return n
	}
	for _, r := range tree.Roots() {
		sum(r)
	}
	return tot
}

func (s *Server) unitPage(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	if err := checkUnitVisible(c, tree, id); err != nil {
		return err
	}
	counts, err := s.store.UnitHeadcounts(ctx, tandem.Today(s.now()))
	if err != nil {
		return err
	}
	totals := subtreeTotals(tree, counts)
	var crumbs []*tandem.Unit
	for _, a := range tree.Ancestors(id) {
		if tree.InScope(scope(c), a) {
			crumbs = append(crumbs, tree.Unit(a))
		}
	}
	var children []unitRow
	for _, ch := range tree.Children(id) {
		children = append(children, unitRow{Unit: tree.Unit(ch), Direct: counts[ch], Total: totals[ch]})
	}
	emps, total, err := s.store.Employees(ctx, store.EmployeeFilter{UnitID: id, Today: tandem.Today(s.now()), Limit: 50})
	if err != nil {
		return err
	}
	u := tree.Unit(id)
	return s.render(c, "unit", pageData{Title: u.Name, Nav: "units", Data: map[string]any{
		"Unit": u, "Crumbs": crumbs, "Children": children, "Employees": emps, "EmployeeTotal": total,
		"Direct": counts[id], "Total": totals[id],
	}})
}

func (s *Server) updateUnit(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	if err := tandem.ValidateUnitName(name); err != nil {
		return err
	}
	if err := s.store.UpdateUnit(c.Request().Context(), id, name, c.FormValue("customer_facing") == "on"); err != nil {
		return err
	}
	s.audit(c, "unit.update", fmt.Sprintf("unit %d: name %q, customer facing %v", id, name, c.FormValue("customer_facing") == "on"))
	s.flash(c, "Saved.")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/units/%d", id))
}

const employeesPerPage = 50

func (s *Server) employeesPage(c echo.Context) error {
	ctx := c.Request().Context()
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	f := store.EmployeeFilter{Query: c.QueryParam("q"), Status: c.QueryParam("status"), Today: tandem.Today(s.now()), Limit: employeesPerPage}
	if v := c.QueryParam("unit"); v != "" && v != "0" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return tandem.FieldErrorf("unit", "%q is not a unit id", v)
		}
		if err := checkUnitVisible(c, tree, id); err != nil {
			return err
		}
		f.UnitID = id
	} else if sc := scope(c); sc != 0 {
		f.UnitID = sc
	}
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	f.Offset = (page - 1) * employeesPerPage
	emps, total, err := s.store.Employees(ctx, f)
	if err != nil {
		return err
	}
	type row struct {
		tandem.Employee
		Unit *tandem.Unit
	}
	rows := make([]row, len(emps))
	for i, e := range emps {
		rows[i] = row{e, tree.Unit(e.UnitID)}
	}
	pages := (total + employeesPerPage - 1) / employeesPerPage
	return s.render(c, "employees", pageData{Title: "Employees", Nav: "employees", Data: map[string]any{
		"Rows": rows, "Total": total, "Filter": f, "Page": page, "Pages": pages,
		"Prev": page - 1, "Next": nextPage(page, pages), "Units": visibleUnits(c, tree),
	}})
}

func nextPage(page, pages int) int {
	if page < pages {
		return page + 1
	}
	return 0
}

func visibleUnits(c echo.Context, tree *tandem.Tree) []*tandem.Unit {
	if sc := scope(c); sc != 0 {
		var out []*tandem.Unit
		for _, id := range tree.Subtree(sc) {
			out = append(out, tree.Unit(id))
		}
		return out
	}
	return tree.Walk()
}

func (s *Server) employeePage(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	e, err := s.store.Employee(ctx, id)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	if err := checkUnitVisible(c, tree, e.UnitID); err != nil {
		return tandem.Errorf(tandem.ENOTFOUND, "There is no employee %d.", id)
	}
	form := employeeForm(e)
	if e.ManagerID != 0 {
		// The manager by the address or id people know, never Tandem's
		// internal number.
		if m, err := s.store.Employee(ctx, e.ManagerID); err == nil {
			form["manager"] = managerRef(m)
		}
	}
	return s.renderEmployee(c, http.StatusOK, tree, e, form, "")
}

// managerRef is how the edit form names a manager: their email, else
// their employee id.
func managerRef(m tandem.Employee) string {
	if m.Email != "" {
		return m.Email
	}
	return m.ExternalID
}

// employeeForm holds the edit form's values as typed, so that a form with
// an error comes back with everything the person entered. The manager is
// filled in by the caller (managerRef).
func employeeForm(e tandem.Employee) map[string]string {
	reg := ""
	if e.Regretted {
		reg = "on"
	}
	return map[string]string{
		"name": e.Name, "email": e.Email, "external_id": e.ExternalID, "unit": strconv.FormatInt(e.UnitID, 10),
		"manager": "", "location": e.Location, "hired_on": tandem.FormatDate(e.HiredOn),
		"exited_on": tandem.FormatDate(e.ExitedOn), "exit_type": e.ExitType, "regretted": reg, "exit_reason": e.ExitReason,
		"language": e.Language,
	}
}

func (s *Server) renderEmployee(c echo.Context, status int, tree *tandem.Tree, e tandem.Employee, form map[string]string, errMsg string) error {
	var unitPath string
	if u := tree.Unit(e.UnitID); u != nil {
		unitPath = u.Path
	}
	// What the role may read, as the export writes it (roster.FieldsFor).
	type field struct{ Label, Value string }
	var fields []field
	for _, col := range roster.FieldsFor(currentUser(c).Role) {
		v := roster.FieldValue(e, col, func(int64) string { return e.ManagerName })
		if col == roster.ColTeam {
			v = unitPath
		}
		fields = append(fields, field{roster.FieldLabel(col), v})
	}
	return s.renderStatus(c, status, "employee", pageData{Title: e.Name, Nav: "employees", Data: map[string]any{
		"Employee": e, "UnitPath": unitPath, "Form": form, "Error": errMsg, "Units": tree.Walk(), "Fields": fields,
		"Languages": languageChoices(form["language"]),
	}})
}

func (s *Server) updateEmployee(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	old, err := s.store.Employee(ctx, id)
	if err != nil {
		return err
	}
	tree, err := s.store.Tree(ctx)
	if err != nil {
		return err
	}
	form := map[string]string{}
	for _, k := range []string{"name", "email", "external_id", "unit", "manager", "location", "hired_on", "exited_on", "exit_type", "regretted", "exit_reason", "language"} {
		form[k] = strings.TrimSpace(c.FormValue(k))
	}
	e, err := s.employeeFromForm(c, tree, old, form)
	if err == nil {
		err = s.store.UpdateEmployee(ctx, &e, tandem.Today(s.now()))
	}
	if code := tandem.ErrorCode(err); code == tandem.EINVALID || code == tandem.ECONFLICT {
		return s.renderEmployee(c, http.StatusBadRequest, tree, old, form, tandem.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	s.audit(c, "employee.update", fmt.Sprintf("employee %d (%s)", e.ID, e.Email))
	s.flash(c, "Saved "+e.Name+".")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/employees/%d", id))
}

func (s *Server) employeeFromForm(c echo.Context, tree *tandem.Tree, old tandem.Employee, f map[string]string) (tandem.Employee, error) {
	e := old
	e.Name, e.Email, e.ExternalID, e.Location, e.ExitReason = f["name"], tandem.NormalizeEmail(f["email"]), f["external_id"], f["location"], f["exit_reason"]
	unit, err := strconv.ParseInt(f["unit"], 10, 64)
	if err != nil || tree.Unit(unit) == nil {
		return e, tandem.FieldErrorf("unit", "choose the employee's unit from the list")
	}
	e.UnitID = unit
	e.ManagerID = 0
	if f["manager"] != "" {
		m, err := s.findEmployee(c, f["manager"])
		if err != nil {
			return e, err
		}
		e.ManagerID = m
	}
	for _, d := range []struct {
		field string
		dst   *time.Time
	}{{"hired_on", &e.HiredOn}, {"exited_on", &e.ExitedOn}} {
		*d.dst = time.Time{}
		if f[d.field] != "" {
			t, err := tandem.ParseDate(f[d.field])
			if err != nil {
				return e, &tandem.Error{Code: tandem.EINVALID, Field: d.field, Message: d.field + ": " + tandem.ErrorMessage(err)}
			}
			*d.dst = t
		}
	}
	language, err := lang.Parse(f["language"])
	if err != nil {
		return e, tandem.FieldErrorf("language", "language: %s", err.Error())
	}
	e.Language = language
	e.ExitType = f["exit_type"]
	e.Regretted = f["regretted"] == "on"
	if e.ExitedOn.IsZero() {
		e.ExitType, e.Regretted, e.ExitReason = "", false, ""
	}
	return e, nil
}

// findEmployee resolves a manager given by id, employee id or email.
func (s *Server) findEmployee(c echo.Context, ref string) (int64, error) {
	ctx := c.Request().Context()
	// Email and employee id first: an HR system's numeric employee id
	// must not be read as Tandem's internal number of someone else.
	emps, _, err := s.store.Employees(ctx, store.EmployeeFilter{Query: ref, Status: "all", Limit: 2})
	if err != nil {
		return 0, err
	}
	for _, e := range emps {
		if e.Email == tandem.NormalizeEmail(ref) || e.ExternalID == ref {
			return e.ID, nil
		}
	}
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		if _, err := s.store.Employee(ctx, id); err == nil {
			return id, nil
		}
	}
	return 0, tandem.FieldErrorf("manager", "no employee has id, employee id or email %q", ref)
}

func (s *Server) importPage(c echo.Context) error {
	return s.render(c, "import", pageData{Title: "Import roster", Nav: "import", Data: map[string]any{}})
}

// importUpload reads a roster file and shows the dry run. The file is kept
// (in the database, so any replica can apply it) until it is confirmed.
func (s *Server) importUpload(c echo.Context) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return s.renderStatus(c, http.StatusBadRequest, "import", pageData{Title: "Import roster", Nav: "import",
			Data: map[string]any{"Error": "Choose a CSV file to upload."}})
	}
	if fh.Size > maxRosterUpload {
		return s.renderStatus(c, http.StatusRequestEntityTooLarge, "import", pageData{Title: "Import roster", Nav: "import",
			Data: map[string]any{"Error": fmt.Sprintf("The file is %d MB; the limit is %d MB. Split it into smaller files (an administrator can import a larger one on the server).", fh.Size>>20, maxRosterUpload>>20)}})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxRosterUpload+1))
	if err != nil {
		return err
	}
	full := c.FormValue("mark_missing_exited") == "on"
	return s.showPlan(c, fh.Filename, data, full)
}

func (s *Server) showPlan(c echo.Context, filename string, data []byte, full bool) error {
	ctx := c.Request().Context()
	opt := roster.Options{MarkMissingExited: full, Today: tandem.Today(s.now())}
	plan, err := s.store.PlanRoster(ctx, bytes.NewReader(data), opt)
	var ie *roster.ImportError
	if errors.As(err, &ie) {
		return s.renderStatus(c, http.StatusUnprocessableEntity, "import", pageData{Title: "Import roster", Nav: "import",
			Data: map[string]any{"Filename": filename, "RowErrors": ie.Errors, "Full": full}})
	} else if err != nil {
		return err
	}
	token := auth.NewToken()
	opts := ""
	if full {
		opts = "mark_missing_exited"
	}
	now := s.now()
	if err := s.store.SaveUpload(ctx, store.Upload{IDHash: auth.HashToken(token), UserID: currentUser(c).ID, Kind: "roster",
		Filename: filename, Options: opts, Data: data}, now, now.Add(time.Hour)); err != nil {
		return err
	}
	return s.render(c, "import_preview", pageData{Title: "Check the import", Nav: "import", Data: map[string]any{
		"Filename": filename, "Plan": plan, "Token": token, "Full": full,
	}})
}

func (s *Server) importApply(c echo.Context) error {
	ctx := c.Request().Context()
	u := currentUser(c)
	hash := auth.HashToken(c.Param("upload"))
	up, err := s.store.Upload(ctx, hash, u.ID, s.now())
	if err != nil {
		return err
	}
	today := tandem.Today(s.now())
	opt := roster.Options{MarkMissingExited: up.Options == "mark_missing_exited", Today: today}
	// Plan again against the roster as it is now: it may have changed
	// since the dry run.
	plan, err := s.store.PlanRoster(ctx, bytes.NewReader(up.Data), opt)
	if err != nil {
		return s.showPlan(c, up.Filename, up.Data, opt.MarkMissingExited)
	}
	res, err := s.store.ApplyRoster(ctx, plan, today)
	if err != nil {
		return err
	}
	if err := s.store.DeleteUpload(ctx, hash); err != nil {
		return err
	}
	msg := fmt.Sprintf("Imported %s: %d added, %d updated, %d marked exited, %d new units.", up.Filename, res.Added, res.Updated, res.Exited, res.UnitsCreated)
	s.audit(c, "roster.import", msg)
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/employees")
}

func (s *Server) exportRoster(c echo.Context) error {
	ctx := c.Request().Context()
	emps, err := s.store.AllEmployees(ctx)
	if err != nil {
		return err
	}
	role := currentUser(c).Role
	ref := managerRefs(emps, role)
	if sc := scope(c); sc != 0 {
		tree, err := s.store.Tree(ctx)
		if err != nil {
			return err
		}
		var kept []tandem.Employee
		for _, e := range emps {
			if tree.Contains(sc, e.UnitID) {
				kept = append(kept, e)
			}
		}
		emps = kept
	}
	c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="roster-%s.csv"`, tandem.FormatDate(s.now())))
	c.Response().WriteHeader(http.StatusOK)
	return roster.WriteColumns(c.Response(), emps, ref, roster.FieldsFor(role))
}

// managerRefs returns how an export names each manager: their employee id,
// else their email — their email for a role that does not read employee
// ids (roster.FieldsFor).
func managerRefs(emps []tandem.Employee, role tandem.Role) func(int64) string {
	ids := slices.Contains(roster.FieldsFor(role), roster.ColEmployeeID)
	byID := make(map[int64]*tandem.Employee, len(emps))
	for i := range emps {
		byID[emps[i].ID] = &emps[i]
	}
	return func(id int64) string {
		m := byID[id]
		if m == nil {
			return ""
		}
		if ids && m.ExternalID != "" {
			return m.ExternalID
		}
		return m.Email
	}
}
