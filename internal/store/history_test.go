package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/history"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/tandem"
)

// eachStorePair runs fn with two fresh stores of each engine available.
func eachStorePair(t *testing.T, fn func(t *testing.T, a, b *Store)) {
	t.Helper()
	t.Run(SQLite, func(t *testing.T) { fn(t, newSQLite(t), newSQLite(t)) })
	if pg := newPostgres(t); pg != nil {
		t.Run(Postgres, func(t *testing.T) { fn(t, pg, newPostgres(t)) })
	}
}

// historyRoster is Acme's people, all hired in 2020: teams of 6, 5 and 7,
// a team of 2 and one of 3 (below k, stored with the unit above), and a
// manager alone in Care.
const historyTeams = "Acme/Ops/Alpha:6 Acme/Ops/Bravo:5 Acme/Ops/Tiny:2 Acme/Care/C1:7 Acme/Care/C2:3 Acme/Care:1"

func historyOrg(t *testing.T, st *Store, today time.Time) pulse.Program {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("email,name,team,hired_on\n")
	n := 0
	for _, tm := range strings.Fields(historyTeams) {
		path, size, _ := strings.Cut(tm, ":")
		var k int
		fmt.Sscan(size, &k)
		for i := 0; i < k; i++ {
			n++
			fmt.Fprintf(&b, "h%d@example.com,Person %d,%s,2020-01-01\n", n, n, path)
		}
	}
	plan, err := st.PlanRoster(ctx, strings.NewReader(b.String()), roster.Options{Today: today})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApplyRoster(ctx, plan, today); err != nil {
		t.Fatal(err)
	}
	tree, _ := st.Tree(ctx)
	p := pulse.Defaults()
	p.AudienceUnitID = tree.ByPath([]string{"Acme"}).ID
	p.Cadence.Zone = "Europe/Berlin"
	p.Channel = pulse.ChannelLog
	if err := st.SaveProgram(ctx, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// The same responses, answered through links in rounds the program sent
// or imported from a file, give the same results, participation,
// comments and correlation report.
func TestImportedHistoryReportsWhatTheSameAnswersThroughLinksReport(t *testing.T) {
	eachStorePair(t, func(t *testing.T, links, imported *Store) {
		ctx := context.Background()
		now := testNow
		today := tandem.Today(now)
		pa, pb := historyOrg(t, links, today), historyOrg(t, imported, today)
		tree, _ := links.Tree(ctx)
		emps, err := links.AllEmployees(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unitOf := map[int64]string{}
		for _, e := range emps {
			unitOf[e.ID] = strings.ReplaceAll(tree.Unit(e.UnitID).Path, " / ", "/")
		}
		berlin, _ := time.LoadLocation("Europe/Berlin")
		rng := rand.New(rand.NewPCG(16, 6))
		type row struct {
			unit, date, comment string
			answers             map[string]string
		}
		var rows []row
		keys := []string{}
		seen := map[string]bool{}
		var ratings []tandem.Rating
		thisMonday := tandem.PeriodStart(tandem.Week, now)
		for w := 6; w >= 3; w-- {
			monday := thisMonday.AddDate(0, 0, -7*w)
			slot := time.Date(monday.Year(), monday.Month(), monday.Day(), 9, 0, 0, 0, berlin)
			r, _, err := links.CreateRound(ctx, &pa, slot, false, slot)
			if err != nil {
				t.Fatal(err)
			}
			qs, _ := links.RoundQuestions(ctx, r.ID)
			invs, _ := links.RoundInvitations(ctx, r.ID)
			for _, inv := range invs {
				if rng.Float64() < 0.2 {
					continue // did not answer
				}
				rw := row{unit: unitOf[inv.EmployeeID], date: tandem.FormatDate(monday.AddDate(0, 0, rng.IntN(5))), answers: map[string]string{}}
				var answers []pulse.Answer
				for _, q := range qs {
					if rng.Float64() < 0.1 {
						continue // skipped the question
					}
					if !seen[q.Key] {
						seen[q.Key] = true
						keys = append(keys, q.Key)
					}
					a := pulse.Answer{QuestionID: q.ID, HasValue: true}
					switch q.Kind {
					case pulse.Likert5:
						a.Value = float64(1 + rng.IntN(5))
					case pulse.Scale010:
						a.Value = float64(rng.IntN(11))
					default:
						t.Fatalf("question %s of kind %s", q.Key, q.Kind)
					}
					answers = append(answers, a)
					rw.answers[q.Key] = fmt.Sprint(a.Value)
				}
				if rng.Float64() < 0.3 {
					rw.comment = fmt.Sprintf("Comment %d, with a comma", len(rows))
				}
				if len(answers) == 0 && rw.comment == "" {
					continue
				}
				tok := fmt.Sprintf("history-%d-%d", r.ID, inv.ID)
				if err := links.AddInvitationToken(ctx, inv.ID, auth.HashToken(tok)); err != nil {
					t.Fatal(err)
				}
				if err := links.SubmitResponse(ctx, auth.HashToken(tok), answers, rw.comment, slot.Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
				rows = append(rows, rw)
			}
			for _, team := range []string{"Alpha", "Bravo", "C1", "C2"} {
				var u int64
				for _, x := range tree.Walk() {
					if x.Name == team {
						u = x.ID
					}
				}
				for i := 0; i < 6; i++ {
					ratings = append(ratings, tandem.Rating{Source: "test", ExternalID: fmt.Sprintf("%d-%s-%d", w, team, i),
						OccurredAt: monday.AddDate(0, 0, i%5).Add(10 * time.Hour), UnitID: u, Metric: tandem.MetricCSAT, Score: float64(1 + rng.IntN(5))})
				}
			}
		}
		if _, err := links.CloseDueRounds(ctx, now); err != nil {
			t.Fatal(err)
		}
		for _, st := range []*Store{links, imported} {
			if _, err := st.IngestRatings(ctx, ratings, now); err != nil {
				t.Fatal(err)
			}
		}

		var csv strings.Builder
		csv.WriteString("unit,date," + strings.Join(keys, ",") + ",comment\n")
		for _, r := range rows {
			cells := []string{r.unit, r.date}
			for _, k := range keys {
				cells = append(cells, r.answers[k])
			}
			cells = append(cells, `"`+r.comment+`"`)
			csv.WriteString(strings.Join(cells, ",") + "\n")
		}
		in := HistoryImport{ProgramID: pb.ID, Period: history.Week, Actor: "test", Now: now, DryRun: true}
		dry, err := imported.ImportHistory(ctx, in, strings.NewReader(csv.String()))
		if err != nil {
			t.Fatalf("dry run: %v", err)
		}
		if dry.Applied || len(dry.Rounds) != 4 || dry.Responses != len(rows) {
			t.Fatalf("dry run: applied %v, %d rounds, %d responses; want 4 rounds of %d", dry.Applied, len(dry.Rounds), dry.Responses, len(rows))
		}
		if rs, _ := imported.Rounds(ctx, pb.ID); len(rs) != 0 {
			t.Fatalf("the dry run stored %d rounds", len(rs))
		}
		in.DryRun = false
		res, err := imported.ImportHistory(ctx, in, strings.NewReader(csv.String()))
		if err != nil {
			t.Fatalf("import: %v", err)
		}
		if !res.Applied || len(res.Rounds) != 4 {
			t.Fatalf("import: %+v", res)
		}

		from, to := thisMonday.AddDate(0, 0, -60), today
		ra, _ := links.RoundsBetween(ctx, pa.ID, from, to)
		rb, _ := imported.RoundsBetween(ctx, pb.ID, from, to)
		if len(ra) != 4 || len(rb) != 4 {
			t.Fatalf("%d rounds through links, %d imported; want 4 and 4", len(ra), len(rb))
		}
		sa, err := links.LoadRoundSet(ctx, ra)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := imported.LoadRoundSet(ctx, rb)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ra {
			if ra[i].Period != rb[i].Period || !rb[i].Imported || rb[i].Seq != 0 || !rb[i].Closed {
				t.Errorf("round %d: through links %s, imported %+v", i, ra[i].Period, rb[i])
			}
			if ka, kb := questionKeys(sa.Questions[ra[i].ID]), questionKeys(sb.Questions[rb[i].ID]); ka != kb {
				t.Errorf("round of %s asks %s through links, %s imported", ra[i].Period, ka, kb)
			}
			if a, b := resultsText(report.SetRoundResults(tree, 0, sa, ra[i])), resultsText(report.SetRoundResults(tree, 0, sb, rb[i])); a != b {
				t.Errorf("round of %s: results through links\n%s\nimported\n%s", ra[i].Period, a, b)
			}
			ia, xa, _ := links.Participation(ctx, ra[i].ID)
			ib, xb, _ := imported.Participation(ctx, rb[i].ID)
			if fmt.Sprint(ia, xa) != fmt.Sprint(ib, xb) {
				t.Errorf("round of %s: participation (invited, answered by storage group) through links %v %v, imported %v %v", ra[i].Period, ia, xa, ib, xb)
			}
			if a, b := texts(t, links, ra[i].ID), texts(t, imported, rb[i].ID); a != b {
				t.Errorf("round of %s: comments through links %s, imported %s", ra[i].Period, a, b)
			}
		}
		for _, q := range []string{"", "period=month", "measure=enps&lag=1"} {
			get := func(name string) string {
				v := map[string]string{"program": fmt.Sprint(pa.ID), "from": tandem.FormatDate(from), "min_ratings": "3"}[name]
				for _, kv := range strings.Split(q, "&") {
					if k, val, ok := strings.Cut(kv, "="); ok && k == name {
						v = val
					}
				}
				return v
			}
			p, err := report.ParseCorrelationParams(get, now)
			if err != nil {
				t.Fatal(err)
			}
			ca, err := report.LoadCorrelation(ctx, links, p, 0)
			if err != nil {
				t.Fatal(err)
			}
			cb, err := report.LoadCorrelation(ctx, imported, p, 0)
			if err != nil {
				t.Fatal(err)
			}
			ja, _ := json.Marshal(ca)
			jb, _ := json.Marshal(cb)
			// Sums taken in another order differ in the last bits
			// (ICC's sums of squares come from answers in storage order).
			if diff := jsonDiff(ja, jb, 1e-12); diff != "" {
				t.Errorf("correlation %q: through links and imported differ at %s", q, diff)
			}
			if ca.NPairs == 0 {
				t.Errorf("correlation %q has no pairs; the comparison shows nothing", q)
			}
		}
	})
}

func questionKeys(qs []pulse.Question) string {
	var keys []string
	for _, q := range qs {
		keys = append(keys, q.Key)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func resultsText(r *report.RoundResults) string {
	var b strings.Builder
	fmt.Fprintf(&b, "k %d, hidden %d\n", r.K, r.Hidden)
	for _, u := range r.Units {
		fmt.Fprintf(&b, "%s: %+v\n", u.Unit.Path, u.Scores)
	}
	return b.String()
}

func texts(t *testing.T, st *Store, roundID int64) string {
	t.Helper()
	ts, err := st.TextAnswers(context.Background(), roundID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range ts {
		out = append(out, fmt.Sprintf("%d/%d/%s", x.UnitID, x.QuestionID, x.Text))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// A file with problems stores nothing and lists every problem with its
// line and column; imported rounds take no slot and do not make their
// program the default.
func TestHistoryWithProblemsStoresNothingAndImportedRoundsTakeNoSlot(t *testing.T) {
	eachStore(t, func(t *testing.T, st *Store) {
		ctx := context.Background()
		now := testNow
		today := tandem.Today(now)
		p := historyOrg(t, st, today)
		monday := tandem.PeriodStart(tandem.Week, now).AddDate(0, 0, -14)
		d := tandem.FormatDate(monday)
		bad := "unit,date,eng.proud,enps\n" +
			"Acme/Ops/Alpha," + d + ",4,9\n" +
			"Acme/Ops/Nowhere," + d + ",4,9\n" +
			"Acme/Ops/Alpha," + d + ",7,\n" +
			"Acme/Ops/Alpha,yesterday,3,\n"
		_, err := st.ImportHistory(ctx, HistoryImport{ProgramID: p.ID, Period: history.Week, Now: now}, strings.NewReader(bad))
		var he *history.Error
		if !errors.As(err, &he) || he.Total != 3 {
			t.Fatalf("import of a bad file: %v; want 3 problems", err)
		}
		got := fmt.Sprint(he.Problems)
		for _, want := range []string{"line 3, column unit", "line 4, column eng.proud", "line 5, column date"} {
			if !strings.Contains(got, want) {
				t.Errorf("problems %s lack %q", got, want)
			}
		}
		if rs, _ := st.Rounds(ctx, p.ID); len(rs) != 0 {
			t.Errorf("a bad file stored %d rounds", len(rs))
		}

		// A good file: one imported round two weeks ago, from 6 answers.
		var good strings.Builder
		good.WriteString("unit,date,eng.proud,enps\n")
		for i := 0; i < 6; i++ {
			fmt.Fprintf(&good, "Acme/Ops/Alpha,%s,%d,%d\n", d, 1+i%5, i)
		}
		if _, err := st.ImportHistory(ctx, HistoryImport{ProgramID: p.ID, Period: history.Week, Now: now}, strings.NewReader(good.String())); err != nil {
			t.Fatal(err)
		}
		counts, _ := st.ProgramRoundCounts(ctx)
		if counts[p.ID] != 0 {
			t.Errorf("imported rounds count %d towards the default program, want 0", counts[p.ID])
		}
		if _, ok, _ := st.LatestScheduledSlot(ctx, p.ID); ok {
			t.Error("an imported round is the program's latest scheduled slot")
		}
		if _, ok, _ := st.LatestRound(ctx, p.ID); ok {
			t.Error("an imported round is the program's latest round")
		}
		// The program's own round on the imported week's Monday starts, as
		// round 1, and the day is not taken.
		berlin, _ := time.LoadLocation("Europe/Berlin")
		slot := time.Date(monday.Year(), monday.Month(), monday.Day(), 0, 0, 0, 0, berlin)
		r, created, err := st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil || !created || r.Seq != 1 || r.Imported {
			t.Errorf("the program's round on an imported week: %+v, created %v, %v", r, created, err)
		}
		// Importing the same file again is refused: that week has rounds.
		_, err = st.ImportHistory(ctx, HistoryImport{ProgramID: p.ID, Period: history.Week, Now: now}, strings.NewReader(good.String()))
		if !errors.As(err, &he) || !strings.Contains(he.Error(), "already") {
			t.Errorf("a second import of the same week: %v", err)
		}
		rs, _ := st.Rounds(ctx, p.ID)
		if len(rs) != 2 {
			t.Errorf("the program has %d rounds, want the imported one and its own", len(rs))
		}
	})
}

// jsonDiff names the first place where two JSON documents differ, numbers
// compared to a relative tolerance; "" when they agree.
func jsonDiff(a, b []byte, tol float64) string {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return err.Error()
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return err.Error()
	}
	var walk func(path string, x, y any) string
	walk = func(path string, x, y any) string {
		switch x := x.(type) {
		case map[string]any:
			y, ok := y.(map[string]any)
			if !ok || len(x) != len(y) {
				return fmt.Sprintf("%s: %v against %v", path, x, y)
			}
			for k := range x {
				if d := walk(path+"."+k, x[k], y[k]); d != "" {
					return d
				}
			}
		case []any:
			y, ok := y.([]any)
			if !ok || len(x) != len(y) {
				return fmt.Sprintf("%s: %v against %v", path, x, y)
			}
			for i := range x {
				if d := walk(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
					return d
				}
			}
		case float64:
			y, ok := y.(float64)
			if !ok || math.Abs(x-y) > tol*math.Max(1, math.Abs(x)) {
				return fmt.Sprintf("%s: %v against %v", path, x, y)
			}
		default:
			if fmt.Sprint(x) != fmt.Sprint(y) {
				return fmt.Sprintf("%s: %v against %v", path, x, y)
			}
		}
		return ""
	}
	return walk("", va, vb)
}
