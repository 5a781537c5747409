package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Each role reads the same fields of an employee on the page, in the
// roster export and in any API answer: a leader once exported the exit
// type, regret and reason of leavers that their pages hid.
func TestEveryRoleSeesTheSameEmployeeFieldsOnPagesAndInExports(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	exit := time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)
	if _, err := app.st.RecordExits(ctx, []store.Exit{{EmployeeRef: "E2", ExitedOn: exit, Type: tandem.ExitVoluntary, Regretted: true, Reason: "SECRET-REASON"}}); err != nil {
		t.Fatal(err)
	}
	found, _, err := app.st.Employees(ctx, store.EmployeeFilter{Query: "ben@example.com", Status: "all"})
	if err != nil || len(found) != 1 {
		t.Fatalf("employee E2: %v %v", found, err)
	}
	ben := found[0]
	// The employee form's inputs are the roster columns under other names.
	inputColumn := map[string]roster.Column{"external_id": roster.ColEmployeeID, "email": roster.ColEmail, "name": roster.ColName,
		"unit": roster.ColTeam, "manager": roster.ColManager, "location": roster.ColLocation, "hired_on": roster.ColHiredOn,
		"exited_on": roster.ColExitedOn, "exit_type": roster.ColExitType, "regretted": roster.ColRegretted, "exit_reason": roster.ColExitReason}
	labelColumn := map[string]roster.Column{}
	for _, c := range roster.FieldsFor(tandem.RoleAdmin) {
		labelColumn[roster.FieldLabel(c)] = c
	}
	inputRe := regexp.MustCompile(`<(?:input|select)[^>]* name="([a-z_]+)"`)
	labelRe := regexp.MustCompile(`<tr><th scope="row">([^<]+)</th>`)
	for _, who := range []string{"admin@example.com", "hr@example.com", "sales.lead@example.com"} {
		t.Run(who, func(t *testing.T) {
			c := app.client()
			c.login(who)
			export := c.get("/roster/export.csv")
			rows, err := csv.NewReader(strings.NewReader(export.body)).ReadAll()
			if export.status != 200 || err != nil || len(rows) < 2 {
				t.Fatalf("export: %d %v\n%s", export.status, err, export.body)
			}
			exported := rows[0]
			page := c.get(fmt.Sprintf("/employees/%d", ben.ID))
			if page.status != 200 {
				t.Fatalf("employee page: %d", page.status)
			}
			var shown []string
			for _, m := range inputRe.FindAllStringSubmatch(page.body, -1) {
				if col, ok := inputColumn[m[1]]; ok {
					shown = append(shown, string(col))
				}
			}
			for _, m := range labelRe.FindAllStringSubmatch(page.body, -1) {
				if col, ok := labelColumn[m[1]]; ok {
					shown = append(shown, string(col))
				}
			}
			slices.Sort(exported)
			slices.Sort(shown)
			if !slices.Equal(exported, shown) {
				t.Errorf("the export has %v, the page %v", exported, shown)
			}
			if who == "sales.lead@example.com" {
				for _, secret := range []string{"SECRET-REASON", "voluntary", ",yes"} {
					if strings.Contains(export.body, secret) || strings.Contains(page.body, secret) {
						t.Errorf("a leader reads %q of a leaver", secret)
					}
				}
				if !slices.Contains(exported, string(roster.ColExitedOn)) {
					t.Errorf("a leader's export lacks when someone left, which the leader's pages show")
				}
			}
		})
	}
}
