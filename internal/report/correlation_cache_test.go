package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/stats"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// closedBenchData is benchData's 20 teams over 8 weeks with every round
// closed, the last round's day, and the parameters of a report over the
// eight weeks.
func closedBenchData(t *testing.T) (*store.Store, time.Time, CorrelationParams) {
	t.Helper()
	st, last := benchData(t, 20, 8)
	if _, err := st.CloseDueRounds(context.Background(), testNow); err != nil {
		t.Fatal(err)
	}
	p, err := ParseCorrelationParams(func(n string) string {
		if n == "from" {
			return tandem.FormatDate(last.AddDate(0, 0, -7*7))
		}
		return ""
	}, last.AddDate(0, 0, 6))
	if err != nil {
		t.Fatal(err)
	}
	return st, last, p
}

func TestAWarmReportComesFromTheCacheUntilNewReleasedDataOrAnotherTreeArrives(t *testing.T) {
	st, last, p := closedBenchData(t)
	ctx := context.Background()
	src := &answersRead{Store: st}
	loader := NewCorrelationLoader(src)
	load := func(scope int64) *Correlation {
		t.Helper()
		c, err := loader.Load(ctx, p, scope)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// fresh is the report built from nothing remembered.
	fresh := func(scope int64) string {
		t.Helper()
		c, err := NewCorrelationLoader(st).Load(ctx, p, scope)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(c)
		return string(b)
	}
	same := func(name string, c *Correlation, scope int64) {
		t.Helper()
		if b, _ := json.Marshal(c); string(b) != fresh(scope) {
			t.Errorf("%s: the loader's report differs from one built afresh", name)
		}
	}

	first := load(0)
	if first.NPairs == 0 {
		t.Fatal("the fixture gives no pairs")
	}
	if again := load(0); again != first {
		t.Error("the same report asked again was built again, not served from the cache")
	}
	tree, _ := st.Tree(ctx)
	division := tree.Roots()[0]
	for _, id := range tree.Children(division) {
		division = id
		break
	}
	if scoped := load(division); scoped == first {
		t.Error("a leader's scope was served the whole organisation's report")
	} else {
		same("a leader's scope", scoped, division)
	}

	// A rating in the report's range: new released data.
	team := tree.Children(division)[0]
	if _, err := st.IngestRatings(ctx, []tandem.Rating{{Source: "test", ExternalID: "late", OccurredAt: last.Add(-48 * time.Hour),
		UnitID: team, Metric: tandem.MetricCSAT, Score: 1}}, testNow); err != nil {
		t.Fatal(err)
	}
	// Asked for the newer data, the loader lets go of the older reports
	// before it builds: they would only hold memory during the build.
	if v, err := st.ReleasedVersion(ctx); err != nil {
		t.Fatal(err)
	} else if loader.cached(reportKey{version: v}) != nil || len(loader.reports) != 0 {
		t.Errorf("asked for version %d, the loader still keeps %d reports of older data", v, len(loader.reports))
	}
	hits, lookups := loader.fe.Found()
	src.read, src.kept = nil, nil
	afterRating := load(0)
	if afterRating == first {
		t.Error("after a new rating the cached report was served")
	}
	same("after a new rating", afterRating, 0)
	// The agreement figures read no customer: the report before's serve.
	if len(src.read)+len(src.kept) > 0 {
		t.Errorf("after a new rating the agreement inputs were read again: answers of rounds %v, saved inputs of %v", src.read, src.kept)
	}
	// The rating fell in a week the team already had totals for: no
	// team-period came or went, so every fit (the within fit, the lag
	// scan's two series and its lags with period effects) found its
	// factorisation.
	if h, l := loader.fe.Found(); h-hits != l-lookups || l-lookups < 13 {
		t.Errorf("after a rating in a week with totals, %d fits of %d found their factorisation; want every one, at least 13", h-hits, l-lookups)
	}

	// Another organisation: a unit added.
	figuresBefore := len(loader.figures)
	if _, err := st.CreateUnit(ctx, division, "A new team", true); err != nil {
		t.Fatal(err)
	}
	if afterUnit := load(0); afterUnit == afterRating {
		t.Error("after the organisation changed the cached report was served")
	} else {
		same("after the organisation changed", afterUnit, 0)
	}
	if len(loader.figures) <= figuresBefore {
		t.Error("after the organisation changed the agreement figures were not worked out again")
	}
}

// answeredOrg is six teams of twelve that answered six weekly rounds, all
// closed, and the parameters of a report over them.
func answeredOrg(t *testing.T) (*store.Store, CorrelationParams) {
	t.Helper()
	o, _, p := answeredRounds(t)
	o.CloseRounds(o.Now)
	return o.Store, p
}

// answeredRounds is answeredOrg with its rounds, none closed yet.
func answeredRounds(t *testing.T) (*tandemtest.Org, []pulse.Round, CorrelationParams) {
	t.Helper()
	o := tandemtest.New(t, tandemtest.Options{})
	var teams []tandemtest.Team
	for i := range 6 {
		teams = append(teams, tandemtest.Team{Path: fmt.Sprintf("Acme/T%d", i), Size: 12})
	}
	o.AddPeople(o.Now.AddDate(-1, 0, 0), tandemtest.People(tandemtest.Numbered("p"), teams...))
	prog := o.Program("Acme", nil)
	rounds := o.WeeklyRounds(&prog, 6)
	for w, r := range rounds {
		o.Answer(r, func(inv store.InvitationRef, qs []pulse.Question) *store.RecordedResponse {
			v := float64(1 + (int(inv.EmployeeID)*7+w*3)%5)
			return &store.RecordedResponse{Answers: tandemtest.Rated(qs, v, 2*v)}
		})
	}
	p, err := ParseCorrelationParams(func(n string) string {
		if n == "from" {
			return tandem.FormatDate(o.Now.AddDate(0, 0, -7*7))
		}
		return ""
	}, o.Now)
	if err != nil {
		t.Fatal(err)
	}
	return o, rounds, p
}

// agreementJSON is the agreement part of a report built by a new loader
// reading perRead rounds' answers at a time.
func agreementJSON(t *testing.T, src Source, p CorrelationParams, perRead int) string {
	t.Helper()
	defer func(old int) { agreementRoundsPerRead = old }(agreementRoundsPerRead)
	agreementRoundsPerRead = perRead
	c, err := NewCorrelationLoader(src).Load(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Agreement.ICCGroups < 6*6 || c.Agreement.RWGGroups == 0 {
		t.Fatalf("agreement over %d team-rounds (%d with rwg); the test needs 36", c.Agreement.ICCGroups, c.Agreement.RWGGroups)
	}
	b, _ := json.Marshal(c.Agreement)
	return string(b)
}

// Reading the rounds' answers a few at a time (to bound the memory of a
// first report over two years) gives the report of reading them at once.
func TestAgreementReadRoundByRoundEqualsOneRead(t *testing.T) {
	st, p := answeredOrg(t)
	if one, all := agreementJSON(t, st, p, 1), agreementJSON(t, st, p, 1000); one != all {
		t.Errorf("round by round:\n%s\nall at once:\n%s", one, all)
	}
}

// Reading the rounds' team scores a few at a time (to bound the memory of
// a first report over two years), on two readers, gives the report, pairs
// and all, of reading them at once: weekly, and monthly, where a period's
// sums add several rounds in the order they were read.
func TestScoresReadRoundByRoundEqualOneRead(t *testing.T) {
	st, _, weekly := closedBenchData(t)
	monthly := weekly
	monthly.Period = tandem.Month
	for _, p := range []CorrelationParams{weekly, monthly} {
		testScoresReadRoundByRound(t, st, p)
	}
}

func testScoresReadRoundByRound(t *testing.T, st *store.Store, p CorrelationParams) {
	report := func(perRead int) string {
		t.Helper()
		defer func(old int) { scoreRoundsPerRead = old }(scoreRoundsPerRead)
		scoreRoundsPerRead = perRead
		c, err := NewCorrelationLoader(st).Load(context.Background(), p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.NPairs == 0 || len(c.Drivers) == 0 {
			t.Fatalf("the fixture gives %d pairs and %d drivers; the test needs both", c.NPairs, len(c.Drivers))
		}
		b, _ := json.Marshal(struct {
			*Correlation
			Pairs []Pair
		}{c, c.Pairs()})
		return string(b)
	}
	if one, all := report(1), report(1000); one != all {
		t.Errorf("%s: round by round:\n%s\nall at once:\n%s", p.Period, one, all)
	}
}

// cutOffStore is the store as a Source only (it keeps no agreement
// inputs, as AgreementRollups would: every round's come from answers),
// but its reads of answers fail from the call numbered failFrom on, as a
// request that runs out of time does. The loader reads answers on two
// goroutines, so it counts under a lock.
type cutOffStore struct {
	Source
	mu              sync.Mutex
	failFrom, calls int
	read            []int64
}

func (c *cutOffStore) IndexAnswers(ctx context.Context, ids []int64) ([]pulse.IndexAnswers, error) {
	c.mu.Lock()
	c.calls++
	if c.failFrom > 0 && c.calls >= c.failFrom {
		c.mu.Unlock()
		return nil, context.DeadlineExceeded
	}
	c.read = append(c.read, ids...)
	c.mu.Unlock()
	return c.Source.IndexAnswers(ctx, ids)
}

// A first report that runs out of time while reading answers keeps the
// rounds it read: the next request reads only the others, and its report
// is the one built in one go.
func TestAFirstReportCutOffKeepsTheRoundsItReadForTheNext(t *testing.T) {
	st, p := answeredOrg(t)
	want := agreementJSON(t, st, p, 1000)
	defer func(old int) { agreementRoundsPerRead = old }(agreementRoundsPerRead)
	agreementRoundsPerRead = 2
	src := &cutOffStore{Source: st, failFrom: 2}
	loader := NewCorrelationLoader(src)
	ctx := context.Background()
	if _, err := loader.Load(ctx, p, 0); err == nil {
		t.Fatal("the cut-off report was built")
	}
	if len(src.read) != 2 {
		t.Fatalf("the cut-off report read %d rounds' answers, want 2", len(src.read))
	}
	first := append([]int64(nil), src.read...)
	src.failFrom, src.read = 0, nil
	c, err := loader.Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.read) != 4 {
		t.Errorf("the next request read %d rounds' answers (%v), want the 4 not read before (%v were)", len(src.read), src.read, first)
	}
	for _, id := range src.read {
		if slices.Contains(first, id) {
			t.Errorf("round %d was read again", id)
		}
	}
	if b, _ := json.Marshal(c.Agreement); string(b) != want {
		t.Errorf("agreement after a cut-off first request:\n%s\nbuilt in one go:\n%s", b, want)
	}
}

// A server's first report saves each closed round's agreement inputs, and
// the first report after a restart reads those instead of the answers:
// no answer is read, and the report is the one built from the answers.
func TestAFirstReportAfterARestartReadsTheSavedAgreementInputs(t *testing.T) {
	st, p := answeredOrg(t)
	ctx := context.Background()
	first, err := NewCorrelationLoader(st).Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	reportFromSavedInputs(t, st, p, first)
	if first.Agreement.ICCGroups == 0 || first.Agreement.RWGGroups == 0 {
		t.Fatalf("the fixture gives %d ICC groups and %d with rwg; the test needs both", first.Agreement.ICCGroups, first.Agreement.RWGGroups)
	}
}

// A report after a new rating takes the agreement figures of the report
// before, since they read no customer, and reads no agreement input; a
// round that closes brings its inputs in. Each report is the one built
// afresh, with the pairs on team-weeks whose members disagree counted
// from the rounds' inputs.
func TestAReportAfterANewRatingTakesTheAgreementFiguresOfTheOneBefore(t *testing.T) {
	o, rounds, p := answeredRounds(t)
	st := o.Store
	ctx := context.Background()
	o.CloseRounds(rounds[len(rounds)-1].ScheduledAt.Add(24 * time.Hour)) // all but the last
	tree, _ := st.Tree(ctx)
	var rs []tandem.Rating
	for _, team := range tree.Children(tree.Roots()[0]) {
		for day := p.From; !day.After(p.To); day = day.AddDate(0, 0, 7) {
			for i := range 6 {
				rs = append(rs, tandem.Rating{Source: "test", ExternalID: fmt.Sprintf("%d-%s-%d", team, tandem.FormatDate(day), i),
					OccurredAt: day.Add(time.Duration(10+i) * time.Hour), UnitID: team, Metric: tandem.MetricCSAT, Score: float64(1 + (int(team)+i+day.YearDay())%5)})
			}
		}
	}
	if _, err := st.IngestRatings(ctx, rs, testNow); err != nil {
		t.Fatal(err)
	}
	src := &answersRead{Store: st}
	loader := NewCorrelationLoader(src)
	load := func(name string) *Correlation {
		t.Helper()
		c, err := loader.Load(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := NewCorrelationLoader(st).Load(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(c)
		b, _ := json.Marshal(fresh)
		if string(a) != string(b) {
			t.Errorf("%s:\n%s\nbuilt afresh:\n%s", name, a, b)
		}
		if want := pairsOnDisagreement(t, st, c); c.Agreement.PairsAffected != want {
			t.Errorf("%s: %d pairs on a team-week whose members disagree, want %d", name, c.Agreement.PairsAffected, want)
		}
		return c
	}
	open := load("the last round open")
	o.CloseRounds(o.Now)
	src.read, src.kept = nil, nil
	closed := load("the last round closed")
	if len(src.kept) == 0 || closed.Agreement.ICCGroups <= open.Agreement.ICCGroups {
		t.Errorf("after the last round closed, the agreement inputs read were %v and the ICC groups went from %d to %d; want the round's inputs read and counted",
			src.kept, open.Agreement.ICCGroups, closed.Agreement.ICCGroups)
	}
	if closed.NPairs == 0 || closed.Agreement.PairsAffected == 0 {
		t.Fatalf("the fixture gives %d pairs, %d on a team-week whose members disagree; the test needs both", closed.NPairs, closed.Agreement.PairsAffected)
	}
	late := rs[len(rs)-1]
	late.ExternalID, late.Score = "late", 6-late.Score
	if _, err := st.IngestRatings(ctx, []tandem.Rating{late}, testNow); err != nil {
		t.Fatal(err)
	}
	src.read, src.kept = nil, nil
	if after := load("after a new rating"); after == closed {
		t.Fatal("after a new rating the cached report was served")
	}
	if len(src.read)+len(src.kept) > 0 {
		t.Errorf("after a new rating the agreement inputs were read again: answers of rounds %v, saved inputs of %v", src.read, src.kept)
	}
}

// A report whose agreement figures are not kept (a leader's scope
// among many, a new range) works them out from the inputs the loader
// holds, reading none back: two years of them took half a second at
// 50,000 employees.
func TestAgreementFiguresNotKeptAreWorkedOutFromTheInputsHeld(t *testing.T) {
	st, p := answeredOrg(t)
	ctx := context.Background()
	if _, err := SaveAgreementRollups(ctx, st, 100); err != nil { // as after a restart
		t.Fatal(err)
	}
	src := &answersRead{Store: st}
	loader := NewCorrelationLoader(src)
	first, err := loader.Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.kept) == 0 {
		t.Fatal("the first report read no saved agreement input; the test shows nothing")
	}
	clear(loader.figures) // let go, as when other scopes pushed them out
	clear(loader.reports)
	src.read, src.kept = nil, nil
	again, err := loader.Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.read)+len(src.kept) > 0 {
		t.Errorf("the agreement inputs were read again: answers of rounds %v, saved inputs of %v", src.read, src.kept)
	}
	a, _ := json.Marshal(first.Agreement)
	b, _ := json.Marshal(again.Agreement)
	if string(a) != string(b) {
		t.Errorf("worked out again:\n%s\nfirst:\n%s", b, a)
	}
}

// pairsOnDisagreement counts c's pairs whose team's round in the pair's
// week counted an rwg (at least twice the round's threshold of complete
// respondents) below the cutoff, from the rounds' index answers.
func pairsOnDisagreement(t *testing.T, st *store.Store, c *Correlation) int {
	t.Helper()
	ctx := context.Background()
	rounds, err := st.RoundsBetween(ctx, c.Params.ProgramID, c.Params.From, c.Params.To)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rounds {
		ids = append(ids, r.ID)
	}
	answers, err := st.IndexAnswers(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	inputs := AgreementOf(answers)
	disagree := map[string]bool{} // team id and week
	for _, r := range rounds {
		week := tandem.FormatDate(tandem.PeriodStart(tandem.Week, r.ScheduledAt))
		for _, ua := range inputs[r.ID] {
			if ua.RWGN >= 2*r.MinGroup && ua.RWG < stats.DisagreementCutoff {
				disagree[fmt.Sprint(ua.Unit, week)] = true
			}
		}
	}
	n := 0
	for _, pr := range c.Pairs() {
		if disagree[fmt.Sprint(pr.TeamID, pr.Period)] {
			n++
		}
	}
	return n
}

// Saving the rounds' agreement inputs ahead of the reports (as the
// server does after rounds close) saves the latest closed rounds first,
// a few at a time, until every one is saved; a report then reads no
// answer and is the one built from the answers.
func TestAgreementRollupsSavedAheadServeTheFirstReport(t *testing.T) {
	st, p, fromAnswers := answeredOrgReport(t)
	ctx := context.Background()
	for i, want := range []int{4, 2, 0} {
		if n, err := SaveAgreementRollups(ctx, st, 4); err != nil || n != want {
			t.Fatalf("save %d: %d rounds (%v), want %d", i+1, n, err, want)
		}
	}
	reportFromSavedInputs(t, st, p, fromAnswers)
}

// A round whose answers cannot be read does not hold back the others:
// the housekeeping's saver saves the rounds around it, names it in its
// error, passes over it for an hour while the older rounds catch up, and
// saves it once it can be read again.
func TestAgreementRollupSaverPassesOverARoundThatFails(t *testing.T) {
	st, p, fromAnswers := answeredOrgReport(t)
	ctx := context.Background()
	latest, err := st.UnsavedAgreementRounds(ctx, 1)
	if err != nil || len(latest) != 1 {
		t.Fatalf("latest closed round: %v (%v)", latest, err)
	}
	src := &unreadableRound{Store: st, round: latest[0]}
	saver := &AgreementRollupSaver{Src: src, PerRun: 4, RetryAfter: time.Hour}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, step := range []struct {
		after     time.Duration
		readable  bool
		saved     int
		wantError bool
	}{
		{0, false, 3, true},                // the three rounds before it, and its error
		{time.Minute, false, 2, false},     // passed over: the last two older rounds
		{2 * time.Minute, false, 0, false}, // nothing else to save
		{time.Hour, true, 1, false},        // tried again an hour later, readable now
	} {
		src.readable = step.readable
		n, err := saver.Run(ctx, now.Add(step.after))
		if n != step.saved || (err != nil) != step.wantError {
			t.Fatalf("run %d: saved %d rounds (error %v), want %d (an error: %t)", i+1, n, err, step.saved, step.wantError)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("round %d:", src.round)) {
			t.Errorf("run %d: the error %q does not name round %d", i+1, err, src.round)
		}
	}
	reportFromSavedInputs(t, st, p, fromAnswers)
}

// A report whose agreement inputs cannot be saved (a full disk) is still
// built, from the answers, and the loader says which rounds it could not
// save.
func TestAReportThatCannotSaveItsAgreementInputsSaysSo(t *testing.T) {
	st, p, want := answeredOrgReport(t)
	ctx := context.Background()
	l := NewCorrelationLoader(unsavable{st})
	var mu sync.Mutex // the rounds are read, and saved, on two goroutines
	var failed []int64
	l.SaveFailed = func(round int64, err error) {
		if !strings.Contains(err.Error(), "disk is full") {
			t.Errorf("round %d: error %v, want the store's", round, err)
		}
		mu.Lock()
		failed = append(failed, round)
		mu.Unlock()
	}
	c, err := l.Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("report when the inputs cannot be saved:\n%s\nwant:\n%s", a, b)
	}
	if len(failed) != 6 {
		t.Errorf("heard of rounds %v failing to save, want the 6 closed rounds", failed)
	}
}

// unsavable is the store refusing to save agreement inputs.
type unsavable struct{ *store.Store }

func (unsavable) SaveAgreement(context.Context, int64, RoundAgreement) error {
	return errors.New("the disk is full: free some space and try again")
}

// unreadableRound is the store failing to read round's answers unless
// readable.
type unreadableRound struct {
	*store.Store
	round    int64
	readable bool
}

func (u *unreadableRound) IndexAnswers(ctx context.Context, ids []int64) ([]pulse.IndexAnswers, error) {
	if !u.readable && slices.Contains(ids, u.round) {
		return nil, errors.New("disk I/O error")
	}
	return u.Store.IndexAnswers(ctx, ids)
}

// answeredOrgReport is answeredOrg with its report built from the
// answers alone (a source that saves no agreement input), for a test to
// hold the reports it builds otherwise to.
func answeredOrgReport(t *testing.T) (*store.Store, CorrelationParams, *Correlation) {
	t.Helper()
	st, p := answeredOrg(t)
	c, err := NewCorrelationLoader(&cutOffStore{Source: st}).Load(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	return st, p, c
}

// reportFromSavedInputs builds the report of p with a new loader, as
// after a restart, and checks that it reads no answer and equals want,
// the report built from the answers.
func reportFromSavedInputs(t *testing.T, st *store.Store, p CorrelationParams, want *Correlation) {
	t.Helper()
	src := &answersRead{Store: st}
	c, err := NewCorrelationLoader(src).Load(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(src.read) != 0 {
		t.Errorf("the report read the answers of rounds %v, want none", src.read)
	}
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("from the saved agreement inputs:\n%s\nfrom the answers:\n%s", a, b)
	}
}

// answersRead is the store, noting the rounds whose answers (and saved
// agreement inputs) are read.
type answersRead struct {
	*store.Store
	mu         sync.Mutex
	read, kept []int64
}

func (a *answersRead) IndexAnswers(ctx context.Context, ids []int64) ([]pulse.IndexAnswers, error) {
	a.mu.Lock()
	a.read = append(a.read, ids...)
	a.mu.Unlock()
	return a.Store.IndexAnswers(ctx, ids)
}

func (a *answersRead) SavedAgreement(ctx context.Context, ids []int64) (map[int64]RoundAgreement, error) {
	a.mu.Lock()
	a.kept = append(a.kept, ids...)
	a.mu.Unlock()
	return a.Store.SavedAgreement(ctx, ids)
}

// retreed is the store with another organisation tree.
type retreed struct {
	*store.Store
	tree *tandem.Tree
}

func (r *retreed) Tree(ctx context.Context) (*tandem.Tree, error) {
	if r.tree != nil {
		return r.tree, nil
	}
	return r.Store.Tree(ctx)
}

// The loader keeps each closed round's anonymity decision, but only for
// the tree it was made on: when a team moves under another, the other is
// no longer a team whose respondents are all its own, and the report
// built from the kept rounds is the one built afresh.
func TestKeptRoundDecisionsFollowTheTree(t *testing.T) {
	st, p := answeredOrg(t)
	ctx := context.Background()
	src := &retreed{Store: st}
	loader := NewCorrelationLoader(src)
	before, err := loader.Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	src.tree = t1UnderT0(t, st)
	after, err := loader.Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := NewCorrelationLoader(src).Load(ctx, p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if g := before.Agreement.ICCGroups; g != 36 || after.Agreement.ICCGroups != g-6 {
		t.Errorf("team-rounds in the agreement: %d before, %d with T1 under T0; want 36 and 30 (T0 no longer counts)", g, after.Agreement.ICCGroups)
	}
	a, _ := json.Marshal(after)
	f, _ := json.Marshal(fresh)
	if string(a) != string(f) {
		t.Errorf("after the move, the loader's report differs from one built afresh:\n%s\n%s", a, f)
	}
}

// t1UnderT0 is answeredOrg's tree with team T1 moved under team T0, which
// then no longer has only respondents of its own.
func t1UnderT0(t *testing.T, st *store.Store) *tandem.Tree {
	t.Helper()
	tree, err := st.Tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t0, t1 := tree.ByPath([]string{"Acme", "T0"}), tree.ByPath([]string{"Acme", "T1"})
	if t0 == nil || t1 == nil {
		t.Fatal("the fixture has no teams T0 and T1")
	}
	var units []tandem.Unit
	for _, u := range tree.Walk() {
		v := *u
		if v.ID == t1.ID {
			v.ParentID = t0.ID
		}
		units = append(units, v)
	}
	return tandem.NewTree(units)
}

// The retention report read through a loader takes the decisions the
// loader keeps for its closed rounds, made on the tree of the day: it
// equals the report read afresh, before and after a team moves.
func TestRetentionFromTheLoaderEqualsOneReadAfresh(t *testing.T) {
	st, cp := answeredOrg(t)
	ctx := context.Background()
	// Team Ti loses i people a few weeks after the rounds, so that
	// engagement and later exits can be linked half a year on.
	var exits []store.Exit
	for team := range 6 {
		for k := range team {
			exits = append(exits, store.Exit{EmployeeRef: fmt.Sprintf("p%d@example.com", 12*team+1+k), ExitedOn: cp.To.AddDate(0, 0, 40), Type: "voluntary"})
		}
	}
	if _, err := st.RecordExits(ctx, exits); err != nil {
		t.Fatal(err)
	}
	today := cp.To.AddDate(0, 7, 0)
	p, err := ParseRetentionParams(func(string) string { return "" }, today)
	if err != nil {
		t.Fatal(err)
	}
	src := &retreed{Store: st}
	loader := NewCorrelationLoader(src)
	same := func(when string) *Retention {
		t.Helper()
		fresh, err := LoadRetention(ctx, src, p, 0, today)
		if err != nil {
			t.Fatal(err)
		}
		for _, pass := range []string{"first", "again"} { // the second from the kept rounds
			kept, err := loader.LoadRetention(ctx, p, 0, today)
			if err != nil {
				t.Fatal(err)
			}
			k, _ := json.Marshal(kept)
			f, _ := json.Marshal(fresh)
			if string(k) != string(f) {
				t.Errorf("%s, %s through the loader:\n%s\nread afresh:\n%s", when, pass, k, f)
			}
		}
		return fresh
	}
	before := same("before the move")
	if _, err := loader.Load(ctx, cp, 0); err != nil { // the correlation report decides the kept rounds too
		t.Fatal(err)
	}
	src.tree = t1UnderT0(t, st)
	after := same("after T1 moved under T0")
	b, _ := json.Marshal(before.Links)
	a, _ := json.Marshal(after.Links)
	if len(before.Links) == 0 || before.Links[0].NTeams < 2 || string(a) == string(b) {
		t.Errorf("the engagement links did not change when T0 stopped being a team of its own; the test shows nothing:\n%+v", after.Links)
	}
}

// The customer totals read in stretches of periods side by side are the
// rows of one read, in its order, however many stretches there are and
// however many are read at once.
func TestCustomerTotalsReadInStretchesEqualOneRead(t *testing.T) {
	st, last := benchData(t, 12, 30)
	ctx := context.Background()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	defer func(old int) { customerPeriodsPerRead = old }(customerPeriodsPerRead)
	for _, kind := range []string{tandem.Week, tandem.Month} {
		// From the middle of a period, as a report's range may start.
		from, to := last.AddDate(0, 0, -7*33+3), last.AddDate(0, 0, 14)
		want, err := st.MetricTotals(ctx, kind, tandem.MetricCSAT, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) < 30 {
			t.Fatalf("%s: %d rows; the test needs more", kind, len(want))
		}
		for _, procs := range []int{1, 2, 7} {
			for _, per := range []int{1, 2, 3, 8, 64} {
				runtime.GOMAXPROCS(procs)
				customerPeriodsPerRead = per
				periods, err := readCustomerPeriods(ctx, st, kind, tandem.MetricCSAT, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if got := spanRows(customerSpan{metric: tandem.MetricCSAT, periods: periods}); !reflect.DeepEqual(got, want) {
					t.Errorf("%s, %d periods a read, %d at once: %d rows differ from one read's %d", kind, per, procs, len(got), len(want))
				}
				if checkSharedUnits(t, fmt.Sprintf("%s, %d periods a read", kind, per), periods) == 0 {
					t.Errorf("%s: no two periods in a row with the same units; the test needs some", kind)
				}
			}
		}
	}
}

// checkSharedUnits checks that each period with the units of the one
// before it shares that period's list of ids, and says how many do.
func checkSharedUnits(t *testing.T, what string, periods []customerPeriod) int {
	t.Helper()
	shared := 0
	for i := 1; i < len(periods); i++ {
		a, b := periods[i-1].units, periods[i].units
		switch {
		case !slices.Equal(a, b):
		case &a[0] != &b[0]:
			t.Errorf("%s: the periods of %s and %s have the same units in two lists", what, periods[i-1].start.Format(time.DateOnly), periods[i].start.Format(time.DateOnly))
		default:
			shared++
		}
	}
	return shared
}

// countingSource counts the customer totals a loader reads from a real
// store: periods read and calls. A loader reads a range in stretches on
// several goroutines at once, so the counts are atomic.
type countingSource struct {
	*store.Store
	reads, periods atomic.Int64
}

func (c *countingSource) MetricTotals(ctx context.Context, kind, metric string, from, to time.Time) ([]tandem.CustomerTotalsRow, error) {
	c.reads.Add(1)
	for d := tandem.PeriodStart(kind, from); d.Before(to); d = tandem.NextPeriod(kind, d) {
		c.periods.Add(1)
	}
	return c.Store.MetricTotals(ctx, kind, metric, from, to)
}

// spanRows lays s out as MetricTotals would: the same rows, fields and
// order, from what the panel reads (customerSpan.each).
func spanRows(s customerSpan) []tandem.CustomerTotalsRow {
	out := []tandem.CustomerTotalsRow{}
	s.each(func(unit int64, period time.Time, c tandem.CustomerTotals) {
		out = append(out, tandem.CustomerTotalsRow{Metric: s.metric, UnitID: unit, Period: period, CustomerTotals: c})
	})
	return out
}

// The customer totals a loader keeps are, for each metric (each keeps
// other columns) and after every kind of change — a new rating, a
// correction that moves one to another period, one that empties a period,
// a bulk import, a narrower range — the rows a fresh read returns, and a
// change of one period reads that period only.
func TestKeptCustomerTotalsAfterEachChangeEqualAFreshRead(t *testing.T) {
	st, last := benchData(t, 12, 30)
	ctx := context.Background()
	src := &countingSource{Store: st}
	loader := NewCorrelationLoader(src)
	tree, _ := st.Tree(ctx)
	team := tree.ByPath([]string{"Acme Group", "Division 3", "Team 3"}).ID
	from, to := last.AddDate(0, 0, -7*33+3), last.AddDate(0, 0, 7*6) // to: weeks with no totals yet
	metrics := []string{tandem.MetricCSAT, tandem.MetricNPS, tandem.MetricCES}
	// rating is one rating of each metric (score 1–5: CSAT and CES as it
	// is, NPS twice it), each its own external id.
	rating := func(id string, at time.Time, score float64) []tandem.Rating {
		var rs []tandem.Rating
		for _, m := range metrics {
			s := score
			if m == tandem.MetricNPS {
				s *= 2
			}
			rs = append(rs, tandem.Rating{Source: "test", ExternalID: id + "-" + m, OccurredAt: at, UnitID: team, Metric: m, Score: s})
		}
		return rs
	}
	check := func(step string, from, to time.Time, wantPeriods int) {
		t.Helper()
		v, err := st.ReleasedVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, metric := range metrics {
			for _, kind := range []string{tandem.Week, tandem.Month} {
				src.reads.Store(0)
				src.periods.Store(0)
				span, err := loader.customerTotals(ctx, v, kind, metric, from, to)
				if err != nil {
					t.Fatal(err)
				}
				got := spanRows(span)
				want, err := st.MetricTotals(ctx, kind, metric, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s, %s %s: the kept totals (%d rows) differ from a fresh read (%d rows)", step, metric, kind, len(got), len(want))
				}
				if shared := checkSharedUnits(t, step+", "+metric, span.periods); shared == 0 && metric == tandem.MetricCSAT && kind == tandem.Week {
					t.Errorf("%s: no two weeks in a row with the same units; the test needs some", step)
				}
				if kind == tandem.Week && wantPeriods >= 0 && src.periods.Load() != int64(wantPeriods) {
					t.Errorf("%s, %s: read %d weeks of totals in %d reads, want %d weeks", step, metric, src.periods.Load(), src.reads.Load(), wantPeriods)
				}
			}
		}
	}

	check("first read", from, to, -1)
	check("nothing changed", from, to, 0)
	if _, err := st.IngestRatings(ctx, rating("a", last.AddDate(0, 0, -7*5), 1), testNow); err != nil {
		t.Fatal(err)
	}
	check("a rating in a week with totals", from, to, 1)
	if _, err := st.IngestRatings(ctx, rating("b", last.AddDate(0, 0, 7*3), 5), testNow); err != nil {
		t.Fatal(err)
	}
	check("a rating in a week with none", from, to, 1)
	if _, err := st.ReplaceRatings(ctx, rating("b", last.AddDate(0, 0, -7*8), 4), testNow); err != nil {
		t.Fatal(err)
	}
	check("that rating moved to an earlier week, emptying its own", from, to, 2)
	var bulk []tandem.Rating
	for w := range 20 {
		bulk = append(bulk, rating(fmt.Sprint("bulk", w), last.AddDate(0, 0, -7*w), float64(1+w%5))...)
	}
	if _, err := st.IngestRatings(ctx, bulk, testNow); err != nil {
		t.Fatal(err)
	}
	check("twenty weeks changed: the range read again", from, to, -1)
	check("a narrower range, nothing changed", last.AddDate(0, 0, -7*10), last, 0)
	if _, err := st.IngestRatings(ctx, rating("c", last.AddDate(0, 0, -7*40), 2), testNow); err != nil {
		t.Fatal(err)
	}
	check("a rating before the range kept", from, to, 0)
	check("a wider range", last.AddDate(0, 0, -7*45), to, -1)
}

// The loader keeps one copy of each list of unit ids its rounds hold:
// an equal list is served the copy kept, a different one is kept as it
// is, and none is changed.
func TestUnitListsKeepOneCopyOfEachList(t *testing.T) {
	var u unitLists
	first := u.of([]int64{3, 5, 8})
	same := u.of([]int64{3, 5, 8})
	other := u.of([]int64{3, 5, 9})
	longer := u.of([]int64{3, 5, 8, 13})
	if &same[0] != &first[0] {
		t.Error("an equal list was kept again, not served the copy kept")
	}
	if !slices.Equal(other, []int64{3, 5, 9}) || &other[0] == &first[0] || !slices.Equal(longer, []int64{3, 5, 8, 13}) {
		t.Errorf("different lists came back as %v and %v", other, longer)
	}
	if !slices.Equal(first, []int64{3, 5, 8}) || u.of(nil) != nil {
		t.Errorf("the kept list changed to %v, or an empty one was kept", first)
	}
}
