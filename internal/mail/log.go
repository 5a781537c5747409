package mail

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"
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

// LogSummary is the log transport of the demo: it counts the messages it
// is given instead of writing each one, so a few hundred invitations do
// not push the demo's sign-in details off the terminal. Flush writes the
// count as one line; a burst that arrives later (a reminder run) is
// summarised on its own once it has been quiet for a while.
type LogSummary struct {
	logger *slog.Logger
	quiet  time.Duration

	mu      sync.Mutex
	pending int // counted since the last summary line
	total   int
	timer   *time.Timer
}

// NewLogSummary returns a LogSummary that writes its line to logger (nil:
// slog.Default()) once quiet has passed without a new message.
func NewLogSummary(logger *slog.Logger, quiet time.Duration) *LogSummary {
	if logger == nil {
		logger = slog.Default()
	}
	return &LogSummary{logger: logger, quiet: quiet}
}

func (l *LogSummary) Name() string { return "log" }

func (l *LogSummary) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending++
	l.total++
	if l.timer == nil {
		l.timer = time.AfterFunc(l.quiet, func() { l.Flush() })
	} else {
		l.timer.Reset(l.quiet)
	}
	return nil
}

// Total returns how many messages were given so far.
func (l *LogSummary) Total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Flush writes "N messages logged, not sent" for the messages counted
// since the last line, if any, and returns N.
func (l *LogSummary) Flush() int {
	l.mu.Lock()
	n := l.pending
	l.pending = 0
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	l.mu.Unlock()
	if n > 0 {
		l.logger.Info(fmt.Sprintf("%d %s logged, not sent", n, plural(n, "message", "messages")), slog.String("transport", "log"))
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
