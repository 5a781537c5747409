package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// The fuzz targets post random bodies to the two routes anyone with a link
// or a key can reach, on a real server over a real SQLite file: whatever
// arrives, the answer is 2xx or 4xx, never a 5xx (which the error handler
// gives for a panic too). Seeds are in testdata/fuzz/<target>/; run one
// with
//
//	go test ./internal/web -run '^$' -fuzz '^FuzzAnswerForm$' -fuzztime 20s

// fuzzApp is a server on a small organisation with an open round whose
// questions are of every kind (the built-in agreement and 0–10 items, and
// a single-choice, a free-text and an internal-service question), one
// answer link, and an API key that may post ratings.
type fuzzApp struct {
	handler http.Handler
	st      *store.Store
	// writer changes the file directly (to let the link answer again).
	writer     *sql.DB
	invitation int64
	token      string
	key        string
	// names replaces the placeholders of a seed with field names: {r0}…
	// {r9} the round's rated questions' (agreement and 0–10; "unknown" past
	// the last), {c} the choice question's, {t} the text question's, {svc}
	// the service question's; {p0} and {p1} are its providers.
	names *strings.Replacer
}

func newFuzzApp(tb testing.TB) *fuzzApp {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "tandem.db")
	st, err := store.Open(ctx, path, store.Options{Now: timeNow})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	plan, err := st.PlanRoster(ctx, strings.NewReader(testRoster), roster.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := st.ApplyRoster(ctx, plan, tandem.Today(timeNow())); err != nil {
		tb.Fatal(err)
	}
	tree, err := st.Tree(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	units := map[string]int64{}
	for _, u := range tree.Walk() {
		units[u.Name] = u.ID
	}
	svc := &pulse.Question{Text: "How well does this team support your work?", Kind: pulse.Service, Providers: []int64{units["Sales"], units["Support"]}}
	custom := []*pulse.Question{
		{Text: "Where do you work most days?", Kind: pulse.Choice, Choices: []string{"Office", "Home", "Both"}},
		{Text: "What should we change first?", Kind: pulse.Text},
		svc,
	}
	for _, q := range custom {
		if err := st.CreateQuestion(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	p := pulse.Defaults()
	p.AudienceUnitID = units["Acme"]
	p.Channel = pulse.ChannelLog
	p.QuestionsPerRound = 10
	qs, err := st.Questions(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for _, q := range qs {
		if q.Builtin {
			p.QuestionIDs = append(p.QuestionIDs, q.ID)
		}
	}
	for _, q := range custom {
		p.QuestionIDs = append(p.QuestionIDs, q.ID)
	}
	if err := st.SaveProgram(ctx, &p); err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r, _, err := schedule.NewRunner(st, log).SendNow(ctx, p.ID, timeNow())
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.CancelRoundMessages(ctx, r.ID, "fuzzing"); err != nil {
		tb.Fatal(err)
	}
	invs, err := st.RoundInvitations(ctx, r.ID)
	if err != nil || len(invs) == 0 {
		tb.Fatalf("%d invitations: %v", len(invs), err)
	}
	a := &fuzzApp{st: st, invitation: invs[0].ID, token: auth.NewToken()}
	if err := st.AddInvitationToken(ctx, a.invitation, auth.HashToken(a.token)); err != nil {
		tb.Fatal(err)
	}
	roundQs, err := st.RoundQuestions(ctx, r.ID)
	if err != nil {
		tb.Fatal(err)
	}
	var pairs []string
	rated := 0
	for _, q := range roundQs {
		name := "q" + strconv.FormatInt(q.ID, 10)
		switch q.Kind {
		case pulse.Likert5, pulse.Scale010:
			pairs = append(pairs, "{r"+strconv.Itoa(rated)+"}", name)
			rated++
		case pulse.Choice:
			pairs = append(pairs, "{c}", name)
		case pulse.Text:
			pairs = append(pairs, "{t}", name)
		case pulse.Service:
			pairs = append(pairs, "{svc}", name)
		}
	}
	if rated < 3 || len(pairs) != 2*(rated+3) {
		tb.Fatalf("the round asks %d questions, %d of them rated; want the custom ones and at least 3 rated", len(roundQs), rated)
	}
	for ; rated < 10; rated++ {
		pairs = append(pairs, "{r"+strconv.Itoa(rated)+"}", "unknown")
	}
	pairs = append(pairs, "{p0}", strconv.FormatInt(units["Sales"], 10), "{p1}", strconv.FormatInt(units["Support"], 10))
	a.names = strings.NewReplacer(pairs...)
	if a.key, _, err = st.CreateAPIKey(ctx, "fuzz", []string{store.ScopeRatingsWrite}, 0, time.Time{}); err != nil {
		tb.Fatal(err)
	}
	srv, err := New(Config{Addr: "127.0.0.1:0", BodyLimit: "256K", RequestTimeout: 10 * time.Second, Now: timeNow}, st, log)
	if err != nil {
		tb.Fatal(err)
	}
	a.handler = srv.Handler()
	if a.writer, err = sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000&_synchronous=NORMAL&_txlock=immediate"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.writer.Close() })
	return a
}

// serve runs one request through the server.
func (a *fuzzApp) serve(method, path, contentType, key, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec
}

// checkStoredAndReset checks what a 200 stored — the link's invitation
// marked answered, one response, text every engine can store (PostgreSQL
// refuses NUL and bytes that are not UTF-8) — then deletes it and lets
// the link answer again, so that the next input is checked rather than
// refused as already answered.
func (a *fuzzApp) checkStoredAndReset(t testing.TB, body string) {
	t.Helper()
	var responded bool
	if err := a.writer.QueryRow("SELECT responded FROM invitations WHERE id = ?", a.invitation).Scan(&responded); err != nil || !responded {
		t.Fatalf("200 for %q, but the invitation is not marked answered (%v)", body, err)
	}
	rows, err := a.writer.Query("SELECT 'comment', comment FROM responses UNION ALL SELECT 'answer', text FROM answers")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var what string
		var text []byte
		if err := rows.Scan(&what, &text); err != nil {
			t.Fatal(err)
		}
		if what == "comment" {
			n++
		}
		if !pulse.StorableText(string(text)) {
			t.Errorf("200 for %q stored the %s %q, which PostgreSQL cannot store", body, what, text)
		}
	}
	rows.Close()
	if n != 1 {
		t.Fatalf("200 for %q: %d responses stored, want 1", body, n)
	}
	tx, err := a.writer.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{"DELETE FROM answers", "DELETE FROM responses", "UPDATE invitations SET responded = 0"} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// fuzzContentTypes are the Content-Types FuzzAnswerForm picks from; the
// multipart seeds use the boundary "fuzzb".
var fuzzContentTypes = []string{"application/x-www-form-urlencoded", "multipart/form-data; boundary=fuzzb", "text/plain", ""}

func FuzzAnswerForm(f *testing.F) {
	app := newFuzzApp(f)
	complete := "{r0}=4&{r1}=4&{r2}=4&{r3}=4&{r4}=4&{r5}=4&{r6}=4&{r7}=4&{r8}=4&{r9}=4&{c}=1&{t}=Fine&comment=Fine"
	// The target must be able to reach a stored answer, or it only
	// fuzzes the refusals.
	if rec := app.serve(http.MethodPost, "/p/"+app.token, fuzzContentTypes[0], "", app.names.Replace(complete)); rec.Code != http.StatusOK {
		f.Fatalf("a complete answer: %d, want 200\n%.500s", rec.Code, rec.Body.String())
	}
	app.checkStoredAndReset(f, complete)
	f.Add(uint8(0), complete)
	f.Add(uint8(0), "{r0}=0&{r1}=11&{r2}=-1&{c}=3&{svc}=5&{svc}_provider={p0}")
	f.Add(uint8(1), "--fuzzb\r\nContent-Disposition: form-data; name=\"{r0}\"\r\n\r\n4\r\n--fuzzb--\r\n")
	f.Fuzz(func(t *testing.T, ct uint8, body string) {
		body = app.names.Replace(body)
		rec := app.serve(http.MethodPost, "/p/"+app.token, fuzzContentTypes[int(ct)%len(fuzzContentTypes)], "", body)
		switch rec.Code {
		case http.StatusOK:
			app.checkStoredAndReset(t, body)
		case http.StatusUnprocessableEntity, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("POST /p/… %q (Content-Type %q): %d, want 200 or 4xx\n%.500s", body, fuzzContentTypes[int(ct)%len(fuzzContentTypes)], rec.Code, rec.Body.String())
		}
	})
}

func FuzzRatingsAPI(f *testing.F) {
	app := newFuzzApp(f)
	f.Add([]byte(`{"source":"zendesk","external_id":"T-1","occurred_at":"2025-06-02T10:00:00Z","metric":"csat","score":5,"agent_email":"ana@example.com"}`))
	f.Add([]byte(`[{"source":"s","id":1,"occurred_at":"2025-06-02","metric":"nps","score":"9","unit_path":"Acme/Support"},{"score":[]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := app.serve(http.MethodPost, "/api/v1/customer-ratings", "application/json", app.key, string(body))
		var got struct {
			Accepted, Duplicates *int
			Error                *struct{ Code, Message string }
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("%q: %d with a body that is not JSON (%v): %.300s", body, rec.Code, err, rec.Body.String())
		}
		switch rec.Code {
		case http.StatusOK:
			if got.Accepted == nil || got.Duplicates == nil || *got.Accepted < 0 || *got.Duplicates < 0 {
				t.Fatalf("%q: 200 without the counts: %s", body, rec.Body.String())
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			if got.Error == nil || got.Error.Code != tandem.EINVALID || got.Error.Message == "" {
				t.Fatalf("%q: %d without an error that says why: %s", body, rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("POST /api/v1/customer-ratings %q: %d, want 200, 400, 413 or 422\n%.500s", body, rec.Code, rec.Body.String())
		}
	})
}
