// Package openid is Tandem's OpenID Connect client: the authorization code
// flow with PKCE against one identity provider (Microsoft Entra ID, Google
// Workspace, Okta, Keycloak, …), built on github.com/coreos/go-oidc and
// golang.org/x/oauth2. It turns a callback's code into a verified
// [sso.Identity]; who that person may be in Tandem is decided by sso.Resolve.
//
// The ID token's signature, issuer, audience and expiry are checked by
// go-oidc, on the caller's clock with [ClockSkew] of tolerance; the nonce,
// state and PKCE verifier are the caller's to keep and pass back.
package openid

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/sso"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// ClockSkew is how far this server's clock may be behind or ahead of the
// provider's: an ID token is accepted until ClockSkew after its expiry.
const ClockSkew = 2 * time.Minute

// Config is one identity provider.
type Config struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document says (https://login.microsoftonline.com/TENANT/v2.0,
	// https://accounts.google.com, https://ORG.okta.com,
	// https://HOST/realms/REALM).
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Tandem's callback, BASE_URL/login/sso/callback.
	RedirectURL string
	// Name is shown on the button: "Sign in with Name".
	Name string
	// GroupsClaim is the ID token claim that lists the person's groups
	// (default "groups"); EmailClaim the one with their address (default
	// "email").
	GroupsClaim string
	EmailClaim  string
	// Scopes are requested besides openid, email and profile (Okta's org
	// authorization server needs "groups" for its groups claim).
	Scopes []string
	// HTTPClient reaches the provider (default: 30 s timeout).
	HTTPClient *http.Client
}

// Client signs people in through one provider. Its discovery document is
// fetched on first use, and again on the next use if that failed, so that
// Tandem starts while the provider is unreachable.
type Client struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
}

// New checks cfg and returns a client. It does not reach the provider.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, tandem.Errorf(tandem.EINVALID, "--oidc-issuer %q is not an https:// URL (such as https://login.microsoftonline.com/TENANT/v2.0); "+
			"plain http is accepted only on this machine", cfg.Issuer)
	}
	if strings.TrimSpace(cfg.ClientID) == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "--oidc-client-id is empty: register Tandem with the identity provider and give its client id (TANDEM_OIDC_CLIENT_ID)")
	}
	if cfg.RedirectURL == "" {
		return nil, tandem.Errorf(tandem.EINVALID, "the OpenID Connect redirect URL is empty")
	}
	if cfg.Name == "" {
		cfg.Name = u.Hostname()
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.EmailClaim == "" {
		cfg.EmailClaim = "email"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{cfg: cfg}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Name is the provider's name for the sign-in button.
func (c *Client) Name() string { return c.cfg.Name }

// Issuer is the configured issuer URL.
func (c *Client) Issuer() string { return c.cfg.Issuer }

// GroupsClaim is the claim read for groups.
func (c *Client) GroupsClaim() string { return c.cfg.GroupsClaim }

// Discover fetches the provider's discovery document unless it has it.
func (c *Client) Discover(ctx context.Context) error {
	_, err := c.discover(ctx)
	return err
}

func (c *Client) discover(ctx context.Context) (*oidc.Provider, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.provider != nil {
		return c.provider, nil
	}
	// The provider keeps this context to fetch signing keys later, so it
	// must outlive the request that happened to discover it; the HTTP
	// client's timeout bounds each fetch.
	pctx := oidc.ClientContext(context.WithoutCancel(ctx), c.cfg.HTTPClient)
	p, err := oidc.NewProvider(pctx, c.cfg.Issuer)
	if err != nil {
		return nil, tandem.Errorf(tandem.EUNAVAILABLE, "the identity provider %s cannot be reached or did not describe itself (%v); try again in a minute, or sign in with a password if you are the break-glass admin", c.cfg.Name, err)
	}
	c.provider = p
	return p, nil
}

func (c *Client) oauth(p *oidc.Provider) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID, "email", "profile"}
	for _, s := range c.cfg.Scopes {
		if s = strings.TrimSpace(s); s != "" && !strings.Contains(strings.Join(scopes, " "), s) {
			scopes = append(scopes, s)
		}
	}
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: c.cfg.RedirectURL, Scopes: scopes}
}

// AuthCodeURL is where the browser goes to sign in: the provider's
// authorization endpoint with state, nonce and the PKCE challenge (S256)
// of verifier.
func (c *Client) AuthCodeURL(ctx context.Context, state, nonce, verifier string) (string, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return "", err
	}
	return c.oauth(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Refusal is a sign-in the provider's answer does not allow: the reason is
// written for the person, Detail for the log.
type Refusal struct {
	Reason string
	Detail error
}

func (r *Refusal) Error() string { return r.Reason + ": " + r.Detail.Error() }
func (r *Refusal) Unwrap() error { return r.Detail }

func refuse(detail error, format string, args ...any) *Refusal {
	return &Refusal{Reason: fmt.Sprintf(format, args...), Detail: detail}
}

// Exchange redeems code with the PKCE verifier, verifies the ID token on
// the clock now (signature, issuer, audience = client id, expiry with
// ClockSkew) and its nonce, and returns who signed in.
func (c *Client) Exchange(ctx context.Context, code, verifier, nonce string, now time.Time) (sso.Identity, error) {
	p, err := c.discover(ctx)
	if err != nil {
		return sso.Identity{}, err
	}
	ctx = oidc.ClientContext(ctx, c.cfg.HTTPClient)
	tok, err := c.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return sso.Identity{}, refuse(err, "%s did not accept this sign-in's code (it may have been used already, or the sign-in took too long)", c.cfg.Name)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return sso.Identity{}, refuse(errors.New("no id_token in the token response"), "%s sent no ID token; check that the openid scope is allowed for this application", c.cfg.Name)
	}
	v := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: func() time.Time { return now.Add(-ClockSkew) }})
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		var expired *oidc.TokenExpiredError
		switch {
		case errors.As(err, &expired):
			return sso.Identity{}, refuse(err, "the ID token from %s expired at %s; if this server's clock is wrong, correct it", c.cfg.Name, expired.Expiry.UTC().Format(time.RFC3339))
		case strings.Contains(err.Error(), "audience"):
			return sso.Identity{}, refuse(err, "the ID token from %s was issued for another application, not for Tandem's client id", c.cfg.Name)
		case strings.Contains(err.Error(), "different provider"):
			return sso.Identity{}, refuse(err, "the ID token did not come from the configured issuer %s", c.cfg.Issuer)
		}
		return sso.Identity{}, refuse(err, "the ID token from %s could not be verified", c.cfg.Name)
	}
	if idt.Nonce == "" || !auth.Equal(idt.Nonce, nonce) {
		return sso.Identity{}, refuse(errors.New("nonce mismatch"), "the ID token from %s belongs to another sign-in", c.cfg.Name)
	}
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		return sso.Identity{}, refuse(err, "the ID token from %s could not be read", c.cfg.Name)
	}
	id := sso.Identity{Issuer: idt.Issuer, Subject: idt.Subject, EmailVerified: true}
	id.Email = tandem.NormalizeEmail(stringClaim(claims, c.cfg.EmailClaim))
	if id.Email == "" {
		// Some providers put the address only in the userinfo answer.
		if ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil && ui.Subject == idt.Subject {
			var uc map[string]json.RawMessage
			if ui.Claims(&uc) == nil {
				id.Email = tandem.NormalizeEmail(stringClaim(uc, c.cfg.EmailClaim))
				if b, ok := boolClaim(uc, "email_verified"); ok && c.cfg.EmailClaim == "email" {
					id.EmailVerified = b
				}
			}
		}
	} else if b, ok := boolClaim(claims, "email_verified"); ok && c.cfg.EmailClaim == "email" {
		id.EmailVerified = b
	}
	// Entra ID sends no email_verified; its optional claim xms_edov says
	// whether the domain of the address is verified by its owner. Without
	// it, an address is one whoever runs the account could have set.
	if b, ok := boolClaim(claims, "xms_edov"); ok && !b {
		id.EmailVerified = false
	}
	if id.Email == "" || tandem.ValidateEmail(id.Email) != nil {
		return sso.Identity{}, refuse(fmt.Errorf("claim %q is %q", c.cfg.EmailClaim, id.Email),
			"%s sent no email address in the %q claim; an admin must allow the email scope or set --oidc-email-claim", c.cfg.Name, c.cfg.EmailClaim)
	}
	id.Name = stringClaim(claims, "name")
	if _, ok := claims["_claim_names"]; ok && claims[c.cfg.GroupsClaim] == nil {
		var names map[string]string
		if json.Unmarshal(claims["_claim_names"], &names) == nil && names[c.cfg.GroupsClaim] != "" {
			return sso.Identity{}, refuse(errors.New("groups overage"), "you belong to too many groups for %s to list them in the ID token; an admin must send only the groups assigned to Tandem's application", c.cfg.Name)
		}
	}
	groups, err := groupsClaim(claims[c.cfg.GroupsClaim])
	if err != nil {
		return sso.Identity{}, refuse(err, "the %q claim from %s is neither a list nor a text", c.cfg.GroupsClaim, c.cfg.Name)
	}
	id.Groups = groups
	return id, nil
}

func stringClaim(claims map[string]json.RawMessage, name string) string {
	var s string
	if raw, ok := claims[name]; ok && json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	return ""
}

// boolClaim reads a boolean claim; some providers send "true" as a string.
func boolClaim(claims map[string]json.RawMessage, name string) (bool, bool) {
	raw, ok := claims[name]
	if !ok {
		return false, false
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b, true
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.EqualFold(s, "true"), true
	}
	return false, false
}

// groupsClaim reads a list of group names or ids, or a single one.
func groupsClaim(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	return []string{one}, nil
}
