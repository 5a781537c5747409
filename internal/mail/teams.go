package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"strings"
	"time"
)

// teamsSender posts each message to a Power Automate Workflows flow, which
// sends it as a 1:1 chat message to the recipient (see NewTeamsWorkflow).
type teamsSender struct {
	url    string
	host   string // scheme://host, safe to print: the query's sig= is the flow's secret
	client *http.Client
}

// channelWebhook names the kinds of Microsoft URL that post to one channel
// whoever the message is for.
func channelWebhook(u *url.URL) string {
	host := strings.ToLower(u.Hostname())
	path := strings.ToLower(u.Path)
	switch {
	case strings.HasSuffix(host, ".webhook.office.com") || host == "webhook.office.com":
		return "an Office 365 connector incoming webhook (…webhook.office.com/webhookb2/…)"
	case (host == "outlook.office.com" || host == "outlook.office365.com") && strings.HasPrefix(path, "/webhook"):
		return "an Office 365 connector incoming webhook (outlook.office.com/webhook/…)"
	case host == "hooks.slack.com":
		return "a Slack incoming webhook (use --webhook-url for Slack)"
	}
	return ""
}

// NewTeamsWorkflow returns a Sender that posts each message to a Power
// Automate Workflows flow ("When an HTTP request is received" or "When a
// Teams webhook request is received", then "Post card in a chat or
// channel" as the Flow bot in a chat with the recipient). The body is the
// Teams webhook message shape with the recipient's address beside it:
//
//	{"type": "message", "recipient": "ana@example.com", "subject": "…",
//	 "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
//	                  "contentUrl": null, "content": {AdaptiveCard 1.4}}]}
//
// The flow reads triggerBody()?['recipient'] and
// triggerBody()?['attachments']?[0]?['content']. A URL of a channel
// webhook (an Office 365 connector, a Slack hook) is refused: everyone in
// the channel would see each person's answer link. A nil client means one
// with a 30s timeout. Errors never quote the URL's path or query.
func NewTeamsWorkflow(rawURL string, client *http.Client) (Sender, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, errors.New("Teams workflow url is not a valid URL: check TANDEM_TEAMS_WORKFLOW_URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("Teams workflow url scheme %q is not http or https: check TANDEM_TEAMS_WORKFLOW_URL", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("Teams workflow url has no host: check TANDEM_TEAMS_WORKFLOW_URL")
	}
	if kind := channelWebhook(u); kind != "" {
		return nil, fmt.Errorf("Teams workflow url %s://%s is %s, which posts every message into one channel where everyone "+
			"would see each person's answer link; create a Workflows flow that posts a card in a 1:1 chat with the recipient "+
			"(docs/deploy.md, \"Microsoft Teams\") and set TANDEM_TEAMS_WORKFLOW_URL to its URL", u.Scheme, u.Host, kind)
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &teamsSender{url: u.String(), host: u.Scheme + "://" + u.Host, client: client}, nil
}

func (w *teamsSender) Name() string { return "teams" }

// adaptive card elements, the few Tandem uses (schema 1.4, which Teams
// renders on desktop, web and mobile).
type (
	teamsPayload struct {
		Type        string            `json:"type"`
		Recipient   string            `json:"recipient"`
		Subject     string            `json:"subject,omitempty"`
		Attachments []teamsAttachment `json:"attachments"`
	}
	teamsAttachment struct {
		ContentType string    `json:"contentType"`
		ContentURL  *string   `json:"contentUrl"`
		Content     teamsCard `json:"content"`
	}
	teamsCard struct {
		Schema  string        `json:"$schema"`
		Type    string        `json:"type"`
		Version string        `json:"version"`
		Lang    string        `json:"lang,omitempty"`
		Body    []teamsText   `json:"body"`
		Actions []teamsAction `json:"actions,omitempty"`
	}
	teamsText struct {
		Type   string `json:"type"`
		Text   string `json:"text"`
		Wrap   bool   `json:"wrap"`
		Size   string `json:"size,omitempty"`
		Weight string `json:"weight,omitempty"`
	}
	teamsAction struct {
		Type  string `json:"type"`
		Title string `json:"title"`
		URL   string `json:"url"`
	}
)

// Send posts m to the flow for m.To, which must be an email address (the
// flow finds the person's Teams chat by it). The card shows the subject,
// the text, and m.Link, when set, as an "Open" button.
func (w *teamsSender) Send(ctx context.Context, m Message) error {
	if strings.TrimSpace(m.Text) == "" {
		return permanentf("teams: message has no text body")
	}
	addr, err := mail.ParseAddress(m.To)
	if err != nil || !strings.Contains(addr.Address, "@") {
		return permanentf("teams: recipient %q is not an email address; the flow needs one to find the person's chat", m.To)
	}
	card := teamsCard{Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: "1.4", Lang: cardLang(m.Lang)}
	if s := strings.TrimSpace(m.Subject); s != "" {
		card.Body = append(card.Body, teamsText{Type: "TextBlock", Text: s, Wrap: true, Size: "Large", Weight: "Bolder"})
	}
	for _, para := range strings.Split(strings.ReplaceAll(strings.TrimSpace(m.Text), "\r\n", "\n"), "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			// Teams renders a TextBlock's markdown subset and turns the
			// plain answer link into a link, a fallback for the button.
			card.Body = append(card.Body, teamsText{Type: "TextBlock", Text: para, Wrap: true})
		}
	}
	if m.Link != "" {
		title := m.LinkTitle
		if title == "" {
			title = "Open"
		}
		card.Actions = []teamsAction{{Type: "Action.OpenUrl", Title: title, URL: m.Link}}
	}
	body, err := json.Marshal(teamsPayload{Type: "message", Recipient: addr.Address, Subject: m.Subject,
		Attachments: []teamsAttachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}})
	if err != nil {
		return permanentf("teams: encode message: %v", err)
	}
	// A flow's HTTP trigger answers 202 Accepted: the run is queued. A 400
	// is a payload its schema refuses, 401/403 a flow turned off or its
	// signature revoked, 404 a flow deleted.
	return postJSON(ctx, w.client, w.url, w.host, "teams workflow", body)
}

// cardLang is a card's lang property: the schema asks for a two-letter
// ISO 639-1 code, so "pt-BR" becomes "pt" (the text itself stays
// Brazilian).
func cardLang(tag string) string {
	base, _, _ := strings.Cut(tag, "-")
	if len(base) != 2 {
		return ""
	}
	return strings.ToLower(base)
}
