package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
)

// TestTeamsChannelIsRefusedWhenChosenOnAServerWithoutTheWorkflow: a
// program cannot be switched to Teams (or the chat webhook) on a server
// with no transport for it, so nothing is queued that could only fail in
// the outbox.
func TestTeamsChannelIsRefusedWhenChosenOnAServerWithoutTheWorkflow(t *testing.T) {
	t.Parallel()
	app := newTestAppWith(t, func(c *Config) { c.Channels = []string{pulse.ChannelEmail, pulse.ChannelLog} })
	app.srv.now = func() time.Time { return formNow }
	ctx := context.Background()
	hr := app.client()
	hr.login("hr@example.com")
	if page := hr.get("/programs/new").body; !strings.Contains(page, "Microsoft Teams (1:1 chat through a Workflows flow) — not set up on this server") {
		t.Errorf("the program form does not mark Teams as not set up")
	}

	form := fortnightlyForm(app)
	form.Set("channel", pulse.ChannelTeams)
	res := hr.postForm("/programs/new", "/programs", form)
	if msg := fieldErrors(res.body)["channel"]; res.status != http.StatusBadRequest || !strings.Contains(msg, "TANDEM_TEAMS_WORKFLOW_URL") {
		t.Errorf("new program by Teams without the flow: %d, channel error %q; want 400 naming TANDEM_TEAMS_WORKFLOW_URL", res.status, msg)
	}
	form.Set("channel", pulse.ChannelWebhook)
	res = hr.postForm("/programs/new", "/programs", form)
	if msg := fieldErrors(res.body)["channel"]; res.status != http.StatusBadRequest || !strings.Contains(msg, "TANDEM_WEBHOOK_URL") {
		t.Errorf("new program by chat webhook without one: %d, channel error %q; want 400 naming TANDEM_WEBHOOK_URL", res.status, msg)
	}
	if ps, _ := app.st.Programs(ctx); len(ps) != 0 {
		t.Fatalf("%d programs saved after the refusals, want none", len(ps))
	}

	// By the log it saves; switching it to Teams later is refused too.
	form.Set("channel", pulse.ChannelLog)
	if res := hr.postForm("/programs/new", "/programs", form); res.status != http.StatusSeeOther {
		t.Fatalf("new program by log: %d, want 303; problems %v", res.status, fieldErrors(res.body))
	}
	ps, _ := app.st.Programs(ctx)
	if len(ps) != 1 {
		t.Fatalf("%d programs, want 1", len(ps))
	}
	edit := fmt.Sprintf("/programs/%d", ps[0].ID)
	form.Set("channel", pulse.ChannelTeams)
	if res := hr.postForm(edit+"/edit", edit, form); res.status != http.StatusBadRequest {
		t.Errorf("switching the program to Teams without the flow: %d, want 400", res.status)
	}
	if p, _ := app.st.Program(ctx, ps[0].ID); p.Channel != pulse.ChannelLog {
		t.Errorf("channel after the refused edit: %q, want log", p.Channel)
	}

	// A program already on Teams (the flow was set up once) keeps it
	// through other edits; the outbox page shows its failures.
	p := ps[0]
	p.Channel = pulse.ChannelTeams
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	form.Set("name", "Renamed pulse")
	if res := hr.postForm(edit+"/edit", edit, form); res.status != http.StatusSeeOther {
		t.Errorf("editing the name of a program already on Teams: %d, want 303; problems %v", res.status, fieldErrors(res.body))
	}

	// With the flow set up, Teams is a channel like the others.
	withTeams := newTestAppWith(t, func(c *Config) {
		c.Channels = []string{pulse.ChannelEmail, pulse.ChannelLog, pulse.ChannelTeams}
	})
	withTeams.srv.now = func() time.Time { return formNow }
	hr = withTeams.client()
	hr.login("hr@example.com")
	if page := hr.get("/programs/new").body; strings.Contains(page, "Workflows flow) — not set up") {
		t.Errorf("the program form marks Teams as not set up although it is")
	}
	form = fortnightlyForm(withTeams)
	form.Set("channel", pulse.ChannelTeams)
	if res := hr.postForm("/programs/new", "/programs", form); res.status != http.StatusSeeOther {
		t.Errorf("new program by Teams with the flow set up: %d, want 303; problems %v", res.status, fieldErrors(res.body))
	}
}
