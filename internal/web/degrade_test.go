package web

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/mail"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// How Tandem behaves when what it depends on fails (SMTP down, the
// database busy) and at its limits (body size, rows per import, ratings
// per API call). The full disk is in internal/crash, which can fill a
// file system under a real server process.

// degradeRound is an open round of a program on all of Acme, its answer
// links (one per invitation, minted as the outbox mints them; the round's
// own messages are cancelled) and a complete answer to its questions.
type degradeRound struct {
	id          int64
	invitations []int64
	tokens      []string
	questions   []pulse.Question
	form        url.Values
}

func openDegradeRound(t *testing.T, app *testApp) degradeRound {
	t.Helper()
	ctx := context.Background()
	p := pulse.Defaults()
	p.AudienceUnitID = app.units["Acme"]
	p.Channel = pulse.ChannelLog
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	r, _, err := schedule.NewRunner(app.st, slog.New(slog.NewTextHandler(io.Discard, nil))).SendNow(ctx, p.ID, timeNow())
	if err != nil {
		t.Fatal(err)
	}
	if err := app.st.CancelRoundMessages(ctx, r.ID, "the test hands the links out"); err != nil {
		t.Fatal(err)
	}
	invs, err := app.st.RoundInvitations(ctx, r.ID)
	if err != nil || len(invs) == 0 {
		t.Fatalf("%d invitations: %v", len(invs), err)
	}
	d := degradeRound{id: r.ID}
	for _, inv := range invs {
		token := auth.NewToken()
		if err := app.st.AddInvitationToken(ctx, inv.ID, auth.HashToken(token)); err != nil {
			t.Fatal(err)
		}
		d.invitations = append(d.invitations, inv.ID)
		d.tokens = append(d.tokens, token)
	}
	if d.questions, err = app.st.RoundQuestions(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	d.form = url.Values{"comment": {"Fine."}}
	for _, q := range d.questions {
		name := "q" + strconv.FormatInt(q.ID, 10)
		switch q.Kind {
		case pulse.Likert5:
			d.form.Set(name, "4")
		case pulse.Scale010:
			d.form.Set(name, "8")
		case pulse.Choice:
			d.form.Set(name, "0")
		case pulse.Text:
			d.form.Set(name, "Fine.")
		}
	}
	return d
}

// stored returns how many responses, answers and answered invitations the
// round has, read from the database.
func (d degradeRound) stored(t *testing.T, app *testApp) (responses, answers, answered int) {
	t.Helper()
	db := app.st.DB()
	for _, q := range []struct {
		dst *int
		sql string
	}{
		{&responses, "SELECT COUNT(*) FROM responses WHERE round_id = ?"},
		{&answers, "SELECT COUNT(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.round_id = ?"},
		{&answered, "SELECT COUNT(*) FROM invitations WHERE round_id = ? AND responded"},
	} {
		if err := db.QueryRow(q.sql, d.id).Scan(q.dst); err != nil {
			t.Fatal(err)
		}
	}
	return responses, answers, answered
}

// serveWith serves the app's store with another configuration.
func serveWith(t *testing.T, app *testApp, cfg Config) *httptest.Server {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Now == nil {
		// Another server of the same organisation keeps its clock.
		cfg.Now = app.srv.now
	}
	srv, err := New(cfg, app.st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return hs
}

// holdWriteLock takes SQLite's write lock on the app's database from
// another connection, as another process writing would, and returns the
// function that lets it go.
func holdWriteLock(t *testing.T, app *testApp) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+app.st.Path()+"?_txlock=immediate&_busy_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	tx, err := db.Begin() // BEGIN IMMEDIATE: the write lock, until rollback
	if err != nil {
		db.Close()
		t.Fatalf("take the write lock: %v", err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			tx.Rollback()
			db.Close()
		}
	}
	t.Cleanup(release)
	return release
}

func postAnswer(t *testing.T, base, token string, form url.Values) (response, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/p/"+token, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	start := time.Now()
	res, err := (&http.Client{Transport: ownTransport(true), Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("POST /p/…: %v", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, string(b), res.Header}, time.Since(start)
}

// degradeBusyTimeout is the SQLite busy timeout of the lock tests: the
// same wait as production's 5 s in kind, short enough not to be waited
// out for long.
const degradeBusyTimeout = time.Second

// TestAnswerWhileTheDatabaseIsLockedIs503WithRetryAfterAndNothingHalfWritten
// holds SQLite's write lock from another connection while an answer is
// posted: the person gets 503 with Retry-After and a page that says the
// server is busy and to try again, within SQLite's busy timeout (1 s here;
// the shorter request timeout does not cut a wait on the lock short), and
// nothing of the answer is stored. Once the lock is gone the same link
// takes the answer once.
func TestAnswerWhileTheDatabaseIsLockedIs503WithRetryAfterAndNothingHalfWritten(t *testing.T) {
	t.Parallel() // it waits out the busy timeout
	app := newTestAppOn(t, store.Options{BusyTimeout: degradeBusyTimeout}, nil)
	d := openDegradeRound(t, app)
	hs := serveWith(t, app, Config{RequestTimeout: degradeBusyTimeout / 3})
	release := holdWriteLock(t, app)

	// Reading still works: the link opens its page.
	c := app.client()
	req, _ := http.NewRequest(http.MethodGet, hs.URL+"/p/"+d.tokens[0], nil)
	if r := c.do(req); r.status != http.StatusOK {
		t.Errorf("GET the answer page while the database is locked: %d, want 200", r.status)
	}
	r, took := postAnswer(t, hs.URL, d.tokens[0], d.form)
	t.Logf("answer while the database is locked: %d after %s", r.status, took.Round(time.Millisecond))
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("answer while the database is locked: %d, want 503\n%.600s", r.status, r.body)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("the 503 has no Retry-After header")
	}
	if !strings.Contains(r.body, "busy") || !strings.Contains(r.body, "try again") {
		t.Errorf("the 503 page does not say the server is busy and to try again:\n%.800s", r.body)
	}
	if took > degradeBusyTimeout+3*time.Second {
		t.Errorf("the answer waited %s for the lock, want at most the busy timeout (%s) and a little", took, degradeBusyTimeout)
	}
	if resp, ans, answered := d.stored(t, app); resp+ans+answered != 0 {
		t.Errorf("after the 503: %d responses, %d answers, %d invitations marked answered; want nothing stored", resp, ans, answered)
	}

	release()
	if r, _ := postAnswer(t, hs.URL, d.tokens[0], d.form); r.status != http.StatusOK {
		t.Fatalf("the same answer once the lock is gone: %d, want 200\n%.600s", r.status, r.body)
	}
	if r, _ := postAnswer(t, hs.URL, d.tokens[0], d.form); r.status != http.StatusConflict {
		t.Errorf("the same answer a third time: %d, want 409", r.status)
	}
	if resp, ans, answered := d.stored(t, app); resp != 1 || answered != 1 || ans != len(d.questions) {
		t.Errorf("%d responses, %d answers, %d invitations answered; want 1, %d, 1", resp, ans, answered, len(d.questions))
	}
}

// TestRatingsWhileTheDatabaseIsLockedAre503AndStoreNothing holds the
// write lock while a batch of ratings is posted to a server with a
// request timeout shorter than the busy timeout: the API answers 503 with
// Retry-After in its JSON shape within SQLite's busy timeout (neither the
// request timeout nor the key's best-effort last-used update cuts a wait
// on the lock short) and stores nothing; once the lock is gone the batch
// is taken.
func TestRatingsWhileTheDatabaseIsLockedAre503AndStoreNothing(t *testing.T) {
	t.Parallel() // it waits out the busy timeout
	app := newTestAppOn(t, store.Options{BusyTimeout: degradeBusyTimeout}, nil)
	key := app.apiKey(store.ScopeRatingsWrite)
	hs := serveWith(t, app, Config{RequestTimeout: degradeBusyTimeout / 5})
	body := fmt.Sprintf(`[{"source":"s","id":"1","occurred_at":%q,"metric":"csat","score":4,"unit_path":"Acme/Support"},
		{"source":"s","id":"2","occurred_at":%[1]q,"metric":"csat","score":5,"unit_path":"Acme/Support"}]`, recent(1))
	post := func() (response, time.Duration) {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/api/v1/customer-ratings", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		start := time.Now()
		r := app.client().do(req)
		return r, time.Since(start)
	}
	release := holdWriteLock(t, app)
	r, took := post()
	t.Logf("ratings while the database is locked: %d after %s: %s", r.status, took.Round(time.Millisecond), r.body)
	if b := decode(t, r); r.status != http.StatusServiceUnavailable || b.Error.Code != tandem.EUNAVAILABLE || r.header.Get("Retry-After") == "" {
		t.Errorf("ratings while the database is locked: %d (Retry-After %q) %s, want 503 unavailable with Retry-After", r.status, r.header.Get("Retry-After"), r.body)
	}
	if took > degradeBusyTimeout+3*time.Second {
		t.Errorf("the request took %s, want at most the busy timeout (%s) and a little", took, degradeBusyTimeout)
	}
	if n := app.ratingsStored(); n != 0 {
		t.Errorf("%d ratings stored by the refused batch, want 0", n)
	}
	release()
	if r, _ := post(); r.status != http.StatusOK || !strings.Contains(r.body, `"accepted":2`) {
		t.Errorf("the batch once the lock is gone: %d %s, want 200 with 2 accepted", r.status, r.body)
	}
}

// deadSMTP returns an SMTP sender for a port where nothing listens.
func deadSMTP(t *testing.T) mail.Sender {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s, err := mail.NewSMTP(mail.SMTPConfig{Host: "127.0.0.1", Port: port, Security: "none", From: "Tandem <pulse@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutboxPageShowsInvitationsPendingWhileSMTPIsDown sends a round's
// invitations while nothing listens on the SMTP port: HR's outbox page
// shows every message waiting, with its attempt and the error, and none
// failed or lost.
func TestOutboxPageShowsInvitationsPendingWhileSMTPIsDown(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	p := pulse.Defaults()
	p.AudienceUnitID = app.units["Acme"]
	p.Channel = pulse.ChannelEmail
	if err := app.st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	if _, _, err := schedule.NewRunner(app.st, log).SendNow(ctx, p.ID, timeNow()); err != nil {
		t.Fatal(err)
	}
	w := schedule.NewWorker(app.st, map[string]mail.Sender{pulse.ChannelEmail: deadSMTP(t)}, app.http.URL, log, clockwork.NewFakeClockAt(timeNow()))
	n, err := w.RunOnce(ctx)
	if err != nil || n != 5 {
		t.Fatalf("RunOnce: %d messages, %v; want the 5 invitations tried", n, err)
	}
	c := app.client()
	c.login("hr@example.com")
	r := c.get("/outbox")
	if r.status != http.StatusOK {
		t.Fatalf("GET /outbox: %d", r.status)
	}
	for _, want := range []string{`5<small>waiting to be sent`, `0<small>failed`, "<td>invite</td><td>pending</td><td class=\"num\">5</td>", "connection refused"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the outbox page lacks %q:\n%s", want, r.body)
		}
	}
	// Messages are counted, never listed by person.
	for _, e := range []string{"ana", "ben", "cara", "dev", "eli"} {
		if strings.Contains(r.body, e+"@example.com") {
			t.Errorf("the outbox page names %s@example.com", e)
		}
	}
}

// TestAnswerBodyOverTheLimitIs413AndSaysSo posts an answer larger than the
// server's body limit, URL-encoded and as multipart, with and without a
// Content-Length: each is refused with 413 and a page that says the
// request is too large (not 422 with an empty form), and nothing is
// stored.
func TestAnswerBodyOverTheLimitIs413AndSaysSo(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	d := openDegradeRound(t, app)
	hs := serveWith(t, app, Config{BodyLimit: "2K"})
	form := url.Values{}
	for k, v := range d.form {
		form[k] = v
	}
	form.Set("comment", strings.Repeat("long ", 1000))
	var mp strings.Builder
	mw := multipart.NewWriter(&mp)
	for k, vs := range form {
		mw.WriteField(k, vs[0])
	}
	mw.Close()
	for _, c := range []struct {
		name, contentType, body string
		chunked                 bool
	}{
		{"URL-encoded", "application/x-www-form-urlencoded", form.Encode(), false},
		{"URL-encoded, chunked", "application/x-www-form-urlencoded", form.Encode(), true},
		{"multipart", mw.FormDataContentType(), mp.String(), false},
		{"multipart, chunked", mw.FormDataContentType(), mp.String(), true},
	} {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/p/"+d.tokens[0], strings.NewReader(c.body))
		if c.chunked {
			// No Content-Length: the limit is found while reading.
			req, _ = http.NewRequest(http.MethodPost, hs.URL+"/p/"+d.tokens[0], io.MultiReader(strings.NewReader(c.body)))
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", c.contentType)
		r := app.client().do(req)
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "too large") {
			t.Errorf("%s answer of %d bytes over a 2K limit: %d, want 413 saying it is too large\n%.600s", c.name, len(c.body), r.status, r.body)
		}
	}
	if resp, ans, answered := d.stored(t, app); resp+ans+answered != 0 {
		t.Errorf("%d responses, %d answers, %d answered invitations stored from refused bodies; want none", resp, ans, answered)
	}
	// Under the limit, the same link still takes the answer.
	if r, _ := postAnswer(t, hs.URL, d.tokens[0], d.form); r.status != http.StatusOK {
		t.Errorf("the answer without the long comment: %d, want 200", r.status)
	}
}

// TestRosterUploadOverTheRowCapSaysToSplitIt uploads a roster of
// roster.MaxRows+1 people: the dry run refuses it with the limit and what
// to do, and nothing is imported.
func TestRosterUploadOverTheRowCapSaysToSplitIt(t *testing.T) {
	t.Parallel() // its own server and database; among the slowest of the package
	app := newTestApp(t)
	var b strings.Builder
	b.WriteString("employee_id,email,name,team\n")
	for i := 0; i <= roster.MaxRows; i++ {
		fmt.Fprintf(&b, "X%d,x%d@example.com,X %d,Acme/Big\n", i, i, i)
	}
	c := app.client()
	c.login("hr@example.com")
	r := c.upload("/roster/import", "huge.csv", b.String(), nil)
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, fmt.Sprintf("more than %d rows", roster.MaxRows)) ||
		!strings.Contains(r.body, "in parts") {
		t.Errorf("roster of %d rows: %d, want 422 naming the %d-row limit and saying to import it in parts\n%.1000s", roster.MaxRows+1, r.status, roster.MaxRows, r.body)
	}
	emps, err := app.st.AllEmployees(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(emps) != 5 {
		t.Errorf("%d employees after the refused upload, want the 5 from before", len(emps))
	}
}

// TestRatingsAPIBatchOverTheCapInAWrapperIs413 sends 10,001 ratings in
// the {"ratings": [...]} form: 413 with the limit, nothing stored.
func TestRatingsAPIBatchOverTheCapInAWrapperIs413(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	key := app.apiKey(store.ScopeRatingsWrite)
	one := fmt.Sprintf(`{"occurred_at":%q,"score":5,"unit_path":"Acme/Support"}`, recent(1))
	body := `{"source":"s","metric":"csat","ratings":[` + strings.TrimSuffix(strings.Repeat(one+",", 10_001), ",") + "]}"
	r := app.postRatings(key, body)
	if b := decode(t, r); r.status != http.StatusRequestEntityTooLarge || !strings.Contains(b.Error.Message, "10001 ratings") ||
		!strings.Contains(b.Error.Message, "at most 10000") {
		t.Errorf("10,001 ratings in a wrapper: %d %s, want 413 naming the count and the limit", r.status, r.body)
	}
	if n := app.ratingsStored(); n != 0 {
		t.Errorf("%d stored, want 0", n)
	}
}

// TestAnswerBodyOverTheDefaultLimitIs413 posts answers larger than Go's own
// 10 MB cap on URL-encoded forms, with the server's default body limit:
// one of 11 MB with a Content-Length (under the 16M limit) and one of 17 MB
// sent in chunks (no Content-Length, so the limit is found while reading).
// Each is refused with 413 saying it is too large, not 422 with the form
// lost, and nothing is stored.
func TestAnswerBodyOverTheDefaultLimitIs413(t *testing.T) {
	t.Parallel() // its own server and database; among the slowest of the package
	app := newTestApp(t)
	d := openDegradeRound(t, app)
	hs := serveWith(t, app, Config{})
	for _, c := range []struct {
		name    string
		size    int
		chunked bool
	}{{"11 MB with a Content-Length", 11 << 20, false}, {"17 MB chunked", 17 << 20, true}} {
		form := url.Values{}
		for k, v := range d.form {
			form[k] = v
		}
		form.Set("comment", strings.Repeat("x", c.size))
		body := form.Encode()
		var rd io.Reader = strings.NewReader(body)
		if c.chunked {
			rd = io.MultiReader(rd)
		}
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/p/"+d.tokens[0], rd)
		if c.chunked {
			req.ContentLength = -1
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := app.client().do(req)
		if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "too large") {
			t.Errorf("%s: %d, want 413 saying it is too large\n%.300s", c.name, r.status, r.body)
		}
	}
	if resp, ans, answered := d.stored(t, app); resp+ans+answered != 0 {
		t.Errorf("%d responses, %d answers, %d answered invitations stored from refused bodies; want none", resp, ans, answered)
	}
}
