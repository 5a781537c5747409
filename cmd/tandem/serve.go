package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/web"
)

// serveConfig is everything `tandem serve` reads.
type serveConfig struct {
	common
	addr           string
	baseURL        string
	secureCookies  bool
	trustedProxies string
	bodyLimit      string
	requestTimeout time.Duration
	sessionTTL     time.Duration
	smtp           mail.SMTPConfig
	smtpPort       string
	smtpTimeout    time.Duration
	webhookURL     string
	outboxLease    time.Duration
	outboxPoll     time.Duration
	rateLimit      float64
}

func (c *serveConfig) register(fs *flags, defaultDB string) {
	c.common.register(fs, defaultDB)
	fs.string(&c.addr, "addr", "TANDEM_ADDR", "127.0.0.1:8080", "listen address host:port")
	fs.string(&c.baseURL, "base-url", "TANDEM_BASE_URL", "", "URL people use to reach Tandem, for links in messages (default http://ADDR)")
	fs.bool(&c.secureCookies, "secure-cookies", "TANDEM_SECURE_COOKIES", false, "mark cookies Secure and send HSTS; set when users reach Tandem over HTTPS")
	fs.string(&c.trustedProxies, "trusted-proxies", "TANDEM_TRUSTED_PROXIES", "", "comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For is trusted")
	fs.string(&c.bodyLimit, "body-limit", "TANDEM_BODY_LIMIT", "16M", "largest request body accepted")
	fs.duration(&c.requestTimeout, "request-timeout", "TANDEM_REQUEST_TIMEOUT", 30*time.Second, "longest time a request may take")
	fs.duration(&c.sessionTTL, "session-ttl", "TANDEM_SESSION_TTL", 12*time.Hour, "how long an idle sign-in lasts")
	fs.string(&c.smtp.Host, "smtp-host", "TANDEM_SMTP_HOST", "", "SMTP server for email invitations; without one, email is printed to the log")
	fs.string(&c.smtpPort, "smtp-port", "TANDEM_SMTP_PORT", "587", "SMTP port (587 for STARTTLS, 465 for TLS)")
	fs.string(&c.smtp.Security, "smtp-security", "TANDEM_SMTP_SECURITY", "starttls", "starttls, tls or none (none only for a relay on this machine)")
	fs.string(&c.smtp.Username, "smtp-username", "TANDEM_SMTP_USERNAME", "", "SMTP user name")
	fs.string(&c.smtp.Password, "smtp-password", "TANDEM_SMTP_PASSWORD", "", "SMTP password (prefer the environment variable)")
	fs.string(&c.smtp.From, "smtp-from", "TANDEM_SMTP_FROM", "Tandem <tandem@localhost>", "sender of Tandem's email")
	fs.string(&c.smtp.HeloName, "smtp-helo", "TANDEM_SMTP_HELO", "", "name Tandem gives in SMTP HELO (default localhost)")
	fs.duration(&c.smtpTimeout, "smtp-timeout", "TANDEM_SMTP_TIMEOUT", 30*time.Second, "time allowed for one SMTP delivery")
	fs.string(&c.webhookURL, "webhook-url", "TANDEM_WEBHOOK_URL", "", "Slack-compatible incoming webhook for chat messages")
	fs.duration(&c.outboxLease, "outbox-lease", "TANDEM_OUTBOX_LEASE", 2*time.Minute, "how long a replica holds a message it is sending before another may retry it")
	fs.duration(&c.outboxPoll, "outbox-poll", "TANDEM_OUTBOX_POLL", 2*time.Second, "how often the outbox is checked for due messages")
	fs.float(&c.rateLimit, "rate-limit", "TANDEM_RATE_LIMIT", 20, "requests per second one address may make to the API, and answer links that do not work it may open (bursts of 3x); 0 for no limit")
}

// senders builds the delivery transports the configuration asks for.
func (c *serveConfig) senders(log *slog.Logger) (map[string]mail.Sender, error) {
	logSender := mail.NewLog(log)
	out := map[string]mail.Sender{pulse.ChannelLog: logSender, pulse.ChannelEmail: logSender}
	if c.smtp.Host != "" {
		port, err := strconv.Atoi(c.smtpPort)
		if err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "--smtp-port %q is not a port number", c.smtpPort)
		}
		cfg := c.smtp
		cfg.Port, cfg.Timeout = port, c.smtpTimeout
		smtp, err := mail.NewSMTP(cfg)
		if err != nil {
			return nil, err
		}
		out[pulse.ChannelEmail] = smtp
	} else {
		log.Warn("no SMTP server configured (TANDEM_SMTP_HOST): email invitations are printed to this log instead of sent")
	}
	if c.webhookURL != "" {
		wh, err := mail.NewWebhook(c.webhookURL, nil)
		if err != nil {
			return nil, err
		}
		out[pulse.ChannelWebhook] = wh
	}
	return out, nil
}

func (c *serveConfig) web() web.Config {
	var proxies []string
	for _, p := range strings.Split(c.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	return web.Config{Addr: c.addr, BaseURL: c.baseURL, SecureCookies: c.secureCookies, TrustedProxies: proxies,
		BodyLimit: c.bodyLimit, RequestTimeout: c.requestTimeout, SessionTTL: c.sessionTTL, Version: version, RateLimit: c.rateLimit}
}

func runServe(ctx context.Context, args []string, out io.Writer) error {
	var cfg serveConfig
	fs := newFlags("serve", "Run the Tandem web server until interrupted (SIGINT or SIGTERM stop it gracefully).")
	cfg.register(fs, "tandem.db")
	if err := fs.parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	log, err := cfg.logger()
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.db, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	return serve(ctx, &cfg, st, log, nil)
}

// serve runs the web server, the scheduler and the outbox worker on an open
// store until ctx ends. Shutdown runs in reverse order of start: HTTP stops
// taking requests and finishes those in flight, then the scheduler waits for
// running jobs, then the outbox worker stops; the caller closes the store.
// ready is called with the listening address.
func serve(ctx context.Context, cfg *serveConfig, st *store.Store, log *slog.Logger, ready func(addr string)) error {
	srv, err := web.New(cfg.web(), st, log)
	if err != nil {
		return err
	}
	senders, err := cfg.senders(log)
	if err != nil {
		return err
	}
	link, err := srv.SetupLink(ctx)
	if err != nil {
		return err
	}
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	worker := schedule.NewWorker(st, senders, srv.BaseURL(), log, nil)
	if cfg.outboxLease > 0 {
		worker.Lease = cfg.outboxLease
	}
	runner := schedule.NewRunner(st, log)
	runner.OnRound = func(pulse.Round) { worker.Wake() }
	runner.BaseURL = srv.BaseURL()
	opts := schedule.Options{}
	// On PostgreSQL several replicas may run; one of them, elected by an
	// advisory lock, runs the scheduled jobs. Every replica sends mail.
	elector := st.NewElector()
	if elector != nil {
		opts.Elector = elector
		defer elector.Resign()
	}
	sched, err := schedule.New(runner, st, log, opts)
	if err != nil {
		return err
	}
	if err := sched.Start(bg); err != nil {
		return err
	}
	srv.SetJobs(sched)
	srv.RegisterMetrics(worker.Collectors()...)
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); worker.Run(bg, cfg.outboxPoll) }()
	go func() { defer wg.Done(); sweep(bg, st, log) }()
	go func() {
		// Answers to links sent before this start need no read either;
		// until they are loaded, they are looked up one by one.
		defer wg.Done()
		n, err := st.RememberOpenLinks(bg, time.Now())
		if err != nil && bg.Err() == nil {
			log.Warn("load the answer links of open rounds (answers still work, a little slower)", "err", err)
			return
		}
		log.Debug("answer links of open rounds loaded", "links", n)
	}()
	defer func() {
		if err := sched.Stop(); err != nil {
			log.Error("stop scheduler", "err", err)
		}
		stopBG()
		wg.Wait()
		log.Info("background work stopped")
	}()
	return srv.Run(ctx, func(addr string) {
		log.Info("tandem is serving", "addr", addr, "url", srv.BaseURL(), "version", version, "database", st.Engine())
		if link != "" {
			log.Warn("no account exists yet: open this one-time link to create the first admin (valid 24 hours)", "setup_url", link)
		}
		if ready != nil {
			ready(addr)
		}
	})
}

// sweep deletes expired sessions, uploads and setup links every hour.
func sweep(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := st.DeleteExpired(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Warn("delete expired sessions", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
