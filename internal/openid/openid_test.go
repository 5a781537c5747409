package openid_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tandem-hq/tandem/internal/oidctest"
	"github.com/tandem-hq/tandem/internal/openid"
)

const redirect = "http://127.0.0.1:1/login/sso/callback"

func newClient(t *testing.T, p *oidctest.Provider) *openid.Client {
	t.Helper()
	p.AllowRedirect(redirect)
	c, err := openid.New(openid.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirect, Name: "Test IdP"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn runs the flow up to the callback and returns its code.
func signIn(t *testing.T, p *oidctest.Provider, c *openid.Client, login, state, nonce, verifier string) string {
	t.Helper()
	u, err := c.AuthCodeURL(context.Background(), state, nonce, verifier)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := p.SignIn(u, login)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cb.String(), redirect+"?") || cb.Query().Get("state") != state || cb.Query().Get("code") == "" {
		t.Fatalf("provider sent the browser to %s, want %s with a code and state %s", cb, redirect, state)
	}
	return cb.Query().Get("code")
}

func TestExchangeReturnsTheVerifiedIdentity(t *testing.T) {
	p := oidctest.New(t)
	p.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "Ana@Example.com", Name: "Ana Silva", Groups: []string{"tandem-hr", "staff"}})
	c := newClient(t, p)
	v := oauth2.GenerateVerifier()
	code := signIn(t, p, c, "ana", "state-1", "nonce-1", v)
	// The provider double stamps its ID tokens with the machine's clock,
	// so the exchanges here check them against it too.
	id, err := c.Exchange(context.Background(), code, v, "nonce-1", time.Now())
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if id.Issuer != p.Issuer || id.Subject != "sub-ana" || id.Email != "ana@example.com" || !id.EmailVerified ||
		id.Name != "Ana Silva" || !slices.Equal(id.Groups, []string{"tandem-hr", "staff"}) {
		t.Errorf("identity = %+v, want ana's, verified, with her two groups", id)
	}
}

func TestExchangeRefusesTheWrongPKCEVerifier(t *testing.T) {
	p := oidctest.New(t)
	p.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana@example.com"})
	c := newClient(t, p)
	code := signIn(t, p, c, "ana", "s", "n", oauth2.GenerateVerifier())
	_, err := c.Exchange(context.Background(), code, oauth2.GenerateVerifier(), "n", time.Now())
	var r *openid.Refusal
	if !errors.As(err, &r) || !strings.Contains(r.Reason, "did not accept this sign-in's code") {
		t.Fatalf("Exchange with another verifier: %v, want the provider to refuse the code", err)
	}
}

func TestExchangeReportsAnUnverifiedAddress(t *testing.T) {
	p := oidctest.New(t)
	p.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana@example.com", EmailUnverified: true})
	c := newClient(t, p)
	v := oauth2.GenerateVerifier()
	id, err := c.Exchange(context.Background(), signIn(t, p, c, "ana", "s", "n", v), v, "n", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if id.EmailVerified {
		t.Errorf("EmailVerified = true, want false: the provider said email_verified false")
	}
}

func TestExchangeRefusesWhenTheGroupsDoNotFitTheToken(t *testing.T) {
	p := oidctest.New(t)
	p.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana@example.com", GroupsOverage: true})
	c := newClient(t, p)
	v := oauth2.GenerateVerifier()
	_, err := c.Exchange(context.Background(), signIn(t, p, c, "ana", "s", "n", v), v, "n", time.Now())
	var r *openid.Refusal
	if !errors.As(err, &r) || !strings.Contains(r.Reason, "too many groups") {
		t.Fatalf("Exchange with a groups overage: %v, want a refusal that says there are too many groups", err)
	}
}

func TestNewRefusesAPlainHTTPIssuerElsewhere(t *testing.T) {
	for _, iss := range []string{"http://idp.example.com", "idp.example.com", ""} {
		if _, err := openid.New(openid.Config{Issuer: iss, ClientID: "x", RedirectURL: redirect}); err == nil {
			t.Errorf("New(issuer %q) accepted, want an error", iss)
		}
	}
	if _, err := openid.New(openid.Config{Issuer: "https://idp.example.com", RedirectURL: redirect}); err == nil {
		t.Error("New without a client id accepted, want an error")
	}
}

func TestExchangeReadsEntraIDsDomainOwnerVerifiedClaim(t *testing.T) {
	// Entra ID sends no email_verified. Its optional claim xms_edov says
	// whether the address's domain is verified by its owner; an address
	// at a domain nobody verified can be set by whoever runs the account.
	for _, tc := range []struct {
		name   string
		claims map[string]any
		want   bool
	}{
		{"no xms_edov: verified, as before", nil, true},
		{"xms_edov true", map[string]any{"xms_edov": true}, true},
		{"xms_edov false", map[string]any{"xms_edov": false}, false},
		{"xms_edov as text", map[string]any{"xms_edov": "false"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := oidctest.New(t)
			p.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana@example.com", NoEmailVerified: true, Claims: tc.claims})
			c := newClient(t, p)
			v := oauth2.GenerateVerifier()
			id, err := c.Exchange(context.Background(), signIn(t, p, c, "ana", "s", "n", v), v, "n", time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if id.EmailVerified != tc.want {
				t.Errorf("EmailVerified = %v, want %v", id.EmailVerified, tc.want)
			}
		})
	}
}

// TestExchangeReadsTheConfiguredGroupsAndEmailClaims: with
// --oidc-groups-claim and --oidc-email-claim set, those claims are read
// and the defaults ignored; email_verified speaks of the email claim only,
// so it does not judge another claim's address.
func TestExchangeReadsTheConfiguredGroupsAndEmailClaims(t *testing.T) {
	p := oidctest.New(t)
	p.AddUser(oidctest.User{Login: "ana", Subject: "sub-ana", Email: "ana.home@mail.example", EmailUnverified: true, Groups: []string{"not-these"},
		Claims: map[string]any{"preferred_username": "Ana@Corp.example", "tandem_groups": []string{"5F3C1B0E-7A52-4C1A-9D7E-0B8E6F2A1C44"}}})
	p.AllowRedirect(redirect)
	c, err := openid.New(openid.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret, RedirectURL: redirect,
		GroupsClaim: "tandem_groups", EmailClaim: "preferred_username"})
	if err != nil {
		t.Fatal(err)
	}
	v := oauth2.GenerateVerifier()
	id, err := c.Exchange(context.Background(), signIn(t, p, c, "ana", "s", "n", v), v, "n", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if id.Email != "ana@corp.example" || !id.EmailVerified || !slices.Equal(id.Groups, []string{"5F3C1B0E-7A52-4C1A-9D7E-0B8E6F2A1C44"}) {
		t.Errorf("identity = %+v, want ana@corp.example from preferred_username and the one group of tandem_groups", id)
	}
}

// TestAnIssuerThatIsNotTheProvidersOwnIsRefused: the issuer must be the
// one the discovery document names, character for character, so that ID
// tokens are checked against the right one.
func TestAnIssuerThatIsNotTheProvidersOwnIsRefused(t *testing.T) {
	p := oidctest.New(t)
	c, err := openid.New(openid.Config{Issuer: p.Issuer + "/", ClientID: p.ClientID, RedirectURL: redirect})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.AuthCodeURL(context.Background(), "s", "n", oauth2.GenerateVerifier()); err == nil || !strings.Contains(err.Error(), "did not match") {
		t.Errorf("AuthCodeURL with the issuer %s/ (the provider's is %s): %v, want a refusal saying the issuers do not match", p.Issuer, p.Issuer, err)
	}
}
