package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

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
