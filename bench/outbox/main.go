// Command outbox measures how long one round's invitations take to go
// through the outbox to an SMTP server: from the start of the round to
// the last invitation received. The target: 10,000 invitations
// to a local SMTP listener in under 30 s.
//
// Each run builds a new SQLite database with a generated roster of
// -employees people (all with an email address, not timed) and a weekly
// email program for everyone, starts an SMTP listener on 127.0.0.1
// (go-smtp, accepting everything, keeping each message), and runs the
// real outbox worker (schedule.Worker with its defaults, the SMTP sender
// of internal/mail, woken by the runner as `tandem serve` wires it). The
// clock starts before Runner.SendNow creates the round (its invitations
// and outbox rows, one transaction) and stops when the listener has
// received one message per invitation. Afterwards it checks that delivery
// was exactly once: as many messages as invitations, every recipient and
// every answer link different, every link opening a different invitation
// of the round, nothing more arriving in the next second, and every outbox
// row marked sent.
//
//	go run ./bench/outbox
//	go run ./bench/outbox -runs 3 -employees 10000
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tandem-hq/tandem/bench/internal/benchorg"
	"github.com/tandem-hq/tandem/bench/internal/machine"
	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
)

// baseURL prefixes the answer links; nothing is served there.
const baseURL = "http://127.0.0.1:8080"

func main() {
	employees := flag.Int("employees", 10_000, "employees on the roster: one invitation each")
	runs := flag.Int("runs", 3, "rounds to time, each on a new database")
	timeout := flag.Duration("timeout", 5*time.Minute, "give up on a run after this long")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the first run (worker and listener) to this file")
	flag.Parse()
	if err := run(*employees, *runs, *timeout, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "outbox:", err)
		os.Exit(1)
	}
}

type runResult struct {
	create, first, last time.Duration
}

func run(employees, runs int, timeout time.Duration, cpuprofile string) error {
	fmt.Println(machine.Describe())
	var results []runResult
	for i := 1; i <= runs; i++ {
		profile := ""
		if i == 1 {
			profile = cpuprofile
		}
		r, err := runOnce(employees, timeout, profile)
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		fmt.Printf("run %d: round created in %s, first message after %s, all %d received after %s: %.0f messages/s\n",
			i, r.create.Round(time.Millisecond), r.first.Round(time.Millisecond), employees, r.last.Round(time.Millisecond),
			float64(employees)/r.last.Seconds())
		results = append(results, r)
	}
	totals := make([]time.Duration, len(results))
	creates := make([]time.Duration, len(results))
	for i, r := range results {
		totals[i], creates[i] = r.last, r.create
	}
	med := median(totals)
	verdict := "not met"
	if med < 30*time.Second {
		verdict = "met"
	}
	fmt.Printf("median: %d invitations in %s (%.0f messages/s; round creation %s); target under 30 s: %s\n",
		employees, med.Round(time.Millisecond), float64(employees)/med.Seconds(), median(creates).Round(time.Millisecond), verdict)
	fmt.Println(machine.Load())
	return nil
}

func runOnce(employees int, timeout time.Duration, cpuprofile string) (runResult, error) {
	var res runResult
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "tandem-outbox-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	org, err := benchorg.New(ctx, dir, employees, pulse.ChannelEmail)
	if err != nil {
		return res, err
	}
	defer org.Store.Close()
	st := org.Store

	listener, err := newListener(employees)
	if err != nil {
		return res, err
	}
	defer listener.close()
	sender, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: listener.port, Security: mail.SecurityNone, From: "Tandem <p@example.com>"})
	if err != nil {
		return res, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	worker := schedule.NewWorker(st, map[string]mail.Sender{pulse.ChannelEmail: sender}, baseURL, logger, nil)
	runner := schedule.NewRunner(st, logger)
	runner.OnRound = func(pulse.Round) { worker.Wake() }
	wctx, stopWorker := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { worker.Run(wctx, 2*time.Second) }) // serve's poll interval
	defer func() { stopWorker(); wg.Wait() }()

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	round, created, err := runner.SendNow(ctx, org.Program.ID, start)
	if err != nil || !created {
		return res, fmt.Errorf("start a round: created %v, %v", created, err)
	}
	res.create = time.Since(start)
	if round.Invited != 0 && round.Invited != employees {
		return res, fmt.Errorf("round invites %d people, want %d", round.Invited, employees)
	}
	select {
	case <-listener.done:
	case <-ctx.Done():
		return res, fmt.Errorf("only %d of %d messages arrived within %s", listener.count(), employees, timeout)
	}
	pprof.StopCPUProfile()
	msgs := listener.messages()
	first, last := msgs[0].at, msgs[0].at
	for _, m := range msgs {
		if m.at.Before(first) {
			first = m.at
		}
		if m.at.After(last) {
			last = m.at
		}
	}
	res.first, res.last = first.Sub(start), last.Sub(start)

	// Exactly once: wait a second for strays, then check every message.
	time.Sleep(time.Second)
	stopWorker()
	wg.Wait()
	msgs = listener.messages()
	if len(msgs) != employees {
		return res, fmt.Errorf("%d messages arrived, want exactly %d", len(msgs), employees)
	}
	linkRe := regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/p/([A-Za-z0-9_-]+)`)
	recipients := map[string]bool{}
	invitations := map[int64]bool{}
	for i, m := range msgs {
		if len(m.to) != 1 {
			return res, fmt.Errorf("message %d has recipients %q, want one", i, m.to)
		}
		recipients[m.to[0]] = true
		text, err := textBody(m.raw)
		if err != nil {
			return res, fmt.Errorf("message %d to %s: %w", i, m.to[0], err)
		}
		link := linkRe.FindStringSubmatch(text)
		if link == nil {
			return res, fmt.Errorf("message %d to %s has no answer link:\n%s", i, m.to[0], text)
		}
		inv, err := st.InvitationByToken(ctx, auth.HashToken(link[1]))
		if err != nil {
			return res, fmt.Errorf("message %d to %s: link %s: %w", i, m.to[0], link[0], err)
		}
		if inv.RoundID != round.ID {
			return res, fmt.Errorf("message %d links to round %d, want %d", i, inv.RoundID, round.ID)
		}
		invitations[inv.ID] = true
	}
	if len(recipients) != employees || len(invitations) != employees {
		return res, fmt.Errorf("%d messages went to %d recipients and open %d invitations, want %d of each", len(msgs), len(recipients), len(invitations), employees)
	}
	counts, err := st.OutboxCounts(ctx)
	if err != nil {
		return res, err
	}
	if counts["sent"] != employees || len(counts) != 1 {
		return res, fmt.Errorf("outbox after the run: %v, want %d sent and nothing else", counts, employees)
	}
	return res, nil
}

// textBody decodes the text/plain part of a message.
func textBody(raw []byte) (string, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return "", err
	}
	decode := func(r io.Reader, enc string) (string, error) {
		if strings.EqualFold(enc, "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		return string(b), err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return decode(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", fmt.Errorf("no text/plain part: %w", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			return decode(p, p.Header.Get("Content-Transfer-Encoding"))
		}
	}
}

// listener is an SMTP server on 127.0.0.1 that accepts every message and
// keeps it with its time of arrival. done closes when want have arrived.
type listener struct {
	port int
	srv  *smtp.Server
	want int
	done chan struct{}

	mu   sync.Mutex
	msgs []received
}

type received struct {
	at  time.Time
	to  []string
	raw []byte
}

func newListener(want int) (*listener, error) {
	l := &listener{want: want, done: make(chan struct{})}
	l.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{l: l}, nil }))
	l.srv.Domain = "localhost"
	l.srv.ErrorLog = log.New(io.Discard, "", 0)
	l.srv.ReadTimeout, l.srv.WriteTimeout = 10*time.Second, 10*time.Second
	l.srv.MaxRecipients = 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l.port = ln.Addr().(*net.TCPAddr).Port
	go l.srv.Serve(ln)
	return l, nil
}

func (l *listener) close() { l.srv.Close() }

func (l *listener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.msgs)
}

// messages returns what arrived, in order of arrival.
func (l *listener) messages() []received {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.msgs)
}

type session struct {
	l  *listener
	to []string
}

func (s *session) AuthPlain(string, string) error            { return errors.New("no authentication here") }
func (s *session) Mail(string, *smtp.MailOptions) error      { return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.to = append(s.to, to); return nil }
func (s *session) Reset()                                    { s.to = nil }
func (s *session) Logout() error                             { return nil }

func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	at := time.Now()
	s.l.mu.Lock()
	s.l.msgs = append(s.l.msgs, received{at: at, to: s.to, raw: raw})
	if len(s.l.msgs) == s.l.want {
		close(s.l.done)
	}
	s.l.mu.Unlock()
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(ds))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
