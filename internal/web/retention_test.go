package web

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The retention report keeps the roster in memory between requests; a
// change to the roster must show in the next report all the same.
func TestRetentionReportFollowsRosterChanges(t *testing.T) {
	app := newPulseApp(t, map[string]int{"Acme/Sales/EMEA": 8})
	c := app.client()
	c.login("hr@example.com")
	exits := func() int {
		r := c.get("/api/v1/reports/retention")
		if r.status != 200 {
			t.Fatalf("retention JSON: %d %s", r.status, r.body)
		}
		var got struct {
			TTM struct {
				Exits int `json:"Exits"`
			} `json:"trailing_12_months"`
		}
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		return got.TTM.Exits
	}
	// Let the roster's latest change age past the window in which a cache
	// is not trusted, then load twice (the second from memory).
	time.Sleep(2100 * time.Millisecond)
	before := exits()
	if again := exits(); again != before {
		t.Fatalf("two loads of an unchanged roster: %d then %d exits", before, again)
	}
	yesterday := tandem.Today(time.Now()).AddDate(0, 0, -1)
	if _, err := app.st.RecordExits(context.Background(), []store.Exit{{EmployeeRef: "E2", ExitedOn: yesterday, Type: tandem.ExitVoluntary}}); err != nil {
		t.Fatal(err)
	}
	if after := exits(); after != before+1 {
		t.Errorf("after recording an exit the report shows %d exits, want %d", after, before+1)
	}
}
