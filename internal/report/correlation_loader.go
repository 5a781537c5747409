package report

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/retention"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// ResolveUnit finds the unit named by ref — an id or a path such as
// "Acme/Support/Tier 1" — within scope (0: the whole organisation). An
// empty ref is the scope itself. A unit outside the scope is reported as
// not found, so the answer does not even confirm it exists.
func ResolveUnit(tree *tandem.Tree, ref string, scope int64) (int64, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return scope, nil
	}
	var u *tandem.Unit
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		u = tree.Unit(id)
	} else if parts, err := tandem.SplitUnitPath(ref); err == nil {
		u = tree.ByPath(parts)
	}
	if u == nil || !tree.InScope(scope, u.ID) {
		return 0, tandem.Errorf(tandem.ENOTFOUND, "There is no unit %q.", ref)
	}
	return u.ID, nil
}

// Source is what LoadCorrelation reads; the store implements it.
type Source interface {
	Tree(ctx context.Context) (*tandem.Tree, error)
	Programs(ctx context.Context) ([]pulse.Program, error)
	ProgramRoundCounts(ctx context.Context) (map[int64]int, error)
	RoundsBetween(ctx context.Context, programID int64, from, to time.Time) ([]pulse.Round, error)
	Respondents(ctx context.Context, roundIDs []int64) (map[int64]pulse.UnitCounts, error)
	TeamScores(ctx context.Context, roundIDs []int64) ([]pulse.TeamScoreRow, error)
	MetricTotals(ctx context.Context, kind, metric string, from, to time.Time) ([]tandem.CustomerTotalsRow, error)
	IndexAnswers(ctx context.Context, roundIDs []int64) ([]pulse.IndexAnswers, error)
}

// LoadCorrelation reads the report's inputs from src and builds it (see
// CorrelationLoader.Load), without remembering anything between calls.
func LoadCorrelation(ctx context.Context, src Source, p CorrelationParams, scope int64) (*Correlation, error) {
	return NewCorrelationLoader(src).Load(ctx, p, scope)
}

// CorrelationLoader loads correlation reports from one source and
// remembers the per-round inputs of closed rounds — their unit scores and
// respondent counts — which cannot change once a round is closed (answers
// are refused from then on). A warm server then reads only the rounds still
// open and the customer totals. It is safe for concurrent use.
type CorrelationLoader struct {
	// SaveFailed, when set (before the first Load), hears of a closed
	// round whose agreement inputs a report worked out but could not save
	// (AgreementRollups): the report goes on, and the next one works them
	// out again (serve logs it). It may be called from several goroutines
	// at once.
	SaveFailed func(round int64, err error)

	src Source
	mu  sync.Mutex
	// stints and stintsVersion keep the retention report's stints while
	// the roster is unchanged (see LoadRetention).
	stints        []retention.Stint
	stintsVersion string
	// closed maps a closed round's id to its inputs, whose unit lists
	// are shared through units.
	closed map[int64]closedRound
	units  unitLists
	// reports are the reports built from the released data of version
	// reportsVersion; reportsPairs counts their pairs.
	reports        map[reportKey]*Correlation
	reportsVersion int64
	reportsPairs   int
	// agreed maps a closed round's id to its agreement inputs (a few
	// numbers per unit, not the answers). Kept even where the source
	// saves them (AgreementRollups): reading two years of them back took
	// half a second at 50,000 employees, on every report whose agreement
	// figures are not kept (a leader's scope, a new range).
	agreed map[int64]*keptAgreement
	// figures keeps the agreement figures of the last reports, by
	// agreementKey: a report after a new rating reads no agreement input.
	figures map[string]*agreementFigures
	// customers keeps the customer totals last read, by kind and metric.
	customers map[customerKey]*customerTotalsKept
	// fe keeps the fixed-effects factorisations of the last reports'
	// panels: after a rating that adds no team-period they are the same.
	fe *stats.FECache
}

// cached returns the report of key, if it was built. Asked for a newer
// version than the reports kept, it lets them go at once: nobody will ask
// for them again, and a report of two years at 2,500 teams holds over
// 10 MB of pairs that would otherwise stay alive while the new one is
// built.
func (l *CorrelationLoader) cached(key reportKey) *Correlation {
	l.mu.Lock()
	defer l.mu.Unlock()
	if key.version > l.reportsVersion {
		clear(l.reports)
		l.reportsVersion, l.reportsPairs = key.version, 0
		return nil
	}
	return l.reports[key]
}

// keep remembers a report built from the data of key's version; reports
// of older versions are dropped, since nobody will ask for them again.
func (l *CorrelationLoader) keep(key reportKey, c *Correlation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if key.version < l.reportsVersion || c.PairCount() > maxCachedPairs {
		return
	}
	if key.version > l.reportsVersion || l.reportsPairs+c.PairCount() > maxCachedPairs {
		clear(l.reports)
		l.reportsVersion, l.reportsPairs = key.version, 0
	}
	l.reports[key] = c
	l.reportsPairs += c.PairCount()
}

// ReleasedVersioner is a Source that can say which version of the released
// data it holds (store.Store.ReleasedVersion): the version moves in the
// same transaction as a round's close and every ratings ingest. A loader
// whose source has it keeps the reports it built.
type ReleasedVersioner interface {
	ReleasedVersion(ctx context.Context) (int64, error)
}

// reportKey names a computed report: its resolved parameters, the caller's
// scope, the organisation it was built for and the released data it read.
type reportKey struct {
	params  string
	scope   int64
	tree    uint64
	version int64
}

// maxCachedPairs bounds the reports kept, by their team-period pairs
// (40 bytes each, see pairList): some 24 MB. It holds the two
// reports a server is asked for most at 2,500 teams — the default 26 weeks
// (65,000 pairs) and two years (260,000) — so that asking for one does not
// push the other out (at 300,000 they could not both stay, and asking
// for them in turn made every request cold).
const maxCachedPairs = 600_000

// agreementRoundsPerRead and scoreRoundsPerRead are how many rounds'
// index answers and team scores the loader reads a query (variables so
// that a test can read one at a time); roundReaders is how many of
// those reads, of either kind, run side by side.
var (
	agreementRoundsPerRead = 2
	roundReaders           = 2
	scoreRoundsPerRead     = 8
)

type closedRound struct {
	scores      roundScores
	respondents unitCounts
	// own is the round's anonymity decision for the tree whose Hash is
	// ownTree, at threshold ownK, when ownSet.
	own     roundOwn
	ownTree uint64
	ownK    int
	ownSet  bool
}

// maxCachedRounds bounds the memory the loader keeps: ten years of weekly
// rounds (about 60 KB per round for 500 teams).
const maxCachedRounds = 520

// NewCorrelationLoader returns a loader reading from src.
func NewCorrelationLoader(src Source) *CorrelationLoader {
	return &CorrelationLoader{src: src, closed: map[int64]closedRound{}, reports: map[reportKey]*Correlation{}, agreed: map[int64]*keptAgreement{}, figures: map[string]*agreementFigures{}, customers: map[customerKey]*customerTotalsKept{}, fe: stats.NewFECache()}
}

// roundInputs returns the scores of rounds, the respondents of those it
// read, and the anonymity decisions (roundOwn) of the closed rounds it
// keeps: from memory for the closed rounds it has seen and a few rounds a
// query for the rest. The scores are the closed rounds' from memory, in
// the order of rounds, then the rest in the order the source gave them.
//
// A kept round's decision is served from memory when it was made for the
// same tree (treeHash is tree.Hash()) and threshold, else decided now
// from the kept respondents and kept: deciding 104 rounds of 2,561 units
// was a tenth of a cold report's time. Closed rounds read now are decided here and kept
// decided; open ones are decided by the caller from their respondents.
func (l *CorrelationLoader) roundInputs(ctx context.Context, tree *tandem.Tree, treeHash uint64, rounds []pulse.Round) ([]roundScores, map[int64]pulse.UnitCounts, map[int64]roundOwn, error) {
	scores := []roundScores{}
	own := map[int64]roundOwn{}
	keep := map[int64]closedRound{} // closed rounds to keep (again) once decided
	var missing []int64
	byID := map[int64]pulse.Round{}
	l.mu.Lock()
	for _, r := range rounds {
		byID[r.ID] = r
		c, ok := l.closed[r.ID]
		if !ok || !r.Closed {
			missing = append(missing, r.ID)
			continue
		}
		scores = append(scores, c.scores)
		if c.ownSet && c.ownTree == treeHash && c.ownK == r.MinGroup {
			own[r.ID] = c.own
		} else {
			keep[r.ID] = c
		}
	}
	l.mu.Unlock()

	runs, resp, err := l.readRounds(ctx, missing)
	if err != nil {
		return nil, nil, nil, err
	}
	scores = append(scores, runs...)
	// The closed rounds read now are kept as they are. The store gives
	// each round's rows together; a round whose rows came in more than
	// one run (-1) is not kept, and is read again next time.
	runOf := map[int64]int{}
	for i, rs := range runs {
		if _, seen := runOf[rs.round]; seen {
			i = -1
		}
		runOf[rs.round] = i
	}
	for _, id := range missing {
		i, ok := runOf[id]
		if !byID[id].Closed || ok && i < 0 {
			continue
		}
		rs := roundScores{round: id} // a round without scores
		if ok {
			rs = runs[i]
		}
		keep[id] = closedRound{scores: rs, respondents: compactCounts(resp[id])}
	}
	// Every round kept is decided for this tree, so that the next report
	// finds it decided: from the respondents just read, or else the kept
	// ones.
	for id, c := range keep {
		direct, read := resp[id]
		if !read {
			direct = c.respondents.counts()
		}
		k := byID[id].MinGroup
		c.own, c.ownTree, c.ownK, c.ownSet = ownOf(tree, direct, k), treeHash, k, true
		keep[id], own[id] = c, c.own
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, c := range keep {
		if len(l.closed) >= maxCachedRounds {
			clear(l.closed)
		}
		c.scores.units = l.units.of(c.scores.units)
		c.respondents.units = l.units.of(c.respondents.units)
		c.own.units = l.units.of(c.own.units)
		l.closed[id] = c
	}
	return scores, resp, own, nil
}

// unitLists keeps one copy of each list of unit ids the kept rounds
// hold. A round keeps three (the units with scores, with respondents,
// and shown), and most weeks all three are the same 2,500 teams at 2,500
// teams: 6 MB of the loader's memory over two years, where one list
// serves. The lists are never changed once made.
type unitLists struct {
	seed   maphash.Seed
	byHash map[uint64][]int64
}

// of returns the kept list equal to units, keeping units if there is none.
func (u *unitLists) of(units []int64) []int64 {
	if len(units) == 0 {
		return units
	}
	if u.byHash == nil {
		u.seed, u.byHash = maphash.MakeSeed(), map[uint64][]int64{}
	}
	var h maphash.Hash
	h.SetSeed(u.seed)
	var b [8]byte
	for _, id := range units {
		binary.LittleEndian.PutUint64(b[:], uint64(id))
		h.Write(b[:])
	}
	key := h.Sum64()
	if kept, ok := u.byHash[key]; ok && slices.Equal(kept, units) {
		return kept
	}
	if len(u.byHash) >= maxCachedRounds {
		clear(u.byHash) // the lists kept stay with their rounds
	}
	u.byHash[key] = units
	return units
}

// readRounds reads the team scores (as runs of columns, in the order the
// source gave them) and respondents of rounds ids, a few rounds a query:
// a round's score rows are a slice of every measure per unit (over 30 MB
// for two years at 2,500 teams), its columns a third of that, so reading
// them all before laying them out was most of a first report's memory.
// The queries run on roundReaders readers side by side (stepping
// through the rows is SQLite's CPU); their runs are joined in the order
// of ids, as one reader after another would give them.
func (l *CorrelationLoader) readRounds(ctx context.Context, ids []int64) ([]roundScores, map[int64]pulse.UnitCounts, error) {
	type part struct {
		runs   []roundScores
		counts map[int64]pulse.UnitCounts
	}
	parts := make([]part, (len(ids)+scoreRoundsPerRead-1)/scoreRoundsPerRead)
	g, gctx := errgroup.WithContext(ctx) // nothing is kept before every part is read
	g.SetLimit(roundReaders)
	for k := range parts {
		lo := k * scoreRoundsPerRead
		ids := ids[lo:min(lo+scoreRoundsPerRead, len(ids))]
		g.Go(func() error {
			fresh, err := l.src.TeamScores(gctx, ids)
			if err != nil {
				return err
			}
			parts[k].runs = scoreColumns(fresh)
			parts[k].counts, err = l.src.Respondents(gctx, ids)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	var runs []roundScores
	resp := map[int64]pulse.UnitCounts{}
	for _, p := range parts {
		runs = append(runs, p.runs...)
		maps.Copy(resp, p.counts)
	}
	return runs, resp, nil
}

// unitCounts are a kept round's respondents per unit, as sorted arrays: a
// map's slots took two to three times as much for every round kept.
type unitCounts struct {
	units []int64
	n     []int32
}

func compactCounts(m pulse.UnitCounts) unitCounts {
	c := unitCounts{units: make([]int64, 0, len(m)), n: make([]int32, len(m))} // kept: no room to grow
	for u := range m {
		c.units = append(c.units, u)
	}
	slices.Sort(c.units)
	for i, u := range c.units {
		c.n[i] = int32(m[u])
	}
	return c
}

// counts returns c as a map, for privacy.Decide.
func (c unitCounts) counts() pulse.UnitCounts {
	m := make(pulse.UnitCounts, len(c.units))
	for i, u := range c.units {
		m[u] = int(c.n[i])
	}
	return m
}

// agreementInputs returns the agreement inputs of rounds (AgreementOf
// their index answers): from memory for the closed rounds it has seen,
// else those the source saved (AgreementRollups), else from the answers,
// saving a closed round's for the next start.
func (l *CorrelationLoader) agreementInputs(ctx context.Context, rounds []pulse.Round) (map[int64]*keptAgreement, error) {
	out := map[int64]*keptAgreement{}
	var missing []int64
	closed := map[int64]bool{}
	l.mu.Lock()
	for _, r := range rounds {
		if a, ok := l.agreed[r.ID]; ok && r.Closed {
			out[r.ID] = a
			continue
		}
		missing = append(missing, r.ID)
		closed[r.ID] = r.Closed
	}
	l.mu.Unlock()
	rollups, saves := l.src.(AgreementRollups)
	if saves && len(missing) > 0 {
		var ids []int64
		for _, id := range missing {
			if closed[id] {
				ids = append(ids, id)
			}
		}
		saved, err := rollups.SavedAgreement(ctx, ids)
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		for id, ra := range saved {
			out[id] = l.keepAgreed(id, ra)
		}
		l.mu.Unlock()
		missing = slices.DeleteFunc(missing, func(id int64) bool { _, ok := saved[id]; return ok })
	}
	if len(missing) == 0 {
		return out, nil
	}
	// A few rounds at a time: a round's answers at 50,000 employees are
	// tens of megabytes in memory, its summary a few numbers per unit, so
	// reading two years at once would hold gigabytes for a moment. Each
	// read's closed rounds are kept at once: a first report that runs out
	// of time leaves them for the next request, which goes on from there.
	//
	// Two reads side by side: stepping through the answers is SQLite's
	// CPU (30 s of a first two-year report at 50,000 employees, on one
	// core), and the rounds in memory at once stay four, as when they
	// were read four at a time one after another. The readers are not
	// GOMAXPROCS: on a larger machine that would multiply the memory.
	// A failed read starts no more, but does not cancel the one beside
	// it, whose rounds are kept (a request out of time cancels both
	// through ctx).
	var g errgroup.Group
	g.SetLimit(roundReaders)
	var failed atomic.Bool
	for lo := 0; lo < len(missing) && !failed.Load() && ctx.Err() == nil; lo += agreementRoundsPerRead {
		ids := missing[lo:min(lo+agreementRoundsPerRead, len(missing))]
		g.Go(func() error {
			if failed.Load() {
				return nil // a read failed while this one waited for its turn
			}
			answers, err := l.src.IndexAnswers(ctx, ids)
			if err != nil {
				failed.Store(true)
				return err
			}
			// AgreementOf summarises each round on its own.
			fresh := AgreementOf(answers)
			for _, id := range ids {
				if closed[id] && saves {
					// Saved for the next server start. The answers stay the
					// truth: a round not saved (a full disk, the request out
					// of time) is summarised from them again next time, so
					// the report does not fail for it; SaveFailed hears of it.
					if err := rollups.SaveAgreement(ctx, id, fresh[id]); err != nil && l.SaveFailed != nil && ctx.Err() == nil {
						l.SaveFailed(id, err)
					}
				}
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			for _, id := range ids {
				if closed[id] {
					out[id] = l.keepAgreed(id, fresh[id])
				} else {
					out[id] = packAgreement(fresh[id], nil)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// maxKeptFigures bounds the agreement figures kept: a few report
// ranges and scopes.
const maxKeptFigures = 16

// agreementKey names what a report's agreement figures read: the
// program, period kind, range, unit and scope, the tree, and each round
// of the range with whether it is closed and its threshold.
func agreementKey(p CorrelationParams, scope int64, tree uint64, rounds []pulse.Round) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%s|%s|%s|%d|%d|%x", p.ProgramID, p.Period, tandem.FormatDate(p.From), tandem.FormatDate(p.To), p.UnitID, scope, tree)
	for _, r := range rounds {
		fmt.Fprintf(&b, "|%d:%t:%d", r.ID, r.Closed, r.MinGroup)
	}
	return b.String()
}

// keptFigures returns the agreement figures kept for key, or nil.
func (l *CorrelationLoader) keptFigures(key string) *agreementFigures {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.figures[key]
}

// keepFigures keeps the agreement figures of key.
func (l *CorrelationLoader) keepFigures(key string, f *agreementFigures) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.figures[key]; !ok && len(l.figures) >= maxKeptFigures {
		clear(l.figures)
	}
	l.figures[key] = f
}

// keepAgreed keeps closed round id's agreement inputs, packed, and
// returns them; l.mu is held.
func (l *CorrelationLoader) keepAgreed(id int64, ra RoundAgreement) *keptAgreement {
	if len(l.agreed) >= maxCachedRounds {
		clear(l.agreed)
	}
	k := packAgreement(ra, &l.units)
	l.agreed[id] = k
	return k
}

// AgreementRollups is a Source that keeps each closed round's agreement
// inputs once they are worked out (store.Store): a server's first report
// then reads a few numbers per unit and round instead of every answer
// (25 million at 50,000 employees and two years of weeks, most of a
// first report's time).
type AgreementRollups interface {
	// SavedAgreement returns the inputs saved for those of roundIDs that
	// have them, by round id.
	SavedAgreement(ctx context.Context, roundIDs []int64) (map[int64]RoundAgreement, error)
	// SaveAgreement saves closed round's inputs (AgreementOf of all its
	// index answers); a round saved before is left as it is.
	SaveAgreement(ctx context.Context, round int64, ra RoundAgreement) error
}

// AgreementKeeper is a source whose closed rounds' agreement inputs can
// be worked out ahead of the reports (store.Store).
type AgreementKeeper interface {
	AgreementRollups
	IndexAnswers(ctx context.Context, roundIDs []int64) ([]pulse.IndexAnswers, error)
	// UnsavedAgreementRounds returns up to limit closed rounds without
	// saved inputs, the latest first.
	UnsavedAgreementRounds(ctx context.Context, limit int) ([]int64, error)
}

// SaveAgreementRollups works out and saves the agreement inputs of up to
// limit closed rounds that have none saved, the latest first, and says
// how many it saved. Run as rounds close (and, after an upgrade, until
// every round is saved), it takes reading a round's answers (a quarter
// of a second at 50,000 employees) off the first report after the close.
// A round that cannot be worked out or saved does not stop the others:
// their errors come back together once the rest are saved.
func SaveAgreementRollups(ctx context.Context, src AgreementKeeper, limit int) (int, error) {
	saved, _, err := saveAgreementRollups(ctx, src, limit, nil)
	return saved, err
}

// saveAgreementRollups is SaveAgreementRollups passing over the rounds
// of skip; it also returns the rounds that failed.
func saveAgreementRollups(ctx context.Context, src AgreementKeeper, limit int, skip map[int64]bool) (saved int, failed []int64, err error) {
	ids, err := src.UnsavedAgreementRounds(ctx, limit+len(skip))
	if err != nil {
		return 0, nil, err
	}
	ids = slices.DeleteFunc(ids, func(id int64) bool { return skip[id] })
	var errs []error
	// One round a read, so that an error names its round.
	for _, id := range ids[:min(limit, len(ids))] {
		answers, err := src.IndexAnswers(ctx, []int64{id})
		if err == nil {
			err = src.SaveAgreement(ctx, id, AgreementOf(answers)[id])
		}
		if err != nil && ctx.Err() != nil {
			return saved, failed, ctx.Err() // out of time: no round's fault
		}
		if err != nil {
			failed = append(failed, id)
			errs = append(errs, fmt.Errorf("round %d: %w", id, err))
			continue
		}
		saved++
	}
	return saved, failed, errors.Join(errs...)
}

// AgreementRollupSaver saves closed rounds' agreement inputs ahead of the
// reports, PerRun rounds a call (serve's housekeeping, once a minute). A
// round that fails is passed over for RetryAfter, so that one round that
// cannot be saved — its answers unreadable, say — does not hold back the
// older ones behind it, and is tried again after that. Safe for
// concurrent use.
type AgreementRollupSaver struct {
	Src        AgreementKeeper
	PerRun     int
	RetryAfter time.Duration

	mu     sync.Mutex
	failed map[int64]time.Time // round → when it last failed
}

// Run saves up to PerRun rounds at now and says how many it saved; err
// names each round that failed.
func (s *AgreementRollupSaver) Run(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	skip := map[int64]bool{}
	for id, at := range s.failed {
		if now.Sub(at) < s.RetryAfter {
			skip[id] = true
		} else {
			delete(s.failed, id)
		}
	}
	saved, failed, err := saveAgreementRollups(ctx, s.Src, s.PerRun, skip)
	for _, id := range failed {
		if s.failed == nil {
			s.failed = map[int64]time.Time{}
		}
		s.failed[id] = now
	}
	return saved, err
}

// Load resolves the unit and program of p for a caller limited to scope
// (0: the whole organisation; a leader's unit otherwise), reads the inputs
// in a fixed handful of queries and builds the report. A unit or program
// outside the scope is not found. The default program is the one with the
// most rounds among those whose audience overlaps the scope.
//
// A report built once is served again, without reading its inputs, while
// the parameters, the scope, the organisation (Tree.Hash) and the released
// data (ReleasedVersioner) are the same. The report returned is shared:
// callers must not change it.
func (l *CorrelationLoader) Load(ctx context.Context, p CorrelationParams, scope int64) (*Correlation, error) {
	src := l.src
	if p.Period != tandem.Week && p.Period != tandem.Month {
		return nil, paramErr("period", "period must be week or month; got %q", p.Period)
	}
	// The version is read before anything it versions, so that a report
	// is never kept under a version newer than the data it read.
	versioner, cache := src.(ReleasedVersioner)
	var key reportKey
	if cache {
		v, err := versioner.ReleasedVersion(ctx)
		if err != nil {
			return nil, err
		}
		key.version, key.scope = v, scope
	}
	tree, err := src.Tree(ctx)
	if err != nil {
		return nil, err
	}
	treeHash := tree.Hash()
	if p.UnitID, err = ResolveUnit(tree, p.UnitRef, scope); err != nil {
		return nil, err
	}
	if u := tree.Unit(p.UnitID); u != nil {
		p.Unit = u.Path
	}
	prog, err := chooseProgram(ctx, src, tree, scope, p.ProgramID)
	if err != nil {
		return nil, err
	}
	if prog != nil {
		p.ProgramID, p.Program = prog.ID, prog.Name
	}
	if cache {
		key.tree = treeHash
		key.params = fmt.Sprintf("%s|%s|%s|%s|%s|%d|%d|%d|%s|%d|%s", p.Measure, p.Customer, p.Period,
			tandem.FormatDate(p.From), tandem.FormatDate(p.To), p.Lag, p.MinRatings, p.ProgramID, p.Program, p.UnitID, p.Unit)
		if c := l.cached(key); c != nil {
			return c, nil
		}
	}

	// The customer totals do not depend on the unit or program: read them
	// beside the rounds. Customer periods run from MaxLag periods before
	// the first engagement period to MaxLag periods after the last, so
	// that every lag, either way, finds its partner.
	type customerRows struct {
		span customerSpan
		err  error
	}
	customer := make(chan customerRows, 1)
	go func() {
		cFrom := tandem.PeriodStart(p.Period, p.From)
		for range MaxLag {
			cFrom = prevPeriod(p.Period, cFrom)
		}
		cTo := tandem.PeriodStart(p.Period, p.To)
		for range MaxLag + 1 {
			cTo = tandem.NextPeriod(p.Period, cTo)
		}
		span, err := l.customerTotals(ctx, key.version, p.Period, p.Customer, cFrom, cTo) // to is exclusive
		customer <- customerRows{span, err}
	}()
	received := false
	defer func() {
		if !received {
			<-customer // never leave the reader behind
		}
	}()

	in := CorrelationInput{Tree: tree, scores: []roundScores{}}
	var figures string // the agreement figures' key
	if prog != nil {
		if in.Rounds, err = src.RoundsBetween(ctx, prog.ID, p.From, p.To); err != nil {
			return nil, err
		}
		if in.scores, in.Respondents, in.own, err = l.roundInputs(ctx, tree, treeHash, in.Rounds); err != nil {
			return nil, err
		}
		figures = agreementKey(p, scope, treeHash, in.Rounds)
		if in.agreed = l.keptFigures(figures); in.agreed == nil {
			if in.agreement, err = l.agreementInputs(ctx, in.Rounds); err != nil {
				return nil, err
			}
		}
	}
	cr := <-customer
	received = true
	if cr.err != nil {
		return nil, cr.err
	}
	in.customer = &cr.span
	in.Params = p
	in.fe = l.fe
	c, agreed, err := buildCorrelation(in)
	if err != nil {
		return nil, err
	}
	if figures != "" {
		l.keepFigures(figures, agreed)
	}
	if cache {
		l.keep(key, c)
	}
	return c, nil
}

// chooseProgram reads the programs and applies pulse.ChooseProgram: the
// program asked for (0: none), else the default for scope.
func chooseProgram(ctx context.Context, src Source, tree *tandem.Tree, scope, chosen int64) (*pulse.Program, error) {
	programs, err := src.Programs(ctx)
	if err != nil {
		return nil, err
	}
	var counts map[int64]int
	if chosen == 0 {
		if counts, err = src.ProgramRoundCounts(ctx); err != nil {
			return nil, err
		}
	}
	return pulse.ChooseProgram(programs, counts, tree, scope, chosen)
}
