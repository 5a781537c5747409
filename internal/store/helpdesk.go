package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// HelpdeskConnector is a helpdesk account whose customer ratings Tandem
// pulls on a schedule (internal/helpdesk syncs it). The store keeps its
// settings, its sealed credentials, where the next sync resumes and how
// the last one went; it never opens the credentials or reads the cursor.
type HelpdeskConnector struct {
	ID   int64
	Kind string // zendesk, freshdesk
	Name string
	// Source is the source of the connector's ratings in csat_events.
	Source  string
	BaseURL string
	// Options are the kind's own settings.
	Options string
	// Secret holds the credentials, sealed (helpdesk.Keyring).
	Secret   string
	Active   bool
	Every    time.Duration
	Lookback int // days
	StartAt  time.Time
	Cursor   string

	NextSyncAt    time.Time
	SyncRequested bool
	LeaseOwner    string
	LeaseUntil    time.Time

	LastStarted, LastFinished time.Time
	LastError                 string
	Last                      HelpdeskCounts
	TotalAdded, TotalUpdated  int
	// SetAside counts the ratings set aside now.
	SetAside int

	CreatedAt, UpdatedAt time.Time
}

// HelpdeskCounts say what one sync did.
type HelpdeskCounts struct {
	// Fetched counts the ratings read from the helpdesk.
	Fetched int
	// Added, Updated and Unchanged count the ratings stored new, stored
	// with new values, and stored already as they are.
	Added, Updated, Unchanged int
	// SetAside counts the ratings that could not be attributed.
	SetAside int
	// Unrated counts surveys sent but not answered.
	Unrated int
}

// Add adds o to c.
func (c *HelpdeskCounts) Add(o HelpdeskCounts) {
	c.Fetched += o.Fetched
	c.Added += o.Added
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
	c.SetAside += o.SetAside
	c.Unrated += o.Unrated
}

// SetAsideRating is a rating a sync could not attribute.
type SetAsideRating struct {
	ExternalID string
	// OccurredAt is zero when the helpdesk's time could not be read.
	OccurredAt time.Time
	// CreatedAt is the helpdesk's creation time of the rating: where a
	// sync that tries it again starts reading.
	CreatedAt time.Time
	// Score is the score as the helpdesk gave it (good, -102, 4).
	Score string
	// Agent is the agent's email, or the helpdesk's id of the agent.
	Agent string
	Group string
	// Reason says why it was set aside and what to do.
	Reason              string
	FirstSeen, LastSeen time.Time
}

// HelpdeskGroup is a helpdesk group and the unit it is mapped to (0: none).
type HelpdeskGroup struct {
	ID     string
	Name   string
	UnitID int64
}

// ErrLeaseLost is returned when a sync saves a page after its lease ran
// out and another replica may have taken the connector over: the page is
// not saved, and the sync must stop.
var ErrLeaseLost = tandem.Errorf(tandem.ECONFLICT, "the sync's lease on the connector ran out; another replica may be syncing it")

const connectorColumns = `id, kind, name, source, base_url, options, secret, active, every_seconds, lookback_days, start_at, cursor,
	next_sync_at, sync_requested, lease_owner, lease_until, last_started_at, last_finished_at, last_error,
	last_fetched, last_added, last_updated, last_unchanged, last_set_aside, last_unrated, total_added, total_updated, created_at, updated_at,
	(SELECT COUNT(*) FROM helpdesk_set_aside a WHERE a.connector_id = helpdesk_connectors.id)`

func scanConnector(row interface{ Scan(...any) error }) (HelpdeskConnector, error) {
	var c HelpdeskConnector
	var every, start, next, leaseUntil, started, finished, created, updated int64
	err := row.Scan(&c.ID, &c.Kind, &c.Name, &c.Source, &c.BaseURL, &c.Options, &c.Secret, &c.Active, &every, &c.Lookback, &start, &c.Cursor,
		&next, &c.SyncRequested, &c.LeaseOwner, &leaseUntil, &started, &finished, &c.LastError,
		&c.Last.Fetched, &c.Last.Added, &c.Last.Updated, &c.Last.Unchanged, &c.Last.SetAside, &c.Last.Unrated, &c.TotalAdded, &c.TotalUpdated,
		&created, &updated, &c.SetAside)
	c.Every = time.Duration(every) * time.Second
	c.StartAt, c.NextSyncAt, c.LeaseUntil = fromUnix(start), fromUnix(next), fromUnix(leaseUntil)
	c.LastStarted, c.LastFinished, c.CreatedAt, c.UpdatedAt = fromUnix(started), fromUnix(finished), fromUnix(created), fromUnix(updated)
	return c, err
}

// CreateHelpdeskConnector stores a new connector; its first sync is due at
// once. Two connectors cannot share a source.
func (s *Store) CreateHelpdeskConnector(ctx context.Context, c *HelpdeskConnector, now time.Time) error {
	id, err := s.insert(ctx, s.w, `INSERT INTO helpdesk_connectors (kind, name, source, base_url, options, secret, active, every_seconds, lookback_days, start_at,
		next_sync_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.Kind, c.Name, c.Source, c.BaseURL, c.Options, c.Secret, c.Active, int64(c.Every/time.Second), c.Lookback, c.StartAt.Unix(),
		now.Unix(), now.Unix(), now.Unix())
	if isUniqueViolation(err) {
		return tandem.FieldErrorf("source", "another connector stores its ratings as %q; give this one another source name", c.Source)
	}
	if err != nil {
		return err
	}
	c.ID, c.CreatedAt, c.UpdatedAt, c.NextSyncAt = id, now, now, now
	return nil
}

// UpdateHelpdeskConnector saves a connector's settings (not its sync
// state). An empty Secret keeps the stored credentials. A new StartAt or
// base URL starts the next sync from the beginning.
func (s *Store) UpdateHelpdeskConnector(ctx context.Context, c *HelpdeskConnector, now time.Time) error {
	return s.InTx(ctx, func(tx *Tx) error {
		old, err := s.helpdeskConnector(ctx, tx.tx, c.ID)
		if err != nil {
			return err
		}
		secret := c.Secret
		if secret == "" {
			secret = old.Secret
		}
		cursor := old.Cursor
		if !old.StartAt.Equal(c.StartAt) || old.BaseURL != c.BaseURL || old.Options != c.Options {
			cursor = ""
		}
		_, err = s.exec(ctx, tx.tx, `UPDATE helpdesk_connectors SET name = ?, base_url = ?, options = ?, secret = ?, active = ?, every_seconds = ?,
			lookback_days = ?, start_at = ?, cursor = ?, updated_at = ? WHERE id = ?`,
			c.Name, c.BaseURL, c.Options, secret, c.Active, int64(c.Every/time.Second), c.Lookback, c.StartAt.Unix(), cursor, now.Unix(), c.ID)
		return err
	})
}

// DeleteHelpdeskConnector removes a connector, its group mapping and its
// set-aside ratings. The ratings it stored stay.
func (s *Store) DeleteHelpdeskConnector(ctx context.Context, id int64) error {
	res, err := s.exec(ctx, s.w, "DELETE FROM helpdesk_connectors WHERE id = ?", id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tandem.Errorf(tandem.ENOTFOUND, "connector %d does not exist", id)
	}
	return nil
}

// HelpdeskConnectors lists the connectors by name.
func (s *Store) HelpdeskConnectors(ctx context.Context) ([]HelpdeskConnector, error) {
	rows, err := s.query(ctx, s.r, "SELECT "+connectorColumns+" FROM helpdesk_connectors ORDER BY name, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HelpdeskConnector
	for rows.Next() {
		c, err := scanConnector(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// HelpdeskConnector returns one connector.
func (s *Store) HelpdeskConnector(ctx context.Context, id int64) (HelpdeskConnector, error) {
	return s.helpdeskConnector(ctx, s.r, id)
}

func (s *Store) helpdeskConnector(ctx context.Context, db queryer, id int64) (HelpdeskConnector, error) {
	c, err := scanConnector(s.queryRow(ctx, db, "SELECT "+connectorColumns+" FROM helpdesk_connectors WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, tandem.Errorf(tandem.ENOTFOUND, "connector %d does not exist", id)
	}
	return c, err
}

// RequestHelpdeskSync asks for a connector to be synced as soon as a
// replica gets to it (sync now).
func (s *Store) RequestHelpdeskSync(ctx context.Context, id int64) error {
	res, err := s.exec(ctx, s.w, "UPDATE helpdesk_connectors SET sync_requested = ? WHERE id = ?", true, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tandem.Errorf(tandem.ENOTFOUND, "connector %d does not exist", id)
	}
	return nil
}

// DueHelpdeskConnectors returns the ids of the active connectors whose
// sync is due or asked for, and that no replica is syncing.
func (s *Store) DueHelpdeskConnectors(ctx context.Context, now time.Time) ([]int64, error) {
	return s.ids(ctx, s.r, `SELECT id FROM helpdesk_connectors WHERE active = ? AND (next_sync_at <= ? OR sync_requested = ?)
		AND lease_until <= ? ORDER BY id`, true, now.Unix(), true, now.Unix())
}

// ClaimHelpdeskConnector leases a due connector to owner until now+lease
// and returns it; false when it is not due, not active, or another owner
// holds it. Of replicas claiming one connector at once, one gets it.
func (s *Store) ClaimHelpdeskConnector(ctx context.Context, id int64, owner string, now time.Time, lease time.Duration) (HelpdeskConnector, bool, error) {
	res, err := s.exec(ctx, s.w, `UPDATE helpdesk_connectors SET lease_owner = ?, lease_until = ?, sync_requested = ?, last_started_at = ?
		WHERE id = ? AND active = ? AND (next_sync_at <= ? OR sync_requested = ?) AND lease_until <= ?`,
		owner, now.Add(lease).Unix(), false, now.Unix(), id, true, now.Unix(), true, now.Unix())
	if err != nil {
		return HelpdeskConnector{}, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return HelpdeskConnector{}, false, nil
	}
	c, err := s.helpdeskConnector(ctx, s.w, id)
	return c, err == nil, err
}

// RenewHelpdeskLease extends owner's lease to until; ErrLeaseLost when
// owner no longer holds it.
func (s *Store) RenewHelpdeskLease(ctx context.Context, id int64, owner string, until time.Time) error {
	res, err := s.exec(ctx, s.w, "UPDATE helpdesk_connectors SET lease_until = ? WHERE id = ? AND lease_owner = ?", until.Unix(), id, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// HelpdeskPage is what one page of a sync saves.
type HelpdeskPage struct {
	ConnectorID int64
	// Owner must hold the connector's lease; LeaseUntil renews it.
	Owner      string
	LeaseUntil time.Time
	// Ratings are the page's attributed ratings: new ones are stored,
	// changed ones replace their stored version (see ReplaceRatings).
	Ratings []tandem.Rating
	// SetAside are the page's ratings that could not be attributed.
	SetAside []SetAsideRating
	// Cursor is where the next page (or sync) starts.
	Cursor string
}

// SaveHelpdeskPage saves a page of a sync in one transaction: its ratings
// (with the totals), its set-aside ratings (a rating stored now leaves the
// set-aside list), and the cursor. It saves nothing and returns
// ErrLeaseLost when Owner no longer holds the connector's lease, so a
// stalled replica can never move the cursor back or store a page twice.
func (s *Store) SaveHelpdeskPage(ctx context.Context, p HelpdeskPage, now time.Time) (IngestResult, error) {
	if err := checkStorable(p.Ratings); err != nil {
		return IngestResult{}, err
	}
	var res IngestResult
	err := s.InTx(ctx, func(tx *Tx) error {
		r, err := s.exec(ctx, tx.tx, "UPDATE helpdesk_connectors SET cursor = ?, lease_until = ? WHERE id = ? AND lease_owner = ?",
			p.Cursor, p.LeaseUntil.Unix(), p.ConnectorID, p.Owner)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrLeaseLost
		}
		if res, err = tx.replaceRatings(ctx, p.Ratings, now); err != nil {
			return err
		}
		for _, rt := range p.Ratings {
			if _, err := s.exec(ctx, tx.tx, "DELETE FROM helpdesk_set_aside WHERE connector_id = ? AND external_id = ?", p.ConnectorID, rt.ExternalID); err != nil {
				return err
			}
		}
		for _, a := range p.SetAside {
			if _, err := s.exec(ctx, tx.tx, `INSERT INTO helpdesk_set_aside (connector_id, external_id, occurred_at, created_at, score, agent, group_name, reason,
				first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (connector_id, external_id) DO UPDATE SET occurred_at = excluded.occurred_at, created_at = excluded.created_at,
					score = excluded.score, agent = excluded.agent, group_name = excluded.group_name, reason = excluded.reason,
					last_seen_at = excluded.last_seen_at`,
				p.ConnectorID, a.ExternalID, unixOrZero(a.OccurredAt), unixOrZero(a.CreatedAt), a.Score, a.Agent, a.Group, clip(a.Reason, 1000),
				now.Unix(), now.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return IngestResult{}, err
	}
	return res, nil
}

// FinishHelpdeskSync records how owner's sync went (errText "" for
// success), when the next one is due, and gives the lease up.
func (s *Store) FinishHelpdeskSync(ctx context.Context, id int64, owner string, counts HelpdeskCounts, errText string, next, now time.Time) error {
	_, err := s.exec(ctx, s.w, `UPDATE helpdesk_connectors SET last_finished_at = ?, last_error = ?, last_fetched = ?, last_added = ?,
		last_updated = ?, last_unchanged = ?, last_set_aside = ?, last_unrated = ?, total_added = total_added + ?, total_updated = total_updated + ?,
		next_sync_at = ?, lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`,
		now.Unix(), clip(errText, 2000), counts.Fetched, counts.Added, counts.Updated, counts.Unchanged, counts.SetAside, counts.Unrated,
		counts.Added, counts.Updated, next.Unix(), id, owner)
	return err
}

// SetHelpdeskCursor replaces a connector's cursor (to read again from
// further back), unless a sync holds the connector now.
func (s *Store) SetHelpdeskCursor(ctx context.Context, id int64, cursor string, now time.Time) error {
	res, err := s.exec(ctx, s.w, "UPDATE helpdesk_connectors SET cursor = ?, updated_at = ? WHERE id = ? AND lease_until <= ?", cursor, now.Unix(), id, now.Unix())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return tandem.Errorf(tandem.ECONFLICT, "a sync of this connector is running; try again when it has finished")
	}
	return nil
}

// HelpdeskSetAside lists up to limit of a connector's set-aside ratings,
// newest first, and how many there are.
func (s *Store) HelpdeskSetAside(ctx context.Context, connectorID int64, limit int) ([]SetAsideRating, int, error) {
	var total int
	if err := s.queryRow(ctx, s.r, "SELECT COUNT(*) FROM helpdesk_set_aside WHERE connector_id = ?", connectorID).Scan(&total); err != nil {
		return nil, 0, err
	}
	rows, err := s.query(ctx, s.r, `SELECT external_id, occurred_at, created_at, score, agent, group_name, reason, first_seen_at, last_seen_at
		FROM helpdesk_set_aside WHERE connector_id = ? ORDER BY occurred_at DESC, external_id LIMIT ?`, connectorID, limit)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []SetAsideRating
	for rows.Next() {
		var a SetAsideRating
		var at, created, first, last int64
		if err := rows.Scan(&a.ExternalID, &at, &created, &a.Score, &a.Agent, &a.Group, &a.Reason, &first, &last); err != nil {
			return nil, 0, err
		}
		a.OccurredAt, a.CreatedAt, a.FirstSeen, a.LastSeen = fromUnix(at), fromUnix(created), fromUnix(first), fromUnix(last)
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// OldestHelpdeskSetAside returns the earliest helpdesk creation time of a
// connector's set-aside ratings (zero when there are none).
func (s *Store) OldestHelpdeskSetAside(ctx context.Context, connectorID int64) (time.Time, error) {
	var at sql.NullInt64
	err := s.queryRow(ctx, s.r, "SELECT MIN(created_at) FROM helpdesk_set_aside WHERE connector_id = ? AND created_at > 0", connectorID).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, err
	}
	return fromUnix(at.Int64), nil
}

// SaveHelpdeskGroups records the helpdesk's groups (their names may have
// changed); the units they are mapped to stay.
func (s *Store) SaveHelpdeskGroups(ctx context.Context, connectorID int64, groups []HelpdeskGroup, now time.Time) error {
	if len(groups) == 0 {
		return nil
	}
	return s.InTx(ctx, func(tx *Tx) error {
		for _, g := range groups {
			if _, err := s.exec(ctx, tx.tx, `INSERT INTO helpdesk_groups (connector_id, group_id, name, seen_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (connector_id, group_id) DO UPDATE SET name = excluded.name, seen_at = excluded.seen_at`,
				connectorID, g.ID, clip(g.Name, 300), now.Unix()); err != nil {
				return err
			}
		}
		return nil
	})
}

// HelpdeskGroups lists a connector's groups by name.
func (s *Store) HelpdeskGroups(ctx context.Context, connectorID int64) ([]HelpdeskGroup, error) {
	rows, err := s.query(ctx, s.r, "SELECT group_id, name, COALESCE(unit_id, 0) FROM helpdesk_groups WHERE connector_id = ? ORDER BY name, group_id", connectorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HelpdeskGroup
	for rows.Next() {
		var g HelpdeskGroup
		if err := rows.Scan(&g.ID, &g.Name, &g.UnitID); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// MapHelpdeskGroups sets the unit of each group named in units (group id →
// unit id; 0 removes the mapping), in one transaction.
func (s *Store) MapHelpdeskGroups(ctx context.Context, connectorID int64, units map[string]int64) error {
	return s.InTx(ctx, func(tx *Tx) error {
		for g, u := range units {
			res, err := s.exec(ctx, tx.tx, "UPDATE helpdesk_groups SET unit_id = ? WHERE connector_id = ? AND group_id = ?", nullInt(u), connectorID, g)
			if err != nil {
				if strings.Contains(strings.ToLower(err.Error()), "foreign key") {
					return tandem.FieldErrorf("group_"+g, "unit %d does not exist; choose a unit from the list", u)
				}
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return tandem.FieldErrorf("group_"+g, "the helpdesk has no group %s on this connector; sync again to list its groups", g)
			}
		}
		return nil
	})
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
