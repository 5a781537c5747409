package mail

import (
	"context"
	"log/slog"
)

type logSender struct{ logger *slog.Logger }

// NewLog returns a Sender that writes each message (to, subject, text) to
// logger at INFO instead of delivering it. For local use: the demo shows
// answer links this way. A nil logger means slog.Default().
func NewLog(logger *slog.Logger) Sender {
	if logger == nil {
		logger = slog.Default()
	}
	return &logSender{logger: logger}
}

func (l *logSender) Name() string { return "log" }

func (l *logSender) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.logger.LogAttrs(ctx, slog.LevelInfo, "mail not sent, logged instead",
		slog.String("transport", "log"),
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text))
	return nil
}
