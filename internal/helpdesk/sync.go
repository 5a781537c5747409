package helpdesk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Syncer pulls the ratings of due connectors. Several replicas may each
// run one: a connector is synced by the replica holding its lease, and a
// page is saved only under that lease.
type Syncer struct {
	store *store.Store
	keys  *Keyring
	log   *slog.Logger

	// Owner names this replica in leases (default a random name).
	Owner string
	// Lease is how long a sync holds its connector without saving a page
	// (default 5 minutes); each page saved renews it.
	Lease time.Duration
	// Now is the clock (default time.Now); Sleep waits a helpdesk's
	// Retry-After or a backoff (default a timer). Tests replace both.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// HTTP sends the requests (default a client with a 60-second
	// timeout).
	HTTP  *http.Client
	Retry Retry

	wake chan struct{}
}

// NewSyncer returns a Syncer over st. keys may be nil: then every
// connector's sync fails with ErrNoKey, which its page shows.
func NewSyncer(st *store.Store, keys *Keyring, log *slog.Logger) *Syncer {
	return &Syncer{store: st, keys: keys, log: log, Owner: "replica-" + tandemRandom(), Lease: 5 * time.Minute,
		Now: time.Now, Sleep: sleepContext, HTTP: &http.Client{Timeout: 60 * time.Second}, wake: make(chan struct{}, 1)}
}

// Keyring returns the key the Syncer seals credentials with (nil: none).
func (s *Syncer) Keyring() *Keyring { return s.keys }

// Wake asks Run to look for due connectors now (after "sync now").
func (s *Syncer) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run syncs due connectors whenever woken, until ctx ends. The schedule
// calls RunDue on the leader every minute; Run serves "sync now" on
// whichever replica took the click.
func (s *Syncer) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
			if err := s.RunDue(ctx, s.Now()); err != nil && ctx.Err() == nil {
				s.log.Error("helpdesk sync", "err", err)
			}
		}
	}
}

// RunDue syncs each connector due at now that this replica can claim, one
// after the other. A connector's failure is recorded on it and does not
// stop the others.
func (s *Syncer) RunDue(ctx context.Context, now time.Time) error {
	ids, err := s.store.DueHelpdeskConnectors(ctx, now)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		c, ok, err := s.store.ClaimHelpdeskConnector(ctx, id, s.Owner, s.Now(), s.Lease)
		if err != nil {
			return err
		}
		if !ok {
			continue // another replica got it first
		}
		counts, err := s.sync(ctx, c)
		msg := ""
		if err != nil {
			msg = Message(err)
			if errors.Is(err, context.Canceled) {
				msg = "the sync was interrupted (Tandem stopped); the next one resumes where it stopped"
			}
			if errors.Is(err, store.ErrLeaseLost) {
				s.log.Warn("helpdesk sync lost its lease; another replica carries on", "connector", c.ID)
				continue
			}
			s.log.Warn("helpdesk sync failed", "connector", c.ID, "name", c.Name, "err", err)
		} else {
			s.log.Info("helpdesk sync", "connector", c.ID, "name", c.Name, "fetched", counts.Fetched, "added", counts.Added,
				"updated", counts.Updated, "set_aside", counts.SetAside)
		}
		end := s.Now()
		next := end.Add(c.Every)
		if errors.Is(err, context.Canceled) {
			next = end // a restart carries on at once
		}
		// Recorded even when ctx ended: the lease is given up at once.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		ferr := s.store.FinishHelpdeskSync(fctx, c.ID, s.Owner, counts, msg, next, end)
		cancel()
		if ferr != nil {
			return ferr
		}
	}
	return nil
}

// cursor is where each stream of a connector resumes.
type cursor struct {
	Streams map[string]*streamCursor `json:"streams"`
}

type streamCursor struct {
	// Since is the creation time (Unix seconds) the current pass reads
	// from, and Pos the page it has reached ("" at its start).
	Since int64  `json:"since"`
	Pos   string `json:"pos,omitempty"`
	// High is the latest creation time read.
	High int64 `json:"high,omitempty"`
	// Open is the earliest creation time, in the current pass, of a
	// rating the customer may still change (0: none), so that the next
	// pass starts no later and sees the change.
	Open int64 `json:"open,omitempty"`
}

// nextSince is where the pass after a finished one starts: lookback days
// before the newest rating (the connector's, or the stream's own
// changeWindow when that is longer), or earlier to the oldest rating still
// open for changes (at most MaxEditWindow days before the newest), never
// before the connector's start. The newest rating is at most now, so the
// pass covers at least the last lookback days.
func (sc *streamCursor) nextSince(c store.HelpdeskConnector, st stream) int64 {
	days := max(c.Lookback, st.changeWindow())
	since := sc.High - int64(days)*86400
	if sc.Open > 0 && sc.Open < since {
		since = max(sc.Open, sc.High-MaxEditWindow*86400)
	}
	return max(c.StartAt.Unix(), since)
}

func readCursor(s string) cursor {
	var c cursor
	if s != "" {
		if err := json.Unmarshal([]byte(s), &c); err != nil {
			c = cursor{} // unreadable: start again, which stores nothing twice
		}
	}
	if c.Streams == nil {
		c.Streams = map[string]*streamCursor{}
	}
	return c
}

func (c cursor) String() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// open builds the API of a connector's account.
func (s *Syncer) open(c store.HelpdeskConnector) (account, error) {
	plain, err := s.keys.Open(c.Secret, binding(c.Kind, c.Source))
	if err != nil {
		return nil, err
	}
	var cred Credentials
	if err := json.Unmarshal(plain, &cred); err != nil {
		return nil, tandem.Errorf(tandem.EINVALID, "the stored credentials are not readable (%v); enter them again", err)
	}
	base, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, err
	}
	hc := &client{base: base, http: s.HTTP, retry: s.Retry.withDefaults(), sleep: s.Sleep, now: s.Now}
	switch c.Kind {
	case Zendesk:
		return newZendesk(hc, cred, c.Options), nil
	case Freshdesk:
		return newFreshdesk(hc, cred), nil
	}
	return nil, tandem.Errorf(tandem.EINVALID, "connector %d is of kind %q, which Tandem does not know", c.ID, c.Kind)
}

// Groups lists the helpdesk groups of a connector's account, checking its
// address and credentials; a stored connector's groups are saved for
// mapping.
func (s *Syncer) Groups(ctx context.Context, c store.HelpdeskConnector) ([]store.HelpdeskGroup, error) {
	acct, err := s.open(c)
	if err != nil {
		return nil, err
	}
	gs, err := acct.groups(ctx)
	if err != nil {
		return nil, err
	}
	if c.ID != 0 {
		if err := s.store.SaveHelpdeskGroups(ctx, c.ID, gs, s.Now()); err != nil {
			return nil, err
		}
	}
	return gs, nil
}

// sync reads every stream of a claimed connector from its cursor to the
// end, saving page by page.
func (s *Syncer) sync(ctx context.Context, c store.HelpdeskConnector) (store.HelpdeskCounts, error) {
	var counts store.HelpdeskCounts
	acct, err := s.open(c)
	if err != nil {
		return counts, err
	}
	// The client waits out rate limits through the lease's renewal, so a
	// long Retry-After does not hand the connector to another replica.
	if hc := clientOf(acct); hc != nil {
		sleep := hc.sleep
		hc.sleep = func(ctx context.Context, d time.Duration) error {
			if err := s.store.RenewHelpdeskLease(ctx, c.ID, s.Owner, s.Now().Add(s.Lease+d)); err != nil {
				return err
			}
			return sleep(ctx, d)
		}
	}
	groups, err := acct.groups(ctx)
	if err != nil {
		return counts, err
	}
	if err := s.store.SaveHelpdeskGroups(ctx, c.ID, groups, s.Now()); err != nil {
		return counts, err
	}
	mapped, err := s.store.HelpdeskGroups(ctx, c.ID)
	if err != nil {
		return counts, err
	}
	dir, err := s.store.RatingDirectory(ctx)
	if err != nil {
		return counts, err
	}
	a := attributor{c: c, vendor: acct.vendor(), dir: dir, emails: map[string]string{}, units: map[string]int64{}, names: map[string]string{}}
	for _, g := range mapped {
		a.names[g.ID] = g.Name
		if g.UnitID != 0 {
			a.units[g.ID] = g.UnitID
		}
	}
	cur := readCursor(c.Cursor)
	for _, st := range acct.streams() {
		sc := cur.Streams[st.name()]
		if sc == nil {
			sc = &streamCursor{Since: c.StartAt.Unix()}
			cur.Streams[st.name()] = sc
		}
		for pages := 0; ; pages++ {
			if err := ctx.Err(); err != nil {
				return counts, err
			}
			p, err := st.page(ctx, time.Unix(sc.Since, 0).UTC(), sc.Pos)
			if status, refused := isRefused(err); refused && sc.Pos != "" && status != http.StatusUnauthorized && status != http.StatusForbidden {
				// A page position the helpdesk no longer knows (an expired
				// cursor): read the pass again from its start, which
				// stores nothing twice.
				s.log.Warn("helpdesk refused the saved page position; reading the pass again", "connector", c.ID, "err", err)
				sc.Pos = ""
				p, err = st.page(ctx, time.Unix(sc.Since, 0).UTC(), sc.Pos)
			}
			if err != nil {
				return counts, err
			}
			if sc.Pos == "" {
				sc.Open = 0 // a pass starts
			}
			if err := a.lookUpAgents(ctx, acct, p.Ratings); err != nil {
				return counts, err
			}
			rs, aside, pc := a.attribute(p.Ratings, s.Now())
			for _, r := range p.Ratings {
				if r.Created.IsZero() {
					continue
				}
				t := r.Created.Unix()
				if t > sc.High {
					sc.High = t
				}
				if r.EditableUntil.After(s.Now()) && (sc.Open == 0 || t < sc.Open) {
					sc.Open = t
				}
			}
			sc.Pos = p.Next
			if p.Next == "" {
				// The pass is done. The next one starts far enough back to
				// see ratings changed since.
				if sc.High > 0 {
					sc.Since = sc.nextSince(c, st)
				}
			}
			now := s.Now()
			res, err := s.store.SaveHelpdeskPage(ctx, store.HelpdeskPage{ConnectorID: c.ID, Owner: s.Owner, LeaseUntil: now.Add(s.Lease),
				Ratings: rs, SetAside: aside, Cursor: cur.String()}, now)
			if err != nil {
				return counts, err
			}
			pc.Added, pc.Updated, pc.Unchanged = res.Accepted, res.Updated, res.Duplicates
			counts.Add(pc)
			if p.Next == "" {
				break
			}
			if pages >= maxPages {
				return counts, tandem.Errorf(tandem.EUNAVAILABLE, "%s listed more than %d pages in one sync; the next sync carries on", acct.vendor(), maxPages)
			}
		}
	}
	return counts, nil
}

// maxPages bounds one sync (100,000 ratings a stream); the next carries on.
const maxPages = 1000

func clientOf(a account) *client {
	switch v := a.(type) {
	case *zendesk:
		return v.c
	case *freshdesk:
		return v.c
	}
	return nil
}

// attributor matches a connector's ratings to the roster.
type attributor struct {
	c      store.HelpdeskConnector
	vendor string
	dir    *ratings.Directory
	// emails caches the agents' emails for the whole sync ("" for an id
	// the helpdesk does not know).
	emails map[string]string
	// units are the mapped groups' units; names the groups' names.
	units map[string]int64
	names map[string]string
}

// lookUpAgents asks the helpdesk, once per sync, for the agents of rs not
// looked up yet.
func (a *attributor) lookUpAgents(ctx context.Context, acct account, rs []Rating) error {
	var missing []string
	seen := map[string]bool{}
	for _, r := range rs {
		if r.AgentID == "" || seen[r.AgentID] {
			continue
		}
		if _, ok := a.emails[r.AgentID]; !ok {
			missing = append(missing, r.AgentID)
			seen[r.AgentID] = true
		}
	}
	if len(missing) == 0 {
		return nil
	}
	found, err := acct.agents(ctx, missing)
	if err != nil {
		return err
	}
	for _, id := range missing {
		a.emails[id] = found[id]
	}
	return nil
}

// attribute turns a page's ratings into ratings to store and ratings set
// aside. The agent's team (on the day of the rating) wins when the agent's
// email is on the roster; else the unit the group is mapped to.
func (a *attributor) attribute(rs []Rating, now time.Time) ([]tandem.Rating, []store.SetAsideRating, store.HelpdeskCounts) {
	var counts store.HelpdeskCounts
	var aside []store.SetAsideRating
	var ins []ratings.Input
	var of []int // the rating of each input
	setAside := func(r Rating, reason string) {
		aside = append(aside, store.SetAsideRating{ExternalID: r.ID, OccurredAt: parseTime(r.RatedAt), CreatedAt: r.Created,
			Score: r.Score, Agent: a.agentName(r.AgentID), Group: a.groupName(r.GroupID), Reason: reason})
	}
	for i, r := range rs {
		counts.Fetched++
		switch {
		case r.ID == "":
			setAside(r, fmt.Sprintf("%s gave a rating without an id; it cannot be stored without counting it twice later", a.vendor))
			continue
		case r.Unrated:
			counts.Unrated++
			continue
		case r.Problem != "":
			setAside(r, r.Problem)
			continue
		}
		in := ratings.Input{Source: a.c.Source, ExternalID: r.ID, OccurredAt: r.RatedAt, Metric: tandem.MetricCSAT, Score: r.Score, Comment: r.Comment}
		email := a.emails[r.AgentID]
		unit := a.units[r.GroupID]
		switch {
		case email != "" && a.dir.HasAgent(email):
			in.AgentEmail = email
		case unit != 0:
			in.UnitID = strconv.FormatInt(unit, 10)
		default:
			setAside(r, a.noOne(r, email))
			continue
		}
		ins = append(ins, in)
		of = append(of, i)
	}
	valid, problems := ratings.Split(a.dir, now, ins)
	for j, msg := range problems {
		setAside(rs[of[j]], strings.TrimPrefix(strings.TrimPrefix(msg, ratings.FieldAgentEmail+": "), ratings.FieldOccurredAt+": "))
	}
	counts.SetAside = len(aside)
	return valid, aside, counts
}

// noOne says why a rating matches no one, and what to do.
func (a *attributor) noOne(r Rating, email string) string {
	var who string
	switch {
	case r.AgentID == "":
		who = "it names no agent"
	case email == "":
		who = fmt.Sprintf("%s has no agent %s (deleted?)", a.vendor, r.AgentID)
	default:
		who = fmt.Sprintf("its agent %s is not on the roster", email)
	}
	var group string
	switch {
	case r.GroupID == "":
		group = "no group"
	default:
		group = fmt.Sprintf("its group %s is mapped to no unit", a.groupName(r.GroupID))
	}
	return fmt.Sprintf("%s and %s; add the agent to the roster or map the group to a unit, then try the set-aside ratings again", who, group)
}

func (a *attributor) agentName(id string) string {
	if id == "" {
		return ""
	}
	if e := a.emails[id]; e != "" {
		return e
	}
	return a.vendor + " agent " + id
}

func (a *attributor) groupName(id string) string {
	if id == "" {
		return ""
	}
	if n := a.names[id]; n != "" {
		return fmt.Sprintf("%q", n)
	}
	return id
}

// Rewind makes the next sync of a connector read again from its oldest
// set-aside rating (after the roster or the group mapping changed), and
// asks for that sync now. It returns how far back the sync will read
// (zero when nothing is set aside).
func Rewind(ctx context.Context, st *store.Store, id int64, now time.Time) (time.Time, error) {
	c, err := st.HelpdeskConnector(ctx, id)
	if err != nil {
		return time.Time{}, err
	}
	oldest, err := st.OldestHelpdeskSetAside(ctx, id)
	if err != nil || oldest.IsZero() {
		return time.Time{}, err
	}
	if oldest.Before(c.StartAt) {
		oldest = c.StartAt
	}
	cur := readCursor(c.Cursor)
	for _, sc := range cur.Streams {
		if sc.Since > oldest.Unix() {
			sc.Since, sc.Pos = oldest.Unix(), ""
		}
	}
	if err := st.SetHelpdeskCursor(ctx, id, cur.String(), now); err != nil {
		return time.Time{}, err
	}
	return oldest, st.RequestHelpdeskSync(ctx, id)
}
