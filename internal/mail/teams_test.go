package mail_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tandem-hq/tandem/internal/mail"
)

// flowPath and flowQuery have the shape of a Power Automate HTTP trigger
// URL; sig= is the flow's secret.
const (
	flowPath  = "/workflows/0f1e2d3c/triggers/manual/paths/invoke"
	flowQuery = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=fl0wS1gnatur3"
)

// teamsBody is the part of the posted body a test looks at.
type teamsBody struct {
	Type        string `json:"type"`
	Recipient   string `json:"recipient"`
	Attachments []struct {
		ContentType string  `json:"contentType"`
		ContentURL  *string `json:"contentUrl"`
		Content     struct {
			Type    string `json:"type"`
			Version string `json:"version"`
			Body    []struct {
				Type, Text string
				Wrap       bool
			} `json:"body"`
			Actions []struct {
				Type, Title, URL string
			} `json:"actions"`
		} `json:"content"`
	} `json:"attachments"`
}

// flowStandIn answers like a flow's HTTP trigger (202 Accepted) and keeps
// each body it received.
type flowStandIn struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []teamsBody
	raw    []map[string]any
	status int
}

func newFlowStandIn(t *testing.T) *flowStandIn {
	f := &flowStandIn{status: http.StatusAccepted}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != flowPath || r.URL.Query().Get("sig") != "fl0wS1gnatur3" ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s (%s), want a JSON POST to the flow URL", r.Method, r.URL, r.Header.Get("Content-Type"))
		}
		var raw map[string]any
		var b teamsBody
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			t.Errorf("decode body: %v", err)
		}
		again, _ := json.Marshal(raw)
		if err := json.Unmarshal(again, &b); err != nil {
			t.Errorf("decode body: %v", err)
		}
		f.mu.Lock()
		f.bodies, f.raw = append(f.bodies, b), append(f.raw, raw)
		status := f.status
		f.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *flowStandIn) flowURL() string { return f.URL + flowPath + "?" + flowQuery }

func TestTeamsWorkflowPostsAnAdaptiveCardForTheRecipient(t *testing.T) {
	f := newFlowStandIn(t)
	s, err := mail.NewTeamsWorkflow(f.flowURL(), f.Client())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "teams" {
		t.Errorf("Name() = %q, want teams", s.Name())
	}
	link := "https://tandem.example.com/p/abc_DEF-123"
	err = s.Send(context.Background(), mail.Message{
		To:      "Ana Silva <ana@example.com>",
		Subject: "Weekly pulse: a one-minute pulse",
		Text:    "Hi Ana,\n\nWeekly pulse is open.\n\nAnswer here: " + link + "\n",
		HTML:    "<p>not used</p>",
		Link:    link, LinkTitle: "Answer the pulse",
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(f.bodies) != 1 {
		t.Fatalf("flow received %d posts, want 1", len(f.bodies))
	}
	b := f.bodies[0]
	if b.Type != "message" || b.Recipient != "ana@example.com" || len(b.Attachments) != 1 {
		t.Fatalf("body = %+v, want a message for ana@example.com with one attachment", f.raw[0])
	}
	a := b.Attachments[0]
	if a.ContentType != "application/vnd.microsoft.card.adaptive" || a.ContentURL != nil || a.Content.Type != "AdaptiveCard" || a.Content.Version != "1.4" {
		t.Errorf("attachment = %+v, want an Adaptive Card 1.4 with contentUrl null", a)
	}
	var texts []string
	for _, tb := range a.Content.Body {
		if tb.Type != "TextBlock" || !tb.Wrap {
			t.Errorf("card element %+v, want a wrapped TextBlock", tb)
		}
		texts = append(texts, tb.Text)
	}
	wantTexts := []string{"Weekly pulse: a one-minute pulse", "Hi Ana,", "Weekly pulse is open.", "Answer here: " + link}
	if strings.Join(texts, "|") != strings.Join(wantTexts, "|") {
		t.Errorf("card texts = %q, want %q", texts, wantTexts)
	}
	if len(a.Content.Actions) != 1 || a.Content.Actions[0].Type != "Action.OpenUrl" || a.Content.Actions[0].URL != link ||
		a.Content.Actions[0].Title != "Answer the pulse" {
		t.Errorf("card actions = %+v, want one Action.OpenUrl %q to %s", a.Content.Actions, "Answer the pulse", link)
	}
}

func TestTeamsWorkflowRefusesURLsThatPostToAChannel(t *testing.T) {
	for _, tc := range []struct{ name, url string }{
		{"Office 365 connector", "https://contoso.webhook.office.com/webhookb2/1a2b3c@4d5e6f/IncomingWebhook/s3cret/7a8b9c"},
		{"connector on the bare domain", "https://webhook.office.com/webhookb2/1a2b3c@4d5e6f/IncomingWebhook/s3cret/7a8b9c"},
		{"old connector host", "https://outlook.office.com/webhook/1a2b3c@4d5e6f/IncomingWebhook/s3cret/7a8b9c"},
		{"Slack hook", "https://hooks.slack.com/services/T000/B000/s3cret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := mail.NewTeamsWorkflow(tc.url, nil)
			if err == nil {
				t.Fatalf("NewTeamsWorkflow(%s) = %v, want an error: it posts to a channel", tc.url, s)
			}
			msg := err.Error()
			if !strings.Contains(msg, "channel") || !strings.Contains(msg, "TANDEM_TEAMS_WORKFLOW_URL") {
				t.Errorf("error %q should say it posts to a channel and name TANDEM_TEAMS_WORKFLOW_URL", msg)
			}
			if strings.Contains(msg, "s3cret") {
				t.Errorf("error %q quotes the URL's secret path", msg)
			}
		})
	}
}

func TestTeamsWorkflowAcceptsPowerAutomateFlowURLs(t *testing.T) {
	for _, u := range []string{
		"https://prod-12.westeurope.logic.azure.com:443/workflows/0f1e/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x",
		"https://default0f1e.2d.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0f1e/triggers/manual/paths/invoke?api-version=1&sig=x",
	} {
		if _, err := mail.NewTeamsWorkflow(u, nil); err != nil {
			t.Errorf("NewTeamsWorkflow(%s): %v, want it accepted", u, err)
		}
	}
	for _, bad := range []string{"ftp://example.com/flow", "https:///no-host", "::"} {
		if _, err := mail.NewTeamsWorkflow(bad, nil); err == nil {
			t.Errorf("NewTeamsWorkflow(%q) accepted, want an error", bad)
		}
	}
}

func TestTeamsWorkflowNeedsAnEmailRecipient(t *testing.T) {
	f := newFlowStandIn(t)
	s, err := mail.NewTeamsWorkflow(f.flowURL(), f.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"", "@ana", "#general"} {
		err := s.Send(context.Background(), mail.Message{To: to, Subject: "Pulse", Text: "Answer here"})
		if err == nil || !mail.Permanent(err) {
			t.Errorf("Send to %q: err %v, want a permanent error", to, err)
		}
	}
	if len(f.bodies) != 0 {
		t.Errorf("flow received %d posts for recipients without an address, want 0", len(f.bodies))
	}
}

func TestTeamsWorkflowFailuresKeepTheSignatureSecret(t *testing.T) {
	for _, tc := range []struct {
		status    int
		permanent bool
	}{
		{http.StatusBadRequest, true},
		{http.StatusUnauthorized, true},
		{http.StatusNotFound, true},
		{http.StatusRequestTimeout, false},
		{http.StatusTooManyRequests, false},
		{http.StatusBadGateway, false},
	} {
		f := newFlowStandIn(t)
		f.status = tc.status
		s, err := mail.NewTeamsWorkflow(f.flowURL(), f.Client())
		if err != nil {
			t.Fatal(err)
		}
		err = s.Send(context.Background(), mail.Message{To: "ana@example.com", Text: "Answer here"})
		if err == nil {
			t.Fatalf("status %d: Send returned nil, want an error", tc.status)
		}
		if mail.Permanent(err) != tc.permanent {
			t.Errorf("status %d: Permanent(%v) = %v, want %v", tc.status, err, mail.Permanent(err), tc.permanent)
		}
		if strings.Contains(err.Error(), "fl0wS1gnatur3") || strings.Contains(err.Error(), flowPath) {
			t.Errorf("status %d: error %q quotes the flow URL's secret", tc.status, err)
		}
	}
}

func TestTeamsWorkflowPassesOnRetryAfter(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	s, err := mail.NewTeamsWorkflow(srv.URL+flowPath, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{To: "ana@example.com", Text: "Answer here"})
	var ra *mail.RetryAfterError
	if !errors.As(err, &ra) || ra.Wait.Seconds() != 120 {
		t.Errorf("Send: %v, want a RetryAfterError of 120s", err)
	}
}

// A card says its language as the schema asks, a two-letter code; a
// message without one says none.
func TestTeamsCardSaysItsLanguage(t *testing.T) {
	f := newFlowStandIn(t)
	s, err := mail.NewTeamsWorkflow(f.flowURL(), f.Client())
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"pt-BR", "de", ""} {
		if err := s.Send(context.Background(), mail.Message{To: "ana@example.com", Subject: "Pulso", Text: "Olá", Lang: lang}); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []any{"pt", "de", nil} {
		card := f.raw[i]["attachments"].([]any)[0].(map[string]any)["content"].(map[string]any)
		if got := card["lang"]; got != want {
			t.Errorf("message %d: card lang %v, want %v", i, got, want)
		}
	}
}
