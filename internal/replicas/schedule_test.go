package replicas

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/mail/mailtest"
	"github.com/tandem-hq/tandem/internal/pulse"
)

// The scheduling tests' program fires every four seconds.
const slot = 4 * time.Second

// inFlightLimit is how many messages one replica hands to the SMTP server
// at the same time: the outbox worker's default Parallel
// (internal/schedule/outbox.go), which `tandem serve` does not change.
const inFlightLimit = 8

// fastProgram saves a program for the whole company that starts a round
// every slot, open for a day, without reminders, by email. No form and no
// SaveProgram takes a cadence that fires every few seconds (one round a
// day at most): the test writes pulse's test cadence into the row itself.
func (o *org) fastProgram(t *testing.T) pulse.Program {
	t.Helper()
	p := o.program(t, func(p *pulse.Program) {
		p.Cadence.Zone = "UTC"
		p.WindowDays = 1
		p.ReminderDays = 0
		p.Channel = pulse.ChannelEmail
	})
	fast := pulse.Cadence{Kind: pulse.TestInterval, Seconds: int(slot / time.Second), Zone: "UTC"}
	if _, err := o.sql().Exec("UPDATE programs SET cadence = $1 WHERE id = $2", pulse.MarshalCadence(fast), p.ID); err != nil {
		t.Fatalf("give program %d the test cadence: %v", p.ID, err)
	}
	p.Cadence = fast
	return p
}

// mailFlags point a replica at the test's SMTP listener, with a short
// outbox lease so that messages a dead replica had leased are retried
// within the test.
func mailFlags(m *mailtest.Server) []string {
	return []string{"--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(m.Port), "--smtp-security", "none",
		"--smtp-from", "Tandem <t@example.com>", "--outbox-lease", "3s", "--outbox-poll", "200ms"}
}

// TestThreeReplicasCreateEachRoundOnceAndSendEachInvitationOnce runs three
// replicas through about ten rounds of a program that fires every 4 s, with
// a failover in the middle, and checks the rounds table and what arrived
// at the SMTP listener.
//
// The failover is the harder kind: the replica running the scheduler
// freezes (SIGSTOP, as a stalled VM or a long pause would) just after a
// round was delivered, stays frozen across the next slot, and is then
// killed with SIGKILL. While it is frozen its database session still holds
// the scheduler's advisory lock, so the other replicas skip that slot; once
// it is dead PostgreSQL releases the lock, and at the following slot one
// of them takes over and must create the missed round as well.
//
// The kill lands between rounds, when the dead replica has no message in
// the middle of being sent: that is what lets this test require every
// invitation to arrive exactly once. A kill in the middle of sending can
// repeat a message, by design of an at-least-once outbox; the next test
// covers that case and bounds the repeats.
func TestThreeReplicasCreateEachRoundOnceAndSendEachInvitationOnce(t *testing.T) {
	o := newOrg(t, 24)
	smtp := mailtest.NewServer(t)
	p := o.fastProgram(t)
	rs := startReplicas(t, 3, func(i int) string { return o.db.replicaURL(t, i) }, mailFlags(smtp)...)

	// About five rounds with all three replicas.
	o.waitRounds(t, p.ID, func(s []time.Time) bool { return len(s) >= 5 }, 6*slot+10*time.Second, "five rounds")
	li, lead := o.leader(t, rs, 5*time.Second)

	// A fresh round, delivered in full, early enough in its slot.
	var fresh time.Time
	for attempt := 0; ; attempt++ {
		fresh = o.waitNextRound(t, p.ID, 2*slot)
		o.waitDelivered(t, 2*time.Second)
		if time.Until(fresh.Add(slot)) > 1500*time.Millisecond {
			break
		}
		if attempt == 2 {
			t.Fatalf("three rounds in a row took more than %s to deliver", slot-1500*time.Millisecond)
		}
	}
	missed := fresh.Add(slot)
	t.Logf("round of %s delivered; freezing the leader %s until after the slot %s, then killing it", fresh.Format("15:04:05"), lead.name, missed.Format("15:04:05"))
	lead.signal(t, syscall.SIGSTOP)
	// Two seconds past the slot: the others' firings of it, even late on a
	// busy machine, have found the lock taken.
	time.Sleep(time.Until(missed.Add(2 * time.Second)))
	if got := o.latestSlot(t, p.ID); !got.Equal(fresh) {
		t.Fatalf("while the leader was frozen the latest round became %s: another replica ran the scheduler without the lock", got.Format("15:04:05"))
	}
	lead.kill() // SIGKILL
	if !lead.exited() {
		t.Fatalf("%s did not die of SIGKILL", lead.name)
	}

	// Four more slots with the two survivors.
	last := missed.Add(4 * slot)
	o.waitRounds(t, p.ID, func(s []time.Time) bool { return !s[len(s)-1].Before(last) }, time.Until(last)+5*time.Second, "rounds after the failover")
	survivors := slices.Delete(slices.Clone(rs), li, li+1)
	_, newLead := o.leader(t, survivors, 5*time.Second)
	t.Logf("%s took over the scheduler", newLead.name)
	o.pauseAndDrain(t, p.ID)
	for _, r := range survivors {
		if err := r.stop(20 * time.Second); err != nil {
			t.Errorf("%s: SIGTERM: %v", r.name, err)
		}
	}

	// (a) Every slot from the first round to the last has exactly one
	// round; the slot missed during the failover was caught up at the
	// next one.
	rounds := o.rounds(t, p.ID)
	checkConsecutive(t, rounds)
	if len(rounds) < 10 {
		t.Errorf("%d rounds, want at least 10 (5 before the failover, the missed one, 4 after)", len(rounds))
	}
	caughtUp := false
	for _, r := range rounds {
		if r.slot.Equal(missed) {
			caughtUp = true
			if lag := r.created.Sub(r.slot); lag < slot-time.Second {
				t.Errorf("the round of the missed slot %s was created %s after it: want it created by the next leader at the next slot",
					missed.Format("15:04:05"), lag)
			}
		}
	}
	if !caughtUp {
		t.Errorf("no round for the slot %s missed during the failover", missed.Format("15:04:05"))
	}

	// (b) Every invitation of every round arrived once.
	msgs := smtp.Messages()
	got := o.deliveries(t, msgs)
	invs := o.invitations(t, p.ID)
	if want := len(rounds) * o.people; len(invs) != want {
		t.Errorf("%d invitations in %d rounds of %d people, want %d", len(invs), len(rounds), o.people, want)
	}
	var problems []string
	for _, inv := range invs {
		if n := got[inv.id]; n != 1 {
			problems = append(problems, fmt.Sprintf("invitation %d (round of %s) arrived %d times", inv.id, inv.slot.Format("15:04:05"), n))
		}
	}
	if len(problems) > 0 {
		t.Errorf("%d of %d invitations did not arrive exactly once:\n%s", len(problems), len(invs), strings.Join(first(problems, 20), "\n"))
	}
	if len(msgs) != len(invs) {
		t.Errorf("%d messages arrived for %d invitations", len(msgs), len(invs))
	}

	// (c) Nothing is left in the outbox.
	o.checkOutboxDone(t, len(invs))
}

// TestLeaderKilledMidSendLosesNothingAndRepeatsAtMostTheMessagesInFlight
// kills the replica running the scheduler with SIGKILL the moment the
// first invitation of a new round reaches the SMTP listener, while it is
// sending the rest. The messages it had leased are retried by the other
// replicas once the lease (3 s) runs out, so every invitation arrives.
//
// The outbox delivers at least once: a message the SMTP server accepted
// just before the kill, before the replica could record it as sent, is
// sent again after the lease. Exactly-once is not possible over SMTP; what
// this test holds the outbox to is the bound: only messages of the round
// being sent, and no more than one replica has in flight at once (8).
func TestLeaderKilledMidSendLosesNothingAndRepeatsAtMostTheMessagesInFlight(t *testing.T) {
	o := newOrg(t, 24)
	smtp := mailtest.NewServer(t)
	p := o.fastProgram(t)
	rs := startReplicas(t, 3, func(i int) string { return o.db.replicaURL(t, i) }, mailFlags(smtp)...)

	o.waitRounds(t, p.ID, func(s []time.Time) bool { return len(s) >= 2 }, 3*slot+10*time.Second, "two rounds")
	li, lead := o.leader(t, rs, 5*time.Second)
	// A round delivered in full, early in its slot, so that the next
	// message to arrive is the first of the next round.
	for attempt := 0; ; attempt++ {
		fresh := o.waitNextRound(t, p.ID, 2*slot)
		o.waitDelivered(t, 2*time.Second)
		if time.Until(fresh.Add(slot)) > time.Second {
			break
		}
		if attempt == 2 {
			t.Fatalf("three rounds in a row took more than %s to deliver", slot-time.Second)
		}
	}
	before := len(smtp.Messages())
	if want := len(o.invitations(t, p.ID)); before != want {
		t.Fatalf("%d messages arrived for %d invitations before the kill", before, want)
	}
	if n := len(smtp.WaitFor(before+1, slot+2*time.Second)); n <= before {
		t.Fatal("no message of the next round arrived")
	}
	lead.kill() // SIGKILL, mid-send
	atKill := len(smtp.Messages()) - before
	killSlot := o.latestSlot(t, p.ID)
	t.Logf("killed the leader %s after %d of %d invitations of the round of %s had arrived", lead.name, atKill, o.people, killSlot.Format("15:04:05"))

	// Three more slots with the two survivors; the lease runs out in the
	// first.
	last := killSlot.Add(3 * slot)
	o.waitRounds(t, p.ID, func(s []time.Time) bool { return !s[len(s)-1].Before(last) }, time.Until(last)+5*time.Second, "rounds after the kill")
	survivors := slices.Delete(slices.Clone(rs), li, li+1)
	o.pauseAndDrain(t, p.ID)
	for _, r := range survivors {
		if err := r.stop(20 * time.Second); err != nil {
			t.Errorf("%s: SIGTERM: %v", r.name, err)
		}
	}

	rounds := o.rounds(t, p.ID)
	checkConsecutive(t, rounds)
	got := o.deliveries(t, smtp.Messages())
	invs := o.invitations(t, p.ID)
	var lost []string
	twice := map[time.Time]int{}
	repeats := 0
	for _, inv := range invs {
		switch n := got[inv.id]; {
		case n == 0:
			lost = append(lost, fmt.Sprintf("invitation %d (round of %s) never arrived", inv.id, inv.slot.Format("15:04:05")))
		case n > 1:
			twice[inv.slot]++
			repeats += n - 1
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d invitations lost:\n%s", len(lost), strings.Join(first(lost, 20), "\n"))
	}
	t.Logf("repeated deliveries: %d (invitations arriving more than once, by round: %v)", repeats, twice)
	for s, n := range twice {
		if !s.Equal(killSlot) {
			t.Errorf("%d invitations of the round of %s arrived more than once; only the round being sent at the kill (%s) may repeat",
				n, s.Format("15:04:05"), killSlot.Format("15:04:05"))
		}
	}
	if repeats > inFlightLimit {
		t.Errorf("%d repeated deliveries: more than the %d messages one replica sends at a time", repeats, inFlightLimit)
	}
	o.checkOutboxDone(t, len(invs))
}

// roundRow is a scheduled round: its slot, its number in the program and
// when it was created.
type roundRow struct {
	id      int64
	seq     int
	slot    time.Time
	created time.Time
}

// rounds returns the program's scheduled (not sent-now) rounds by slot.
func (o *org) rounds(t *testing.T, programID int64) []roundRow {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := o.sql().QueryContext(ctx, "SELECT id, seq, scheduled_at, created_at FROM rounds WHERE program_id = $1 AND NOT manual ORDER BY scheduled_at", programID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []roundRow
	for rows.Next() {
		var r roundRow
		var s, c int64
		if err := rows.Scan(&r.id, &r.seq, &s, &c); err != nil {
			t.Fatal(err)
		}
		r.slot, r.created = time.Unix(s, 0), time.Unix(c, 0)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (o *org) latestSlot(t *testing.T, programID int64) time.Time {
	t.Helper()
	rs := o.rounds(t, programID)
	if len(rs) == 0 {
		return time.Time{}
	}
	return rs[len(rs)-1].slot
}

// waitRounds polls the rounds table until ok holds for the slots so far.
func (o *org) waitRounds(t *testing.T, programID int64, ok func(slots []time.Time) bool, timeout time.Duration, what string) []time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var slots []time.Time
		for _, r := range o.rounds(t, programID) {
			slots = append(slots, r.slot)
		}
		if len(slots) > 0 && ok(slots) {
			return slots
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; rounds so far at %s; the scheduler's lock is held by %q",
				timeout, what, clock(slots), leaderName(t, o.sql()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitNextRound waits for a round later than the latest one and returns
// its slot.
func (o *org) waitNextRound(t *testing.T, programID int64, timeout time.Duration) time.Time {
	t.Helper()
	prev := o.latestSlot(t, programID)
	s := o.waitRounds(t, programID, func(s []time.Time) bool { return s[len(s)-1].After(prev) }, timeout, "the next round")
	return s[len(s)-1]
}

// waitDelivered waits until no message in the outbox waits to be sent.
func (o *org) waitDelivered(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := o.count(t, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending after %s", n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pauseAndDrain pauses the program, so that no round starts while the
// test counts, and waits until its messages are delivered (including
// those a dead replica had leased, after the lease).
func (o *org) pauseAndDrain(t *testing.T, programID int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := o.st.SetProgramActive(ctx, programID, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // a firing that read the program just before
	o.waitDelivered(t, 15*time.Second)
}

// checkConsecutive checks that the rounds are one per slot, with no slot
// missing between the first and the last, numbered 1, 2, 3… in order (the
// number picks the round's questions).
func checkConsecutive(t *testing.T, rounds []roundRow) {
	t.Helper()
	var slots []time.Time
	for _, r := range rounds {
		slots = append(slots, r.slot)
	}
	for i, r := range rounds {
		if r.slot.Unix()%int64(slot/time.Second) != 0 {
			t.Errorf("round %d at %s is not on a %s slot", r.id, r.slot.Format("15:04:05.000"), slot)
		}
		if i > 0 && r.slot.Sub(rounds[i-1].slot) != slot {
			t.Errorf("rounds at %s and then %s: want one every %s (rounds: %s)", rounds[i-1].slot.Format("15:04:05"), r.slot.Format("15:04:05"), slot, clock(slots))
		}
		if r.seq != i+1 {
			t.Errorf("round %d at %s is number %d, want %d", r.id, r.slot.Format("15:04:05"), r.seq, i+1)
		}
	}
}

// invitation is one invitation of the program, with its round's slot.
type invitation struct {
	id   int64
	slot time.Time
}

func (o *org) invitations(t *testing.T, programID int64) []invitation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := o.sql().QueryContext(ctx, `SELECT i.id, r.scheduled_at FROM invitations i JOIN rounds r ON r.id = i.round_id
		WHERE r.program_id = $1 ORDER BY i.id`, programID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []invitation
	for rows.Next() {
		var inv invitation
		var s int64
		if err := rows.Scan(&inv.id, &s); err != nil {
			t.Fatal(err)
		}
		inv.slot = time.Unix(s, 0)
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// deliveries counts the messages that arrived per invitation: each one's
// answer link carries a token whose hash the database maps to the
// invitation. A message must go to the invitation's person.
func (o *org) deliveries(t *testing.T, msgs []mailtest.Message) map[int64]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := map[int64]int{}
	for _, m := range msgs {
		link := m.Link()
		i := strings.LastIndex(link, "/p/")
		if i < 0 {
			t.Errorf("a message to %v has no answer link:\n%s", m.To, m.Text)
			continue
		}
		var id int64
		var email string
		err := o.sql().QueryRowContext(ctx, `SELECT t.invitation_id, e.email FROM invitation_tokens t
			JOIN invitations i ON i.id = t.invitation_id JOIN employees e ON e.id = i.employee_id
			WHERE t.token_hash = $1`, auth.HashToken(link[i+3:])).Scan(&id, &email)
		if err != nil {
			t.Errorf("the link %s sent to %v opens no invitation: %v", link, m.To, err)
			continue
		}
		if len(m.To) != 1 || m.To[0] != email {
			t.Errorf("invitation %d of %s went to %v", id, email, m.To)
		}
		got[id]++
	}
	return got
}

// checkOutboxDone checks that every message was sent and none is pending
// or failed.
func (o *org) checkOutboxDone(t *testing.T, invitations int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	counts, err := o.st.OutboxCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for status, n := range counts {
		if status != "sent" && status != "cancelled" {
			t.Errorf("%d messages %s in the outbox, want every one sent or cancelled (counts %v)", n, status, counts)
		}
	}
	if counts["sent"] != invitations {
		t.Errorf("%d messages recorded as sent, want one per invitation, %d (counts %v)", counts["sent"], invitations, counts)
	}
}

func clock(ts []time.Time) string {
	var parts []string
	for _, t := range ts {
		parts = append(parts, t.Format("15:04:05"))
	}
	return strings.Join(parts, " ")
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… and %d more", len(s)-n))
	}
	return s
}
