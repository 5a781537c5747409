package mail_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/mail"
)

// secretPath is the part of a webhook URL that must never reach logs.
const secretPath = "/services/T000/B000/s3cretT0ken"

func TestWebhookPostsSubjectInBoldThenText(t *testing.T) {
	var mu sync.Mutex
	var gotMethod, gotType, gotPath string
	var gotBody map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		gotMethod, gotType, gotPath = r.Method, r.Header.Get("Content-Type"), r.URL.Path
		if err := json.NewDecoder(r.Body).Decode(&gotBody); err != nil {
			t.Errorf("decode body: %v", err)
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	s, err := mail.NewWebhook(srv.URL+secretPath, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "webhook" {
		t.Errorf("Name() = %q, want webhook", s.Name())
	}
	err = s.Send(context.Background(), mail.Message{
		To:      "@bob",
		Subject: "Weekly pulse",
		Text:    "Hi <!channel>, answer here: https://tandem.example.com/p/abc?x=1&y=2",
		HTML:    "<p>ignored</p>",
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotMethod != http.MethodPost || gotType != "application/json" || gotPath != secretPath {
		t.Errorf("request = %s %s (%s), want POST %s (application/json)", gotMethod, gotPath, gotType, secretPath)
	}
	want := "*Weekly pulse*\n\nHi &lt;!channel&gt;, answer here: https://tandem.example.com/p/abc?x=1&amp;y=2"
	if len(gotBody) != 2 || gotBody["text"] != want || gotBody["channel"] != "@bob" {
		t.Errorf("body = %v, want {\"text\": %q, \"channel\": \"@bob\"}", gotBody, want)
	}
}

func TestWebhookWithoutSubjectSendsTextOnly(t *testing.T) {
	var got map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&got)
	}))
	defer srv.Close()
	s, err := mail.NewWebhook(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{Text: "Participation is at 64%."}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got["text"] != "Participation is at 64%." {
		t.Errorf("text = %q, want the text alone", got["text"])
	}
}

func TestWebhookClassifiesStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter string
		permanent  bool
		wait       time.Duration // > 0: want a *RetryAfterError with this Wait
	}{
		{status: 500},
		{status: 502},
		{status: 503, retryAfter: "120", wait: 2 * time.Minute},
		{status: 429, retryAfter: "7", wait: 7 * time.Second},
		{status: 429},
		{status: 408},
		{status: 400, permanent: true},
		{status: 403, permanent: true},
		{status: 404, permanent: true},
		{status: 410, permanent: true},
	} {
		t.Run(http.StatusText(tc.status)+tc.retryAfter, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, "no_service")
			}))
			defer srv.Close()
			s, err := mail.NewWebhook(srv.URL+secretPath, srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), mail.Message{Subject: "Hi", Text: "Hello"})
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if got := mail.Permanent(err); got != tc.permanent {
				t.Errorf("Permanent(%v) = %v, want %v", err, got, tc.permanent)
			}
			var ra *mail.RetryAfterError
			switch {
			case tc.wait > 0 && (!errors.As(err, &ra) || ra.Wait != tc.wait):
				t.Errorf("Send = %v, want a RetryAfterError{Wait: %s}", err, tc.wait)
			case tc.wait == 0 && errors.As(err, &ra):
				t.Errorf("Send = %#v, want no RetryAfterError", ra)
			}
			if !strings.Contains(err.Error(), "no_service") {
				t.Errorf("error %q does not quote the response body", err)
			}
			if strings.Contains(err.Error(), secretPath) {
				t.Errorf("error %q reveals the webhook's secret path", err)
			}
		})
	}
}

func TestWebhookErrorQuotesAtMost200BytesOfBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, strings.Repeat("x", 5000))
	}))
	defer srv.Close()
	s, err := mail.NewWebhook(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{Text: "Hello"})
	if err == nil || !strings.Contains(err.Error(), strings.Repeat("x", 200)) || strings.Contains(err.Error(), strings.Repeat("x", 201)) {
		t.Errorf("Send = %v, want exactly 200 bytes of the body quoted", err)
	}
}

func TestWebhookUnreachableIsTemporaryAndHidesTheSecret(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + secretPath
	srv.Close()
	s, err := mail.NewWebhook(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{Text: "Hello"})
	if err == nil {
		t.Fatal("Send to a closed server succeeded")
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true, want false", err)
	}
	if strings.Contains(err.Error(), "s3cretT0ken") {
		t.Errorf("error %q reveals the webhook's secret path", err)
	}
}

func TestWebhookCancelledContextAbortsSend(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	s, err := mail.NewWebhook(srv.URL, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err = s.Send(ctx, mail.Message{Text: "Hello"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	if mail.Permanent(err) {
		t.Errorf("Permanent(%v) = true, want false", err)
	}
}

func TestWebhookWithoutTextIsPermanent(t *testing.T) {
	s, err := mail.NewWebhook("https://hooks.example.com/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), mail.Message{Subject: "Hi"}); !mail.Permanent(err) {
		t.Errorf("Send without text = %v, want a permanent error", err)
	}
}

func TestNewWebhookValidatesTheURL(t *testing.T) {
	for _, raw := range []string{
		"",
		"hooks.slack.com" + secretPath,
		"ftp://hooks.slack.com" + secretPath,
		"https://" + secretPath[1:] + "%zz",
		"https:///no-host" + secretPath,
	} {
		_, err := mail.NewWebhook(raw, nil)
		if err == nil {
			t.Errorf("NewWebhook(%q) accepted it, want an error", raw)
			continue
		}
		if strings.Contains(err.Error(), "s3cretT0ken") {
			t.Errorf("NewWebhook(%q) = %v, reveals the secret", raw, err)
		}
	}
	for _, raw := range []string{"https://hooks.slack.com" + secretPath, "http://127.0.0.1:8080/hook"} {
		if _, err := mail.NewWebhook(raw, nil); err != nil {
			t.Errorf("NewWebhook(%q) = %v, want it accepted", raw, err)
		}
	}
}

// TestWebhookPassesOnARetryAfterDateWithoutReadingAClock: a date in
// Retry-After comes back as that date; the outbox turns it into a delay on
// its own clock.
func TestWebhookPassesOnARetryAfterDateWithoutReadingAClock(t *testing.T) {
	until := time.Date(2026, 3, 2, 9, 1, 30, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", until.Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	s, err := mail.NewWebhook(srv.URL+secretPath, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), mail.Message{Text: "Hello"})
	var ra *mail.RetryAfterError
	if !errors.As(err, &ra) || !ra.Until.Equal(until) || ra.Wait != 0 {
		t.Fatalf("Send = %v, want a RetryAfterError until %v", err, until)
	}
	if got, want := ra.WaitFrom(until.Add(-90*time.Second)), 90*time.Second; got != want {
		t.Errorf("WaitFrom 90s before the date = %s, want %s", got, want)
	}
	if got := ra.WaitFrom(until.Add(time.Hour)); got != 0 {
		t.Errorf("WaitFrom after the date = %s, want 0", got)
	}
}
