// Command retention measures the turnover and retention report of issue 5:
// "for 10,000 employees with five years of history: target under 300 ms
// from a warm server".
//
// It builds ./cmd/tandem, then (unless -db names a database made before)
// generates five years of an organisation of 10,000 people in 500 teams (a
// company, 10 divisions, 50 departments) through the store's own roster
// import, one import per week, as an HR system's weekly export of the
// week's changes would arrive: voluntary exits (about 15 % a year, more in
// less engaged teams) and involuntary ones (3 % a year), each replaced by a
// new hire in the same team one to six weeks later, some of them rehires of
// earlier leavers (a new stint; the old one is kept), and moves between
// teams (about 8 % of people a year, as swaps). For the last -rounds weeks a
// weekly pulse program runs: after each week's import, store.CreateRound
// (messages cancelled) and store.RecordResponses with answers from about
// 70 % of the invited, following the team's engagement.
//
// It creates an API key with reports:read, serves the database with
// `tandem serve --rate-limit 0`, and after a warm-up times -n requests to
// GET /api/v1/reports/retention with the default parameters (the last 12
// months by month) and -n2 with five years by quarter, alternating while
// both run; it reads the server's peak memory from /proc. Then it times
// report.LoadRetention in this process (median of -inproc), and each of the
// reads it makes and its arithmetic apart, for comparison:
//
//	go run ./bench/retention
//	go run ./bench/retention -keep                 # keep the database for -db
//	go run ./bench/retention -db /tmp/tandem-retention-123/retention.db -cpuprofile /tmp/retention.pprof
package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/bench/internal/machine"
	"github.com/tandem-hq/tandem/internal/privacy"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"

	"github.com/tandem-hq/tandem/bench/internal/proc"
	"github.com/tandem-hq/tandem/internal/testbin"
)

type options struct {
	db          string
	keep        bool
	employees   int
	teams       int
	years       int
	rounds      int
	voluntary   float64
	involuntary float64
	moves       float64
	rehires     float64
	n           int
	n2          int
	warm        int
	inproc      int
	cpuprofile  string
	seed        uint64
}

func main() {
	var o options
	flag.StringVar(&o.db, "db", "", "use this database (made by an earlier run with -keep, the same day) instead of generating one")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder with the binary and the database")
	flag.IntVar(&o.employees, "employees", 10_000, "people employed at any time (leavers are replaced)")
	flag.IntVar(&o.teams, "teams", 500, "teams (a multiple of 50: 10 divisions of 5 departments)")
	flag.IntVar(&o.years, "years", 5, "years of history")
	flag.IntVar(&o.rounds, "rounds", 104, "weekly pulse rounds at the end of the history")
	flag.Float64Var(&o.voluntary, "voluntary", 0.15, "voluntary exits a year, as a share of headcount")
	flag.Float64Var(&o.involuntary, "involuntary", 0.03, "involuntary exits a year, as a share of headcount")
	flag.Float64Var(&o.moves, "moves", 0.08, "moves between teams a year, as a share of headcount")
	flag.Float64Var(&o.rehires, "rehires", 0.1, "share of replacements that are rehires of an earlier voluntary leaver")
	flag.IntVar(&o.n, "n", 30, "timed requests of the default report")
	flag.IntVar(&o.n2, "n2", 10, "timed requests of the five-year variant (each takes as long as the default)")
	flag.IntVar(&o.warm, "warm", 3, "warm-up requests per report variant")
	flag.IntVar(&o.inproc, "inproc", 5, "reports built in this process after the server, for comparison (0: skip)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the in-process reports to this file")
	flag.Uint64Var(&o.seed, "seed", 5, "random seed of the generated data")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "retention:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.teams%50 != 0 || o.teams == 0 || o.employees < 2*o.teams {
		return errors.New("-teams must be a positive multiple of 50 and -employees at least twice -teams")
	}
	fmt.Println(machine.Describe())
	ctx := context.Background()
	root, err := testbin.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tandem-retention-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	bin := filepath.Join(dir, "tandem")
	t0 := time.Now()
	if out, err := proc.Command(root, "go", "build", "-o", bin, "./cmd/tandem").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	fmt.Printf("built %s in %s\n", bin, since(t0))

	now := time.Now()
	base := o.db
	if base == "" {
		base = filepath.Join(dir, "retention.db")
		if err := generate(ctx, base, o, now); err != nil {
			return err
		}
	}
	if err := describeDB(ctx, base, now); err != nil {
		return err
	}
	variants, err := timeServer(ctx, o, dir, bin, base, now)
	if err != nil {
		return err
	}
	if o.inproc > 0 {
		if err := timeInProcess(ctx, o, base, now, variants); err != nil {
			return err
		}
	}
	fmt.Println("\nend:", machine.Load())
	return nil
}

// The hidden truth, as in the demo (internal/demo): each team's engagement
// level week by week, an AR(1) walk around a lasting team level on the 1–5
// agreement scale. Answers follow it, and the weekly chance of a voluntary
// exit is proportional to exp(−volPull·level): less engaged teams lose more
// people.
const (
	teamSD    = 0.45
	driftSD   = 0.08
	driftKeep = 0.9
	personSD  = 0.45
	noiseSD   = 0.6
	volPull   = 1.6
)

type person struct {
	ext, email, name string
	team             int
	hired, exited    time.Time
	voluntary        bool
	regretted        bool
	reason           string
}

type vacancy struct {
	team int
	due  time.Time
}

var reasons = []string{"career move", "compensation", "relocation", "workload", "manager", "study"}

func teamPath(t, teams int) string {
	perDiv := teams / 10
	d := t / perDiv
	dep := (t % perDiv) / (perDiv / 5)
	return fmt.Sprintf("Acme Group/Division %d/Department %d.%d/Team %d", d+1, d+1, dep+1, t+1)
}

var header = []string{"employee_id", "email", "name", "team", "hired_on", "exited_on", "exit_type", "regretted", "exit_reason"}

func (p *person) row(teams int) []string {
	r := []string{p.ext, p.email, p.name, teamPath(p.team, teams), tandem.FormatDate(p.hired), "", "", "", ""}
	if !p.exited.IsZero() {
		r[5] = tandem.FormatDate(p.exited)
		r[6], r[7], r[8] = "involuntary", "no", p.reason
		if p.voluntary {
			r[6] = "voluntary"
		}
		if p.regretted {
			r[7] = "yes"
		}
	}
	return r
}

func clampRound(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, math.Round(v))) }

// poisson draws from a Poisson distribution with mean lambda (Knuth).
func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func generate(ctx context.Context, path string, o options, now time.Time) error {
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x7e7e))
	today := tandem.Today(now)
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()

	mon0 := tandem.PeriodStart(tandem.Week, today.AddDate(-o.years, 0, 0))
	weeks := int(today.Sub(mon0).Hours()/24/7) + 1
	level := make([][]float64, o.teams)
	mean := 0.0 // mean of exp(−volPull·level), to calibrate the exit rate
	for t := range level {
		team := rng.NormFloat64() * teamSD
		drift := rng.NormFloat64() * driftSD / math.Sqrt(1-driftKeep*driftKeep)
		level[t] = make([]float64, weeks)
		for w := range level[t] {
			drift = driftKeep*drift + rng.NormFloat64()*driftSD
			level[t][w] = team + drift + 0.15*math.Sin(2*math.Pi*float64(w)/52+1)
			mean += math.Exp(-volPull*level[t][w]) / float64(o.teams*weeks)
		}
	}
	volWeek := o.voluntary / 52 / mean
	invWeek := o.involuntary / 52

	var people []*person
	newPerson := func(team int, hired time.Time) *person {
		n := len(people) + 1
		p := &person{ext: fmt.Sprintf("E%06d", n), email: fmt.Sprintf("person.%d@example.com", n), name: fmt.Sprintf("Person %d", n), team: team, hired: hired}
		people = append(people, p)
		return p
	}
	active := make([]*person, 0, o.employees)
	for i := 0; i < o.employees; i++ {
		active = append(active, newPerson(i%o.teams, mon0.AddDate(0, 0, -(30+rng.IntN(3620)))))
	}
	imports, rows := 0, 0
	var importTime time.Duration
	apply := func(changed []*person, day time.Time) error {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		w.Write(header)
		for _, p := range changed {
			w.Write(p.row(o.teams))
		}
		w.Flush()
		t0 := time.Now()
		plan, err := st.PlanRoster(ctx, &buf, roster.Options{Today: day})
		if err != nil {
			return fmt.Errorf("roster import of %s: %w", tandem.FormatDate(day), err)
		}
		if _, err := st.ApplyRoster(ctx, plan, day); err != nil {
			return fmt.Errorf("roster import of %s: %w", tandem.FormatDate(day), err)
		}
		importTime += time.Since(t0)
		imports++
		rows += len(changed)
		return nil
	}
	t0 := time.Now()
	if err := apply(active, mon0.AddDate(0, 0, -1)); err != nil {
		return err
	}
	fmt.Printf("roster: %d employees in %d teams on %s in %s\n", o.employees, o.teams, tandem.FormatDate(mon0.AddDate(0, 0, -1)), since(t0))

	// The pulse program starts with its first round.
	tree, err := st.Tree(ctx)
	if err != nil {
		return err
	}
	prog := pulse.Defaults()
	prog.Name = "Weekly pulse"
	prog.AudienceUnitID = tree.Roots()[0]
	prog.Channel = pulse.ChannelLog
	prog.ReminderDays = 0 // no reminder runs while the report is timed
	prog.Cadence.Start = now.AddDate(0, 0, -7*(o.rounds+2)).Format(time.DateOnly)
	if err := st.SaveProgram(ctx, &prog); err != nil {
		return err
	}
	sched, err := prog.Schedule()
	if err != nil {
		return err
	}
	var slots []time.Time
	for t := sched.Next(now.AddDate(0, 0, -7*(o.rounds+1))); !t.After(now); t = sched.Next(t) {
		slots = append(slots, t)
	}
	slots = slots[max(0, len(slots)-o.rounds):]
	unitTeam := map[int64]int{}
	for t := 0; t < o.teams; t++ {
		if u := tree.ByPath(strings.Split(teamPath(t, o.teams), "/")); u != nil {
			unitTeam[u.ID] = t
		}
	}
	participation := make([]float64, o.teams)
	for t := range participation {
		participation[t] = 0.6 + 0.2*rng.Float64()
	}
	offset := map[int64]float64{}
	var roundTime time.Duration
	responses, invited := 0, 0
	nextSlot := 0
	round := func(slot time.Time, w int) error {
		r0 := time.Now()
		r, _, err := st.CreateRound(ctx, &prog, slot, false, slot)
		if err != nil {
			return err
		}
		if err := st.CancelRoundMessages(ctx, r.ID, "benchmark history, not sent"); err != nil {
			return err
		}
		qs, err := st.RoundQuestions(ctx, r.ID)
		if err != nil {
			return err
		}
		invs, err := st.RoundInvitations(ctx, r.ID)
		if err != nil {
			return err
		}
		invited += len(invs)
		rs := make([]store.RecordedResponse, 0, len(invs))
		for _, inv := range invs {
			t, ok := unitTeam[inv.UnitID]
			if !ok || rng.Float64() > participation[t] {
				continue
			}
			off, ok := offset[inv.EmployeeID]
			if !ok {
				off = rng.NormFloat64() * personSD
				offset[inv.EmployeeID] = off
			}
			latent := off + level[t][min(w, weeks-1)]
			rec := store.RecordedResponse{InvitationID: inv.ID, Answers: make([]pulse.Answer, 0, len(qs))}
			for _, q := range qs {
				switch q.Kind {
				case pulse.Likert5:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(3.6+latent+rng.NormFloat64()*noiseSD, 1, 5), HasValue: true})
				case pulse.Scale010:
					rec.Answers = append(rec.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(7.8+1.8*latent+rng.NormFloat64()*1.2, 0, 10), HasValue: true})
				}
			}
			rs = append(rs, rec)
		}
		if err := st.RecordResponses(ctx, r.ID, rs); err != nil {
			return err
		}
		responses += len(rs)
		roundTime += time.Since(r0)
		return nil
	}

	var vacancies []vacancy
	var leavers []*person // voluntary leavers not rehired, oldest exit first
	var exits, voluntary, moves, hires, rehired int
	for w := 0; w < weeks; w++ {
		monday := mon0.AddDate(0, 0, 7*w)
		days := 7
		if last := today.Sub(monday).Hours()/24 + 1; float64(days) > last {
			days = int(last)
		}
		end := monday.AddDate(0, 0, days-1) // the import's day: Sunday, or today
		touched := map[*person]bool{}
		var changed []*person
		// Exits.
		kept := active[:0]
		for _, p := range active {
			u := rng.Float64()
			vol := volWeek * math.Exp(-volPull*level[p.team][w])
			if u >= vol+invWeek {
				kept = append(kept, p)
				continue
			}
			p.exited = monday.AddDate(0, 0, rng.IntN(days))
			if p.exited.Before(p.hired) {
				p.exited = p.hired
			}
			p.voluntary = u < vol
			p.regretted = p.voluntary && rng.Float64() < 0.5
			p.reason = "performance"
			if p.voluntary {
				p.reason = reasons[rng.IntN(len(reasons))]
			}
			exits++
			if p.voluntary {
				voluntary++
				leavers = append(leavers, p)
			}
			touched[p] = true
			changed = append(changed, p)
			vacancies = append(vacancies, vacancy{p.team, p.exited.AddDate(0, 0, 7+rng.IntN(36))})
		}
		active = kept
		// Moves, as swaps between two teams.
		for i := poisson(rng, float64(len(active))*o.moves/52/2); i > 0; i-- {
			a, b := active[rng.IntN(len(active))], active[rng.IntN(len(active))]
			if a.team == b.team || touched[a] || touched[b] || a.hired.After(end) || b.hired.After(end) {
				continue
			}
			a.team, b.team = b.team, a.team
			touched[a], touched[b] = true, true
			changed = append(changed, a, b)
			moves += 2
		}
		// Replacements due this week: a rehire of someone who left
		// voluntarily at least half a year ago, or a new hire.
		keptV := vacancies[:0]
		for _, v := range vacancies {
			if v.due.After(end) {
				keptV = append(keptV, v)
				continue
			}
			var p *person
			if rng.Float64() < o.rehires && len(leavers) > 0 && !leavers[0].exited.After(v.due.AddDate(0, -6, 0)) && !touched[leavers[0]] {
				p, leavers = leavers[0], leavers[1:]
				p.team, p.hired, p.exited, p.voluntary, p.regretted, p.reason = v.team, v.due, time.Time{}, false, false, ""
				rehired++
			} else {
				p = newPerson(v.team, v.due)
			}
			hires++
			touched[p] = true
			changed = append(changed, p)
			active = append(active, p)
		}
		vacancies = keptV
		if w == weeks-1 {
			// The last import: the replacements still to come start today,
			// so that the organisation ends with its full headcount.
			for _, v := range vacancies {
				p := newPerson(v.team, today)
				hires++
				changed = append(changed, p)
				active = append(active, p)
			}
			vacancies = nil
		}
		if len(changed) > 0 {
			if err := apply(changed, end); err != nil {
				return err
			}
		}
		// The rounds up to the next Monday, made after the week's changes.
		for nextSlot < len(slots) && !tandem.Today(slots[nextSlot]).After(end.AddDate(0, 0, 1)) {
			slot := slots[nextSlot]
			if err := round(slot, int(slot.Sub(mon0).Hours()/24/7)); err != nil {
				return err
			}
			nextSlot++
		}
		if (w+1)%26 == 0 || w == weeks-1 {
			fmt.Printf("  week %d/%d (%s): %d imports of %d rows in %s, %d rounds in %s; %s\n", w+1, weeks, tandem.FormatDate(end),
				imports, rows, importTime.Round(time.Second), nextSlot, roundTime.Round(time.Second), since(t0))
		}
	}
	if nextSlot != len(slots) {
		return fmt.Errorf("made %d of %d rounds", nextSlot, len(slots))
	}
	closed, err := st.CloseDueRounds(ctx, now)
	if err != nil {
		return err
	}
	fmt.Printf("history: %d weeks from %s: %d exits (%d voluntary, %.1f %% a year of %d), %d hires (%d rehires), %d moves; %d imports (%d rows) in %s\n",
		weeks, tandem.FormatDate(mon0), exits, voluntary, 100*float64(exits)/float64(o.employees)/(float64(weeks)/52.18), o.employees,
		hires, rehired, moves, imports, rows, importTime.Round(time.Millisecond))
	fmt.Printf("pulse: %d rounds from %s to %s, %d invitations, %d responses (%.1f %%), %d closed, in %s\n",
		len(slots), tandem.FormatDate(slots[0]), tandem.FormatDate(slots[len(slots)-1]), invited, responses,
		100*float64(responses)/float64(max(invited, 1)), closed, roundTime.Round(time.Millisecond))
	fmt.Printf("generated in %s\n", since(t0))
	return nil
}

// describeDB prints the database's size and what the report reads.
func describeDB(ctx context.Context, path string, now time.Time) error {
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	var parts []string
	for _, t := range []string{"employees", "employments", "employee_units", "org_units", "rounds", "invitations", "responses", "round_scores"} {
		var n int
		if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s %d", t, n))
	}
	stints, err := st.Stints(ctx)
	if err != nil {
		return err
	}
	today := tandem.Today(now)
	employed := 0
	for i := range stints {
		if stints[i].EmployedOn(today) {
			employed++
		}
	}
	if _, err := st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("database %s: %.0f MB; %s; %d stints, %d employed today\n", path, float64(fi.Size())/1e6, strings.Join(parts, ", "), len(stints), employed)
	return nil
}

type variant struct {
	name   string
	query  url.Values
	params report.RetentionParams
}

func reportVariants(o options, now time.Time) ([]variant, error) {
	today := tandem.Today(now)
	five := time.Date(today.Year()-o.years, today.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []variant
	for _, v := range []struct {
		name string
		q    url.Values
	}{
		{"default (12 months)", url.Values{}},
		{fmt.Sprintf("%d years by quarter", o.years), url.Values{"period": {"quarter"}, "from": {tandem.FormatDate(five)}}},
	} {
		p, err := report.ParseRetentionParams(v.q.Get, now)
		if err != nil {
			return nil, err
		}
		out = append(out, variant{v.name, v.q, p})
	}
	return out, nil
}

type reportInfo struct {
	Headcount int               `json:"headcount"`
	Periods   []json.RawMessage `json:"periods"`
	Units     []json.RawMessage `json:"units"`
	Survival  []json.RawMessage `json:"survival"`
	TTM       struct {
		Exits     int     `json:"exits"`
		Voluntary int     `json:"voluntary"`
		Rate      float64 `json:"rate"`
	} `json:"trailing_12_months"`
	Links []struct {
		Measure string `json:"measure"`
		Horizon int    `json:"horizon_months"`
		Pearson struct {
			R *float64 `json:"r"`
			N int      `json:"n"`
		} `json:"pearson"`
		RateRatio *float64 `json:"rate_ratio_bottom_vs_top"`
	} `json:"engagement_and_turnover"`
}

func timeServer(ctx context.Context, o options, dir, bin, base string, now time.Time) ([]variant, error) {
	variants, err := reportVariants(o, now)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, base, store.Options{})
	if err != nil {
		return nil, err
	}
	key, _, err := st.CreateAPIKey(ctx, "retention benchmark", []string{store.ScopeReportsRead}, 0, time.Time{})
	st.Close()
	if err != nil {
		return nil, err
	}
	srv, err := proc.StartServer(dir, bin, base)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	fmt.Printf("\nserver: pid %d on %s, ready in %s; %s\n", srv.Cmd.Process.Pid, srv.Addr, srv.Ready.Round(time.Millisecond), machine.Load())
	client := &http.Client{Timeout: 60 * time.Second}
	get := func(v variant) (time.Duration, []byte, error) {
		req, _ := http.NewRequest("GET", "http://"+srv.Addr+"/api/v1/reports/retention?"+v.query.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil {
			return 0, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, nil, fmt.Errorf("GET %s: %s: %.300s", req.URL, resp.Status, body)
		}
		return d, body, nil
	}
	fmt.Printf("warm-up: %d requests per variant (ms):\n", o.warm)
	for _, v := range variants {
		var ds []string
		var body []byte
		for range o.warm {
			d, b, err := get(v)
			if err != nil {
				return nil, err
			}
			ds, body = append(ds, fmt.Sprintf("%.1f", ms(d))), b
		}
		var info reportInfo
		if err := json.Unmarshal(body, &info); err != nil {
			return nil, err
		}
		var links []string
		for _, l := range info.Links {
			r := "null"
			if l.Pearson.R != nil {
				r = fmt.Sprintf("%.2f", *l.Pearson.R)
			}
			links = append(links, fmt.Sprintf("%s+%dm r=%s n=%d", l.Measure, l.Horizon, r, l.Pearson.N))
		}
		fmt.Printf("  %-20s %s; response %.0f KB: headcount %d, %d periods, %d units, %d curves, 12 months: %d exits (%d voluntary), rate %.3f; %s\n",
			v.name, strings.Join(ds, " "), float64(len(body))/1e3, info.Headcount, len(info.Periods), len(info.Units), len(info.Survival),
			info.TTM.Exits, info.TTM.Voluntary, info.TTM.Rate, strings.Join(links, ", "))
	}
	times := make([][]time.Duration, len(variants))
	for j := range o.n {
		for i, v := range variants {
			if i > 0 && j >= o.n2 {
				continue
			}
			d, _, err := get(v)
			if err != nil {
				return nil, err
			}
			times[i] = append(times[i], d)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Cmd.Process.Pid))
	if err != nil {
		return nil, err
	}
	fmt.Printf("\n%d requests of the default and %d of the other, alternating while both run, one client, keep-alive; %s\n", o.n, min(o.n2, o.n), machine.Load())
	fmt.Printf("%-22s %9s %9s %9s %9s\n", "variant", "p50 ms", "p90 ms", "min ms", "max ms")
	for i, v := range variants {
		s := slices.Sorted(slices.Values(times[i]))
		fmt.Printf("%-22s %9.1f %9.1f %9.1f %9.1f   (target: under 300 ms)\n", v.name, ms(median(s)), ms(percentile(s, 0.9)), ms(s[0]), ms(s[len(s)-1]))
	}
	fmt.Printf("server VmHWM %s MB, VmRSS %s MB\n", statusMB(status, "VmHWM"), statusMB(status, "VmRSS"))
	return variants, nil
}

func statusMB(status []byte, field string) string {
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			f := strings.Fields(v)
			if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
				return fmt.Sprintf("%.1f", kb/1024)
			}
		}
	}
	return "?"
}

// timeInProcess times report.LoadRetention in this process, as a Go
// benchmark would (median of -inproc runs after one), then each of the
// reads it makes and the report's arithmetic (report.BuildRetention) apart.
func timeInProcess(ctx context.Context, o options, base string, now time.Time, variants []variant) error {
	st, err := store.Open(ctx, base, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	var prof *os.File
	if o.cpuprofile != "" {
		if prof, err = os.Create(o.cpuprofile); err != nil {
			return err
		}
		defer prof.Close()
	}
	fmt.Printf("\nin process: report.LoadRetention, then json.Marshal; median of %d after one; GOMAXPROCS %d\n", o.inproc, runtime.GOMAXPROCS(0))
	fmt.Printf("%-22s %11s %11s %11s %12s\n", "variant", "load ms", "encode ms", "CPU ms/op", "alloc MB/op")
	for i, v := range variants {
		if _, err := report.LoadRetention(ctx, st, v.params, 0, now); err != nil {
			return err
		}
		if prof != nil && i == 0 {
			if err := pprof.StartCPUProfile(prof); err != nil {
				return err
			}
		}
		var loads, encodes []time.Duration
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		cpu0 := proc.CPUTime()
		for range o.inproc {
			t0 := time.Now()
			r, err := report.LoadRetention(ctx, st, v.params, 0, now)
			if err != nil {
				return err
			}
			t1 := time.Now()
			if _, err := json.Marshal(r); err != nil {
				return err
			}
			loads, encodes = append(loads, t1.Sub(t0)), append(encodes, time.Since(t1))
		}
		cpu := (proc.CPUTime() - cpu0) / time.Duration(o.inproc)
		runtime.ReadMemStats(&m1)
		if prof != nil && i == 0 {
			pprof.StopCPUProfile()
		}
		fmt.Printf("%-22s %11.1f %11.1f %11.1f %12.1f\n", v.name, ms(median(loads)), ms(median(encodes)), ms(cpu),
			float64(m1.TotalAlloc-m0.TotalAlloc)/float64(o.inproc)/1e6)
	}
	if prof != nil {
		fmt.Printf("CPU profile of the first variant's loads: %s (go tool pprof -top %s)\n", o.cpuprofile, o.cpuprofile)
	}

	// The parts of LoadRetention, each timed alone.
	today := tandem.Today(now)
	counts, err := st.ProgramRoundCounts(ctx)
	if err != nil {
		return err
	}
	var program int64
	for id, n := range counts {
		if program == 0 || n > counts[program] || (n == counts[program] && id < program) {
			program = id
		}
	}
	rounds, err := st.RoundsBetween(ctx, program, today.AddDate(-5, 0, 0), today)
	if err != nil {
		return err
	}
	ids := make([]int64, len(rounds))
	for i, r := range rounds {
		ids[i] = r.ID
	}
	tree, err := st.Tree(ctx)
	if err != nil {
		return err
	}
	stints, err := st.Stints(ctx)
	if err != nil {
		return err
	}
	resp, err := st.Respondents(ctx, ids)
	if err != nil {
		return err
	}
	scores, err := st.TeamScores(ctx, ids)
	if err != nil {
		return err
	}
	p := variants[0].params
	in := report.RetentionInput{Tree: tree, Stints: stints, Period: p.Period, From: p.From, To: p.To, Today: now, K: privacy.DefaultK,
		Rounds: rounds, Respondents: resp, TeamScores: scores}
	parts := []struct {
		name string
		f    func() error
	}{
		{"store.Tree", func() error { _, err := st.Tree(ctx); return err }},
		{"store.Stints", func() error { _, err := st.Stints(ctx); return err }},
		{"store.RoundsBetween", func() error { _, err := st.RoundsBetween(ctx, program, today.AddDate(-5, 0, 0), today); return err }},
		{"store.Respondents", func() error { _, err := st.Respondents(ctx, ids); return err }},
		{"store.TeamScores", func() error { _, err := st.TeamScores(ctx, ids); return err }},
		{"report.BuildRetention", func() error { report.BuildRetention(in); return nil }},
	}
	fmt.Printf("\nthe parts of the default report, each alone (median of %d after one): %d stints, %d rounds, %d team-score rows\n",
		o.inproc, len(stints), len(rounds), len(scores))
	fmt.Printf("%-24s %9s\n", "part", "ms")
	for _, part := range parts {
		if err := part.f(); err != nil {
			return err
		}
		var ds []time.Duration
		for range o.inproc {
			t0 := time.Now()
			if err := part.f(); err != nil {
				return err
			}
			ds = append(ds, time.Since(t0))
		}
		fmt.Printf("%-24s %9.1f\n", part.name, ms(median(ds)))
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// percentile of sorted durations, by nearest rank.
func percentile(s []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }
