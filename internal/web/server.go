// Package web is Tandem's HTTP edge: the echo server, its middleware, the
// pages (html/template, embedded) and, under /api/v1, the JSON API. Handlers
// parse input, call the store and domain packages, and render.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/openid"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/static"
)

// Config is what the web server needs from the command line.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string
	// BaseURL is the address people reach Tandem at, for links in
	// messages and logs; derived from Addr when empty.
	BaseURL string
	// SecureCookies marks cookies Secure and sends HSTS (set it when
	// serving over TLS, directly or behind a proxy).
	SecureCookies bool
	// TrustedProxies are CIDR ranges whose X-Forwarded-For is believed.
	TrustedProxies []string
	// BodyLimit is the largest request body, e.g. "16M".
	BodyLimit string
	// RequestTimeout bounds each request's work.
	RequestTimeout time.Duration
	// SessionTTL is how long a session lives without use.
	SessionTTL time.Duration
	// Version is shown in the footer and /healthz.
	Version string
	// RateLimit is the steady requests per second one address may make
	// to the JSON API, and the answer links that do not work it may open
	// (with bursts of 3× that); 0 turns the limits off.
	RateLimit float64
	// HashSlots is how many password hashes (argon2id, 19 MiB each) the
	// server computes at once; sign-ins past that get 429 (default
	// auth.DefaultHashSlots).
	HashSlots int
	// Now is the server's clock (default time.Now); tests pass a fixed
	// one. Request latencies are measured on the machine's own clock.
	Now func() time.Time
	// OIDC, when set, offers "Sign in with …" through an OpenID Connect
	// identity provider; its RedirectURL is BaseURL/login/sso/callback.
	OIDC *openid.Config
	// PasswordsOff refuses password sign-in to everyone but
	// BreakGlassAdmin (an email address; "" for nobody).
	PasswordsOff    bool
	BreakGlassAdmin string
	// Channels are the invitation channels this server has a transport
	// for (pulse.ChannelEmail, …); a program cannot be switched to
	// another. Nil: not checked.
	Channels []string
}

// Server is the web server.
type Server struct {
	cfg      Config
	store    *store.Store
	log      *slog.Logger
	echo     *echo.Echo
	pages    *pages
	metrics  *metrics
	throttle auth.Throttle
	// hasher bounds the password hashes computed at once.
	hasher   *auth.Hasher
	jobs     Jobs
	helpdesk Helpdesk
	// notices caches the fixed pages of the answer links.
	notices sync.Map
	// now is the clock; tests may replace it.
	now func() time.Time
	// reports builds the correlation and retention reports; it remembers
	// closed rounds' inputs, so a warm server reads only what changed.
	reports *report.CorrelationLoader
	// sso signs people in through the identity provider (nil: off).
	sso *openid.Client
}

// New builds the server and its routes. It does not listen yet.
func New(cfg Config, st *store.Store, logger *slog.Logger) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + cfg.Addr
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.BodyLimit == "" {
		cfg.BodyLimit = "16M"
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	pg, err := parsedPages()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, store: st, log: logger, pages: pg, metrics: newMetrics(), now: cfg.Now, reports: report.NewCorrelationLoader(st)}
	s.reports.SaveFailed = func(round int64, err error) {
		logger.Warn("a report could not save the agreement inputs of a closed round; it will work them out again", "round", round, "err", err)
	}
	s.throttle = auth.DefaultThrottle
	if cfg.OIDC != nil {
		oc := *cfg.OIDC
		oc.RedirectURL = cfg.BaseURL + ssoCallbackPath
		if s.sso, err = openid.New(oc); err != nil {
			return nil, err
		}
	}
	s.hasher = auth.NewHasher(cfg.HashSlots)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	ipx, err := ipExtractor(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	e.IPExtractor = ipx
	s.echo = e
	s.routes()
	return s, nil
}

func ipExtractor(proxies []string) (echo.IPExtractor, error) {
	if len(proxies) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	var opts []echo.TrustOption
	opts = append(opts, echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false))
	for _, p := range proxies {
		_, n, err := net.ParseCIDR(strings.TrimSpace(p))
		if err != nil {
			return nil, tandem.Errorf(tandem.EINVALID, "trusted proxy %q is not a CIDR range such as 10.0.0.0/8", p)
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// RegisterMetrics adds collectors (the outbox's, the scheduler's) to
// /metrics.
func (s *Server) RegisterMetrics(cs ...prometheus.Collector) {
	for _, c := range cs {
		s.metrics.Register(c)
	}
}

// Handler returns the server as an http.Handler (for httptest).
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the router, so later parts (and tests) can list routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// BaseURL is where people reach this server.
func (s *Server) BaseURL() string { return s.cfg.BaseURL }

// Run listens on cfg.Addr until ctx is done, then shuts down gracefully,
// letting requests in flight finish for up to 10 seconds. ready, if not
// nil, is called once the listener is open.
func (s *Server) Run(ctx context.Context, ready func(addr string)) error {
	auth.PrepareNoAccountCheck()
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (is another program using the port? choose another with --addr): %w", s.cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      s.cfg.RequestTimeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) staticFiles() echo.HandlerFunc {
	fs := http.FileServer(http.FS(static.FS))
	h := http.StripPrefix("/static/", fs)
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "version": s.cfg.Version})
}

func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.Warn("readiness check failed", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// secureHeaders sets the headers every response carries. No page runs an
// inline script or loads anything from another origin. Nothing is cached
// (pages, downloads and API answers hold people's data) except static
// files, which say so themselves. With --secure-cookies users reach
// Tandem over HTTPS, so browsers are told to use nothing else (HSTS).
// Answer links get their own headers here too, so that the redirect of
// /p/TOKEN/ carries them.
func (s *Server) secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.Set("Cache-Control", "no-store")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if strings.HasPrefix(c.Request().URL.Path, "/p/") {
			setAnswerHeaders(h)
		}
		return next(c)
	}
}

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic in handler", "route", c.Path(), "panic", fmt.Sprint(r),
					"request_id", c.Response().Header().Get(echo.HeaderXRequestID))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// logRequests logs one line per request. It logs the route pattern, not
// the URL: answer links carry secret tokens in their path.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// The machine's clock on purpose: this only measures the request's
		// latency for the log and metrics, it decides nothing.
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "(no route)"
		}
		status := c.Response().Status
		level := slog.LevelInfo
		if status >= 500 {
			level = slog.LevelError
		}
		if route == "/healthz" || route == "/readyz" || route == "/metrics" || strings.HasPrefix(route, "/static/") {
			level = slog.LevelDebug
		}
		elapsed := time.Since(start)
		s.metrics.observe(c.Request().Method, route, status, elapsed)
		s.log.Log(c.Request().Context(), level, "request",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "route", route, "status", status,
			"bytes", c.Response().Size, "duration_ms", float64(elapsed.Microseconds())/1000,
			"ip", c.RealIP())
		return nil
	}
}

// chain joins middleware lists into a new slice (never sharing a backing
// array, so later appends cannot change an earlier chain).
func chain(parts ...any) []echo.MiddlewareFunc {
	var out []echo.MiddlewareFunc
	for _, p := range parts {
		switch v := p.(type) {
		case echo.MiddlewareFunc:
			out = append(out, v)
		case func(echo.HandlerFunc) echo.HandlerFunc:
			out = append(out, v)
		case []echo.MiddlewareFunc:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("chain: unexpected %T", p))
		}
	}
	return out
}

// Both limits by address (the API's, and guesses at answer links) allow
// bursts of three seconds' worth, and forget an address idle this long.
const limitIdle = 3 * time.Minute

func burstOf(perSecond float64) int { return max(1, int(3*perSecond)) }

// rateLimit limits each address on the JSON API, which anyone can reach
// without signing in. (Answer links count only the links that do not
// work: guess.go.) The limit is kept per replica.
func (s *Server) rateLimit() echo.MiddlewareFunc {
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool {
			return !strings.HasPrefix(c.Request().URL.Path, "/api/v1/")
		},
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(s.cfg.RateLimit), Burst: burstOf(s.cfg.RateLimit), ExpiresIn: limitIdle}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", "1")
			return tandem.Errorf(tandem.ETOOMANY, "Too many requests from your address; wait a moment and try again.")
		},
	})
}
