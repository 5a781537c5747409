package helpdesk

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
	"github.com/tandem-hq/tandem/internal/tandemtest"
)

// now is the tests' clock: Monday 2 March 2026, noon UTC.
var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes

// rosterCSV: Ana and Ben in Sales/EMEA, Dev in Support/Tier 1, Eve in
// Tier 1 until the end of January 2026.
const rosterCSV = `employee_id,email,name,team,hired_on,exited_on,exit_type
E1,ana@example.com,Ana Silva,Acme/Sales/EMEA,2010-01-04,,
E2,ben@example.com,Ben Okafor,Acme/Sales/EMEA,2010-01-04,,
E4,dev@example.com,Dev Iyer,Acme/Support/Tier 1,2010-01-04,,
E5,eve@example.com,Eve Adams,Acme/Support/Tier 1,2010-01-04,2026-01-31,voluntary
`

// newOrg opens a SQLite store in a temp dir with the test roster.
func newOrg(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "tandem.db"), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	importRoster(t, st)
	return st
}

// eachOrg runs fn on a SQLite store, and on a PostgreSQL one when
// TANDEM_TEST_POSTGRES names a server.
func eachOrg(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Run(store.SQLite, func(t *testing.T) { fn(t, newOrg(t)) })
	if dsn := os.Getenv("TANDEM_TEST_POSTGRES"); dsn != "" {
		t.Run(store.Postgres, func(t *testing.T) {
			st := openPostgres(t, dsn)
			importRoster(t, st)
			fn(t, st)
		})
	}
}

// openPostgres opens a store on a schema of its own on the server at dsn,
// dropped when the test ends.
func openPostgres(t *testing.T, dsn string) *store.Store {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	// The machine's clock only makes the schema's name unique.
	schema := fmt.Sprintf("t_helpdesk_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema on %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("pgx", dsn); err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := store.Open(ctx, u.String(), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("open PostgreSQL store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func importRoster(t *testing.T, st *store.Store) {
	t.Helper()
	tandemtest.On(t, st, now).Import(rosterCSV, now)
}

func unitID(t *testing.T, st *store.Store, path ...string) int64 {
	t.Helper()
	tree, err := st.Tree(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u := tree.ByPath(path)
	if u == nil {
		t.Fatalf("no unit %v", path)
	}
	return u.ID
}

func testKeyring(t *testing.T) *Keyring {
	t.Helper()
	k, err := NewKeyring(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// syncer is a Syncer on the test clock whose waits are recorded, not
// slept.
type syncer struct {
	*Syncer
	mu     sync.Mutex
	sleeps []time.Duration
}

func newSyncer(t *testing.T, st *store.Store, owner string) *syncer {
	s := &syncer{Syncer: NewSyncer(st, testKeyring(t), slog.New(slog.NewTextHandler(io.Discard, nil)))}
	s.Owner = owner
	s.Now = func() time.Time { return now }
	s.Sleep = func(ctx context.Context, d time.Duration) error {
		s.mu.Lock()
		s.sleeps = append(s.sleeps, d)
		s.mu.Unlock()
		return ctx.Err()
	}
	return s
}

func (s *syncer) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.sleeps...)
}

// connect creates a connector to the stand-in server at url.
func connect(t *testing.T, st *store.Store, set Settings) store.HelpdeskConnector {
	t.Helper()
	if set.StartAt.IsZero() {
		set.StartAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if set.Lookback == 0 {
		set.Lookback = 7
	}
	set.Active = true
	if set.Credentials.Token == "" {
		set.Credentials = Credentials{Email: "admin@acme.example", Token: "zd-token"}
	}
	c, err := Connector(set, testKeyring(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateHelpdeskConnector(context.Background(), &c, now); err != nil {
		t.Fatal(err)
	}
	return c
}

// runDue runs one round of due syncs and returns the connector after it.
func (s *syncer) runDue(t *testing.T, id int64) store.HelpdeskConnector {
	t.Helper()
	if err := s.RunDue(context.Background(), s.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := s.store.HelpdeskConnector(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stored returns the stored ratings of a source as "id agent|unit score
// time comment" lines, sorted.
func stored(t *testing.T, st *store.Store, source string) []string {
	t.Helper()
	rows, err := st.DB().Query(`SELECT e.external_id, COALESCE(m.email, ''), u.name, e.score, e.occurred_at, e.comment
		FROM csat_events e JOIN org_units u ON u.id = e.unit_id LEFT JOIN employees m ON m.id = e.agent_id
		WHERE e.source = `+placeholder(st)+` ORDER BY e.external_id`, source)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, agent, unit, comment string
		var score float64
		var at int64
		if err := rows.Scan(&id, &agent, &unit, &score, &at, &comment); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s/%s %g %s %q", id, unit, agent, score, time.Unix(at, 0).UTC().Format(time.RFC3339), comment))
	}
	sort.Strings(out)
	return out
}

func placeholder(st *store.Store) string {
	if st.Engine() == store.Postgres {
		return "$1"
	}
	return "?"
}

// totals returns csat_totals as "kind period unit n sum top" lines.
func totals(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{tandem.Week, tandem.Month} {
		rows, err := st.CustomerTotalsRows(context.Background(), kind, "", time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		tree, _ := st.Tree(context.Background())
		for _, r := range rows {
			out = append(out, fmt.Sprintf("%s %s %s n=%d sum=%g top=%d", kind, tandem.FormatDate(r.Period), tree.Unit(r.UnitID).Name, r.N, r.Sum, r.Top))
		}
	}
	return out
}

// --- The stand-in Zendesk ------------------------------------------------

// fakeZendesk serves the documented shapes of Zendesk's API from objects
// the test sets, in pages of pageSize, and lets the test inject failures.
type fakeZendesk struct {
	t        *testing.T
	srv      *httptest.Server
	pageSize int

	mu        sync.Mutex
	ratings   []map[string]any // legacy satisfaction ratings
	responses []map[string]any // CSAT survey responses
	tickets   map[string][2]any
	users     map[string]string // id → email
	groups    [][2]any          // id, name
	// fail, when set, may answer a request instead (status ≠ 0).
	fail func(r *http.Request, n int) (int, http.Header)
	// requests counts requests by path and page position.
	requests map[string]int
	n        int
	log      []string
	// onPage is called before a ratings page is served.
	onPage func(r *http.Request)
	// raw answers a path with recorded bytes.
	raw map[string][]byte
	// editWindow is how long after its creation a survey response can be
	// changed (its expires_at); 0 as in the documented example.
	editWindow time.Duration
}

func newFakeZendesk(t *testing.T) *fakeZendesk {
	f := &fakeZendesk{t: t, pageSize: 100, tickets: map[string][2]any{}, users: map[string]string{}, requests: map[string]int{}, raw: map[string][]byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// rating adds a legacy satisfaction rating built on the documented
// example's fields.
func (f *fakeZendesk) rating(id int, assignee, group int, score string, created, updated string, comment string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := map[string]any{"id": id, "assignee_id": assignee, "group_id": group, "requester_id": 7881, "ticket_id": 1000 + id,
		"score": score, "comment": comment, "created_at": created, "updated_at": updated,
		"url": fmt.Sprintf("https://example.zendesk.com/api/v2/satisfaction_ratings/%d", id)}
	if assignee == 0 {
		r["assignee_id"] = nil
	}
	if group == 0 {
		r["group_id"] = nil
	}
	for i, old := range f.ratings {
		if old["id"] == id {
			f.ratings[i] = r
			return
		}
	}
	f.ratings = append(f.ratings, r)
}

// response adds (or replaces, by id) a CSAT survey response to ticket,
// built on the documented example's shape: the customer-satisfaction
// rating scale answer and an open-ended comment.
func (f *fakeZendesk) response(id string, ticket, rating int, created, updated, comment string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	answers := []any{map[string]any{"type": "rating_scale", "rating": rating, "rating_category": map[bool]string{true: "good", false: "bad"}[rating >= 4],
		"question":   map[string]any{"id": "01J1WBE8QR0YQVE373K2JDJR0F", "sub_type": "customer_satisfaction", "type": "rating_scale_numeric"},
		"created_at": created, "updated_at": updated}}
	if comment != "" {
		answers = append(answers, map[string]any{"type": "open_ended", "value": comment,
			"question": map[string]any{"id": "01J1WBNS76ZC4TTFWP9RCNQ1S8", "type": "open_ended"}, "created_at": created, "updated_at": updated})
	}
	c, _ := time.Parse(time.RFC3339, created)
	r := map[string]any{"id": id, "answers": answers, "expires_at": c.Add(f.editWindow).Format(time.RFC3339), "responder_id": 4398080151295,
		"subject_zrns": []string{fmt.Sprintf("zen:ticket:%d", ticket)},
		"subjects":     []any{map[string]any{"id": strconv.Itoa(ticket), "type": "ticket", "zrn": fmt.Sprintf("zen:ticket:%d", ticket)}},
		"survey":       map[string]any{"id": "01J58KJ9RAE0D2EK7HRVM7Z8F2", "state": "enabled", "version": 3}}
	for i, old := range f.responses {
		if old["id"] == id {
			f.responses[i] = r
			return
		}
	}
	f.responses = append(f.responses, r)
}

// responseCreated is when a stand-in response was created: its first
// answer's created_at.
func responseCreated(r map[string]any) time.Time {
	t, _ := time.Parse(time.RFC3339, r["answers"].([]any)[0].(map[string]any)["created_at"].(string))
	return t
}

func (f *fakeZendesk) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[key]
}

func (f *fakeZendesk) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	key := r.URL.Path + "@" + r.URL.Query().Get("page[after]")
	f.requests[key]++
	f.log = append(f.log, r.URL.RequestURI())
	fail := f.fail
	f.mu.Unlock()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("admin@acme.example/token:zd-token"))
	if r.Header.Get("Authorization") != want {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"Couldn't authenticate you"}`)
		return
	}
	if fail != nil {
		if status, h := fail(r, n); status != 0 {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			io.WriteString(w, `{"error":"injected"}`)
			return
		}
	}
	if b, ok := f.raw[r.URL.Path]; ok {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Write(b)
		return
	}
	q := r.URL.Query()
	switch r.URL.Path {
	case "/api/v2/satisfaction_ratings":
		if f.onPage != nil {
			f.onPage(r)
		}
		since, _ := strconv.ParseInt(q.Get("start_time"), 10, 64)
		f.mu.Lock()
		var list []map[string]any
		for _, x := range f.ratings {
			created, _ := time.Parse(time.RFC3339, x["created_at"].(string))
			if created.Unix() >= since && (q.Get("score") != "received" || x["score"] == "good" || x["score"] == "bad") {
				list = append(list, x)
			}
		}
		f.mu.Unlock()
		sort.Slice(list, func(i, j int) bool { return list[i]["id"].(int) < list[j]["id"].(int) })
		items, meta := f.cursorPage(q, len(list))
		writeJSON(w, map[string]any{"satisfaction_ratings": pick(list, items), "meta": meta})
	case "/api/v2/guide/survey_responses":
		if f.onPage != nil {
			f.onPage(r)
		}
		// filter[created_at_start] is in milliseconds.
		since, _ := strconv.ParseInt(q.Get("filter[created_at_start]"), 10, 64)
		f.mu.Lock()
		var list []map[string]any
		for _, x := range f.responses {
			if responseCreated(x).UnixMilli() >= since {
				list = append(list, x)
			}
		}
		f.mu.Unlock()
		items, meta := f.cursorPage(q, len(list))
		writeJSON(w, map[string]any{"survey_responses": pick(list, items), "meta": meta})
	case "/api/v2/users/show_many":
		var users []map[string]any
		f.mu.Lock()
		for _, id := range strings.Split(q.Get("ids"), ",") {
			if e, ok := f.users[id]; ok {
				n, _ := strconv.Atoi(id)
				users = append(users, map[string]any{"id": n, "email": e, "name": e, "role": "agent"})
			}
		}
		f.mu.Unlock()
		writeJSON(w, map[string]any{"users": users})
	case "/api/v2/tickets/show_many":
		var tickets []map[string]any
		f.mu.Lock()
		for _, id := range strings.Split(q.Get("ids"), ",") {
			if tk, ok := f.tickets[id]; ok {
				n, _ := strconv.Atoi(id)
				tickets = append(tickets, map[string]any{"id": n, "assignee_id": tk[0], "group_id": tk[1], "status": "solved"})
			}
		}
		f.mu.Unlock()
		writeJSON(w, map[string]any{"tickets": tickets})
	case "/api/v2/groups":
		var groups []map[string]any
		f.mu.Lock()
		for _, g := range f.groups {
			groups = append(groups, map[string]any{"id": g[0], "name": g[1]})
		}
		f.mu.Unlock()
		writeJSON(w, map[string]any{"groups": groups, "meta": map[string]any{"has_more": false}})
	default:
		http.NotFound(w, r)
	}
}

// cursorPage serves items [from, to) of a list of n after page[after]: the
// cursor is the offset, written as Zendesk writes cursors (opaque text).
func (f *fakeZendesk) cursorPage(q map[string][]string, n int) ([2]int, map[string]any) {
	from := 0
	if after := firstOf(q["page[after]"]); after != "" {
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err != nil {
			f.t.Errorf("cursor %q is not one the server gave", after)
		}
		from, _ = strconv.Atoi(string(b))
	}
	size := f.pageSize
	if s, _ := strconv.Atoi(firstOf(q["page[size]"])); s > 0 && s < size {
		size = s
	}
	to := min(from+size, n)
	meta := map[string]any{"has_more": to < n, "after_cursor": nil, "before_cursor": nil}
	if to < n {
		meta["after_cursor"] = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	return [2]int{min(from, n), to}, meta
}

func firstOf(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func pick(list []map[string]any, r [2]int) []map[string]any {
	out := list[r[0]:r[1]]
	if out == nil {
		out = []map[string]any{}
	}
	return out
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}

// --- The stand-in Freshdesk ----------------------------------------------

type fakeFreshdesk struct {
	t        *testing.T
	srv      *httptest.Server
	pageSize int

	mu      sync.Mutex
	ratings []map[string]any
	raw     []byte // served verbatim as the ratings when set
	agents  map[int]string
	groups  [][2]any
	fail    func(r *http.Request, n int) (int, http.Header)
	n       int
	log     []string
}

func newFakeFreshdesk(t *testing.T) *fakeFreshdesk {
	f := &fakeFreshdesk{t: t, pageSize: 100, agents: map[int]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeFreshdesk) rating(id, agent, group, value int, created, updated, feedback string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := map[string]any{"id": id, "survey_id": 1, "user_id": 2, "agent_id": agent, "group_id": group, "ticket_id": 400 + id,
		"feedback": feedback, "ratings": map[string]any{"default_question": value}, "created_at": created, "updated_at": updated}
	if group == 0 {
		r["group_id"] = nil
	}
	for i, old := range f.ratings {
		if old["id"] == id {
			f.ratings[i] = r
			return
		}
	}
	f.ratings = append(f.ratings, r)
}

func (f *fakeFreshdesk) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.log = append(f.log, r.URL.RequestURI())
	fail := f.fail
	f.mu.Unlock()
	if r.Header.Get("Authorization") != "Basic "+base64.StdEncoding.EncodeToString([]byte("fd-key:X")) {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"code":"invalid_credentials","message":"You have to be logged in to perform this action."}`)
		return
	}
	if fail != nil {
		if status, h := fail(r, n); status != 0 {
			for k, v := range h {
				w.Header()[k] = v
			}
			w.WriteHeader(status)
			return
		}
	}
	q := r.URL.Query()
	pageNo, _ := strconv.Atoi(q.Get("page"))
	pageNo = max(pageNo, 1)
	size, _ := strconv.Atoi(q.Get("per_page"))
	if size <= 0 || size > f.pageSize {
		size = f.pageSize
	}
	serve := func(list []map[string]any) {
		from, to := min((pageNo-1)*size, len(list)), min(pageNo*size, len(list))
		if to < len(list) {
			next := *r.URL
			nq := next.Query()
			nq.Set("page", strconv.Itoa(pageNo+1))
			next.RawQuery = nq.Encode()
			w.Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, f.srv.URL, next.RequestURI()))
		}
		writeJSON(w, pick(list, [2]int{from, to}))
	}
	switch r.URL.Path {
	case "/api/v2/surveys/satisfaction_ratings":
		f.mu.Lock()
		raw := f.raw
		since, _ := time.Parse(time.RFC3339, q.Get("created_since"))
		var list []map[string]any
		for _, x := range f.ratings {
			created, _ := time.Parse(time.RFC3339, x["created_at"].(string))
			if !created.Before(since) {
				list = append(list, x)
			}
		}
		f.mu.Unlock()
		if raw != nil {
			w.Header().Set("Content-Type", "application/json")
			w.Write(raw)
			return
		}
		serve(list)
	case "/api/v2/agents":
		f.mu.Lock()
		var list []map[string]any
		ids := make([]int, 0, len(f.agents))
		for id := range f.agents {
			ids = append(ids, id)
		}
		sort.Ints(ids)
		for _, id := range ids {
			list = append(list, map[string]any{"id": id, "available": true, "occasional": false, "ticket_scope": 1, "type": "support_agent",
				"contact": map[string]any{"active": true, "email": f.agents[id], "name": f.agents[id]}})
		}
		f.mu.Unlock()
		serve(list)
	case "/api/v2/groups":
		f.mu.Lock()
		var list []map[string]any
		for _, g := range f.groups {
			list = append(list, map[string]any{"id": g[0], "name": g[1]})
		}
		f.mu.Unlock()
		serve(list)
	default:
		http.NotFound(w, r)
	}
}

// anyString writes a stand-in's JSON value as text.
func anyString(v any) string { return fmt.Sprint(v) }

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
