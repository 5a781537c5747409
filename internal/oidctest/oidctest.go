// Package oidctest runs a real OpenID provider on 127.0.0.1 for tests: the
// certified OP of github.com/zitadel/oidc (pkg/op), with an in-memory store
// of one confidential client and a few people, and a sign-in page where a
// person types their user name (no password). Discovery, the authorization
// endpoint, PKCE and client-secret checks at the token endpoint, signed ID
// tokens, JWKS and userinfo are zitadel's; this package only stores.
//
// A test can make the provider misbehave the way a relying party must
// survive: ID tokens for another audience, with another sign-in's nonce, or
// with a short lifetime.
package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person known to the provider. They sign in by typing Login.
type User struct {
	Login   string
	Subject string
	Email   string
	// EmailUnverified makes email_verified false in the ID token (it is
	// true otherwise).
	EmailUnverified bool
	Name            string
	Groups          []string
	// GroupsOverage sends no groups but a distributed-claims reference to
	// them, as Entra ID does for a person in more than 200 groups.
	GroupsOverage bool
	// NoEmailVerified sends no email_verified claim at all, as Entra ID.
	NoEmailVerified bool
	// Claims are further claims of the ID token (such as Entra ID's
	// xms_edov).
	Claims map[string]any
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's URL (http://127.0.0.1:PORT).
	Issuer       string
	ClientID     string
	ClientSecret string

	server *httptest.Server
	op     *op.Provider
	key    *rsa.PrivateKey
	keyID  string

	mu        sync.Mutex
	users     map[string]User
	redirects []string
	requests  map[string]*authRequest
	codes     map[string]string
	tokens    map[string]string // access token id → subject
	alias     string
	nonce     string
	lifetime  time.Duration
	logins    int
	exchanges int
}

// signingKeyOnce is the RSA key every provider of a test binary signs
// with, each under its own key id: generating a 2,048-bit key costs about
// a tenth of a second of CPU, which a provider per test paid again and
// again. No test here trusts one provider's tokens at another.
var signingKeyOnce = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

// New starts a provider with one client (ClientID "tandem") that closes
// when the test ends.
func New(t testing.TB) *Provider {
	t.Helper()
	key, err := signingKeyOnce()
	if err != nil {
		t.Fatal(err)
	}
	p := &Provider{ClientID: "tandem", ClientSecret: rand.Text(), key: key, keyID: rand.Text()[:8],
		users: map[string]User{}, requests: map[string]*authRequest{}, codes: map[string]string{}, tokens: map[string]string{},
		lifetime: 5 * time.Minute}
	p.server = httptest.NewUnstartedServer(nil)
	p.Issuer = "http://" + p.server.Listener.Addr().String()
	cfg := &op.Config{CryptoKey: sha256.Sum256([]byte(p.ClientSecret)), CodeMethodS256: true, AuthMethodPost: true}
	p.op, err = op.NewOpenIDProvider(p.Issuer, cfg, p, op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("start OpenID provider: %v", err)
	}
	mux := http.NewServeMux()
	login := op.NewIssuerInterceptor(p.op.IssuerFromRequest).HandlerFunc(p.login)
	mux.HandleFunc("/signin", login)
	// Browsers ask every site for its icon.
	mux.HandleFunc("/favicon.ico", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.Handle("/", p.op)
	p.server.Config.Handler = mux
	p.server.Start()
	t.Cleanup(p.server.Close)
	return p
}

// AddUser makes a person known (or replaces them, by Login).
func (p *Provider) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.users[u.Login] = u
}

// SetGroups changes a person's groups, as an identity admin would.
func (p *Provider) SetGroups(login string, groups ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[login]
	u.Groups = groups
	p.users[login] = u
}

// AllowRedirect registers a redirect URI of the client.
func (p *Provider) AllowRedirect(uri string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.redirects = append(p.redirects, uri)
}

// IssueForAudience makes the provider mix up its clients: from the next
// authorization request on it takes the client for another application,
// aud, and its ID tokens name aud, not the client, as their audience and
// authorized party ("" restores the client).
func (p *Provider) IssueForAudience(aud string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alias = aud
}

// IssueWithNonce makes the provider answer with a replayed token: from the
// next authorization request on, its ID tokens carry nonce instead of the
// one the relying party sent ("" restores the relying party's).
func (p *Provider) IssueWithNonce(nonce string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.nonce = nonce
}

// SetIDTokenLifetime sets how long later ID tokens are valid (default 5m).
func (p *Provider) SetIDTokenLifetime(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lifetime = d
}

// Exchanges counts codes redeemed at the token endpoint.
func (p *Provider) Exchanges() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exchanges
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test identity provider</title></head>
<body><h1>Test identity provider</h1>{{with .Error}}<p id="error">{{.}}</p>{{end}}
<form method="post" action="/signin">
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">User name</label> <input id="username" name="username" autofocus>
<button id="signin" type="submit">Sign in</button>
</form></body></html>`))

// login is the provider's own sign-in page: the person types a user name,
// the auth request is marked done, and the browser goes on to the OP's
// callback, which issues the code.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	p.mu.Lock()
	req := p.requests[id]
	p.mu.Unlock()
	if req == nil {
		http.Error(w, "unknown auth request", http.StatusBadRequest)
		return
	}
	if r.Method == http.MethodGet {
		loginPage.Execute(w, map[string]string{"ID": id})
		return
	}
	p.mu.Lock()
	u, ok := p.users[r.FormValue("username")]
	if ok {
		req.subject, req.authTime, req.done = u.Subject, time.Now(), true
		p.logins++
	}
	p.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		loginPage.Execute(w, map[string]string{"ID": id, "Error": "unknown user"})
		return
	}
	http.Redirect(w, r, op.AuthCallbackURL(p.op)(r.Context(), id), http.StatusFound)
}

// authRequest is one authorization request, from /authorize to the code's
// redemption.
type authRequest struct {
	id       string
	req      oidc.AuthRequest
	clientID string
	subject  string
	authTime time.Time
	done     bool
}

func (a *authRequest) GetID() string                      { return a.id }
func (a *authRequest) GetACR() string                     { return "" }
func (a *authRequest) GetAMR() []string                   { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string              { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.authTime }
func (a *authRequest) GetClientID() string                { return a.clientID }
func (a *authRequest) GetNonce() string                   { return a.req.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.req.Scopes }
func (a *authRequest) GetState() string                   { return a.req.State }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}

// The op.Storage interface.

func (p *Provider) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := &authRequest{id: rand.Text(), req: *req, clientID: req.ClientID}
	if p.alias != "" {
		a.clientID = p.alias
	}
	if p.nonce != "" {
		a.req.Nonce = p.nonce
	}
	p.requests[a.id] = a
	return a, nil
}

func (p *Provider) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a := p.requests[id]; a != nil {
		return a, nil
	}
	return nil, errors.New("auth request not found")
}

func (p *Provider) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	p.mu.Lock()
	id, ok := p.codes[code]
	if ok {
		p.exchanges++
	}
	p.mu.Unlock()
	if !ok {
		return nil, errors.New("code invalid or used")
	}
	return p.AuthRequestByID(ctx, id)
}

func (p *Provider) SaveAuthCode(_ context.Context, id, code string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.codes[code] = id
	return nil
}

func (p *Provider) DeleteAuthRequest(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.requests, id)
	for code, rid := range p.codes {
		if rid == id {
			delete(p.codes, code)
		}
	}
	return nil
}

func (p *Provider) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := rand.Text()
	p.tokens[id] = req.GetSubject()
	return id, time.Now().Add(5 * time.Minute), nil
}

func (p *Provider) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errors.New("no refresh tokens")
}

func (p *Provider) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, errors.New("no refresh tokens")
}

func (p *Provider) TerminateSession(context.Context, string, string) error { return nil }

func (p *Provider) RevokeToken(context.Context, string, string, string) *oidc.Error { return nil }

func (p *Provider) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k publicKey) Use() string                        { return "sig" }
func (k publicKey) Key() any                           { return &k.key.PublicKey }

func (p *Provider) SigningKey(context.Context) (op.SigningKey, error) {
	return signingKey{p.keyID, p.key}, nil
}

func (p *Provider) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (p *Provider) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{signingKey{p.keyID, p.key}}}, nil
}

func (p *Provider) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if id != p.ClientID && (p.alias == "" || id != p.alias) {
		return nil, fmt.Errorf("no client %q", id)
	}
	if p.alias != "" {
		id = p.alias
	}
	return &client{id: id, redirects: slices.Clone(p.redirects), lifetime: p.lifetime}, nil
}

func (p *Provider) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	if id != p.ClientID || secret != p.ClientSecret {
		return errors.New("wrong client id or secret")
	}
	return nil
}

func (p *Provider) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest puts the person's claims into the ID token.
func (p *Provider) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return p.userinfo(info, req.GetSubject(), scopes)
}

func (p *Provider) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	p.mu.Lock()
	sub, ok := p.tokens[tokenID]
	p.mu.Unlock()
	if !ok || sub != subject {
		return errors.New("token not found")
	}
	return p.userinfo(info, subject, []string{oidc.ScopeEmail, oidc.ScopeProfile})
}

func (p *Provider) userinfo(info *oidc.UserInfo, subject string, scopes []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if u.Subject != subject {
			continue
		}
		info.Subject = u.Subject
		if slices.Contains(scopes, oidc.ScopeEmail) {
			info.Email = u.Email
			switch {
			case u.NoEmailVerified:
			case u.EmailUnverified:
				info.AppendClaims("email_verified", false)
			default:
				info.EmailVerified = true
			}
		}
		if slices.Contains(scopes, oidc.ScopeProfile) {
			info.Name = u.Name
		}
		for k, v := range u.Claims {
			info.AppendClaims(k, v)
		}
		if u.GroupsOverage {
			info.AppendClaims("_claim_names", map[string]string{"groups": "src1"})
			info.AppendClaims("_claim_sources", map[string]any{"src1": map[string]string{"endpoint": p.Issuer + "/groups/" + u.Subject}})
		} else if u.Groups != nil {
			info.AppendClaims("groups", slices.Clone(u.Groups))
		}
		return nil
	}
	return fmt.Errorf("no user %q", subject)
}

func (p *Provider) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errors.New("no introspection")
}

func (p *Provider) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (p *Provider) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("no client keys")
}

func (p *Provider) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("no JWT profile")
}

func (p *Provider) Health(context.Context) error { return nil }

// client is the one confidential web client.
type client struct {
	id        string
	redirects []string
	lifetime  time.Duration
}

func (c *client) GetID() string                       { return c.id }
func (c *client) RedirectURIs() []string              { return c.redirects }
func (c *client) PostLogoutRedirectURIs() []string    { return nil }
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }
func (c *client) AuthMethod() oidc.AuthMethod         { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType         { return []oidc.GrantType{oidc.GrantTypeCode} }
func (c *client) LoginURL(id string) string            { return "/signin?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration       { return c.lifetime }
func (c *client) DevMode() bool                        { return false }
func (c *client) IsScopeAllowed(string) bool           { return true }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

// SignIn plays a browser at the provider: it opens authURL (the provider's
// authorization endpoint with the relying party's parameters), signs in as
// login on the sign-in page, and follows the provider's redirects until one
// leaves the provider. It returns that address: the relying party's
// callback with code and state, or with an error.
func (p *Provider) SignIn(authURL, login string) (*url.URL, error) {
	// A transport of its own: httptest.Server.Close closes the idle
	// connections of http.DefaultTransport, so a test server closing in a
	// parallel test could break a request of this one ("connection
	// broken: CloseIdleConnections called").
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 30 * time.Second}
	next, err := url.Parse(authURL)
	if err != nil {
		return nil, err
	}
	posted := false
	for range 10 {
		if !strings.HasPrefix(next.String(), p.Issuer+"/") {
			return next, nil
		}
		var res *http.Response
		if next.Path == "/signin" && !posted {
			posted = true
			res, err = c.PostForm(p.Issuer+"/signin", url.Values{"id": {next.Query().Get("id")}, "username": {login}})
		} else {
			res, err = c.Get(next.String())
		}
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		loc, err := res.Location()
		if err != nil {
			return nil, fmt.Errorf("provider answered %s at %s with no redirect: %s", res.Status, next.Path, body)
		}
		next = loc
	}
	return nil, errors.New("too many redirects at the provider")
}
