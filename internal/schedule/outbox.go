package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/store"
)

// Worker delivers the outbox: it leases due messages, renders each at the
// moment of sending (an invitation's personal link is created then, and
// only its hash is stored), sends it and records the outcome. Failed sends
// are retried with exponential backoff; permanent failures stop at once.
type Worker struct {
	store   *store.Store
	senders map[string]mail.Sender
	baseURL string
	log     *slog.Logger
	clock   clockwork.Clock
	wake    chan struct{}

	// Batch is how many messages are leased at once; Parallel how many
	// are sent at the same time; Lease how long a lease lasts. Lease only
	// what is sent at once: a lease must not run out while its messages
	// wait their turn, or another replica would send them too.
	Batch       int
	Parallel    int
	Lease       time.Duration
	MaxAttempts int
	// Backoff is the wait after the first failure; it doubles per attempt
	// up to an hour.
	Backoff time.Duration

	sent, failed prometheus.Counter
}

// NewWorker returns an outbox worker. senders maps a channel (email,
// webhook, teams, log) to its transport; baseURL prefixes answer links.
func NewWorker(st *store.Store, senders map[string]mail.Sender, baseURL string, log *slog.Logger, clock clockwork.Clock) *Worker {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &Worker{store: st, senders: senders, baseURL: baseURL, log: log, clock: clock, wake: make(chan struct{}, 1),
		Batch: 8, Parallel: 8, Lease: 2 * time.Minute, MaxAttempts: 8, Backoff: 30 * time.Second,
		sent:   prometheus.NewCounter(prometheus.CounterOpts{Name: "tandem_outbox_sent_total", Help: "Messages delivered."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "tandem_outbox_failures_total", Help: "Failed delivery attempts."}),
	}
}

// Collectors returns the worker's Prometheus counters.
func (w *Worker) Collectors() []prometheus.Collector { return []prometheus.Collector{w.sent, w.failed} }

// Wake makes a sleeping worker look at the outbox now.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, polling every poll and whenever woken.
func (w *Worker) Run(ctx context.Context, poll time.Duration) {
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.Error("outbox", "err", err)
		}
		if n > 0 {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-time.After(poll):
		}
	}
}

// RunOnce leases one batch of due messages and delivers it. It returns how
// many messages it handled.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	now := w.clock.Now()
	msgs, err := w.store.ClaimOutbox(ctx, now, w.Lease, w.Batch)
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, max(1, w.Parallel))
	var wg sync.WaitGroup
	for _, m := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func(m store.OutboxMessage) {
			defer func() { <-sem; wg.Done() }()
			w.deliver(ctx, m)
		}(m)
	}
	wg.Wait()
	return len(msgs), nil
}

func (w *Worker) deliver(ctx context.Context, m store.OutboxMessage) {
	// Recording the outcome must survive a shutdown that begins while the
	// message is on its way; otherwise a sent message would go again.
	record := context.WithoutCancel(ctx)
	now := w.clock.Now()
	msg, skip, err := w.render(ctx, m, now)
	if err == nil && skip != "" {
		if err := w.store.MarkSkipped(record, m.ID, skip); err != nil {
			w.log.Error("outbox: mark skipped", "id", m.ID, "err", err)
		}
		return
	}
	if err == nil {
		sender := w.senders[m.Channel]
		if sender == nil {
			err = fmt.Errorf("no %s transport is configured", m.Channel)
		} else {
			sctx, cancel := context.WithTimeout(ctx, time.Minute)
			err = sender.Send(sctx, msg)
			cancel()
		}
	}
	if err == nil {
		w.sent.Inc()
		if err := w.store.MarkSent(record, m.ID, w.clock.Now()); err != nil {
			w.log.Error("outbox: mark sent", "id", m.ID, "err", err)
		}
		return
	}
	if ctx.Err() != nil {
		return // shutting down: the lease runs out and another try follows
	}
	w.failed.Inc()
	next := w.nextAttempt(m.Attempts+1, err, now)
	w.log.Warn("outbox: delivery failed", "id", m.ID, "kind", m.Kind, "channel", m.Channel, "attempt", m.Attempts+1,
		"retry_at", next, "permanent", next.IsZero(), "err", err)
	if err := w.store.MarkRetry(record, m.ID, err.Error(), next); err != nil {
		w.log.Error("outbox: record failure", "id", m.ID, "err", err)
	}
}

// nextAttempt returns when to try again after attempt failed, or zero to
// give up.
func (w *Worker) nextAttempt(attempt int, err error, now time.Time) time.Time {
	if mail.Permanent(err) || attempt >= w.MaxAttempts {
		return time.Time{}
	}
	wait := w.Backoff << (attempt - 1)
	if wait > time.Hour || wait <= 0 {
		wait = time.Hour
	}
	var ra *mail.RetryAfterError
	if errors.As(err, &ra) && ra.WaitFrom(now) > wait {
		wait = ra.WaitFrom(now)
	}
	return now.Add(wait)
}

// render builds the message. skip is non-empty when the message is no
// longer needed.
func (w *Worker) render(ctx context.Context, m store.OutboxMessage, now time.Time) (msg mail.Message, skip string, err error) {
	switch m.Kind {
	case "invite", "reminder":
		d, err := w.store.InvitationMessageData(ctx, m.Ref, now)
		if err != nil {
			return msg, "", err
		}
		if d.Responded {
			return msg, "already answered", nil
		}
		if d.RoundClosed {
			return msg, "round closed", nil
		}
		token := auth.NewToken()
		if err := w.store.AddInvitationToken(ctx, m.Ref, auth.HashToken(token)); err != nil {
			return msg, "", err
		}
		def, err := w.store.OrgLanguage(ctx)
		if err != nil {
			return msg, "", err
		}
		msg, err = renderInvitation(invitationLanguage(d, def), m.Kind == "reminder", d, w.baseURL+"/p/"+token, privacy.Threshold(d.MinGroup))
		switch m.Channel {
		case "webhook":
			// A chat handle: the email's local part ("ana.silva" of
			// ana.silva@example.com), sent as a direct-message override
			// so a personal link never lands in a shared channel.
			handle, _, _ := strings.Cut(d.EmployeeEmail, "@")
			msg.To = "@" + handle
		case "log", "teams":
			// Teams: the flow opens the 1:1 chat of this address.
			msg.To = d.EmployeeEmail
		}
		return msg, "", err
	case "digest":
		msg, err = decodePayload(m.Payload)
		if msg.To == "" {
			msg.To = m.Recipient
		}
		return msg, "", err
	}
	return msg, "", fmt.Errorf("unknown message kind %q", m.Kind)
}
