package replicas

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/testbin"
)

// TestAnswersPostedToAllReplicasAtOnceAreEachStoredOnce posts a valid
// answer for every invitation of a round to a random one of three
// replicas, and the same answer, at the same moment, to another replica,
// as a person double-clicking behind a load balancer would. Every POST is
// either stored (200) or refused as already answered (409); each
// invitation is stored exactly once; and the database holds exactly the
// acknowledged answers: no lost update in the running totals, no second
// response.
func TestAnswersPostedToAllReplicasAtOnceAreEachStoredOnce(t *testing.T) {
	o := newOrg(t, 150)
	p := o.program(t, nil) // weekly: it does not fire during the test
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// A round, and one answer link per invitation minted the way the
	// outbox mints them. The round's own messages are cancelled: the test
	// hands the links out itself.
	// The replicas are tandem processes on the machine's clock, which the
	// test cannot move: the round they take answers for opens on it too.
	round, _, err := schedule.NewRunner(o.st, quietLog).SendNow(ctx, p.ID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := o.st.CancelRoundMessages(ctx, round.ID, "the test posts the answers"); err != nil {
		t.Fatal(err)
	}
	invs, err := o.st.RoundInvitations(ctx, round.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(invs) != o.people {
		t.Fatalf("%d invitations, want %d", len(invs), o.people)
	}
	tokens := make([]string, len(invs))
	for i, inv := range invs {
		tokens[i] = auth.NewToken()
		if err := o.st.AddInvitationToken(ctx, inv.ID, auth.HashToken(tokens[i])); err != nil {
			t.Fatal(err)
		}
	}
	qs, err := o.st.RoundQuestions(ctx, round.ID)
	if err != nil {
		t.Fatal(err)
	}
	body := testbin.AnswerForm(qs)

	// All of the test's requests come from one loopback address, where
	// people answering come from many: the per-address limit on answer
	// links (--rate-limit, kept in each replica's memory) is turned off.
	rs := startReplicas(t, 3, func(i int) string { return o.db.replicaURL(t, i) }, "--rate-limit", "0")

	// Every POST at once: two per invitation, to two different replicas.
	type attempt struct {
		inv, replica int
		status       int
		body         string
		err          error
	}
	attempts := make([]attempt, 2*len(invs))
	for i := range invs {
		a := rand.IntN(len(rs))
		b := (a + 1 + rand.IntN(len(rs)-1)) % len(rs)
		attempts[2*i] = attempt{inv: i, replica: a}
		attempts[2*i+1] = attempt{inv: i, replica: b}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = len(attempts)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := range attempts {
		a := &attempts[k]
		wg.Go(func() {
			<-start
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, rs[a.replica].url()+"/p/"+tokens[a.inv], strings.NewReader(body))
			if err != nil {
				a.err = err
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := client.Do(req)
			if err != nil {
				a.err = err
				return
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			a.status, a.body, a.err = resp.StatusCode, string(b), err
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d POSTs to 3 replicas in %s", len(attempts), time.Since(t0).Round(time.Millisecond))

	stored := make([]int, len(invs))
	byReplica := make([]int, len(rs))
	conflicts := 0
	for _, a := range attempts {
		switch {
		case a.err != nil:
			t.Errorf("POST for invitation %d to %s: %v", invs[a.inv].ID, rs[a.replica].name, a.err)
		case a.status == http.StatusOK:
			stored[a.inv]++
			byReplica[a.replica]++
		case a.status == http.StatusConflict:
			conflicts++
			if !strings.Contains(a.body, "already answered") {
				t.Errorf("409 for invitation %d without saying it was already answered:\n%s", invs[a.inv].ID, a.body)
			}
		default:
			t.Errorf("POST for invitation %d to %s: status %d, want 200 or 409:\n%.500s", invs[a.inv].ID, rs[a.replica].name, a.status, a.body)
		}
	}
	acked := 0
	for i, n := range stored {
		acked += n
		if n != 1 {
			t.Errorf("invitation %d: %d POSTs answered 200, want exactly 1", invs[i].ID, n)
		}
	}
	t.Logf("200 (stored): %d, by replica %v; 409 (already answered): %d", acked, byReplica, conflicts)
	for i, n := range byReplica {
		if n == 0 {
			t.Errorf("%s stored no answer: the test did not spread the writes", rs[i].name)
		}
	}

	// The database holds exactly the acknowledged answers.
	if got := o.count(t, "SELECT COUNT(*) FROM responses WHERE round_id = $1", round.ID); got != acked {
		t.Errorf("%d responses stored, want %d (one per 200)", got, acked)
	}
	if got := o.count(t, "SELECT COUNT(*) FROM invitations WHERE round_id = $1 AND responded", round.ID); got != acked {
		t.Errorf("%d invitations marked answered, want %d", got, acked)
	}
	answered := 0
	for _, q := range qs {
		answered++
		if !rated(q) {
			continue
		}
		if got := o.count(t, "SELECT COALESCE(SUM(n), 0) FROM round_scores WHERE round_id = $1 AND question_id = $2", round.ID, q.ID); got != acked {
			t.Errorf("round_scores of question %d (%s): n = %d, want %d", q.ID, q.Key, got, acked)
		}
	}
	if got, want := o.count(t, "SELECT COUNT(*) FROM answers a JOIN responses r ON r.id = a.response_id WHERE r.round_id = $1", round.ID), acked*answered; got != want {
		t.Errorf("%d answers stored, want %d (%d questions × %d responses)", got, want, answered, acked)
	}
	for _, r := range rs {
		if err := r.stop(20 * time.Second); err != nil {
			t.Errorf("%s: SIGTERM: %v", r.name, err)
		}
	}
	if t.Failed() {
		t.Logf("round %d, %d questions, answer form %s", round.ID, len(qs), body)
	}
}
