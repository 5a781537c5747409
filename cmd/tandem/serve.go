package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-hq/tandem/internal/helpdesk"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/memlimit"
	"github.com/tandem-hq/tandem/internal/openid"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/web"
)

// rollupRoundsPerHousekeeping bounds the closed rounds whose agreement
// inputs one housekeeping (every minute) works out: a round closing is
// one, and after an upgrade two years of weekly rounds are saved in a
// quarter of an hour without holding the scheduler for long.
const rollupRoundsPerHousekeeping = 8

// serveConfig is everything `tandem serve` reads.
type serveConfig struct {
	common
	addr           string
	baseURL        string
	secureCookies  bool
	trustedProxies string
	bodyLimit      string
	requestTimeout time.Duration
	memoryLimit    string
	sessionTTL     time.Duration
	smtp           mail.SMTPConfig
	smtpPort       string
	smtpTimeout    time.Duration
	webhookURL     string
	teamsURL       string
	outboxLease    time.Duration
	outboxPoll     time.Duration
	rateLimit      float64
	oidc           openid.Config
	oidcScopes     string
	passwords      bool
	breakGlass     string
	helpdeskCheck  time.Duration
	// secretKey seals helpdesk credentials; from the environment only, so
	// that it shows in no process list.
	secretKey string
	// demoLog, set by the demo, counts the messages of the log transport
	// instead of writing each (see mail.LogSummary).
	demoLog *mail.LogSummary
}

func (c *serveConfig) register(fs *flags, defaultDB string) {
	c.common.register(fs, defaultDB)
	fs.string(&c.addr, "addr", "TANDEM_ADDR", "127.0.0.1:8080", "listen address host:port")
	fs.string(&c.baseURL, "base-url", "TANDEM_BASE_URL", "", "URL people use to reach Tandem, for links in messages (default http://ADDR)")
	fs.bool(&c.secureCookies, "secure-cookies", "TANDEM_SECURE_COOKIES", false, "mark cookies Secure and send HSTS; set when users reach Tandem over HTTPS")
	fs.string(&c.trustedProxies, "trusted-proxies", "TANDEM_TRUSTED_PROXIES", "", "comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For is trusted")
	fs.string(&c.bodyLimit, "body-limit", "TANDEM_BODY_LIMIT", "16M", "largest request body accepted")
	fs.duration(&c.requestTimeout, "request-timeout", "TANDEM_REQUEST_TIMEOUT", 30*time.Second, "longest time a request may take")
	fs.string(&c.memoryLimit, "memory-limit", "TANDEM_MEMORY_LIMIT", "", "soft limit on the memory Go manages, such as 100MiB: near it the garbage collector runs more often instead of letting the heap grow to twice what is alive; auto follows what the server keeps (at least 100MiB); off sets none (default: GOMEMLIMIT, else auto)")
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
	fs.string(&c.teamsURL, "teams-workflow-url", "TANDEM_TEAMS_WORKFLOW_URL", "", "Power Automate Workflows flow URL that sends each invitation as a 1:1 Microsoft Teams chat message")
	fs.duration(&c.outboxLease, "outbox-lease", "TANDEM_OUTBOX_LEASE", 2*time.Minute, "how long a replica holds a message it is sending before another may retry it")
	fs.duration(&c.outboxPoll, "outbox-poll", "TANDEM_OUTBOX_POLL", 2*time.Second, "how often the outbox is checked for due messages")
	fs.string(&c.oidc.Issuer, "oidc-issuer", "TANDEM_OIDC_ISSUER", "", "OpenID Connect issuer URL of the identity provider for single sign-on (Entra ID, Google, Okta, Keycloak); empty: no single sign-on")
	fs.string(&c.oidc.ClientID, "oidc-client-id", "TANDEM_OIDC_CLIENT_ID", "", "client id Tandem is registered under at the identity provider")
	fs.string(&c.oidc.ClientSecret, "oidc-client-secret", "TANDEM_OIDC_CLIENT_SECRET", "", "client secret (prefer the environment variable)")
	fs.string(&c.oidc.Name, "oidc-name", "TANDEM_OIDC_NAME", "", "name on the sign-in button, \"Sign in with NAME\" (default the issuer's host)")
	fs.string(&c.oidc.GroupsClaim, "oidc-groups-claim", "TANDEM_OIDC_GROUPS_CLAIM", "groups", "ID token claim that lists a person's groups (names or ids)")
	fs.string(&c.oidc.EmailClaim, "oidc-email-claim", "TANDEM_OIDC_EMAIL_CLAIM", "email", "ID token claim with a person's email address")
	fs.string(&c.oidcScopes, "oidc-scopes", "TANDEM_OIDC_SCOPES", "", "scopes to request besides openid, email and profile, space-separated (Okta's org authorization server: groups)")
	fs.bool(&c.passwords, "passwords", "TANDEM_PASSWORDS", true, "allow password sign-in; false leaves it to the break-glass admin only (needs --oidc-issuer)")
	fs.string(&c.breakGlass, "break-glass-admin", "TANDEM_BREAK_GLASS_ADMIN", "", "email of the one account that may still sign in with a password when --passwords=false")
	fs.duration(&c.helpdeskCheck, "helpdesk-check", "TANDEM_HELPDESK_CHECK", time.Minute, "how often the scheduler looks for helpdesk connectors due a sync")
	c.secretKey = os.Getenv(helpdesk.SecretKeyEnv)
	fs.float(&c.rateLimit, "rate-limit", "TANDEM_RATE_LIMIT", 20, "requests per second one address may make to the API, and answer links that do not work it may open (bursts of 3x); 0 for no limit")
}

// minMemoryLimit is the smallest --memory-limit taken: below it the
// collector would run nearly all the time.
const minMemoryLimit = 32 << 20

// applyMemoryLimit sets the Go runtime's soft memory limit as
// --memory-limit says: a size (GOMEMLIMIT's: 100MiB, 1GiB, or bytes) is
// set once; auto, the default unless GOMEMLIMIT is set, returns a
// follower to run for as long as the server serves (memlimit.Default);
// off leaves the runtime's default, no limit.
func (c *serveConfig) applyMemoryLimit(log *slog.Logger) (*memlimit.Follower, error) {
	setting := strings.TrimSpace(c.memoryLimit)
	if setting == "" {
		if os.Getenv("GOMEMLIMIT") != "" {
			return nil, nil
		}
		setting = "auto"
	}
	switch strings.ToLower(setting) {
	case "off":
		return nil, nil
	case "auto":
		return &memlimit.Follower{Rule: memlimit.Default, Changed: func(limit int64, gcShare float64) {
			log.Info("soft memory limit follows what the server keeps", "limit_mib", limit>>20, "gc_cpu_share", math.Round(gcShare*100)/100)
		}}, nil
	}
	n, err := parseMemoryLimit(setting)
	if err != nil {
		return nil, err
	}
	debug.SetMemoryLimit(n)
	log.Info("soft memory limit set", "limit", setting)
	return nil, nil
}

// parseMemoryLimit reads a size as GOMEMLIMIT writes it: a whole number of
// bytes, or one followed by B, KiB, MiB, GiB or TiB.
func parseMemoryLimit(s string) (int64, error) {
	bad := func(why string) error {
		return tandem.Errorf(tandem.EINVALID, "--memory-limit %q %s; give a size such as 100MiB or 2GiB, auto or off", s, why)
	}
	num := strings.TrimSpace(s)
	unit := int64(1)
	for _, u := range []struct {
		suffix string
		size   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"B", 1}} {
		if strings.HasSuffix(num, u.suffix) {
			num, unit = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.size
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	switch {
	case err != nil || v < 0:
		return 0, bad("is not a size")
	case v > math.MaxInt64/unit:
		return 0, bad("is too large")
	case v*unit < minMemoryLimit:
		return 0, bad("is below 32MiB, too little to serve reports")
	}
	return v * unit, nil
}

// senders builds the delivery transports the configuration asks for.
func (c *serveConfig) senders(log *slog.Logger) (map[string]mail.Sender, error) {
	var logSender mail.Sender = mail.NewLog(log)
	if c.demoLog != nil {
		logSender = c.demoLog
	}
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
	} else if c.demoLog == nil {
		log.Warn("no SMTP server configured (TANDEM_SMTP_HOST): email invitations are printed to this log instead of sent")
	}
	if c.webhookURL != "" {
		wh, err := mail.NewWebhook(c.webhookURL, nil)
		if err != nil {
			return nil, err
		}
		out[pulse.ChannelWebhook] = wh
	}
	if c.teamsURL != "" {
		teams, err := mail.NewTeamsWorkflow(c.teamsURL, nil)
		if err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "%s", err)
		}
		out[pulse.ChannelTeams] = teams
	}
	return out, nil
}

// channels are the invitation channels senders can deliver, sorted: the
// program form refuses the others.
func channels(senders map[string]mail.Sender) []string {
	return slices.Sorted(maps.Keys(senders))
}

func (c *serveConfig) web() (web.Config, error) {
	var proxies []string
	for _, p := range strings.Split(c.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	cfg := web.Config{Addr: c.addr, BaseURL: c.baseURL, SecureCookies: c.secureCookies, TrustedProxies: proxies,
		BodyLimit: c.bodyLimit, RequestTimeout: c.requestTimeout, SessionTTL: c.sessionTTL, Version: version, RateLimit: c.rateLimit,
		PasswordsOff: !c.passwords, BreakGlassAdmin: strings.TrimSpace(c.breakGlass)}
	if c.oidc.Issuer != "" {
		oc := c.oidc
		oc.Scopes = strings.FieldsFunc(c.oidcScopes, func(r rune) bool { return r == ' ' || r == ',' })
		cfg.OIDC = &oc
	} else if c.oidc.ClientID != "" {
		return cfg, tandem.Errorf(tandem.EINVALID, "--oidc-client-id is set but --oidc-issuer is empty: give the identity provider's issuer URL (TANDEM_OIDC_ISSUER)")
	}
	if !c.passwords && cfg.OIDC == nil {
		return cfg, tandem.Errorf(tandem.EINVALID, "--passwords=false needs single sign-on (--oidc-issuer): otherwise only the break-glass admin could sign in")
	}
	if cfg.BreakGlassAdmin != "" {
		if err := tandem.ValidateEmail(tandem.NormalizeEmail(cfg.BreakGlassAdmin)); err != nil {
			return cfg, tandem.Errorf(tandem.EINVALID, "--break-glass-admin: %s", tandem.ErrorMessage(err))
		}
	}
	return cfg, nil
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
	wcfg, err := cfg.web()
	if err != nil {
		return err
	}
	limits, err := cfg.applyMemoryLimit(log)
	if err != nil {
		return err
	}
	if wcfg.PasswordsOff && wcfg.BreakGlassAdmin == "" {
		log.Warn("passwords are off and no break-glass admin is named (TANDEM_BREAK_GLASS_ADMIN): if the identity provider is down, nobody can sign in")
	}
	senders, err := cfg.senders(log)
	if err != nil {
		return err
	}
	wcfg.Channels = channels(senders)
	srv, err := web.New(wcfg, st, log)
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
	// Each closed round's agreement inputs are saved as it closes, so that
	// no report reads its answers; after an upgrade, the older rounds a few
	// a minute (at 50,000 employees about a quarter of a second each).
	// A round that fails is logged and passed over for an hour, so that
	// the older ones still catch up.
	rollups := &report.AgreementRollupSaver{Src: st, PerRun: rollupRoundsPerHousekeeping, RetryAfter: time.Hour}
	runner.Rollups = func(ctx context.Context, now time.Time) error {
		n, err := rollups.Run(ctx, now)
		if n > 0 {
			log.Info("saved the agreement inputs of closed rounds", "rounds", n)
		}
		return err
	}
	keys, err := helpdesk.NewKeyring(cfg.secretKey)
	if err != nil {
		return err
	}
	if keys == nil {
		log.Info("helpdesk connectors are off: " + helpdesk.SecretKeyEnv + " is not set (see the README)")
	}
	syncer := helpdesk.NewSyncer(st, keys, log)
	if cfg.helpdeskCheck <= 0 {
		cfg.helpdeskCheck = time.Minute
	}
	opts := schedule.Options{Periodic: []schedule.Periodic{{Name: "helpdesk sync", Every: cfg.helpdeskCheck, Run: syncer.RunDue}}}
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
	srv.SetHelpdesk(syncer)
	srv.RegisterMetrics(worker.Collectors()...)
	// Background work; wg.Go counts each, so adding one cannot unbalance
	// the count.
	var wg sync.WaitGroup
	wg.Go(func() {
		// Check the identity provider now, so a wrong issuer shows in the
		// log at start rather than at someone's first sign-in.
		if err := srv.CheckSSO(bg); err != nil && bg.Err() == nil {
			log.Warn("single sign-on: "+tandem.ErrorMessage(err), "issuer", wcfg.OIDC.Issuer)
		}
	})
	wg.Go(func() { worker.Run(bg, cfg.outboxPoll) })
	wg.Go(func() { syncer.Run(bg) })
	wg.Go(func() { sweep(bg, st, log) })
	if limits != nil {
		wg.Go(func() { limits.Run(bg) })
	}
	wg.Go(func() {
		// Answers to links sent before this start need no read either;
		// until they are loaded, they are looked up one by one.
		n, err := st.RememberOpenLinks(bg, time.Now())
		if err != nil && bg.Err() == nil {
			log.Warn("load the answer links of open rounds (answers still work, a little slower)", "err", err)
			return
		}
		log.Debug("answer links of open rounds loaded", "links", n)
	})
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
