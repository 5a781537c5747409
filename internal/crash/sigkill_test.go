package crash

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// Bounds of the kill loop: cycles, and when in each cycle the server is
// killed (a random moment in [killMin, killMin+killSpread) after it is
// ready). Each cycle spends an equal share of the links, paced so that
// answers are still in flight when the kill comes; rating batches of 1 to
// maxBatch ratings go on until it.
const (
	killCycles    = 5
	killMin       = 60 * time.Millisecond
	killSpread    = 400 * time.Millisecond
	answerWorkers = 8
	answerPause   = 80 * time.Millisecond // the most a client waits between answers
	ratingWorkers = 3
	maxBatch      = 150
	crashPeople   = 240
)

// ratingSource is the source of every rating the test posts.
const ratingSource = "crashtest"

// answerOutcome is what the test knows of one link.
type answerOutcome struct {
	attempted bool
	acked     bool // a POST answered 2xx
	status    int  // the last status, 0 for no response
}

// ratingBatch is one POST of ratings with ids of its own.
type ratingBatch struct {
	ids    []string
	body   []byte
	acked  bool
	status int
}

// load is the state of the test's clients across the kill cycles.
type load struct {
	o      *org
	client *http.Client

	mu      sync.Mutex
	answers []answerOutcome
	next    int // next link to use
	batches []*ratingBatch
	// unexpected lists responses that are neither success nor a lost
	// connection (a 500, a 409 for a link used once…).
	unexpected []string
}

// TestAcknowledgedWritesSurviveSIGKILL runs a load of answers (each link
// posted once) and customer-rating batches (each with ids of its own)
// against `tandem serve`, kills the process with SIGKILL at a random
// moment, and starts it again, several times. With the server stopped, the
// file must hold every answer and batch that got a 2xx, no invitation may
// have two responses or a response in part, no batch may be stored in
// part, the weekly and monthly totals must count exactly the stored
// ratings, and PRAGMA integrity_check must pass. Then the posts whose
// outcome was lost are sent again to a fresh server: answers get 200 or
// 409 (already answered) and never a second response; batches get 200
// and end up whole.
//
// TANDEM_CRASH_SEED replays the kill moments of a run (the seed is
// logged); the interleaving of requests is the machine's.
func TestAcknowledgedWritesSurviveSIGKILL(t *testing.T) {
	skipShort(t)
	start := time.Now()
	seedVal := uint64(time.Now().UnixNano())
	if s := os.Getenv("TANDEM_CRASH_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TANDEM_CRASH_SEED=%q: %v", s, err)
		}
		seedVal = v
	}
	t.Logf("TANDEM_CRASH_SEED=%d", seedVal)
	rng := rand.New(rand.NewPCG(seedVal, 0x7461))

	o := seed(t, crashPeople)
	t.Logf("seeded %d people, round %d with %d questions, in %s", crashPeople, o.roundID, len(o.questions), time.Since(start).Round(time.Millisecond))
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = answerWorkers + ratingWorkers
	defer tr.CloseIdleConnections()
	l := &load{o: o, client: &http.Client{Transport: tr, Timeout: 15 * time.Second}, answers: make([]answerOutcome, len(o.tokens))}

	for cycle := 0; cycle < killCycles; cycle++ {
		srv := startServer(t, o.path, nil)
		budget := (len(o.tokens) - l.next) / (killCycles - cycle)
		after := killMin + time.Duration(rng.Int64N(int64(killSpread)))
		acked0, batches0 := l.counts()
		l.runUntilKilled(t, srv, cycle, budget, after)
		acked1, batches1 := l.counts()
		t.Logf("cycle %d: killed %s after ready; %d answers and %d rating batches acknowledged in this cycle",
			cycle+1, after.Round(time.Millisecond), acked1-acked0, batches1-batches0)
	}
	for _, u := range l.unexpected {
		t.Errorf("unexpected response during the load: %s", u)
	}

	// With the server stopped: everything acknowledged is there, and
	// nothing is there in part or twice.
	db := openDB(t, o.path)
	checkIntegrity(t, db)
	responses := o.checkResponses(t, db)
	answered := responded(t, db, o.roundID)
	ackedAnswers, lostAnswers := 0, 0
	for i, a := range l.answers {
		if a.acked {
			ackedAnswers++
			if !answered[o.invitations[i]] {
				t.Errorf("invitation %d: its answer got %d but the invitation is not marked answered after the crash", o.invitations[i], a.status)
			}
		} else if a.attempted {
			lostAnswers++
		}
	}
	if responses < ackedAnswers || responses > ackedAnswers+lostAnswers {
		t.Errorf("%d responses stored; want between %d (acknowledged) and %d (acknowledged + outcome lost)", responses, ackedAnswers, ackedAnswers+lostAnswers)
	}
	present := l.checkBatches(t, db, false)
	t.Logf("after %d kills: %d answers acknowledged, %d with the outcome lost, %d responses stored; %d batches posted, %d acknowledged, %d stored",
		killCycles, ackedAnswers, lostAnswers, responses, len(l.batches), l.ackedBatches(), present)
	db.Close()
	if ackedAnswers == 0 || l.ackedBatches() == 0 {
		t.Errorf("the load acknowledged %d answers and %d batches: the test did not exercise the writes", ackedAnswers, l.ackedBatches())
	}

	// A fresh server takes the posts whose outcome was lost again.
	srv := startServer(t, o.path, nil)
	l.retryLost(t, srv)
	srv.stop(t)
	db = openDB(t, o.path)
	defer db.Close()
	checkIntegrity(t, db)
	o.checkResponses(t, db)
	answered = responded(t, db, o.roundID)
	for i, a := range l.answers {
		if a.attempted && !answered[o.invitations[i]] {
			t.Errorf("invitation %d: answered %d on the retry, but not marked answered", o.invitations[i], a.status)
		}
	}
	l.checkBatches(t, db, true)
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}

func (l *load) counts() (answers, batches int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.answers {
		if a.acked {
			answers++
		}
	}
	return answers, l.ackedBatchesLocked()
}

func (l *load) ackedBatches() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ackedBatchesLocked()
}

func (l *load) ackedBatchesLocked() int {
	n := 0
	for _, b := range l.batches {
		if b.acked {
			n++
		}
	}
	return n
}

// runUntilKilled posts answers (up to budget links) and rating batches
// from several clients at once, kills the server after the given time,
// and waits for the clients to notice.
func (l *load) runUntilKilled(t *testing.T, srv *server, cycle, budget int, after time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	last := l.next + budget
	var wg sync.WaitGroup
	for w := 0; w < answerWorkers; w++ {
		wg.Go(func() {
			for ctx.Err() == nil {
				l.mu.Lock()
				i := l.next
				if i >= last {
					l.mu.Unlock()
					return
				}
				l.next++
				l.answers[i].attempted = true
				l.mu.Unlock()
				status, body, err := l.post(ctx, srv.url()+"/p/"+l.o.tokens[i], "application/x-www-form-urlencoded", "", []byte(l.o.form))
				l.mu.Lock()
				l.answers[i].status = status
				switch {
				case err != nil:
					// The server died with the request in flight: the
					// outcome is unknown.
				case status >= 200 && status < 300:
					l.answers[i].acked = true
				default:
					l.unexpected = append(l.unexpected, fmt.Sprintf("answer %d: %d %.300s", i, status, body))
				}
				l.mu.Unlock()
				if err != nil {
					return
				}
				time.Sleep(rand.N(answerPause))
			}
		})
	}
	for w := 0; w < ratingWorkers; w++ {
		wg.Go(func() {
			for k := 0; ctx.Err() == nil; k++ {
				b := newBatch(fmt.Sprintf("c%d-w%d-b%d", cycle, w, k), 1+rand.IntN(maxBatch))
				l.mu.Lock()
				l.batches = append(l.batches, b)
				l.mu.Unlock()
				status, body, err := l.post(ctx, srv.url()+"/api/v1/customer-ratings", "application/json", l.o.apiKey, b.body)
				l.mu.Lock()
				b.status = status
				switch {
				case err != nil:
				case status >= 200 && status < 300:
					var res struct{ Accepted, Duplicates int }
					if json.Unmarshal([]byte(body), &res) != nil || res.Accepted != len(b.ids) || res.Duplicates != 0 {
						l.unexpected = append(l.unexpected, fmt.Sprintf("new batch %s: %d %.300s, want %d accepted", b.ids[0], status, body, len(b.ids)))
					}
					b.acked = true
				default:
					l.unexpected = append(l.unexpected, fmt.Sprintf("batch %s: %d %.300s", b.ids[0], status, body))
				}
				l.mu.Unlock()
				if err != nil {
					return
				}
				time.Sleep(time.Duration(rand.IntN(30)) * time.Millisecond)
			}
		})
	}
	time.Sleep(after)
	srv.kill()
	cancel()
	wg.Wait()
}

// newBatch is n CSAT ratings of the last days for the two teams, with ids
// prefix-0, prefix-1, ….
func newBatch(prefix string, n int) *ratingBatch {
	b := &ratingBatch{}
	var sb strings.Builder
	sb.WriteString(`{"source":"` + ratingSource + `","metric":"csat","ratings":[`)
	// The server under test is a tandem process on the machine's clock,
	// which dates the ratings it is sent against its own today.
	today := tandem.Today(time.Now())
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("%s-%d", prefix, i)
		b.ids = append(b.ids, id)
		team := "Acme/Support"
		if i%2 == 1 {
			team = "Acme/Sales"
		}
		at := today.AddDate(0, 0, -1-i%20).Add(time.Duration(i) * time.Minute)
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%q,"occurred_at":%q,"score":%d,"unit_path":%q}`, id, at.Format(time.RFC3339), 1+i%5, team)
	}
	sb.WriteString("]}")
	b.body = []byte(sb.String())
	return b
}

func (l *load) post(ctx context.Context, url, contentType, key string, body []byte) (int, string, error) {
	return post(ctx, l.client, url, contentType, key, body)
}

// post sends body and returns the status and body of the response, or
// the error of a request whose response never came.
func post(ctx context.Context, client *http.Client, url, contentType, key string, body []byte) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", contentType)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		// The status came, the body did not: a 2xx status line is written
		// only after the commit, so keep the status.
		return resp.StatusCode, "", nil
	}
	return resp.StatusCode, string(b), nil
}

// checkBatches checks, for every batch posted, that its ratings are all
// stored or none (all, when it was acknowledged or every batch must be
// whole), that no rating is stored twice, and that the weekly and monthly
// totals count exactly the stored ratings. It returns how many batches
// are stored.
func (l *load) checkBatches(t *testing.T, db *sql.DB, wantAll bool) int {
	t.Helper()
	rows, err := db.Query("SELECT external_id FROM csat_events WHERE source = ?", ratingSource)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		stored[id]++
	}
	rows.Close()
	for id, n := range stored {
		if n != 1 {
			t.Errorf("rating %s is stored %d times", id, n)
		}
	}
	whole, inBatches := 0, 0
	for _, b := range l.batches {
		n := 0
		for _, id := range b.ids {
			if stored[id] > 0 {
				n++
			}
		}
		inBatches += n
		switch {
		case n != 0 && n != len(b.ids):
			t.Errorf("batch %s (status %d): %d of its %d ratings are stored, want all or none", b.ids[0], b.status, n, len(b.ids))
		case n == 0 && (b.acked || wantAll):
			t.Errorf("batch %s got %d, but none of its ratings is stored", b.ids[0], b.status)
		case n == len(b.ids):
			whole++
		}
	}
	if inBatches != len(stored) {
		t.Errorf("%d ratings stored, %d of them from the batches posted", len(stored), inBatches)
	}
	events := count(t, db, "SELECT COUNT(*) FROM csat_events")
	for _, kind := range []string{"W", "M"} {
		if n := count(t, db, "SELECT COALESCE(SUM(n), 0) FROM csat_totals WHERE kind = ?", kind); n != events {
			t.Errorf("the %s totals count %d ratings, want %d (the stored ratings)", kind, n, events)
		}
	}
	return whole
}

// retryLost sends again every answer and batch whose outcome was lost
// when the server died: answers must get 200 or 409 (already answered),
// batches 200 with every rating accepted or counted as a duplicate. A few
// acknowledged answers are sent again too: they must get 409.
func (l *load) retryLost(t *testing.T, srv *server) {
	t.Helper()
	ctx := context.Background()
	again, ok200, ok409 := 0, 0, 0
	for i := range l.answers {
		a := &l.answers[i]
		if !a.attempted || (a.acked && again >= 5) {
			continue
		}
		wasAcked := a.acked
		if wasAcked {
			again++
		}
		status, body, err := l.post(ctx, srv.url()+"/p/"+l.o.tokens[i], "application/x-www-form-urlencoded", "", []byte(l.o.form))
		if err != nil {
			t.Fatalf("retry of answer %d: %v", i, err)
		}
		a.status = status
		switch {
		case status == http.StatusConflict && strings.Contains(body, "already answered"):
			ok409++
		case status == http.StatusOK && !wasAcked:
			ok200++
			a.acked = true
		default:
			t.Errorf("answer %d sent again (acknowledged before: %v): %d, want 200 or 409 (already answered)\n%.300s", i, wasAcked, status, body)
		}
	}
	batches := 0
	for _, b := range l.batches {
		if b.acked {
			continue
		}
		batches++
		status, body, err := l.post(ctx, srv.url()+"/api/v1/customer-ratings", "application/json", l.o.apiKey, b.body)
		if err != nil {
			t.Fatalf("retry of batch %s: %v", b.ids[0], err)
		}
		var res struct{ Accepted, Duplicates int }
		if status != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Accepted+res.Duplicates != len(b.ids) ||
			(res.Accepted != 0 && res.Accepted != len(b.ids)) {
			t.Errorf("batch %s sent again: %d %.300s, want 200 with all %d accepted or all duplicates", b.ids[0], status, body, len(b.ids))
		}
		b.status, b.acked = status, status == http.StatusOK
	}
	t.Logf("sent again: %d answers (200: %d, 409: %d, %d of them acknowledged before), %d batches", ok200+ok409, ok200, ok409, again, batches)
}
