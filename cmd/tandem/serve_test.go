package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"

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
