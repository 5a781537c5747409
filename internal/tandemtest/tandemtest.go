// Package tandemtest builds an organisation for a test: a real store (a
// SQLite file in the test's temporary folder, or one the test opened), a
// roster of units and employees, accounts of each role, programs, rounds,
// answers and answer links, through the same store calls the app uses.
//
// Tests take their clock from here, never from the machine: Date is the
// day an organisation lives on unless the test names another, and the
// store's own clock stands still at it.
package tandemtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// Date is the fixed "now" of an organisation unless Options.Now says
// otherwise: Monday 2 March 2026, 12:00 UTC.
var Date = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// Password is the password of every account the kit creates.
const Password = "correct horse battery staple"

// Options says how New builds an organisation.
type Options struct {
	// Now is the store's clock, standing still (default Date).
	Now time.Time
	// Dir is the folder of tandem.db (default t.TempDir()).
	Dir string
	// BusyTimeout is the store's SQLite busy timeout (default the store's).
	BusyTimeout time.Duration
	// Password is the password of the accounts User creates (default
	// Password).
	Password string
}

// Org is an organisation in a store, for one test.
type Org struct {
	T     testing.TB
	Store *store.Store
	// Path is the SQLite file ("" when the store was opened elsewhere).
	Path string
	// Now is the organisation's "now": the roster's default start date,
	// the store's clock when New opened it.
	Now time.Time
	// Tree and Units (unit id by name, and by path as a roster writes it:
	// "Acme/Sales") are refreshed after every roster change.
	Tree     *tandem.Tree
	Units    map[string]int64
	password string
}

// New opens a new SQLite store whose clock stands still at o.Now and
// closes it when the test ends. The organisation is empty until a roster
// is applied.
func New(t testing.TB, o Options) *Org {
	t.Helper()
	if o.Now.IsZero() {
		o.Now = Date
	}
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	now := o.Now
	path := SQLiteFile(t, o.Dir)
	st, err := store.Open(context.Background(), path, store.Options{Now: func() time.Time { return now }, BusyTimeout: o.BusyTimeout})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	org := On(t, st, now)
	org.Path = path
	if o.Password != "" {
		org.password = o.Password
	}
	return org
}

// SQLiteFile writes an empty Tandem database, every migration applied, to
// dir/tandem.db and returns its path. The migrations run once per test
// binary, into a file whose bytes each later call copies: a store opened
// on the copy finds its schema current and migrates nothing, where
// migrating afresh cost each test several milliseconds of CPU (a web
// test's server start, half of it).
func SQLiteFile(t testing.TB, dir string) string {
	t.Helper()
	image, err := migratedImage()
	if err != nil {
		t.Fatalf("migrate an empty database: %v", err)
	}
	path := filepath.Join(dir, "tandem.db")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatalf("write an empty database: %v", err)
	}
	return path
}

// migratedImage is the file of an empty database, migrated and closed
// (closing the last connection checkpoints the write-ahead log into it).
var migratedImage = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "tandemtest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "tandem.db")
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		return nil, fmt.Errorf("%s-wal is still there after the store closed: its pages would be missing from the copy", path)
	}
	return os.ReadFile(path)
})

// On is the organisation in a store the test opened, living at now.
func On(t testing.TB, st *store.Store, now time.Time) *Org {
	t.Helper()
	o := &Org{T: t, Store: st, Now: now, Units: map[string]int64{}, password: Password}
	o.Refresh()
	return o
}

// SetPassword changes the password of the accounts User creates next.
func (o *Org) SetPassword(p string) { o.password = p }

// Refresh reads the unit tree again (after a roster change made elsewhere).
func (o *Org) Refresh() {
	o.T.Helper()
	tree, err := o.Store.Tree(context.Background())
	if err != nil {
		o.T.Fatalf("read the units: %v", err)
	}
	o.Tree = tree
	for _, u := range tree.Walk() {
		o.Units[u.Name] = u.ID
		o.Units[strings.ReplaceAll(u.Path, tandem.PathSeparator, "/")] = u.ID
	}
}

// Unit is the id of the unit with this name or path; it fails the test
// when there is none.
func (o *Org) Unit(name string) int64 {
	o.T.Helper()
	id, ok := o.Units[name]
	if !ok {
		o.T.Fatalf("no unit %q in the organisation", name)
	}
	return id
}

// Import plans and applies a roster CSV with people starting on start (a
// row's own hired_on wins), and refreshes the units.
func (o *Org) Import(rosterCSV string, start time.Time) store.RosterResult {
	o.T.Helper()
	ctx := context.Background()
	plan, err := o.Store.PlanRoster(ctx, strings.NewReader(rosterCSV), roster.Options{Today: tandem.Today(o.Now)})
	if err != nil {
		o.T.Fatalf("plan roster: %v", err)
	}
	res, err := o.Store.ApplyRoster(ctx, plan, tandem.Today(start))
	if err != nil {
		o.T.Fatalf("apply roster: %v", err)
	}
	o.Refresh()
	return res
}

// Person is one roster row.
type Person struct {
	ID, Email, Name, Team, Manager, HiredOn string
}

// Team is a unit path (as a roster names it) and how many people it has.
type Team struct {
	Path string
	Size int
}

// Name is the team's own name, the last part of its path.
func (t Team) Name() string { return t.Path[strings.LastIndex(t.Path, "/")+1:] }

// Numbered names person n (counted from 1 over all teams) pn@example.com,
// "Person n", with prefix p.
func Numbered(p string) func(n int, t Team, i int) Person {
	return func(n int, _ Team, _ int) Person {
		return Person{Email: fmt.Sprintf("%s%d@example.com", p, n), Name: fmt.Sprintf("Person %d", n)}
	}
}

// People lists the members of teams in order, named by name (n counts
// from 1 over all teams, i from 1 within the team); Team is filled in.
func People(name func(n int, t Team, i int) Person, teams ...Team) []Person {
	var out []Person
	n := 0
	for _, t := range teams {
		for i := 1; i <= t.Size; i++ {
			n++
			p := name(n, t, i)
			p.Team = t.Path
			out = append(out, p)
		}
	}
	return out
}

// Alternating is n people E0001… (person.i@example.com, "Person i")
// taking turns in teams: person i is in teams[(i-1) % len(teams)].
func Alternating(n int, teams ...string) []Person {
	out := make([]Person, n)
	for i := 1; i <= n; i++ {
		out[i-1] = Person{ID: fmt.Sprintf("E%04d", i), Email: fmt.Sprintf("person.%d@example.com", i),
			Name: fmt.Sprintf("Person %d", i), Team: teams[(i-1)%len(teams)]}
	}
	return out
}

// RosterCSV writes people as a roster file in the README's format, with
// the columns that any of them uses.
func RosterCSV(people []Person) string {
	var hasID, hasManager, hasHired bool
	for _, p := range people {
		hasID = hasID || p.ID != ""
		hasManager = hasManager || p.Manager != ""
		hasHired = hasHired || p.HiredOn != ""
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	row := func(id, email, name, team, manager, hired string) {
		var r []string
		if hasID {
			r = append(r, id)
		}
		r = append(r, email, name, team)
		if hasManager {
			r = append(r, manager)
		}
		if hasHired {
			r = append(r, hired)
		}
		w.Write(r)
	}
	row("employee_id", "email", "name", "team", "manager", "hired_on")
	for _, p := range people {
		row(p.ID, p.Email, p.Name, p.Team, p.Manager, p.HiredOn)
	}
	w.Flush()
	return b.String()
}

// AddPeople imports people (added to whoever is there already) starting on
// start.
func (o *Org) AddPeople(start time.Time, people []Person) store.RosterResult {
	o.T.Helper()
	return o.Import(RosterCSV(people), start)
}

var hashes sync.Map // password → argon2id hash, computed once per run

// PasswordHash is an argon2id hash of password for accounts a test seeds
// straight into the store, computed once per test binary at argon2's
// smallest cost (m = 8 KiB, t = 1) instead of the OWASP cost a server
// uses (19 MiB, t = 2, tens of milliseconds per hash and per sign-in).
// It is a real PHC string: auth.CheckPassword reads the cost from the
// hash, so a sign-in still runs the real check, only cheaply. What a
// server stores when someone sets a password is hashed by auth at the
// full cost and tested so in web. A hash's salt does not matter between
// accounts of a test.
func PasswordHash(t testing.TB, password string) string {
	t.Helper()
	if h, ok := hashes.Load(password); ok {
		return h.(string)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		t.Fatal(err)
	}
	const m, iterations, p = 8, 1, 1
	key := argon2.IDKey([]byte(password), salt, iterations, m, p, 32)
	h := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, m, iterations, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	if !auth.CheckPassword(h, password) {
		t.Fatalf("the test hash of %q does not check", password)
	}
	hashes.Store(password, h)
	return h
}

// User creates an account with the organisation's password; scope is the
// name or path of a leader's unit ("" for other roles).
func (o *Org) User(email string, role tandem.Role, scope string) tandem.User {
	o.T.Helper()
	u := tandem.User{Email: email, Role: role, PasswordHash: PasswordHash(o.T, o.password)}
	if scope != "" {
		u.ScopeUnitID = o.Unit(scope)
	}
	if err := o.Store.CreateUser(context.Background(), &u); err != nil {
		o.T.Fatalf("create user %s: %v", email, err)
	}
	return u
}

// Program saves a program on the audience unit (name or path) with
// Tandem's defaults, delivering to the log, changed by edit.
func (o *Org) Program(audience string, edit func(p *pulse.Program)) pulse.Program {
	o.T.Helper()
	p := pulse.Defaults()
	p.AudienceUnitID = o.Unit(audience)
	p.Channel = pulse.ChannelLog
	if edit != nil {
		edit(&p)
	}
	if err := o.Store.SaveProgram(context.Background(), &p); err != nil {
		o.T.Fatalf("save program: %v", err)
	}
	return p
}

// Round starts the program's scheduled round of slot, as the scheduler
// would at that time.
func (o *Org) Round(p *pulse.Program, slot time.Time) pulse.Round {
	o.T.Helper()
	r, _, err := o.Store.CreateRound(context.Background(), p, slot, false, slot)
	if err != nil {
		o.T.Fatalf("create the round of %s: %v", slot, err)
	}
	return r
}

// WeeklyRounds starts the program's rounds on Mondays at 09:00 UTC, from
// weeks Mondays before the organisation's now to the last one, oldest
// first.
func (o *Org) WeeklyRounds(p *pulse.Program, weeks int) []pulse.Round {
	o.T.Helper()
	var rs []pulse.Round
	for w := weeks; w >= 1; w-- {
		monday := tandem.PeriodStart(tandem.Week, o.Now.AddDate(0, 0, -7*w))
		rs = append(rs, o.Round(p, monday.Add(9*time.Hour)))
	}
	return rs
}

// Answer records a response for each invitation of the round that answer
// returns one for (nil: that person does not answer), in one transaction.
// answer gets the round's questions.
func (o *Org) Answer(r pulse.Round, answer func(inv store.InvitationRef, qs []pulse.Question) *store.RecordedResponse) int {
	o.T.Helper()
	ctx := context.Background()
	qs, err := o.Store.RoundQuestions(ctx, r.ID)
	if err != nil {
		o.T.Fatal(err)
	}
	invs, err := o.Store.RoundInvitations(ctx, r.ID)
	if err != nil {
		o.T.Fatal(err)
	}
	var rs []store.RecordedResponse
	for _, inv := range invs {
		if rec := answer(inv, qs); rec != nil {
			rec.InvitationID = inv.ID
			rs = append(rs, *rec)
		}
	}
	if err := o.Store.RecordResponses(ctx, r.ID, rs); err != nil {
		o.T.Fatalf("record %d responses to round %d: %v", len(rs), r.ID, err)
	}
	return len(rs)
}

// Rated answers every agreement item with likert and every 0–10 item
// with scale; other questions are left unanswered.
func Rated(qs []pulse.Question, likert, scale float64) []pulse.Answer {
	var as []pulse.Answer
	for _, q := range qs {
		switch q.Kind {
		case pulse.Likert5:
			as = append(as, pulse.Answer{QuestionID: q.ID, Value: likert, HasValue: true})
		case pulse.Scale010:
			as = append(as, pulse.Answer{QuestionID: q.ID, Value: scale, HasValue: true})
		}
	}
	return as
}

// CloseRounds closes every round due by at, which releases its results.
func (o *Org) CloseRounds(at time.Time) {
	o.T.Helper()
	if _, err := o.Store.CloseDueRounds(context.Background(), at); err != nil {
		o.T.Fatalf("close the rounds due by %s: %v", at, err)
	}
}

// Link is an answer link: the token in /p/{token} and its invitation.
type Link struct {
	InvitationID int64
	Token        string
}

// AnswerLinks gives each unanswered invitation of the round a new answer
// link, in invitation order.
func (o *Org) AnswerLinks(r pulse.Round) []Link {
	o.T.Helper()
	ctx := context.Background()
	invs, err := o.Store.RoundInvitations(ctx, r.ID)
	if err != nil {
		o.T.Fatal(err)
	}
	var links []Link
	for _, inv := range invs {
		if inv.Responded {
			continue
		}
		token := auth.NewToken()
		if err := o.Store.AddInvitationToken(ctx, inv.ID, auth.HashToken(token)); err != nil {
			o.T.Fatalf("add an answer link to invitation %d: %v", inv.ID, err)
		}
		links = append(links, Link{InvitationID: inv.ID, Token: token})
	}
	return links
}
