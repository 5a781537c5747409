package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/mail"
)

func TestLogWritesRecipientSubjectAndTextAtInfo(t *testing.T) {
	var buf bytes.Buffer
	s := mail.NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	if s.Name() != "log" {
		t.Errorf("Name() = %q, want log", s.Name())
	}
	m := mail.Message{To: "bob@example.com", Subject: "Weekly pulse", Text: "Answer here: http://localhost:8080/p/abc"}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	for key, want := range map[string]string{"level": "INFO", "to": m.To, "subject": m.Subject, "text": m.Text} {
		if rec[key] != want {
			t.Errorf("log %s = %v, want %q", key, rec[key], want)
		}
	}
}

func TestLogDoesNotSendAfterCancel(t *testing.T) {
	var buf bytes.Buffer
	s := mail.NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, mail.Message{To: "bob@example.com", Text: "x"}); err == nil {
		t.Error("Send with a cancelled context succeeded")
	}
	if buf.Len() != 0 {
		t.Errorf("logged %q after cancel, want nothing", buf.String())
	}
}

func TestLogSummaryWritesOneLineForABurstOfMessages(t *testing.T) {
	var buf bytes.Buffer
	s := mail.NewLogSummary(slog.New(slog.NewTextHandler(&buf, nil)), time.Hour)
	for i := range 267 {
		if err := s.Send(context.Background(), mail.Message{To: fmt.Sprintf("p%d@example.com", i), Subject: "Weekly pulse", Text: "link"}); err != nil {
			t.Fatal(err)
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("logged %q before the summary, want nothing per message", buf.String())
	}
	if n := s.Flush(); n != 267 {
		t.Errorf("Flush() = %d, want 267", n)
	}
	if got := strings.Count(buf.String(), "\n"); got != 1 || !strings.Contains(buf.String(), `msg="267 messages logged, not sent"`) {
		t.Errorf("log = %q, want the one line \"267 messages logged, not sent\"", buf.String())
	}
	if n := s.Flush(); n != 0 || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("second Flush() = %d and log %q, want 0 and no new line", n, buf.String())
	}
	if s.Total() != 267 {
		t.Errorf("Total() = %d, want 267", s.Total())
	}
}

func TestLogSummarySummarisesALaterBurstOnItsOwnOnceQuiet(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	s := mail.NewLogSummary(slog.New(slog.NewTextHandler(w, nil)), 50*time.Millisecond)
	for range 3 {
		if err := s.Send(context.Background(), mail.Message{To: "a@example.com"}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		got := buf.String()
		mu.Unlock()
		if strings.Contains(got, `msg="3 messages logged, not sent"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("log = %q after 5 s, want the line \"3 messages logged, not sent\"", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
