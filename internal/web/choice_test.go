package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// With two programs of equal round counts, the dashboard's chart and its
// correlation headline once described different programs (each page had
// its own tie-break). Every page now shows the same default, and a
// program picked on one page is the one the next page shows.
func TestEveryPageShowsTheSameProgramAndRemembersTheOneChosen(t *testing.T) {
	t.Parallel()
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 6})
	ctx := context.Background()
	// A second program listed before the first (by name) but with a higher
	// id, so "first listed" and "lowest id" disagree.
	second := pulse.Defaults()
	second.Name, second.AudienceUnitID, second.Cadence.Zone = "Aardvark pulse", app.units["Acme"], "Europe/Berlin"
	if err := app.st.SaveProgram(ctx, &second); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for _, id := range []int64{app.program.ID, second.ID} {
		if _, _, err := app.runner.SendNow(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	leader := app.client()
	leader.login("sales.lead@example.com")
	programOf := func(path string) int64 {
		t.Helper()
		r := leader.get(path)
		if r.status != 200 {
			t.Fatalf("%s: %d %.300s", path, r.status, r.body)
		}
		var got struct {
			ProgramID int64 `json:"program_id"`
			Params    struct {
				ProgramID int64 `json:"program_id"`
			} `json:"params"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		return max(got.ProgramID, got.Params.ProgramID)
	}
	dashboardShows := func(path string) string {
		t.Helper()
		body := leader.get(path).body
		for _, p := range []pulse.Program{app.program, second} {
			if strings.Contains(body, `<p class="muted">`+p.Name) {
				return p.Name
			}
		}
		t.Fatalf("%s names neither program:\n%.1500s", path, body)
		return ""
	}

	want := min(app.program.ID, second.ID)
	if got := dashboardShows("/dashboard"); got != app.program.Name {
		t.Errorf("dashboard shows %q by default, want %q (the lower id)", got, app.program.Name)
	}
	if got := programOf("/api/v1/reports/correlation"); got != want {
		t.Errorf("correlation report defaults to program %d, want %d", got, want)
	}
	if got := programOf("/api/v1/reports/retention"); got != want {
		t.Errorf("retention report defaults to program %d, want %d", got, want)
	}

	if got := dashboardShows(fmt.Sprintf("/dashboard?program=%d", second.ID)); got != second.Name {
		t.Errorf("dashboard with ?program=%d shows %q", second.ID, got)
	}
	if got := programOf("/api/v1/reports/correlation"); got != second.ID {
		t.Errorf("after choosing program %d on the dashboard the correlation report shows %d", second.ID, got)
	}
	if got := dashboardShows("/dashboard"); got != second.Name {
		t.Errorf("the dashboard forgot the choice: shows %q", got)
	}
	if got := programOf("/api/v1/reports/retention?program="); got != want {
		t.Errorf("choosing the default again: program %d, want %d", got, want)
	}
	if got := dashboardShows("/dashboard"); got != app.program.Name {
		t.Errorf("after going back to the default the dashboard shows %q", got)
	}
}
