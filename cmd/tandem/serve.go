package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
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
}

func (c *serveConfig) register(fs *flags, defaultDB string) {
	c.common.register(fs, defaultDB)
	fs.string(&c.addr, "addr", "TANDEM_ADDR", "127.0.0.1:8080", "listen address host:port")
	fs.string(&c.baseURL, "base-url", "TANDEM_BASE_URL", "", "URL people use to reach Tandem, for links in messages (default http://ADDR)")
	fs.bool(&c.secureCookies, "secure-cookies", "TANDEM_SECURE_COOKIES", false, "mark cookies Secure; set when users reach Tandem over HTTPS")
	fs.string(&c.trustedProxies, "trusted-proxies", "TANDEM_TRUSTED_PROXIES", "", "comma-separated CIDR ranges of reverse proxies whose X-Forwarded-For is trusted")
	fs.string(&c.bodyLimit, "body-limit", "TANDEM_BODY_LIMIT", "16M", "largest request body accepted")
	fs.duration(&c.requestTimeout, "request-timeout", "TANDEM_REQUEST_TIMEOUT", 30*time.Second, "longest time a request may take")
	fs.duration(&c.sessionTTL, "session-ttl", "TANDEM_SESSION_TTL", 12*time.Hour, "how long an idle sign-in lasts")
}

func (c *serveConfig) web() web.Config {
	var proxies []string
	for _, p := range strings.Split(c.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	return web.Config{Addr: c.addr, BaseURL: c.baseURL, SecureCookies: c.secureCookies, TrustedProxies: proxies,
		BodyLimit: c.bodyLimit, RequestTimeout: c.requestTimeout, SessionTTL: c.sessionTTL, Version: version}
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
	st, err := store.Open(ctx, cfg.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	return serve(ctx, &cfg, st, log, nil)
}

// serve runs the web server (and, as later parts arrive, the scheduler and
// outbox) on an open store until ctx ends. Shutdown runs in reverse order of
// start. ready is called with the listening address.
func serve(ctx context.Context, cfg *serveConfig, st *store.Store, log *slog.Logger, ready func(addr string)) error {
	srv, err := web.New(cfg.web(), st, log)
	if err != nil {
		return err
	}
	link, err := srv.SetupLink(ctx)
	if err != nil {
		return err
	}
	go sweep(ctx, st, log)
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
