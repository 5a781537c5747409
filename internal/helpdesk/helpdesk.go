// Package helpdesk pulls customer ratings from helpdesks on a schedule:
// Zendesk (legacy satisfaction ratings, good/bad, and CSAT survey
// responses, 1–5) and Freshdesk (satisfaction ratings, 103 to -103).
//
// A Syncer claims each due connector with a lease (store.ClaimHelpdeskConnector),
// reads its ratings page by page from where the last sync stopped, matches
// each to the roster — the agent's team on the day when the agent's email
// is on the roster, else the unit the helpdesk group is mapped to — and
// saves each page with its cursor in one transaction. A rating no one can
// be matched to, or dated outside the agent's employment, is set aside and
// listed; it never holds back the rest. Checking and attributing a rating
// is the ratings package's, as for the API and the CSV import, so a sync
// and an import of the same ratings store the same rows.
//
// Every wait (a 429's Retry-After, backoff after a 5xx) goes through the
// Syncer's Sleep, and every time through its Now, so tests run without
// waiting. Credentials are sealed at rest with the key in TANDEM_SECRET_KEY
// (Keyring); without it no connector is created or synced.
package helpdesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Helpdesk kinds.
const (
	Zendesk   = "zendesk"
	Freshdesk = "freshdesk"
)

// Which Zendesk CSAT a connector reads (its Options).
const (
	ZendeskLegacy    = "legacy"    // satisfaction ratings, good or bad
	ZendeskResponses = "responses" // CSAT survey responses, 1–5
	ZendeskBoth      = "both"
)

// Defaults of a new connector.
const (
	DefaultEvery    = time.Hour
	DefaultLookback = 7 // days
	// MaxLookback is the longest lookback a connector may set, and what
	// every pass of Zendesk's legacy ratings re-reads whatever the
	// setting: Zendesk lets a customer change a rating until the ticket
	// is closed, at most 28 days after it is solved.
	MaxLookback = 28
	// MaxEditWindow bounds how far back a rating the helpdesk says is
	// still open for changes keeps the next pass (a wrong expires_at must
	// not pin the cursor for good).
	MaxEditWindow = 90 // days
)

// Credentials are what a helpdesk's API takes: Zendesk an agent's email and
// an API token; Freshdesk an API key (in Token).
type Credentials struct {
	Email string `json:"email,omitempty"`
	Token string `json:"token"`
}

// Rating is one rating as a helpdesk gave it, before it is attributed.
type Rating struct {
	// ID is the helpdesk's id of the rating: the external id it is stored
	// under.
	ID string
	// Created is when the helpdesk created the rating (Zendesk: when the
	// survey was offered), which is what its filters go by.
	Created time.Time
	// RatedAt is when the current score was given, as the helpdesk wrote
	// it (RFC 3339); changing the score changes it.
	RatedAt string
	// Score is the score as given: good or bad (Zendesk), 1–5 (Zendesk
	// survey responses), 103 to -103 (Freshdesk).
	Score string
	// EditableUntil is when the customer can no longer change the rating
	// (Zendesk survey responses' expires_at); zero when the helpdesk does
	// not say. Until then every sync reads it again, however far back (at
	// most MaxEditWindow days).
	EditableUntil time.Time
	// Unrated marks a survey sent but not answered: skipped, not set
	// aside.
	Unrated bool
	// AgentID and GroupID are the helpdesk's ids ("" for none).
	AgentID, GroupID string
	Comment          string
	// Problem says why the rating cannot be read as it is (it is set
	// aside with this reason).
	Problem string
}

// page is one page of ratings from a helpdesk.
type page struct {
	Ratings []Rating
	// Next is where the next page starts; "" after the last page.
	Next string
}

// stream reads one kind of rating of an account, page by page, from the
// ratings created at or after since. pos is where a page starts ("" the
// first).
type stream interface {
	name() string
	page(ctx context.Context, since time.Time, pos string) (page, error)
	// changeWindow is how many days after its creation a rating of
	// this stream may still change when the helpdesk says so nowhere in
	// the rating: every pass reads at least that far back (0: the
	// connector's lookback alone).
	changeWindow() int
}

// account is a helpdesk account's API.
type account interface {
	streams() []stream
	// agents returns the email of each of the agent ids it knows.
	agents(ctx context.Context, ids []string) (map[string]string, error)
	groups(ctx context.Context) ([]store.HelpdeskGroup, error)
	// vendor is the helpdesk's name, for messages.
	vendor() string
}

// Settings are what a person gives to set up a connector.
type Settings struct {
	Kind string
	Name string
	// Account is the helpdesk's address (https://acme.zendesk.com) or
	// its subdomain (acme).
	Account string
	// Source names the ratings in Tandem (default: the kind).
	Source      string
	Credentials Credentials
	// Zendesk: which CSAT to read (ZendeskLegacy, ZendeskResponses,
	// ZendeskBoth).
	ZendeskCSAT string
	Every       time.Duration
	Lookback    int
	StartAt     time.Time
	Active      bool
}

// BaseURL returns the API address of an account given as a subdomain or an
// address. Credentials go only over HTTPS, except to this machine.
func BaseURL(kind, account string) (string, error) {
	a := strings.TrimSpace(account)
	if a == "" {
		return "", tandem.FieldErrorf("account", "give the helpdesk's address, such as https://acme.%s.com, or its subdomain", kind)
	}
	if !strings.Contains(a, "://") {
		if strings.ContainsAny(a, "./:") {
			a = "https://" + a
		} else {
			a = fmt.Sprintf("https://%s.%s.com", a, kind)
		}
	}
	u, err := url.Parse(a)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", tandem.FieldErrorf("account", "%q is not a helpdesk address; give one such as https://acme.%s.com", account, kind)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return "", tandem.FieldErrorf("account", "%q is not HTTPS; Tandem sends the credentials only over HTTPS", account)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if strings.HasSuffix(u.Path, "/api/v2") {
		u.Path = strings.TrimSuffix(u.Path, "/api/v2")
	}
	return u.String(), nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Connector checks settings and builds the connector to store, its
// credentials sealed with keys. Without a key, or with credentials missing,
// nothing is built. Editing an existing connector, old is the stored one:
// empty credentials keep its own.
func Connector(set Settings, keys *Keyring, old *store.HelpdeskConnector) (store.HelpdeskConnector, error) {
	if keys == nil {
		return store.HelpdeskConnector{}, ErrNoKey
	}
	var c store.HelpdeskConnector
	if old != nil {
		c = *old
		set.Kind, set.Source = old.Kind, old.Source
	}
	if set.Kind != Zendesk && set.Kind != Freshdesk {
		return c, tandem.FieldErrorf("kind", "%q is not a helpdesk Tandem connects to; choose zendesk or freshdesk", set.Kind)
	}
	c.Kind = set.Kind
	c.Name = strings.TrimSpace(set.Name)
	if c.Name == "" {
		c.Name = vendorName(set.Kind)
	}
	base, err := BaseURL(set.Kind, set.Account)
	if err != nil {
		return c, err
	}
	c.BaseURL = base
	if old == nil {
		src := strings.ToLower(strings.TrimSpace(set.Source))
		if src == "" {
			src = set.Kind
		}
		if src != set.Kind && !strings.HasPrefix(src, set.Kind+"-") || len(src) > 100 || strings.ContainsAny(src, " \t\n") {
			return c, tandem.FieldErrorf("source", "the source must be %s, or start with %s- (such as %s-eu) to tell a second account apart", set.Kind, set.Kind, set.Kind)
		}
		c.Source = src
	}
	c.Options = ""
	if set.Kind == Zendesk {
		switch set.ZendeskCSAT {
		case "":
			c.Options = ZendeskLegacy
		case ZendeskLegacy, ZendeskResponses, ZendeskBoth:
			c.Options = set.ZendeskCSAT
		default:
			return c, tandem.FieldErrorf("zendesk_csat", "%q: choose legacy satisfaction ratings, CSAT survey responses, or both", set.ZendeskCSAT)
		}
	}
	cred := Credentials{Email: strings.TrimSpace(set.Credentials.Email), Token: strings.TrimSpace(set.Credentials.Token)}
	switch {
	case old != nil && cred.Token == "" && cred.Email == "":
		c.Secret = "" // the store keeps the stored credentials
	case set.Kind == Zendesk && (cred.Email == "" || !strings.Contains(cred.Email, "@")):
		return c, tandem.FieldErrorf("email", "give the email of the Zendesk admin whose API token Tandem uses")
	case cred.Token == "":
		if set.Kind == Zendesk {
			return c, tandem.FieldErrorf("token", "give a Zendesk API token (Admin Center, Apps and integrations, Zendesk API)")
		}
		return c, tandem.FieldErrorf("token", "give a Freshdesk API key (Profile settings, View API key)")
	default:
		plain, _ := json.Marshal(cred)
		if c.Secret, err = keys.Seal(plain, binding(c.Kind, c.Source)); err != nil {
			return c, err
		}
	}
	c.Every = set.Every
	if c.Every == 0 {
		c.Every = DefaultEvery
	}
	if c.Every < 5*time.Minute || c.Every > 7*24*time.Hour {
		return c, tandem.FieldErrorf("every", "sync every 5 minutes at the most often and every 7 days at the least")
	}
	c.Lookback = set.Lookback
	if c.Lookback < 0 || c.Lookback > MaxLookback {
		return c, tandem.FieldErrorf("lookback", "follow changed ratings for 0 to %d days", MaxLookback)
	}
	if set.StartAt.IsZero() {
		return c, tandem.FieldErrorf("start", "give the date from which to pull ratings")
	}
	c.StartAt = set.StartAt.UTC()
	c.Active = set.Active
	return c, nil
}

// binding ties sealed credentials to their connector.
func binding(kind, source string) string { return "tandem helpdesk credentials/" + kind + "/" + source }

func vendorName(kind string) string {
	switch kind {
	case Zendesk:
		return "Zendesk"
	case Freshdesk:
		return "Freshdesk"
	}
	return kind
}

// parseTime reads a helpdesk's RFC 3339 time; zero when it cannot.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// idString writes a JSON id (a number or a string) as text; "" for null.
func idString(v json.RawMessage) string {
	s := strings.TrimSpace(string(v))
	if s == "" || s == "null" {
		return ""
	}
	var str string
	if json.Unmarshal(v, &str) == nil {
		return str
	}
	return s
}
