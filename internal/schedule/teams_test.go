package schedule_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
)

// TestTeamsInvitationsGoToEachPersonWithTheirOwnLink delivers a round of a
// Teams program through a stand-in Workflows flow: each post names one
// invitee by email and carries that invitee's link, as text and as the
// card's button, and no one else's.
func TestTeamsInvitationsGoToEachPersonWithTheirOwnLink(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), func(p *pulse.Program) {
		p.Name = "Weekly pulse"
		p.Channel = pulse.ChannelTeams
	})
	slot := o.at0900(2026, 6, 8)
	round, created, err := o.runner().FireProgram(ctx, p.ID, slot)
	if err != nil || !created {
		t.Fatalf("create round: created %v, err %v", created, err)
	}

	type post struct {
		Recipient   string `json:"recipient"`
		Attachments []struct {
			Content struct {
				Body    []struct{ Text string } `json:"body"`
				Actions []struct{ URL string }  `json:"actions"`
			} `json:"content"`
		} `json:"attachments"`
	}
	var mu sync.Mutex
	var posts []post
	flow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b post
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("decode post: %v", err)
		}
		mu.Lock()
		posts = append(posts, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer flow.Close()
	teams, err := mail.NewTeamsWorkflow(flow.URL+"/workflows/1/triggers/manual/paths/invoke?sig=s", flow.Client())
	if err != nil {
		t.Fatal(err)
	}
	w := schedule.NewWorker(o.st, map[string]mail.Sender{pulse.ChannelTeams: teams}, baseURL, o.log,
		clockwork.NewFakeClockAt(slot.Add(time.Minute).UTC()))
	if n, err := w.RunOnce(ctx); err != nil || n != orgSize {
		t.Fatalf("RunOnce = %d, %v; want %d messages", n, err, orgSize)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(posts) != orgSize {
		t.Fatalf("flow received %d posts, want %d", len(posts), orgSize)
	}
	seen := map[string]bool{}
	for _, b := range posts {
		if seen[b.Recipient] {
			t.Errorf("%s received two posts, want one", b.Recipient)
		}
		seen[b.Recipient] = true
		if len(b.Attachments) != 1 || len(b.Attachments[0].Content.Actions) != 1 {
			t.Fatalf("post to %s: %+v, want one card with one button", b.Recipient, b)
		}
		card := b.Attachments[0].Content
		m := linkRE.FindStringSubmatch(card.Actions[0].URL)
		if m == nil {
			t.Fatalf("post to %s: button opens %q, want an answer link", b.Recipient, card.Actions[0].URL)
		}
		inTexts := 0
		for _, tb := range card.Body {
			for _, l := range linkRE.FindAllStringSubmatch(tb.Text, -1) {
				inTexts++
				if l[1] != m[1] {
					t.Errorf("post to %s shows link %s in its text and %s on its button", b.Recipient, l[1], m[1])
				}
			}
		}
		if inTexts != 1 {
			t.Errorf("post to %s shows %d links in its text, want 1", b.Recipient, inTexts)
		}
		inv, err := o.st.InvitationByToken(ctx, auth.HashToken(m[1]))
		if err != nil {
			t.Fatalf("link sent to %s is not stored: %v", b.Recipient, err)
		}
		if want := o.invitationOf(t, b.Recipient); inv.ID != want || inv.RoundID != round.ID {
			t.Errorf("link sent to %s opens invitation %d of round %d, want %d of round %d", b.Recipient, inv.ID, inv.RoundID, want, round.ID)
		}
	}
	for _, addr := range orgEmails {
		if !seen[addr] {
			t.Errorf("%s received no post", addr)
		}
	}
}

// TestWorkerWaitsForARetryAfterDateOnItsOwnClock: a chat service that
// answers 503 with "Retry-After: <date>" gets the next try at that date as
// the worker's clock reads it, not as the machine's clock does (the test's
// clock stands in 2026, whatever today is).
func TestWorkerWaitsForARetryAfterDateOnItsOwnClock(t *testing.T) {
	t.Parallel()
	o := newTestOrg(t)
	ctx := context.Background()
	p := o.newProgram(t, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), func(p *pulse.Program) {
		p.Name = "Weekly pulse"
		p.Channel = pulse.ChannelTeams
	})
	slot := o.at0900(2026, 6, 8)
	if _, created, err := o.runner().FireProgram(ctx, p.ID, slot); err != nil || !created {
		t.Fatalf("create round: created %v, err %v", created, err)
	}
	const ben = "ben@example.com"
	now := slot.Add(time.Minute).UTC()
	retryAt := now.Add(10 * time.Minute)
	flow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b struct{ Recipient string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		if b.Recipient == ben {
			w.Header().Set("Retry-After", retryAt.Format(http.TimeFormat))
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer flow.Close()
	teams, err := mail.NewTeamsWorkflow(flow.URL+"/workflows/1/triggers/manual/paths/invoke?sig=s", flow.Client())
	if err != nil {
		t.Fatal(err)
	}
	w := schedule.NewWorker(o.st, map[string]mail.Sender{pulse.ChannelTeams: teams}, baseURL, o.log,
		clockwork.NewFakeClockAt(now))
	w.Backoff = 30 * time.Second
	if n, err := w.RunOnce(ctx); err != nil || n != orgSize {
		t.Fatalf("RunOnce = %d, %v; want %d messages", n, err, orgSize)
	}
	for _, m := range o.outbox(t) {
		if m.Recipient != ben {
			continue
		}
		if m.Status != "pending" || !m.NextTry.Equal(retryAt) {
			t.Errorf("after a 503 with Retry-After %s: status %s, next try %v; want pending, %v",
				retryAt.Format(http.TimeFormat), m.Status, m.NextTry, retryAt)
		}
		return
	}
	t.Fatalf("no outbox message for %s", ben)
}
