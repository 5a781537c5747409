package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxErrorBody is how much of a webhook's response body an error quotes.
const maxErrorBody = 200

type webhookSender struct {
	url    string
	host   string // scheme://host, safe to print: the path is the webhook's secret
	client *http.Client
}

// NewWebhook returns a Sender that posts {"text": "*Subject*\n\nText"} to a
// Slack-compatible incoming webhook. A nil client means one with a 30s
// timeout. Errors never quote the URL's path, which is the webhook's secret.
func NewWebhook(rawURL string, client *http.Client) (Sender, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		// url.Parse's error repeats the whole URL.
		return nil, errors.New("webhook url is not a valid URL: check TANDEM_WEBHOOK_URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("webhook url scheme %q is not http or https: check TANDEM_WEBHOOK_URL", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("webhook url has no host: check TANDEM_WEBHOOK_URL")
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return &webhookSender{url: u.String(), host: u.Scheme + "://" + u.Host, client: client}, nil
}

func (w *webhookSender) Name() string { return "webhook" }

// Send posts m.Subject in bold and m.Text. m.To is sent as the channel
// override when it starts with @ or # (otherwise the webhook's own channel
// is used); m.HTML is not used.
func (w *webhookSender) Send(ctx context.Context, m Message) error {
	if strings.TrimSpace(m.Text) == "" {
		return permanentf("webhook: message has no text body")
	}
	text := slackEscape(m.Text)
	if s := strings.TrimSpace(m.Subject); s != "" {
		text = "*" + slackEscape(s) + "*\n\n" + text
	}
	// A recipient such as "@ana" or "#support" becomes the channel
	// override that Mattermost, Rocket.Chat and Slack's legacy incoming
	// webhooks honour, so a personal link goes to that person only.
	var channel string
	if strings.HasPrefix(m.To, "@") || strings.HasPrefix(m.To, "#") {
		channel = m.To
	}
	body, err := json.Marshal(struct {
		Text    string `json:"text"`
		Channel string `json:"channel,omitempty"`
	}{text, channel})
	if err != nil {
		return permanentf("webhook: encode message: %v", err)
	}

	return postJSON(ctx, w.client, w.url, w.host, "webhook", body)
}

// postJSON posts a JSON body to url and sorts the answer: nil for 2xx; an
// error to retry for 429, 5xx (after Retry-After when given) and 408; a
// permanent error for anything else (a payload refused, a revoked or
// deleted hook), since sending again changes nothing. name and host say
// what was posted to; the URL itself, which holds a secret, never appears
// in an error.
func postJSON(ctx context.Context, client *http.Client, url, host, name string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return permanentf("%s %s: build request: %v", name, host, redactURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", name, host, redactURLError(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	// Drain a little more so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	statusErr := fmt.Errorf("%s %s: status %d: %s", name, host, resp.StatusCode, cleanSnippet(snippet))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		if wait, until, ok := parseRetryAfter(resp.Header.Get("Retry-After")); ok {
			return &RetryAfterError{Wait: wait, Until: until, Err: statusErr}
		}
		return statusErr
	case resp.StatusCode == http.StatusRequestTimeout:
		return statusErr
	default:
		return &permanentError{statusErr}
	}
}

// slackEscape escapes the three characters Slack's mrkdwn treats as control
// characters, so text cannot form links or @channel mentions.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// parseRetryAfter reads a Retry-After value: delay seconds (wait) or an
// HTTP date (until). It reads no clock: the outbox decides on its own clock
// when a date has come.
func parseRetryAfter(v string) (wait time.Duration, until time.Time, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, time.Time{}, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, time.Time{}, false
		}
		if secs > math.MaxInt64/int64(time.Second) {
			secs = math.MaxInt64 / int64(time.Second)
		}
		return time.Duration(secs) * time.Second, time.Time{}, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return 0, t, true
	}
	return 0, time.Time{}, false
}

// redactURLError drops the URL (and with it the secret path) from errors of
// the http client.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// cleanSnippet makes a truncated response body safe to put in an error.
func cleanSnippet(b []byte) string {
	// The cut at maxErrorBody may split a rune; drop the broken bytes.
	s := strings.ToValidUTF8(string(b), "")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if s = strings.TrimSpace(s); s == "" {
		return "(empty body)"
	}
	return s
}
