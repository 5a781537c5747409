package ratings

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Agent is an employee a rating may name by email.
type Agent struct {
	ID    int64
	Email string // normalised
	// UnitID is the current unit, used when the history is empty.
	UnitID   int64
	HiredOn  time.Time // zero when unknown
	ExitedOn time.Time // zero while employed
	// History is the unit from each date on (the employee_units table).
	History []Span
}

// Span says an employee was in UnitID from From on.
type Span struct {
	From   time.Time
	UnitID int64
}

// Directory is what attribution needs, loaded once per batch: the unit
// tree and the agents by email.
type Directory struct {
	tree   *tandem.Tree
	agents map[string]*Agent
	// paths caches unit path lookups: a file names few units many times.
	paths map[string]pathResult
}

type pathResult struct {
	id  int64
	msg string
}

// NewDirectory builds a Directory. Agents without an email are left out.
func NewDirectory(tree *tandem.Tree, agents []Agent) *Directory {
	d := &Directory{tree: tree, agents: make(map[string]*Agent, len(agents)), paths: map[string]pathResult{}}
	for i := range agents {
		a := &agents[i]
		if a.Email == "" {
			continue
		}
		sort.Slice(a.History, func(i, j int) bool { return a.History[i].From.Before(a.History[j].From) })
		d.agents[tandem.NormalizeEmail(a.Email)] = a
	}
	return d
}

// HasAgent reports whether an employee on the roster has the email.
func (d *Directory) HasAgent(email string) bool {
	_, ok := d.agents[tandem.NormalizeEmail(email)]
	return ok
}

// Tree returns the unit tree the directory was built with.
func (d *Directory) Tree() *tandem.Tree { return d.tree }

// unitOn returns the unit a was in on day: the latest history entry from
// on or before day. A day before the first entry (an employee imported
// without a hire date has history only from the import) takes the first
// entry, the earliest unit known; no history at all, the current unit.
func (a *Agent) unitOn(day time.Time) int64 {
	h := a.History
	if len(h) == 0 {
		return a.UnitID
	}
	i := sort.Search(len(h), func(i int) bool { return h[i].From.After(day) })
	if i == 0 {
		return h[0].UnitID
	}
	return h[i-1].UnitID
}

// unitByPath resolves a unit path such as "Acme/Support/Tier 1".
func (d *Directory) unitByPath(raw string) (int64, string) {
	if r, ok := d.paths[raw]; ok {
		return r.id, r.msg
	}
	var r pathResult
	parts, err := tandem.SplitUnitPath(raw)
	if err != nil {
		r.msg = tandem.ErrorMessage(err)
	} else if u := d.tree.ByPath(parts); u != nil {
		r.id = u.ID
	} else {
		r.msg = fmt.Sprintf("no unit has the path %q; give the path from the top of the organisation, such as Company/Division/Team", strings.Join(parts, "/"))
	}
	d.paths[raw] = r
	return r.id, r.msg
}

func (d *Directory) unitByID(raw string) (int64, string) {
	id, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Sprintf("%q is not a unit id; give the number shown on the unit's page", raw)
	}
	if d.tree.Unit(id) == nil {
		return 0, fmt.Sprintf("no unit has id %d", id)
	}
	return id, ""
}

// agent finds the agent with email and the unit they were in on day.
func (d *Directory) agent(raw string, day time.Time) (*Agent, int64, string) {
	email := tandem.NormalizeEmail(raw)
	a, ok := d.agents[email]
	if !ok {
		if !strings.Contains(email, "@") {
			return nil, 0, fmt.Sprintf("%q is not an email address; agents are matched by their email on the roster (map the column that holds it)", raw)
		}
		return nil, 0, fmt.Sprintf("no employee has email %s; check the address, or import the roster with this person first", email)
	}
	if day.IsZero() {
		return a, 0, ""
	}
	if !a.HiredOn.IsZero() && day.Before(a.HiredOn) {
		return nil, 0, fmt.Sprintf("the rating is dated %s, before %s joined on %s; check the date or the agent",
			tandem.FormatDate(day), email, tandem.FormatDate(a.HiredOn))
	}
	if !a.ExitedOn.IsZero() && day.After(a.ExitedOn) {
		return nil, 0, fmt.Sprintf("the rating is dated %s, after %s left on %s; check the date or the agent",
			tandem.FormatDate(day), email, tandem.FormatDate(a.ExitedOn))
	}
	return a, a.unitOn(day), ""
}
