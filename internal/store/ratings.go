package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// RatingDirectory loads what attributing ratings needs, once per batch:
// the unit tree and every employee with an email, with their unit history.
func (s *Store) RatingDirectory(ctx context.Context) (*ratings.Directory, error) {
	return s.ratingDirectory(ctx, "TRUE")
}

// directoryEmailsAtMost is the most agent emails RatingDirectoryFor looks
// up by name; a batch naming more reads every employee, in one query.
const directoryEmailsAtMost = 500

// RatingDirectoryFor is RatingDirectory with, of the employees, only
// those whose email is among emails: all that a batch attributing ratings
// to those agents reads, and the same answer for each of them. A rating
// posted as it comes need not read a whole roster (at 50,000 employees
// that was about 145 ms of CPU a request).
func (s *Store) RatingDirectoryFor(ctx context.Context, emails []string) (*ratings.Directory, error) {
	var some []string
	seen := map[string]bool{}
	for _, e := range emails {
		if e = tandem.NormalizeEmail(e); e != "" && !seen[e] {
			seen[e] = true
			some = append(some, e)
		}
	}
	if len(some) > directoryEmailsAtMost {
		return s.RatingDirectory(ctx)
	}
	if len(some) == 0 {
		return s.ratingDirectory(ctx, "FALSE") // units only: the batch names no agent
	}
	ph, args := inList(some)
	return s.ratingDirectory(ctx, "email IN ("+ph+")", args...)
}

// ratingDirectory reads the directory with the employees with an email
// that where (a condition on employees, with args) picks, and their unit
// history.
func (s *Store) ratingDirectory(ctx context.Context, where string, args ...any) (*ratings.Directory, error) {
	tree, err := s.Tree(ctx)
	if err != nil {
		return nil, err
	}
	q := "SELECT id, email, unit_id, hired_on, exited_on FROM employees WHERE email IS NOT NULL AND " + where + " ORDER BY id"
	rows, err := s.query(ctx, s.r, q, args...)
	if err != nil {
		return nil, err
	}
	var agents []ratings.Agent
	pos := map[int64]int{}
	for rows.Next() {
		var a ratings.Agent
		var hired, exited sql.NullString
		if err := rows.Scan(&a.ID, &a.Email, &a.UnitID, &hired, &exited); err != nil {
			rows.Close()
			return nil, err
		}
		a.HiredOn, a.ExitedOn = parseNullDate(hired), parseNullDate(exited)
		pos[a.ID] = len(agents)
		agents = append(agents, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	q = "SELECT employee_id, valid_from, unit_id FROM employee_units WHERE employee_id IN (SELECT id FROM employees WHERE email IS NOT NULL AND " +
		where + ") ORDER BY employee_id, valid_from"
	rows, err = s.query(ctx, s.r, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var emp, unit int64
		var from string
		if err := rows.Scan(&emp, &from, &unit); err != nil {
			return nil, err
		}
		i, ok := pos[emp]
		if !ok {
			continue
		}
		d, err := tandem.ParseDate(from)
		if err != nil {
			return nil, fmt.Errorf("employee_units: employee %d: bad date %q", emp, from)
		}
		agents[i].History = append(agents[i].History, ratings.Span{From: d, UnitID: unit})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ratings.NewDirectory(tree, agents), nil
}

// IngestResult counts what IngestRatings did.
type IngestResult struct {
	// Accepted ratings were stored.
	Accepted int
	// Duplicates had a (source, external id) stored already, or earlier in
	// the same batch, and were skipped. (ReplaceRatings: stored already
	// with the same values.)
	Duplicates int
	// Updated ratings replaced a stored version with other values
	// (ReplaceRatings only).
	Updated int
}

// insertChunk is how many ratings one INSERT carries: fewer round trips
// through cgo and database/sql than one statement per row, well under
// both engines' limits on parameters (10 per row).
const insertChunk = 100

const ratingColumns = "source, external_id, occurred_at, day, unit_id, agent_id, metric, score, comment, created_at"

// insertRatingsSQL inserts n ratings, skipping those stored already. On
// PostgreSQL it returns the ids of the rows stored; SQLite says how many
// through the result, which is cheaper than reading rows back, and its
// rowids of one statement are consecutive (one writer, max(rowid)+1).
func insertRatingsSQL(n int, returning bool) string {
	var b strings.Builder
	b.WriteString("INSERT INTO csat_events (" + ratingColumns + ") VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?,?,?,?,?,?,?,?)")
	}
	b.WriteString(" ON CONFLICT (source, external_id) DO NOTHING")
	if returning {
		b.WriteString(" RETURNING id")
	}
	return b.String()
}

// totalsKey is one row of csat_totals: kind 'W' or 'M', the period's
// first day (days since 1970), unit and metric (index in metricNames).
type totalsKey struct {
	unit   int64
	period int32
	kind   byte
	metric uint8
}

var metricNames = [...]string{tandem.MetricCSAT, tandem.MetricNPS, tandem.MetricCES}

func metricIndex(m string) uint8 {
	for i, n := range metricNames {
		if n == m {
			return uint8(i)
		}
	}
	return 0
}

// epochDay is the number of the UTC day of t, counted from 1970-01-01.
func epochDay(t time.Time) int32 { return int32(t.Unix() / 86400) }

func dayTime(d int32) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// days holds the date text and period starts of each day a batch touches,
// by day number: a map lookup per rating would cost more than the insert.
type days struct {
	first       int32
	text        []string
	week, month []int32
}

func newDays(rs []tandem.Rating) *days {
	lo, hi := epochDay(rs[0].OccurredAt), epochDay(rs[0].OccurredAt)
	for i := range rs {
		d := epochDay(rs[i].OccurredAt)
		lo, hi = min(lo, d), max(hi, d)
	}
	n := int(hi-lo) + 1
	ds := &days{first: lo, text: make([]string, n), week: make([]int32, n), month: make([]int32, n)}
	for i := range n {
		t := dayTime(lo + int32(i))
		ds.text[i] = tandem.FormatDate(t)
		ds.week[i] = epochDay(tandem.PeriodStart(tandem.Week, t))
		ds.month[i] = epochDay(tandem.PeriodStart(tandem.Month, t))
	}
	return ds
}

// bulkRows is the batch size from which SQLite gets a bigger page cache and
// in-memory temporary files for the ingest: the random inserts into the
// indexes then stay in memory instead of spilling to disk.
const bulkRows = 20_000

// IngestRatings stores ratings in one transaction: all or none. A rating
// whose (source, external id) is stored already — or comes earlier in rs —
// is skipped and counted as a duplicate. The weekly and monthly totals of
// each unit are updated with the ratings stored, in the same transaction.
// The ratings must be valid (see ratings.Batch); a rating with an unknown
// metric, a score out of range or no unit fails the whole call.
func (s *Store) IngestRatings(ctx context.Context, rs []tandem.Rating, now time.Time) (IngestResult, error) {
	return s.ingest(ctx, rs, now, false)
}

// ReplaceRatings stores ratings like IngestRatings, except that a rating
// whose (source, external id) is stored already with other values (score,
// time, attribution or comment) replaces the stored one, and the totals of
// both versions' periods and units are corrected in the same transaction.
// Of ratings repeated in rs, the last is the one kept. It is how a helpdesk
// sync follows ratings changed after they were first read; the API and the
// CSV import keep the first version they stored.
func (s *Store) ReplaceRatings(ctx context.Context, rs []tandem.Rating, now time.Time) (IngestResult, error) {
	return s.ingest(ctx, rs, now, true)
}

func (s *Store) ingest(ctx context.Context, rs []tandem.Rating, now time.Time, replace bool) (IngestResult, error) {
	if err := checkStorable(rs); err != nil {
		return IngestResult{}, err
	}
	if len(rs) == 0 {
		return IngestResult{}, nil
	}
	if s.engine == SQLite && len(rs) >= bulkRows {
		restore, err := s.bulkSettings(ctx)
		if err != nil {
			return IngestResult{}, err
		}
		defer restore()
	}
	var res IngestResult
	err := s.InTx(ctx, func(tx *Tx) error {
		var err error
		if replace {
			res, err = tx.replaceRatings(ctx, rs, now)
		} else {
			res, err = tx.insertRatings(ctx, rs, now)
		}
		return err
	})
	if err != nil {
		return IngestResult{}, err
	}
	return res, nil
}

// checkStorable refuses ratings that were not checked by a ratings.Batch.
func checkStorable(rs []tandem.Rating) error {
	for i, r := range rs {
		lo, hi, ok := tandem.MetricRange(r.Metric)
		if !ok || r.Score < lo || r.Score > hi || r.UnitID == 0 || r.Source == "" || r.ExternalID == "" || r.OccurredAt.Unix() < 0 {
			return tandem.Errorf(tandem.EINVALID, "rating %d (%s %s) is incomplete or out of range; check ratings before storing them", i, r.Source, r.ExternalID)
		}
	}
	return nil
}

// insertRatings stores the ratings of rs not stored yet, and adds them to
// the totals.
func (tx *Tx) insertRatings(ctx context.Context, rs []tandem.Rating, now time.Time) (IngestResult, error) {
	s := tx.s
	if len(rs) == 0 {
		return IngestResult{}, nil
	}
	ds := newDays(rs)
	var res IngestResult
	err := func() error {
		totals := map[totalsKey]*tandem.CustomerTotals{}
		add := func(r *tandem.Rating) {
			d := epochDay(r.OccurredAt) - ds.first
			m := metricIndex(r.Metric)
			for _, k := range [2]totalsKey{{r.UnitID, ds.week[d], 'W', m}, {r.UnitID, ds.month[d], 'M', m}} {
				t := totals[k]
				if t == nil {
					t = &tandem.CustomerTotals{}
					totals[k] = t
				}
				t.Add(r.Metric, r.Score)
			}
		}

		created := now.Unix()
		returning := s.engine != SQLite
		full, err := tx.tx.PrepareContext(ctx, s.q(insertRatingsSQL(insertChunk, returning)))
		if err != nil {
			return s.wrapErr(err)
		}
		defer full.Close()
		var info *sql.Stmt
		if !returning {
			if info, err = tx.tx.PrepareContext(ctx, "SELECT changes(), last_insert_rowid()"); err != nil {
				return s.wrapErr(err)
			}
			defer info.Close()
		}
		args := make([]any, 0, insertChunk*10)
		var ids []int64
		for start := 0; start < len(rs); start += insertChunk {
			if err := ctx.Err(); err != nil {
				return err
			}
			part := rs[start:min(start+insertChunk, len(rs))]
			stmt := full
			if len(part) < insertChunk {
				stmt, err = tx.tx.PrepareContext(ctx, s.q(insertRatingsSQL(len(part), returning)))
				if err != nil {
					return s.wrapErr(err)
				}
				defer stmt.Close()
			}
			args = args[:0]
			for i := range part {
				r := &part[i]
				args = append(args, r.Source, r.ExternalID, r.OccurredAt.Unix(), ds.text[epochDay(r.OccurredAt)-ds.first], r.UnitID,
					nullInt(r.AgentID), r.Metric, r.Score, r.Comment, created)
			}
			var stored int
			if returning {
				if ids, err = tx.queryIDs(ctx, stmt, args, ids[:0]); err != nil {
					return err
				}
				stored = len(ids)
			} else {
				// Query, not Exec: go-sqlite3 binds a query's arguments and
				// steps it in one cgo call, an Exec's one call per argument
				// (a fifth of the import's time). The INSERT runs on the
				// first step; changes() and last_insert_rowid() say what it
				// did.
				rows, err := stmt.QueryContext(ctx, args...)
				if err != nil {
					return s.wrapErr(err)
				}
				if err := rows.Close(); err != nil {
					return s.wrapErr(err)
				}
				var n, last int64
				if err := info.QueryRowContext(ctx).Scan(&n, &last); err != nil {
					return s.wrapErr(err)
				}
				stored = int(n)
				ids = ids[:0]
				for id := last - n + 1; id <= last; id++ {
					ids = append(ids, id)
				}
			}
			res.Accepted += stored
			res.Duplicates += len(part) - stored
			if stored == len(part) {
				for i := range part {
					add(&part[i])
				}
				continue
			}
			// Some were stored already: find which of this chunk went in.
			if err := tx.addInserted(ctx, part, ids, add); err != nil {
				return err
			}
		}

		return tx.addTotals(ctx, totals)
	}()
	if err != nil {
		return IngestResult{}, err
	}
	return res, nil
}

// addTotals adds totals (of ratings stored, or negative for ratings taken
// back) to csat_totals. A row a correction leaves without ratings is
// deleted, as if it had never been counted.
func (tx *Tx) addTotals(ctx context.Context, totals map[totalsKey]*tandem.CustomerTotals) error {
	s := tx.s
	upsert, err := tx.tx.PrepareContext(ctx, s.q(`INSERT INTO csat_totals (kind, period, unit_id, metric, n, sum, top, promoters, detractors)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, period, unit_id, metric) DO UPDATE SET
			n = csat_totals.n + excluded.n, sum = csat_totals.sum + excluded.sum, top = csat_totals.top + excluded.top,
			promoters = csat_totals.promoters + excluded.promoters, detractors = csat_totals.detractors + excluded.detractors`))
	if err != nil {
		return s.wrapErr(err)
	}
	defer upsert.Close()
	type periodKey struct {
		period int32
		kind   byte
		metric uint8
	}
	changed := map[periodKey]bool{}
	for k, t := range totals {
		if *t == (tandem.CustomerTotals{}) {
			continue
		}
		changed[periodKey{k.period, k.kind, k.metric}] = true
		period := tandem.FormatDate(dayTime(k.period))
		if _, err := upsert.ExecContext(ctx, string(k.kind), period, k.unit, metricNames[k.metric],
			t.N, t.Sum, t.Top, t.Promoters, t.Detractors); err != nil {
			return s.wrapErr(err)
		}
		if t.N < 0 {
			if _, err := s.exec(ctx, tx.tx, "DELETE FROM csat_totals WHERE kind = ? AND period = ? AND unit_id = ? AND metric = ? AND n <= 0",
				string(k.kind), period, k.unit, metricNames[k.metric]); err != nil {
				return err
			}
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := tx.bumpReleased(ctx); err != nil {
		return err
	}
	// Each period changed is marked with the version just moved to, so
	// that a report server holding the totals of an earlier version reads
	// again only these periods (Store.MetricTotalsChanged).
	mark, err := tx.tx.PrepareContext(ctx, s.q(`INSERT INTO csat_periods (kind, metric, period, version)
		SELECT ?, ?, ?, version FROM data_versions WHERE name = 'released'
		ON CONFLICT (kind, metric, period) DO UPDATE SET version = excluded.version`))
	if err != nil {
		return s.wrapErr(err)
	}
	defer mark.Close()
	for k := range changed {
		if _, err := mark.ExecContext(ctx, string(k.kind), metricNames[k.metric], tandem.FormatDate(dayTime(k.period))); err != nil {
			return s.wrapErr(err)
		}
	}
	return nil
}

// countRating adds sign (1 or −1) times r to the totals of its unit's week
// and month.
func countRating(totals map[totalsKey]*tandem.CustomerTotals, r *tandem.Rating, sign int) {
	m := metricIndex(r.Metric)
	for _, k := range [2]totalsKey{
		{r.UnitID, epochDay(tandem.PeriodStart(tandem.Week, r.OccurredAt)), 'W', m},
		{r.UnitID, epochDay(tandem.PeriodStart(tandem.Month, r.OccurredAt)), 'M', m},
	} {
		t := totals[k]
		if t == nil {
			t = &tandem.CustomerTotals{}
			totals[k] = t
		}
		if sign > 0 {
			t.Add(r.Metric, r.Score)
		} else {
			t.Remove(r.Metric, r.Score)
		}
	}
}

// replaceRatings stores new ratings, replaces stored ones whose values
// changed, and corrects the totals.
func (tx *Tx) replaceRatings(ctx context.Context, rs []tandem.Rating, now time.Time) (IngestResult, error) {
	type key struct{ source, id string }
	var res IngestResult
	// The last version of each rating in rs is the one kept.
	last := make(map[key]int, len(rs))
	for i := range rs {
		last[key{rs[i].Source, rs[i].ExternalID}] = i
	}
	latest := make([]tandem.Rating, 0, len(last))
	for i := range rs {
		if last[key{rs[i].Source, rs[i].ExternalID}] == i {
			latest = append(latest, rs[i])
		}
	}
	res.Duplicates = len(rs) - len(latest)

	stored, err := tx.storedRatings(ctx, latest)
	if err != nil {
		return IngestResult{}, err
	}
	var fresh []tandem.Rating
	totals := map[totalsKey]*tandem.CustomerTotals{}
	for i := range latest {
		r := &latest[i]
		old, ok := stored[ratingKey{r.Source, r.ExternalID}]
		if !ok {
			fresh = append(fresh, *r)
			continue
		}
		if sameRating(&old, r) {
			res.Duplicates++
			continue
		}
		if _, err := tx.s.exec(ctx, tx.tx, `UPDATE csat_events SET occurred_at = ?, day = ?, unit_id = ?, agent_id = ?, metric = ?, score = ?, comment = ?
			WHERE id = ?`, r.OccurredAt.Unix(), tandem.FormatDate(r.OccurredAt.UTC()), r.UnitID, nullInt(r.AgentID), r.Metric, r.Score, r.Comment, old.ID); err != nil {
			return IngestResult{}, err
		}
		countRating(totals, &old, -1)
		countRating(totals, r, 1)
		res.Updated++
	}
	if err := tx.addTotals(ctx, totals); err != nil {
		return IngestResult{}, err
	}
	ins, err := tx.insertRatings(ctx, fresh, now)
	if err != nil {
		return IngestResult{}, err
	}
	res.Accepted += ins.Accepted
	res.Duplicates += ins.Duplicates
	return res, nil
}

type ratingKey struct{ source, id string }

// sameRating reports whether a stored rating says what r says.
func sameRating(old, r *tandem.Rating) bool {
	return old.OccurredAt.Unix() == r.OccurredAt.Unix() && old.UnitID == r.UnitID && old.AgentID == r.AgentID &&
		old.Metric == r.Metric && old.Score == r.Score && old.Comment == r.Comment
}

// storedRatings returns the stored versions of the ratings of rs that are
// stored, by (source, external id).
func (tx *Tx) storedRatings(ctx context.Context, rs []tandem.Rating) (map[ratingKey]tandem.Rating, error) {
	bySource := map[string][]string{}
	for _, r := range rs {
		bySource[r.Source] = append(bySource[r.Source], r.ExternalID)
	}
	out := map[ratingKey]tandem.Rating{}
	const chunk = 500
	for source, ids := range bySource {
		for start := 0; start < len(ids); start += chunk {
			part := ids[start:min(start+chunk, len(ids))]
			args := make([]any, 0, len(part)+1)
			args = append(args, source)
			for _, id := range part {
				args = append(args, id)
			}
			rows, err := tx.s.query(ctx, tx.tx, "SELECT id, external_id, occurred_at, unit_id, COALESCE(agent_id, 0), metric, score, comment FROM csat_events WHERE source = ? AND external_id IN ("+
				strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+")", args...)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				r := tandem.Rating{Source: source}
				var at int64
				if err := rows.Scan(&r.ID, &r.ExternalID, &at, &r.UnitID, &r.AgentID, &r.Metric, &r.Score, &r.Comment); err != nil {
					rows.Close()
					return nil, err
				}
				r.OccurredAt = time.Unix(at, 0).UTC()
				out[ratingKey{source, r.ExternalID}] = r
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// bulkSettings gives the SQLite writer a 128 MiB page cache and keeps its
// temporary files (the statement journal of each multi-row insert) in
// memory, and returns a function that puts the previous settings back.
// The writer is a single connection, so the settings reach the connection
// the ingest's transaction runs on.
func (s *Store) bulkSettings(ctx context.Context) (func(), error) {
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, s.wrapErr(err)
	}
	var cache, temp int64
	if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
		conn.Close()
		return nil, s.wrapErr(err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&temp); err != nil {
		conn.Close()
		return nil, s.wrapErr(err)
	}
	_, err = conn.ExecContext(ctx, "PRAGMA cache_size = -131072")
	if err == nil {
		_, err = conn.ExecContext(ctx, "PRAGMA temp_store = MEMORY")
	}
	conn.Close()
	restore := func() {
		ctx := context.WithoutCancel(ctx)
		if conn, err := s.w.Conn(ctx); err == nil {
			conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = %d", cache))
			conn.ExecContext(ctx, fmt.Sprintf("PRAGMA temp_store = %d", temp))
			conn.Close()
		}
	}
	if err != nil {
		restore()
		return nil, s.wrapErr(err)
	}
	return restore, nil
}

// queryIDs runs an INSERT … RETURNING id and appends the ids to ids.
func (tx *Tx) queryIDs(ctx context.Context, stmt *sql.Stmt, args []any, ids []int64) ([]int64, error) {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return nil, tx.s.wrapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, tx.s.wrapErr(rows.Err())
}

// addInserted calls add for the ratings of part whose rows have the given
// ids (those the INSERT stored; the rest were duplicates).
func (tx *Tx) addInserted(ctx context.Context, part []tandem.Rating, ids []int64, add func(*tandem.Rating)) error {
	type key struct{ source, id string }
	stored := map[key]bool{}
	if len(ids) > 0 {
		in := strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",")
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err := tx.s.query(ctx, tx.tx, "SELECT source, external_id FROM csat_events WHERE id IN ("+in+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.source, &k.id); err != nil {
				rows.Close()
				return err
			}
			stored[k] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for i := range part {
		k := key{part[i].Source, part[i].ExternalID}
		if stored[k] {
			add(&part[i])
			// A repeat later in the same chunk is a duplicate.
			delete(stored, k)
		}
	}
	return nil
}

// CountStoredRatings returns how many of rs have a (source, external id)
// that is stored already: the duplicates a dry run announces.
func (s *Store) CountStoredRatings(ctx context.Context, rs []tandem.Rating) (int, error) {
	bySource := map[string][]string{}
	for _, r := range rs {
		bySource[r.Source] = append(bySource[r.Source], r.ExternalID)
	}
	n := 0
	const chunk = 500
	for source, ids := range bySource {
		for start := 0; start < len(ids); start += chunk {
			part := ids[start:min(start+chunk, len(ids))]
			args := make([]any, 0, len(part)+1)
			args = append(args, source)
			for _, id := range part {
				args = append(args, id)
			}
			var c int
			err := s.queryRow(ctx, s.r, "SELECT COUNT(*) FROM csat_events WHERE source = ? AND external_id IN ("+
				strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+")", args...).Scan(&c)
			if err != nil {
				return 0, s.wrapErr(err)
			}
			n += c
		}
	}
	return n, nil
}

// CustomerTotalsRows returns the stored totals of kind (tandem.Week or
// tandem.Month) and metric ("" for all) for the periods starting from
// from's period up to, not including, to (zero: no bound), ordered by
// period, unit and metric. Totals are per unit, for the ratings attributed
// to that unit itself; roll-ups to parents are the caller's.
func (s *Store) CustomerTotalsRows(ctx context.Context, kind, metric string, from, to time.Time) ([]tandem.CustomerTotalsRow, error) {
	var k string
	switch kind {
	case tandem.Week, "W":
		k, kind = "W", tandem.Week
	case tandem.Month, "M":
		k, kind = "M", tandem.Month
	default:
		return nil, tandem.FieldErrorf("period", "%q is not a period; use week or month", kind)
	}
	where := []string{"kind = ?"}
	args := []any{k}
	if metric != "" {
		if _, _, ok := tandem.MetricRange(metric); !ok {
			return nil, tandem.FieldErrorf("metric", "%q is not a metric; use csat, nps or ces", metric)
		}
		where = append(where, "metric = ?")
		args = append(args, metric)
	}
	if !from.IsZero() {
		where = append(where, "period >= ?")
		args = append(args, tandem.FormatDate(tandem.PeriodStart(kind, from)))
	}
	if !to.IsZero() {
		where = append(where, "period < ?")
		args = append(args, tandem.FormatDate(to))
	}
	rows, err := s.query(ctx, s.r, "SELECT period, unit_id, metric, n, sum, top, promoters, detractors FROM csat_totals WHERE "+
		strings.Join(where, " AND ")+" ORDER BY period, unit_id, metric", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tandem.CustomerTotalsRow
	for rows.Next() {
		var r tandem.CustomerTotalsRow
		var p string
		if err := rows.Scan(&p, &r.UnitID, &r.Metric, &r.N, &r.Sum, &r.Top, &r.Promoters, &r.Detractors); err != nil {
			return nil, err
		}
		if r.Period, err = tandem.ParseDate(p); err != nil {
			return nil, fmt.Errorf("csat_totals: bad period %q", p)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RatingsCount returns the number of stored ratings.
func (s *Store) RatingsCount(ctx context.Context) (int, error) {
	var n int
	err := s.queryRow(ctx, s.r, "SELECT COUNT(*) FROM csat_events").Scan(&n)
	return n, err
}

// RatingsCountBySource returns how many ratings of a source are stored.
func (s *Store) RatingsCountBySource(ctx context.Context, source string) (int, error) {
	var n int
	err := s.queryRow(ctx, s.r, "SELECT COUNT(*) FROM csat_events WHERE source = ?", source).Scan(&n)
	return n, err
}
