package web

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// A leader of one team sees no claim about "teams with higher engagement":
// their dashboard has one team's weeks, which compare no teams.
func TestDashboardOfAOneTeamLeaderMakesNoClaimAboutTeams(t *testing.T) {
	t.Parallel()
	app := newCorrelationApp(t)
	hash := tandemtest.PasswordHash(t, testPassword)
	if err := app.st.CreateUser(context.Background(), &tandem.User{Email: "alpha.lead@example.com", Role: tandem.RoleLeader,
		ScopeUnitID: app.units["Alpha"], PasswordHash: hash}); err != nil {
		t.Fatal(err)
	}
	headline := func(email string) string {
		c := app.client()
		c.login(email)
		r := c.get("/dashboard")
		if r.status != http.StatusOK {
			t.Fatalf("%s: dashboard %d", email, r.status)
		}
		m := regexp.MustCompile(`(?s)id="correlation-headline">.*?<p>(.*?)</p>`).FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("%s: the dashboard has no correlation headline", email)
		}
		return m[1]
	}
	one := headline("alpha.lead@example.com")
	if strings.Contains(one, "teams with higher engagement had") || !strings.Contains(one, "With 1 team over 8 weeks, the data cannot tell") {
		t.Errorf("one-team leader's headline: %s", one)
	}
	// Across the organisation's five shown teams the page may speak of
	// teams, as the rule allows; it says which view it is either way.
	if all := headline("hr@example.com"); !strings.Contains(all, "Across 5 teams over 8 weeks") {
		t.Errorf("HR's headline: %s", all)
	}
}
