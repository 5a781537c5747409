package main

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/tandem-hq/tandem/internal/memlimit"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func parseServe(t *testing.T, args ...string) *serveConfig {
	t.Helper()
	var cfg serveConfig
	fs := newFlags("serve", "test")
	fs.SetOutput(io.Discard)
	cfg.register(fs, "tandem.db")
	if err := fs.parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return &cfg
}

func TestServeRefusesSignInSettingsThatLockEveryoneOut(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // part of the error; "" for none
	}{
		{[]string{"--oidc-issuer", "https://login.microsoftonline.com/tenant/v2.0", "--oidc-client-id", "c", "--passwords=false", "--break-glass-admin", "Root@Example.com"}, ""},
		{[]string{"--passwords=false"}, "needs single sign-on"},
		{[]string{"--oidc-client-id", "c"}, "--oidc-issuer is empty"},
		{[]string{"--oidc-issuer", "https://idp.example.com", "--oidc-client-id", "c", "--break-glass-admin", "root@"}, "--break-glass-admin"},
	} {
		cfg, err := parseServe(t, tc.args...).web()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v, want it accepted", tc.args, err)
		case tc.want != "" && (err == nil || tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: %v, want an invalid-input error containing %q", tc.args, err, tc.want)
		case tc.want == "" && (cfg.OIDC == nil || !cfg.PasswordsOff || cfg.BreakGlassAdmin != "Root@Example.com"):
			t.Errorf("%q: config %+v, want single sign-on with passwords off but for the break-glass admin", tc.args, cfg)
		}
	}
}

func TestServeRefusesATeamsChannelWebhook(t *testing.T) {
	cfg := parseServe(t, "--teams-workflow-url", "https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d")
	if _, err := cfg.senders(slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil || !strings.Contains(err.Error(), "channel") {
		t.Errorf("senders with a channel webhook as the Teams flow: %v, want a refusal that names the channel", err)
	}
}

func TestTheProgramFormOffersTeamsOnlyWithTheWorkflowURL(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "email log"},
		{[]string{"--teams-workflow-url", "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=s"}, "email log teams"},
		{[]string{"--webhook-url", "https://hooks.slack.com/services/T/B/x"}, "email log webhook"},
	} {
		senders, err := parseServe(t, tc.args...).senders(log)
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		if got := strings.Join(channels(senders), " "); got != tc.want {
			t.Errorf("%q: channels %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestEveryServeFlagIsInTheREADMETableWithItsVariable: the README's table of
// settings names each flag of `tandem serve` with its environment variable.
func TestEveryServeFlagIsInTheREADMETableWithItsVariable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "| `--") {
			rows = append(rows, line)
		}
	}
	fs := newFlags("serve", "test")
	new(serveConfig).register(fs, "tandem.db")
	envRe := regexp.MustCompile(`\(\$(TANDEM_[A-Z0-9_]+)\)$`)
	fs.VisitAll(func(f *flag.Flag) {
		m := envRe.FindStringSubmatch(f.Usage)
		if m == nil {
			t.Errorf("--%s names no TANDEM_ variable in its usage", f.Name)
			return
		}
		for _, r := range rows {
			if strings.Contains(r, "`--"+f.Name+"`") && strings.Contains(r, "`"+m[1]+"`") {
				return
			}
		}
		t.Errorf("README's settings table has no row with `--%s` and `%s`", f.Name, m[1])
	})
}

func TestOIDCSettingsFallBackToTheirEnvironmentVariables(t *testing.T) {
	t.Setenv("TANDEM_OIDC_ISSUER", "https://idp.example.com/realms/acme")
	t.Setenv("TANDEM_OIDC_CLIENT_ID", "tandem")
	t.Setenv("TANDEM_OIDC_CLIENT_SECRET", "s3cret")
	t.Setenv("TANDEM_OIDC_NAME", "Acme SSO")
	t.Setenv("TANDEM_OIDC_GROUPS_CLAIM", "roles")
	t.Setenv("TANDEM_OIDC_EMAIL_CLAIM", "preferred_username")
	t.Setenv("TANDEM_OIDC_SCOPES", "groups offline_access")
	t.Setenv("TANDEM_PASSWORDS", "false")
	t.Setenv("TANDEM_BREAK_GLASS_ADMIN", "root@example.com")
	cfg, err := parseServe(t).web()
	if err != nil {
		t.Fatal(err)
	}
	o := cfg.OIDC
	if o == nil || o.Issuer != "https://idp.example.com/realms/acme" || o.ClientID != "tandem" || o.ClientSecret != "s3cret" || o.Name != "Acme SSO" ||
		o.GroupsClaim != "roles" || o.EmailClaim != "preferred_username" || strings.Join(o.Scopes, " ") != "groups offline_access" ||
		!cfg.PasswordsOff || cfg.BreakGlassAdmin != "root@example.com" {
		t.Errorf("config from the environment: %+v, OIDC %+v", cfg, o)
	}
}

// --memory-limit takes GOMEMLIMIT's sizes and sets the runtime's soft
// limit; anything else, or too little to serve reports, is refused with
// the flag named.
func TestMemoryLimitTakesGOMEMLIMITSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: refused
	}{
		{"100MiB", 100 << 20}, {"1GiB", 1 << 30}, {" 64 MiB ", 64 << 20}, {"2TiB", 2 << 40},
		{"40000KiB", 40000 << 10}, {"134217728", 1 << 27}, {"134217728B", 1 << 27},
		{"100MB", 0}, {"1.5GiB", 0}, {"-100MiB", 0}, {"lots", 0}, {"", 0}, {"16MiB", 0}, {"9999999999TiB", 0},
	} {
		got, err := parseMemoryLimit(tc.in)
		switch {
		case tc.want == 0 && (err == nil || tandem.ErrorCode(err) != tandem.EINVALID || !strings.Contains(err.Error(), "--memory-limit")):
			t.Errorf("%q: %d, %v; want an invalid-input error naming --memory-limit", tc.in, got, err)
		case tc.want != 0 && (err != nil || got != tc.want):
			t.Errorf("%q: %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if f, err := parseServe(t, "--memory-limit", "96MiB").applyMemoryLimit(log); err != nil || f != nil {
		t.Fatalf("--memory-limit 96MiB: follower %v, %v; want the limit set once", f, err)
	}
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Errorf("after --memory-limit 96MiB the runtime's limit is %d, want %d", got, 96<<20)
	}
	debug.SetMemoryLimit(before)
	for _, args := range [][]string{{"--memory-limit", "off"}, {"--memory-limit", "OFF"}} {
		if f, err := parseServe(t, args...).applyMemoryLimit(log); err != nil || f != nil || debug.SetMemoryLimit(-1) != before {
			t.Errorf("%v: follower %v, %v, or the runtime's limit moved; want no limit set", args, f, err)
		}
	}
}

// Without --memory-limit the server follows what it keeps (memlimit's
// default rule), unless GOMEMLIMIT is set: then the runtime's limit is
// the operator's, and left alone.
func TestMemoryLimitFollowsTheServerUnlessGOMEMLIMITIsSet(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, args := range [][]string{nil, {"--memory-limit", "auto"}, {"--memory-limit", " Auto "}} {
		t.Setenv("GOMEMLIMIT", "")
		f, err := parseServe(t, args...).applyMemoryLimit(log)
		if err != nil || f == nil || f.Rule != memlimit.Default {
			t.Errorf("%v: follower %+v, %v; want one with the default rule", args, f, err)
		}
	}
	t.Setenv("GOMEMLIMIT", "200MiB")
	if f, err := parseServe(t).applyMemoryLimit(log); err != nil || f != nil {
		t.Errorf("with GOMEMLIMIT set: follower %+v, %v; want none", f, err)
	}
}
