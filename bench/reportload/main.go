// Command reportload measures the correlation report and the ratings import
// of issue 4 on a generated organisation of 10,000 employees in 500 teams,
// 104 weekly pulse rounds and 2,000,000 customer ratings. The issue's
// targets: the correlation report from a warm server with p50 under 300 ms,
// shown beside the time the sqlite3 command-line tool takes for the
// equivalent aggregate queries on the same file; importing 1,000,000
// ratings under 10 s; the server's peak memory under 150 MB while serving
// the report.
//
// It builds ./cmd/tandem, then (unless -db names a database made before)
// generates the database through the store's own calls: the roster by
// roster import (a company, 10 divisions, 50 departments, 500 teams of 20),
// a weekly program with the built-in question bank, one round per week
// (store.CreateRound, every invitation's message cancelled as the demo
// does) with answers from about 70 % of the invited (store.RecordResponses,
// one transaction per round), and the ratings in batches of 100,000
// (store.IngestRatings), attributed to the teams and an agent of each.
//
// Then it times `tandem import ratings` of a 1,000,000-row helpdesk export
// (ticket id, time, agent email, rating, comment; over the same 104 weeks)
// into fresh copies of that database, alternating with copies of a database
// holding the same roster and nothing else. It creates an API key with
// reports:read, serves the database with `tandem serve --rate-limit 0` and
// times GET /api/v1/reports/correlation (the default parameters, the last
// 26 weeks, and from 104 weeks ago, alternating) after a warm-up, reading
// the server's peak memory from /proc; times the sqlite3 tool on the
// aggregate queries the report needs; and builds the same reports in this
// process, to split the time between the report and HTTP.
//
// Issue 19 adds the larger organisation (-size 50k: 50,000 employees in
// 2,500 teams, 104 weekly rounds, 10,000,000 ratings) and the cold report:
// -cold times posts one rating for a team through /api/v1/customer-ratings
// (new released data, so the report cache misses) and times the 104-week
// report right after it, and once more (a cache hit). Generation stops
// after -gen-timeout. Run it from the repository:
//
//	go run ./bench/reportload
//	go run ./bench/reportload -size 50k -keep  # issue 19's size; keep the database
//	go run ./bench/reportload -keep            # keep the database for -db
//	go run ./bench/reportload -db /tmp/tandem-reportload-123/report.db \
//		-importprofile /tmp/import.pprof -cpuprofile /tmp/report.pprof
package main

import (
	"bufio"
	"bytes"
	"cmp"
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
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tandem-hq/tandem/bench/internal/machine"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/ratings"
	"github.com/tandem-hq/tandem/internal/report"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"

	"github.com/tandem-hq/tandem/bench/internal/proc"
	"github.com/tandem-hq/tandem/internal/testbin"
)

type options struct {
	db            string
	keep          bool
	employees     int
	teams         int
	weeks         int
	ratings       int
	importRows    int
	importRuns    int
	n             int
	warm          int
	sqliteRuns    int
	inproc        int
	cpuprofile    string
	genprofile    string
	importEmpty   bool
	importProfile string
	seed          uint64
	size          string
	cold          int
	genTimeout    time.Duration
	reqTimeout    time.Duration
	memoryLimit   string
	coldprofile   string
	server        bool
	memprofile    string
}

// sizes are the two organisations of the issues: issue 4's (the flags'
// defaults) and issue 19's, ten times the teams and ratings. A flag given
// on the command line overrides its size's value.
var sizes = map[string]map[string]string{
	"10k": {},
	"50k": {"employees": "50000", "teams": "2500", "ratings": "10000000", "import": "0", "sqlite-runs": "0", "inproc": "3", "n": "20", "request-timeout": "5m"},
}

func main() {
	var o options
	flag.StringVar(&o.db, "db", "", "use this database (made by an earlier run with -keep) instead of generating one")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder with the binary, the database and the CSV")
	flag.IntVar(&o.employees, "employees", 10_000, "employees on the generated roster")
	flag.IntVar(&o.teams, "teams", 500, "teams (a multiple of 50: 10 divisions of 5 departments)")
	flag.IntVar(&o.weeks, "weeks", 104, "weekly pulse rounds, and weeks of customer ratings")
	flag.IntVar(&o.ratings, "ratings", 2_000_000, "customer ratings stored with the generated database")
	flag.IntVar(&o.importRows, "import", 1_000_000, "rows of the CSV timed through `tandem import ratings` (0: skip)")
	flag.IntVar(&o.importRuns, "import-runs", 3, "imports, each into a fresh copy of the database")
	flag.IntVar(&o.n, "n", 30, "timed requests per report variant")
	flag.IntVar(&o.warm, "warm", 3, "warm-up requests per report variant")
	flag.IntVar(&o.sqliteRuns, "sqlite-runs", 5, "runs of the sqlite3 tool per query set")
	flag.IntVar(&o.inproc, "inproc", 10, "after the server: reports built in this process (warm loader), to split the time between building the report and serving it (0: skip)")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the in-process reports to this file")
	flag.BoolVar(&o.importEmpty, "import-empty", true, "also time each import into a database with the same roster and nothing else, alternating")
	flag.StringVar(&o.importProfile, "importprofile", "", "after the timed imports, run one in this process under the CPU profiler and write the profile to this file")
	flag.StringVar(&o.genprofile, "genprofile", "", "write a CPU profile of the generation to this file")
	flag.Uint64Var(&o.seed, "seed", 4, "random seed of the generated data")
	flag.StringVar(&o.size, "size", "10k", "10k: 10,000 employees, 500 teams, 2,000,000 ratings (issue 4); 50k: 50,000 employees, 2,500 teams, 10,000,000 ratings, no import or sqlite3 timing (issue 19)")
	flag.IntVar(&o.cold, "cold", 10, "cold reports: each after one new rating for a team (new released data, so the report cache misses), timed on the longest range (0: skip)")
	flag.StringVar(&o.memoryLimit, "memory-limit", "", "the server's --memory-limit, such as 100MiB (empty: the server's default, auto; off: none)")
	flag.DurationVar(&o.reqTimeout, "request-timeout", 30*time.Second, "the server's --request-timeout (its default is 30s; the first report after a start at 50k takes longer)")
	flag.StringVar(&o.coldprofile, "coldprofile", "", "after the in-process reports, time -cold reports each right after one new rating and write their CPU profile to this file (and heap profiles before and after them to FILE.heap0 and FILE.heap)")
	flag.BoolVar(&o.server, "server", true, "time the reports through `tandem serve` (false: only in process, with -inproc)")
	flag.StringVar(&o.memprofile, "memprofile", "", "after the in-process reports, write a heap profile of what the warm loader keeps to this file")
	flag.DurationVar(&o.genTimeout, "gen-timeout", 45*time.Minute, "stop generating after this long, with an error that says how far it got")
	flag.Parse()
	preset, ok := sizes[o.size]
	if !ok {
		fmt.Fprintf(os.Stderr, "reportload: -size must be 10k or 50k; got %q\n", o.size)
		os.Exit(2)
	}
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, v := range preset {
		if !given[name] {
			if err := flag.Set(name, v); err != nil {
				panic(err)
			}
		}
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "reportload:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.teams%50 != 0 || o.teams == 0 || o.employees < o.teams {
		return errors.New("-teams must be a positive multiple of 50 and -employees at least -teams")
	}
	fmt.Println(machine.Describe())
	ctx := context.Background()
	root, err := testbin.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tandem-reportload-")
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
	rng := rand.New(rand.NewPCG(o.seed, o.seed^0x7a4d))
	base := o.db
	if base == "" {
		base = filepath.Join(dir, "report.db")
		if o.genprofile != "" {
			f, err := os.Create(o.genprofile)
			if err != nil {
				return err
			}
			pprof.StartCPUProfile(f)
			defer f.Close()
		}
		gctx, cancel := context.WithTimeout(ctx, o.genTimeout)
		err := generate(gctx, base, o, now, rng)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("generation stopped after -gen-timeout %s (the progress lines above say how far it got): %w", o.genTimeout, err)
		}
		if o.genprofile != "" {
			pprof.StopCPUProfile()
		}
		if err != nil {
			return err
		}
	}
	if err := describeDB(ctx, base); err != nil {
		return err
	}

	if o.importRows > 0 && o.importRuns > 0 {
		if err := timeImports(ctx, o, dir, bin, base, now, rng); err != nil {
			return err
		}
	}

	var variants []variant
	if o.server {
		if variants, err = timeServer(ctx, o, dir, bin, base, now); err != nil {
			return err
		}
	} else if variants, err = reportVariants(o, now); err != nil {
		return err
	}
	if o.sqliteRuns > 0 {
		if err := timeSQLite(ctx, o, dir, base, variants); err != nil {
			return err
		}
	}
	if o.inproc > 0 {
		if err := timeInProcess(ctx, o, base, variants); err != nil {
			return err
		}
	}
	fmt.Println("\nend:", machine.Load())
	return nil
}

// The generated organisation's hidden truth: each team's engagement level
// week by week (an AR(1) walk around a lasting team level, on the 1–5
// agreement scale), which the answers follow, and which the team's CSAT
// follows four weeks later, as in the demo (internal/demo).
const (
	teamSD    = 0.45
	driftSD   = 0.08
	driftKeep = 0.9
	personSD  = 0.45
	noiseSD   = 0.6
	lagWeeks  = 4
	csatBase  = 1.4
	csatPull  = 2.2
)

type org struct {
	teamIDs []int64   // unit ids of the teams, in roster order
	weight  []float64 // cumulative rating volume share per team
	members map[int64][]int64
	emails  []string
	teamOf  map[string]int // email → team index
	level   [][]float64    // [team][week]
	start   time.Time      // Monday of week 0 of level
}

func teamPath(t, teams int) string {
	perDiv := teams / 10
	d := t / perDiv
	dep := (t % perDiv) / (perDiv / 5)
	return fmt.Sprintf("Acme Group/Division %d/Department %d.%d/Team %d", d+1, d+1, dep+1, t+1)
}

// rosterCSV writes employees in teams of equal size (the first employees.
// teams get one more), hired two and a half to twelve years ago.
func rosterCSV(o options, today time.Time, rng *rand.Rand) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"employee_id", "email", "name", "team", "hired_on"})
	for i := 0; i < o.employees; i++ {
		hired := today.AddDate(0, 0, -(913 + rng.IntN(3470)))
		w.Write([]string{fmt.Sprintf("E%06d", i+1), fmt.Sprintf("person.%d@example.com", i+1), fmt.Sprintf("Person %d", i+1),
			teamPath(i%o.teams, o.teams), tandem.FormatDate(hired)})
	}
	w.Flush()
	return buf.Bytes()
}

// loadOrg reads the teams and their members back from the store and draws
// the model.
func loadOrg(ctx context.Context, st *store.Store, o options, start time.Time, weeks int, rng *rand.Rand) (*org, error) {
	tree, err := st.Tree(ctx)
	if err != nil {
		return nil, err
	}
	g := &org{members: map[int64][]int64{}, teamOf: map[string]int{}, start: start}
	index := map[int64]int{}
	for t := 0; t < o.teams; t++ {
		u := tree.ByPath(strings.Split(teamPath(t, o.teams), "/"))
		if u == nil {
			return nil, fmt.Errorf("team %q is not in the database; was it made with the same -teams?", teamPath(t, o.teams))
		}
		index[u.ID] = t
		g.teamIDs = append(g.teamIDs, u.ID)
	}
	emps, err := st.AllEmployees(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range emps {
		t, ok := index[e.UnitID]
		if !ok || e.Email == "" {
			continue
		}
		g.members[e.UnitID] = append(g.members[e.UnitID], e.ID)
		g.emails = append(g.emails, e.Email)
		g.teamOf[e.Email] = t
	}
	// Rating volume: some teams take many more ratings than others.
	total := 0.0
	for range g.teamIDs {
		total += math.Exp(rng.NormFloat64() * 0.5)
		g.weight = append(g.weight, total)
	}
	for i := range g.weight {
		g.weight[i] /= total
	}
	for range g.teamIDs {
		team := rng.NormFloat64() * teamSD
		drift := rng.NormFloat64() * driftSD / math.Sqrt(1-driftKeep*driftKeep)
		lv := make([]float64, weeks)
		for w := range lv {
			drift = driftKeep*drift + rng.NormFloat64()*driftSD
			lv[w] = team + drift + 0.15*math.Sin(2*math.Pi*float64(w)/52+1)
		}
		g.level = append(g.level, lv)
	}
	return g, nil
}

func (g *org) levelAt(t int, at time.Time) float64 {
	lv := g.level[t]
	w := int(at.Sub(g.start).Hours() / (24 * 7))
	return lv[max(0, min(w, len(lv)-1))]
}

func (g *org) pickTeam(rng *rand.Rand) int {
	i, _ := slices.BinarySearch(g.weight, rng.Float64())
	return min(i, len(g.weight)-1)
}

// csatScore draws a 1–5 rating from the team's engagement lagWeeks before.
func (g *org) csatScore(rng *rand.Rand, t int, at time.Time) int {
	lag := g.levelAt(t, at.AddDate(0, 0, -7*lagWeeks))
	p := 1 / (1 + math.Exp(-(csatBase + csatPull*lag + rng.NormFloat64()*0.2)))
	switch {
	case rng.Float64() < p && rng.Float64() < 0.6:
		return 5
	case rng.Float64() < p:
		return 4
	}
	return 1 + rng.IntN(3)
}

func clampRound(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, math.Round(v))) }

func generate(ctx context.Context, path string, o options, now time.Time, rng *rand.Rand) error {
	today := tandem.Today(now)
	// A page cache that holds the answers keeps the random-id inserts of
	// every round in memory until its commit (1 GiB at most, used only as
	// the tables grow).
	st, err := store.Open(ctx, path, store.Options{WriterCacheKiB: 1 << 20})
	if err != nil {
		return err
	}
	defer st.Close()

	t0 := time.Now()
	plan, err := st.PlanRoster(ctx, bytes.NewReader(rosterCSV(o, today, rng)), roster.Options{Today: today})
	if err != nil {
		return fmt.Errorf("plan roster: %w", err)
	}
	if _, err := st.ApplyRoster(ctx, plan, today); err != nil {
		return fmt.Errorf("apply roster: %w", err)
	}
	tree, err := st.Tree(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("roster: %d employees in %d units (%d teams) in %s\n", o.employees, tree.Len(), o.teams, since(t0))

	p := pulse.Defaults()
	p.Name = "Weekly pulse"
	p.AudienceUnitID = tree.Roots()[0]
	p.Channel = pulse.ChannelLog
	// No reminders: a reminder run while the report is timed would be
	// background work the benchmark does not mean to measure.
	p.ReminderDays = 0
	p.Cadence.Start = now.AddDate(0, 0, -7*(o.weeks+2)).Format(time.DateOnly)
	if err := st.SaveProgram(ctx, &p); err != nil {
		return fmt.Errorf("save program: %w", err)
	}
	sched, err := p.Schedule()
	if err != nil {
		return err
	}
	var slots []time.Time
	for t := sched.Next(now.AddDate(0, 0, -7*(o.weeks+1))); !t.After(now); t = sched.Next(t) {
		slots = append(slots, t)
	}
	slots = slots[max(0, len(slots)-o.weeks):]
	start := tandem.PeriodStart(tandem.Week, slots[0])
	g, err := loadOrg(ctx, st, o, start, o.weeks+1, rng)
	if err != nil {
		return err
	}
	teamIndex := map[int64]int{}
	participation := map[int64]float64{}
	for i, id := range g.teamIDs {
		teamIndex[id] = i
		participation[id] = 0.6 + 0.2*rng.Float64()
	}
	person := map[int64]float64{}

	t0 = time.Now()
	var responses, invited int
	var createTime, recordTime time.Duration
	for w, slot := range slots {
		c0 := time.Now()
		round, _, err := st.CreateRound(ctx, &p, slot, false, slot)
		if err != nil {
			return fmt.Errorf("round %d: %w", w+1, err)
		}
		if err := st.CancelRoundMessages(ctx, round.ID, "benchmark history, not sent"); err != nil {
			return err
		}
		qs, err := st.RoundQuestions(ctx, round.ID)
		if err != nil {
			return err
		}
		invs, err := st.RoundInvitations(ctx, round.ID)
		if err != nil {
			return err
		}
		createTime += time.Since(c0)
		invited += len(invs)
		rs := make([]store.RecordedResponse, 0, len(invs))
		for _, inv := range invs {
			if rng.Float64() > participation[inv.UnitID] {
				continue
			}
			off, ok := person[inv.EmployeeID]
			if !ok {
				off = rng.NormFloat64() * personSD
				person[inv.EmployeeID] = off
			}
			latent := off
			if t, ok := teamIndex[inv.UnitID]; ok {
				latent += g.levelAt(t, slot)
			}
			r := store.RecordedResponse{InvitationID: inv.ID, Answers: make([]pulse.Answer, 0, len(qs))}
			for _, q := range qs {
				switch q.Kind {
				case pulse.Likert5:
					r.Answers = append(r.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(3.6+latent+rng.NormFloat64()*noiseSD, 1, 5), HasValue: true})
				case pulse.Scale010:
					r.Answers = append(r.Answers, pulse.Answer{QuestionID: q.ID, Value: clampRound(7.8+1.8*latent+rng.NormFloat64()*1.2, 0, 10), HasValue: true})
				}
			}
			rs = append(rs, r)
		}
		r0 := time.Now()
		if err := st.RecordResponses(ctx, round.ID, rs); err != nil {
			return fmt.Errorf("round %d: %w", w+1, err)
		}
		recordTime += time.Since(r0)
		responses += len(rs)
		if (w+1)%10 == 0 || w == len(slots)-1 {
			fmt.Printf("  rounds: %d/%d (%s; create %s, answers %s)\n", w+1, len(slots), since(t0), createTime.Round(time.Second), recordTime.Round(time.Second))
		}
	}
	closed, err := st.CloseDueRounds(ctx, now)
	if err != nil {
		return err
	}
	fmt.Printf("pulse: %d rounds from %s to %s, %d invitations, %d responses (%.1f %%), %d closed, in %s\n",
		len(slots), tandem.FormatDate(slots[0]), tandem.FormatDate(slots[len(slots)-1]), invited, responses,
		100*float64(responses)/float64(invited), closed, since(t0))

	// Customer ratings, in time order as a feed delivers them.
	t0 = time.Now()
	const batch = 100_000
	span := now.Sub(start)
	rs := make([]tandem.Rating, 0, batch)
	var times []time.Duration
	stored := 0
	flush := func() error {
		b0 := time.Now()
		res, err := st.IngestRatings(ctx, rs, now)
		if err != nil {
			return err
		}
		times = append(times, time.Since(b0))
		stored += res.Accepted
		rs = rs[:0]
		if stored%1_000_000 == 0 {
			fmt.Printf("  ratings: %d/%d (%s)\n", stored, o.ratings, since(t0))
		}
		return nil
	}
	for i := 0; i < o.ratings; i++ {
		at := start.Add(time.Duration(float64(span) * float64(i) / float64(o.ratings))).Add(time.Duration(rng.IntN(3600)) * time.Second)
		if at.After(now) {
			at = now
		}
		t := g.pickTeam(rng)
		unit := g.teamIDs[t]
		m := g.members[unit]
		r := tandem.Rating{Source: "helpdesk", ExternalID: "h" + strconv.Itoa(i+1), OccurredAt: at.Truncate(time.Second), UnitID: unit,
			Metric: tandem.MetricCSAT, Score: float64(g.csatScore(rng, t, at))}
		if len(m) > 0 {
			r.AgentID = m[rng.IntN(len(m))]
		}
		rs = append(rs, r)
		if len(rs) == batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(rs) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	total := time.Since(t0)
	fmt.Printf("ratings: %d stored through store.IngestRatings in %d batches in %s (%.0f ratings/s; batch median %s)\n",
		stored, len(times), total.Round(time.Millisecond), float64(stored)/total.Seconds(), median(times).Round(time.Millisecond))
	return nil
}

// describeDB prints the database's size and row counts.
func describeDB(ctx context.Context, path string) error {
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	var parts []string
	for _, t := range []string{"employees", "org_units", "rounds", "invitations", "responses", "answers", "round_scores", "csat_events", "csat_totals"} {
		var n int
		if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s %d", t, n))
	}
	if _, err := st.DB().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("database %s: %.0f MB; %s\n", path, float64(fi.Size())/1e6, strings.Join(parts, ", "))
	return nil
}

// timeImports writes a helpdesk export of o.importRows ratings over the
// database's weeks, attributed by agent email, and times `tandem import
// ratings` of it into o.importRuns fresh copies of the database.
func timeImports(ctx context.Context, o options, dir, bin, base string, now time.Time, rng *rand.Rand) error {
	st, err := store.Open(ctx, base, store.Options{})
	if err != nil {
		return err
	}
	start := tandem.PeriodStart(tandem.Week, now).AddDate(0, 0, -7*(o.weeks-1))
	g, err := loadOrg(ctx, st, o, start, o.weeks+1, rng)
	st.Close()
	if err != nil {
		return err
	}
	if len(g.emails) == 0 {
		return errors.New("the database has no employees with an email to attribute ratings to")
	}
	csvPath := filepath.Join(dir, "ratings-import.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	comments := []string{`"Quick and friendly, thanks!"`, "Took two days to get an answer", `"She said ""try again"", it worked"`, `"Great help, problem solved."`}
	w.WriteString("Ticket ID,Rated at,Agent email,Rating,Comment\n")
	span := now.Add(-time.Hour).Sub(start)
	for i := 0; i < o.importRows; i++ {
		at := start.Add(time.Duration(float64(span) * float64(i) / float64(o.importRows))).Add(time.Duration(rng.IntN(3600)) * time.Second)
		email := g.emails[rng.IntN(len(g.emails))]
		comment := ""
		if rng.IntN(10) == 0 {
			comment = comments[rng.IntN(len(comments))]
		}
		fmt.Fprintf(w, "%d,%s,%s,%d,%s\n", 5_000_000+i, at.UTC().Format(time.RFC3339), email, g.csatScore(rng, g.teamOf[email], at), comment)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	f.Close()
	fi, _ := os.Stat(csvPath)
	fmt.Printf("\nimport: %s, %d rows, %.1f MB (ticket id, time, agent email, rating 1–5, a comment on one row in ten), attributed by agent email\n",
		csvPath, o.importRows, float64(fi.Size())/1e6)

	// The same roster alone, imported by `tandem import roster`: the
	// import's time into a database without the pulse history and the
	// 2,000,000 ratings, measured in the same run.
	empty := ""
	if o.importEmpty {
		empty = filepath.Join(dir, "roster-only.db")
		if err := rosterOnly(ctx, dir, bin, base, empty); err != nil {
			return err
		}
	}
	type run struct {
		target    string
		wall, cpu time.Duration
		maxRSS    float64
		out       string
	}
	targets := []struct{ name, db string }{{"this database", base}}
	if empty != "" {
		targets = append(targets, struct{ name, db string }{"roster only", empty})
	}
	var runs []run
	fmt.Printf("%-4s %-14s %10s %10s %12s\n", "run", "into", "wall s", "CPU s", "peak RSS MiB")
	for i := 1; i <= o.importRuns; i++ {
		for _, tg := range targets {
			db := filepath.Join(dir, "import.db")
			if err := copyFile(tg.db, db); err != nil {
				return err
			}
			cmd := proc.Command(dir, bin, "import", "ratings", "--db", db, "--source", "zendesk", "--metric", "csat", csvPath)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			t0 := time.Now()
			err := cmd.Run()
			wall := time.Since(t0)
			if err != nil {
				return fmt.Errorf("tandem import ratings: %v\n%s", err, out.String())
			}
			want := fmt.Sprintf("%d accepted", o.importRows)
			if !strings.Contains(out.String(), want) {
				return fmt.Errorf("tandem import ratings did not report %q:\n%s", want, out.String())
			}
			ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
			r := run{target: tg.name, wall: wall, cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), maxRSS: float64(ru.Maxrss) / 1024, out: out.String()}
			runs = append(runs, r)
			fmt.Printf("%-4d %-14s %10.2f %10.2f %12.0f\n", i, tg.name, wall.Seconds(), r.cpu.Seconds(), r.maxRSS)
			for _, suffix := range []string{"", "-wal", "-shm"} {
				os.Remove(db + suffix)
			}
		}
	}
	for _, tg := range targets {
		var walls, cpus []time.Duration
		var rss []float64
		for _, r := range runs {
			if r.target == tg.name {
				walls, cpus, rss = append(walls, r.wall), append(cpus, r.cpu), append(rss, r.maxRSS)
			}
		}
		slices.Sort(rss)
		fmt.Printf("%-4s %-14s %10.2f %10.2f %12.0f   (target: under 10 s)\n", "med", tg.name, median(walls).Seconds(), median(cpus).Seconds(), rss[len(rss)/2])
	}
	fmt.Printf("last import's output:\n%s", proc.Indent(runs[len(runs)-1].out))

	if o.importProfile != "" {
		if err := profileImport(ctx, o, dir, base, csvPath); err != nil {
			return err
		}
	}
	return nil
}

// rosterOnly writes base's roster as a roster CSV and imports it into a new
// database with `tandem import roster`.
func rosterOnly(ctx context.Context, dir, bin, base, path string) error {
	st, err := store.Open(ctx, base, store.Options{})
	if err != nil {
		return err
	}
	emps, err := st.AllEmployees(ctx)
	st.Close()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"employee_id", "email", "name", "team", "hired_on"})
	for _, e := range emps {
		w.Write([]string{e.ExternalID, e.Email, e.Name, strings.Join(strings.Split(e.UnitPath, tandem.PathSeparator), "/"), tandem.FormatDate(e.HiredOn)})
	}
	w.Flush()
	file := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if out, err := proc.Command(dir, bin, "import", "roster", "--db", path, file).CombinedOutput(); err != nil {
		return fmt.Errorf("tandem import roster: %v\n%s", err, out)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Printf("roster-only database for comparison: %d employees, %.1f MB (tandem import roster)\n", len(emps), float64(fi.Size())/1e6)
	return nil
}

// profileImport runs the steps of `tandem import ratings` (cmd/tandem/
// ratings.go) in this process under the CPU profiler, into a copy of base,
// and times the two halves: reading and checking the file, and storing.
func profileImport(ctx context.Context, o options, dir, base, csvPath string) error {
	db := filepath.Join(dir, "profile.db")
	if err := copyFile(base, db); err != nil {
		return err
	}
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
	}()
	prof, err := os.Create(o.importProfile)
	if err != nil {
		return err
	}
	defer prof.Close()
	if err := pprof.StartCPUProfile(prof); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	t0 := time.Now()
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.Open(csvPath)
	if err != nil {
		return err
	}
	defer f.Close()
	d, err := st.RatingDirectory(ctx)
	if err != nil {
		return err
	}
	b := ratings.NewBatch(d, time.Now())
	if fi, err := f.Stat(); err == nil {
		b.Grow(int(fi.Size() / 40))
	}
	if _, err := ratings.ReadCSV(f, ratings.CSVOptions{Source: "zendesk", Metric: tandem.MetricCSAT}, b); err != nil {
		return err
	}
	if err := b.Err(); err != nil {
		return err
	}
	t1 := time.Now()
	res, err := st.IngestRatings(ctx, b.Ratings(), time.Now())
	if err != nil {
		return err
	}
	t2 := time.Now()
	fmt.Printf("in-process import under the profiler: open, read and check %s, store %s (%d accepted); profile %s\n",
		t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), res.Accepted, o.importProfile)
	return nil
}

// variant is one set of report parameters.
type variant struct {
	name   string
	query  url.Values
	params report.CorrelationParams
}

func reportVariants(o options, now time.Time) ([]variant, error) {
	today := tandem.Today(now)
	all := tandem.PeriodStart(tandem.Week, today).AddDate(0, 0, -7*(o.weeks-1))
	var out []variant
	for _, v := range []struct {
		name string
		q    url.Values
	}{
		{"default (26 weeks)", url.Values{}},
		{fmt.Sprintf("from %d weeks ago", o.weeks), url.Values{"from": {tandem.FormatDate(all)}}},
	} {
		p, err := report.ParseCorrelationParams(v.q.Get, now)
		if err != nil {
			return nil, err
		}
		out = append(out, variant{v.name, v.q, p})
	}
	return out, nil
}

type reportInfo struct {
	NPairs   int `json:"n_pairs"`
	NTeams   int `json:"n_teams"`
	NPeriods int `json:"n_periods"`
	Pearson  struct {
		R float64 `json:"r"`
	} `json:"pearson"`
	Lags []struct {
		Lag int      `json:"lag"`
		R   *float64 `json:"r"`
	} `json:"lags"`
}

func timeServer(ctx context.Context, o options, dir, bin, base string, now time.Time) ([]variant, error) {
	variants, err := reportVariants(o, now)
	if err != nil {
		return nil, err
	}
	// The key is made before the server starts, as an admin would have.
	st, err := store.Open(ctx, base, store.Options{})
	if err != nil {
		return nil, err
	}
	key, _, err := st.CreateAPIKey(ctx, "reportload benchmark", []string{store.ScopeReportsRead, store.ScopeMetricsRead}, 0, time.Time{})
	if err != nil {
		st.Close()
		return nil, err
	}
	// The cold reports follow a rating posted as a helpdesk would.
	ratingsKey, _, err := st.CreateAPIKey(ctx, "reportload benchmark ratings", []string{store.ScopeRatingsWrite}, 0, time.Time{})
	if err != nil {
		st.Close()
		return nil, err
	}
	tree, err := st.Tree(ctx)
	st.Close()
	if err != nil {
		return nil, err
	}
	args := []string{"--request-timeout", o.reqTimeout.String()}
	if o.memoryLimit != "" {
		args = append(args, "--memory-limit", o.memoryLimit)
	}
	srv, err := proc.StartServer(dir, bin, base, args...)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	fmt.Printf("\nserver: pid %d on %s, ready in %s, --memory-limit %q; %s\n", srv.Cmd.Process.Pid, srv.Addr, srv.Ready.Round(time.Millisecond), o.memoryLimit, machine.Load())
	client := &http.Client{Timeout: o.reqTimeout + 10*time.Second}
	get := func(v variant) (time.Duration, []byte, error) {
		req, _ := http.NewRequest("GET", "http://"+srv.Addr+"/api/v1/reports/correlation?"+v.query.Encode(), nil)
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
		if resp.StatusCode == http.StatusServiceUnavailable {
			return d, nil, fmt.Errorf("GET %s: %w: %.300s", req.URL, errBusy, body)
		}
		if resp.StatusCode != http.StatusOK {
			return 0, nil, fmt.Errorf("GET %s: %s: %.300s", req.URL, resp.Status, body)
		}
		return d, body, nil
	}
	fmt.Printf("warm-up: %d requests per variant (ms):\n", o.warm)
	var firstStatus []byte
	for i, v := range variants {
		if i == 1 {
			// The peak so far: serving the default report only.
			if firstStatus, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Cmd.Process.Pid)); err != nil {
				return nil, err
			}
		}
		var ds []string
		var body []byte
		for i := range o.warm {
			d, b, err := get(v)
			// The first report after a start may outlast the server's
			// request timeout (503); what it read is kept, so the next
			// request goes on from there. Count the tries.
			for tries := 1; err != nil && i == 0 && errors.Is(err, errBusy) && tries < 10; tries++ {
				ds = append(ds, fmt.Sprintf("503 after %.1f s,", d.Seconds()))
				d, b, err = get(v)
			}
			if err != nil {
				return nil, err
			}
			ds, body = append(ds, fmt.Sprintf("%.1f", ms(d))), b
		}
		if o.warm == 0 {
			continue // nothing was asked, so there is nothing to describe
		}
		var info reportInfo
		if err := json.Unmarshal(body, &info); err != nil {
			return nil, err
		}
		lag := ""
		for _, l := range info.Lags {
			if l.R != nil {
				lag += fmt.Sprintf(" %d:%.2f", l.Lag, *l.R)
			}
		}
		fmt.Printf("  %-20s %s; response %.1f KB: %d teams, %d weeks, %d pairs, r = %.3f; r by lag:%s\n", v.name, strings.Join(ds, " "),
			float64(len(body))/1e3, info.NTeams, info.NPeriods, info.NPairs, info.Pearson.R, lag)
	}
	// The peak so far is that of the first reports after a start (which
	// read every round); it is then reset (clear_refs 5), so that the
	// peak of the warm and cold requests alone can be told apart from it.
	pid := srv.Cmd.Process.Pid
	warmStatus, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	reset := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	times := make([][]time.Duration, len(variants))
	for range o.n {
		for i, v := range variants {
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
	fmt.Printf("\n%d requests per variant, alternating, one client, keep-alive; %s\n", o.n, machine.Load())
	fmt.Printf("%-22s %9s %9s %9s %9s\n", "variant", "p50 ms", "p90 ms", "min ms", "max ms")
	for i, v := range variants {
		s := slices.Sorted(slices.Values(times[i]))
		fmt.Printf("%-22s %9.1f %9.1f %9.1f %9.1f   (target p50 warm: under 50 ms)\n", v.name, ms(median(s)), ms(percentile(s, 0.9)), ms(s[0]), ms(s[len(s)-1]))
	}
	if o.cold > 0 {
		if err := timeCold(o, srv, client, get, variants[len(variants)-1], ratingsKey, tree, now); err != nil {
			return nil, err
		}
		if status, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", srv.Cmd.Process.Pid)); err != nil {
			return nil, err
		}
	}
	fmt.Printf("server memory after the warm-up of %q alone: VmHWM %s MiB, VmRSS %s MiB\n", variants[0].name, statusMB(firstStatus, "VmHWM"), statusMB(firstStatus, "VmRSS"))
	fmt.Printf("server memory after the warm-up of both: VmHWM %s MiB, VmRSS %s MiB\n", statusMB(warmStatus, "VmHWM"), statusMB(warmStatus, "VmRSS"))
	if reset != nil {
		fmt.Printf("server memory after all requests: VmHWM %s MiB, VmRSS %s MiB   (target: peak under 150 MB, 143.1 MiB; the peak could not be reset: %v)\n", statusMB(status, "VmHWM"), statusMB(status, "VmRSS"), reset)
	} else {
		fmt.Printf("server memory during the timed and cold requests: VmHWM %s MiB (peak reset after the warm-up); VmRSS %s MiB at the end\n", statusMB(status, "VmHWM"), statusMB(status, "VmRSS"))
		fmt.Printf("server peak over all requests: %s MiB   (target: peak under 150 MB, 143.1 MiB)\n", maxMB(statusMB(warmStatus, "VmHWM"), statusMB(status, "VmHWM")))
	}
	// What the resident memory is made of: anonymous (the Go heap, SQLite's
	// page caches and C heap, stacks) and file-backed (the binary's text
	// and data, the shared libraries), which no change to the report moves.
	fmt.Printf("server memory at the end: RssAnon %s MiB (Go heap, SQLite caches, stacks), RssFile %s MiB (the binary and libraries)\n", statusMB(status, "RssAnon"), statusMB(status, "RssFile"))
	fmt.Printf("server's soft memory limit at the end: %s\n", memoryLimitNow(client, srv.Addr, key))
	return variants, nil
}

// memoryLimitNow reads the server's soft memory limit from its /metrics
// (go_gc_gomemlimit_bytes), in MiB, or says why it could not.
func memoryLimitNow(client *http.Client, addr, key string) string {
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("/metrics: %d %v", resp.StatusCode, err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go_gc_gomemlimit_bytes "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return v
			}
			if f >= math.MaxInt64/2 {
				return "none"
			}
			return fmt.Sprintf("%.1f MiB", f/(1<<20))
		}
	}
	return "not in /metrics"
}

// timeCold times the report right after new released data for its scope:
// each time one rating for a team (of the whole organisation, the report's
// scope) is posted to /api/v1/customer-ratings, which moves the released
// data version, so the report cache misses and the report is computed
// again from the stored data (the loader's closed rounds stay in memory).
func timeCold(o options, srv *proc.Server, client *http.Client, get func(variant) (time.Duration, []byte, error), v variant, ratingsKey string, tree *tandem.Tree, now time.Time) error {
	var teams []string
	for t := 0; t < o.teams && len(teams) < o.cold; t += max(1, o.teams/o.cold) {
		if u := tree.ByPath(strings.Split(teamPath(t, o.teams), "/")); u != nil {
			teams = append(teams, strings.Join(strings.Split(u.Path, tandem.PathSeparator), "/"))
		}
	}
	if len(teams) == 0 {
		return errors.New("no team to post a rating for")
	}
	var colds, warms []time.Duration
	cpu0, cpuOK := proc.ProcessCPU(srv.Cmd.Process.Pid)
	for i := range o.cold {
		body := fmt.Sprintf(`[{"source":"reportload","external_id":"cold-%d-%d","occurred_at":%q,"metric":"csat","score":4,"unit_path":%q}]`,
			now.UnixNano(), i, now.Add(-time.Duration(i+1)*time.Hour).UTC().Format(time.RFC3339), teams[i%len(teams)])
		req, _ := http.NewRequest("POST", "http://"+srv.Addr+"/api/v1/customer-ratings", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ratingsKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("POST /api/v1/customer-ratings: %s: %.300s", resp.Status, b)
		}
		d, _, err := get(v)
		if err != nil {
			return err
		}
		w, _, err := get(v)
		if err != nil {
			return err
		}
		colds, warms = append(colds, d), append(warms, w)
	}
	cpu1, ok := proc.ProcessCPU(srv.Cmd.Process.Pid)
	c, w := slices.Sorted(slices.Values(colds)), slices.Sorted(slices.Values(warms))
	fmt.Printf("\ncold: %d times one rating posted for a team, then GET %s twice (the first misses the cache, the second hits); %s\n", o.cold, v.name, machine.Load())
	fmt.Printf("%-22s %9s %9s %9s %9s\n", "request", "p50 ms", "p90 ms", "min ms", "max ms")
	fmt.Printf("%-22s %9.1f %9.1f %9.1f %9.1f   (target p50 at 50k: under 500 ms)\n", "cold (after a rating)", ms(median(c)), ms(percentile(c, 0.9)), ms(c[0]), ms(c[len(c)-1]))
	fmt.Printf("%-22s %9.1f %9.1f %9.1f %9.1f   (target p50: under 50 ms)\n", "warm (the next one)", ms(median(w)), ms(percentile(w, 0.9)), ms(w[0]), ms(w[len(w)-1]))
	fmt.Printf("cold/warm p50 ratio: %.1f\n", float64(median(c))/float64(median(w)))
	if cpuOK && ok {
		// On a shared machine the wall time follows the load; the CPU the
		// server spent does much less.
		fmt.Printf("server CPU per cold round (the rating, the cold and the warm request): %.1f ms\n", ms((cpu1-cpu0)/time.Duration(o.cold)))
	}
	return nil
}

// maxMB returns the larger of two statusMB values.
func maxMB(a, b string) string {
	fa, errA := strconv.ParseFloat(a, 64)
	fb, errB := strconv.ParseFloat(b, 64)
	if errA != nil || errB != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f", max(fa, fb))
}

// errBusy is a 503 from the server: the request ran out of time.
var errBusy = errors.New("503 Service Unavailable")

// statusMB returns a /proc/PID/status field in MiB: /proc counts in KiB
// ("kB"), divided here by 1024. (BENCHMARKS.md wrote these as MB until
// 2026-12-06; they were MiB throughout.)
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

// The aggregates the report needs, as one SQL script per variant: per round
// and unit the engagement index (the mean of the index items on 0–100) from
// round_scores and the respondents from responses, for the program's
// rounds in the range; and the weekly CSAT totals from the range's first
// week to six weeks after its last (every lag's partner).
func sqlScript(program int64, p report.CorrelationParams) string {
	from, to := tandem.FormatDate(p.From), tandem.FormatDate(p.To)
	cTo := tandem.PeriodStart(tandem.Week, p.To).AddDate(0, 0, 7*(report.MaxLag+1))
	rounds := fmt.Sprintf("SELECT id FROM rounds WHERE program_id = %d AND period >= '%s' AND period <= '%s'", program, from, to)
	return fmt.Sprintf(`SELECT rs.round_id, rs.unit_id, AVG((rs.sum * 1.0 / rs.n - 1) / 4 * 100)
  FROM round_scores rs JOIN questions q ON q.id = rs.question_id
  WHERE rs.round_id IN (%s) AND q.kind = 'likert5' AND q.in_index = 1 AND rs.n > 0
  GROUP BY rs.round_id, rs.unit_id;
SELECT round_id, unit_id, COUNT(*) FROM responses WHERE round_id IN (%s) GROUP BY round_id, unit_id;
SELECT period, unit_id, n, top FROM csat_totals
  WHERE kind = 'W' AND metric = 'csat' AND period >= '%s' AND period < '%s' ORDER BY period, unit_id;
`, rounds, rounds, tandem.FormatDate(tandem.PeriodStart(tandem.Week, p.From)), tandem.FormatDate(cTo))
}

// counted wraps each statement of a script so that it prints one line (the
// row count), to time the query without the tool's printing of rows.
func counted(script string) string {
	var b strings.Builder
	for _, s := range strings.Split(script, ";") {
		if s = strings.TrimSpace(s); s != "" {
			fmt.Fprintf(&b, "SELECT COUNT(*) FROM (%s);\n", s)
		}
	}
	return b.String()
}

func timeSQLite(ctx context.Context, o options, dir, base string, variants []variant) error {
	bin, err := exec.LookPath("sqlite3")
	if err != nil {
		return errors.New("the sqlite3 tool is not installed (apt-get install -y sqlite3), or run with -sqlite-runs 0")
	}
	version, _ := exec.Command(bin, "--version").Output()
	st, err := store.Open(ctx, base, store.Options{})
	if err != nil {
		return err
	}
	counts, err := st.ProgramRoundCounts(ctx)
	st.Close()
	if err != nil {
		return err
	}
	var program int64
	for id, n := range counts {
		if program == 0 || n > counts[program] || (n == counts[program] && id < program) {
			program = id
		}
	}
	fmt.Printf("\nsqlite3 %s: `sqlite3 -readonly FILE < SCRIPT`, wall time of the process, median of %d (rows written to a pipe and counted)\n",
		strings.Fields(string(version))[0], o.sqliteRuns)
	fmt.Printf("%-22s %-12s %9s %9s %9s\n", "variant", "script", "median ms", "min ms", "rows out")
	for i, v := range variants {
		full := sqlScript(program, v.params)
		for _, sc := range []struct{ name, text string }{{"rows", full}, {"count only", counted(full)}} {
			path := filepath.Join(dir, fmt.Sprintf("query-%d-%s.sql", i, strings.ReplaceAll(sc.name, " ", "-")))
			if err := os.WriteFile(path, []byte(sc.text), 0o644); err != nil {
				return err
			}
			var ds []time.Duration
			lines := 0
			for range o.sqliteRuns {
				in, err := os.Open(path)
				if err != nil {
					return err
				}
				cmd := exec.Command(bin, "-readonly", base)
				cmd.Stdin = in
				var cw countWriter
				var stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &cw, &stderr
				t0 := time.Now()
				err = cmd.Run()
				d := time.Since(t0)
				in.Close()
				if err != nil || stderr.Len() > 0 {
					return fmt.Errorf("sqlite3 %s: %v %s", path, err, stderr.String())
				}
				ds, lines = append(ds, d), cw.lines
			}
			s := slices.Sorted(slices.Values(ds))
			fmt.Printf("%-22s %-12s %9.1f %9.1f %9d\n", v.name, sc.name, ms(median(s)), ms(s[0]), lines)
		}
		if i == 0 {
			fmt.Printf("script (%s):\n%s", v.name, proc.Indent(full))
		}
	}
	return nil
}

type countWriter struct{ lines int }

func (c *countWriter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// timeInProcess builds the reports in this process with one warm loader,
// as the server does, and encodes them as the JSON handler does: the time
// of the report itself without HTTP.
func timeInProcess(ctx context.Context, o options, base string, variants []variant) error {
	st, err := store.Open(ctx, base, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	loader := report.NewCorrelationLoader(st)
	var prof *os.File
	if o.cpuprofile != "" {
		if prof, err = os.Create(o.cpuprofile); err != nil {
			return err
		}
		defer prof.Close()
	}
	fmt.Printf("\nin process (store.Open, report.CorrelationLoader.Load, json.Marshal), median of %d after one load that fills the loader; GOMAXPROCS %d\n",
		o.inproc, runtime.GOMAXPROCS(0))
	fmt.Printf("%-22s %11s %11s %11s %11s\n", "variant", "cold ms", "load ms", "encode ms", "CPU ms/op")
	for i, v := range variants {
		c0 := time.Now()
		if _, err := loader.Load(ctx, v.params, 0); err != nil {
			return err
		}
		cold := time.Since(c0)
		if prof != nil && i == len(variants)-1 {
			if err := pprof.StartCPUProfile(prof); err != nil {
				return err
			}
		}
		var loads, encodes []time.Duration
		cpu0 := proc.CPUTime()
		for range o.inproc {
			t0 := time.Now()
			c, err := loader.Load(ctx, v.params, 0)
			if err != nil {
				return err
			}
			t1 := time.Now()
			if _, err := json.Marshal(c); err != nil {
				return err
			}
			loads, encodes = append(loads, t1.Sub(t0)), append(encodes, time.Since(t1))
		}
		cpu := (proc.CPUTime() - cpu0) / time.Duration(o.inproc)
		if prof != nil && i == len(variants)-1 {
			pprof.StopCPUProfile()
		}
		fmt.Printf("%-22s %11.1f %11.1f %11.1f %11.1f\n", v.name, ms(cold), ms(median(loads)), ms(median(encodes)), ms(cpu))
	}
	if prof != nil {
		fmt.Printf("CPU profile of the last variant's loads: %s (go tool pprof -top %s)\n", o.cpuprofile, o.cpuprofile)
	}
	if o.memprofile != "" {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		f, err := os.Create(o.memprofile)
		if err != nil {
			return err
		}
		err = pprof.WriteHeapProfile(f)
		f.Close()
		if err != nil {
			return err
		}
		fmt.Printf("heap in use after a GC, the loader warm with both variants: %.1f MB; profile %s (go tool pprof -sample_index=inuse_space -top)\n", float64(ms.HeapInuse)/1e6, o.memprofile)
		runtime.KeepAlive(loader)
	}
	if o.coldprofile != "" {
		return profileCold(ctx, o, st, loader, variants[len(variants)-1])
	}
	return nil
}

// profileCold times and profiles, in process, the last variant's report
// right after one new rating each time (the server's cold case; the
// loader keeps the closed rounds).
func profileCold(ctx context.Context, o options, st *store.Store, loader *report.CorrelationLoader, v variant) error {
	tree, err := st.Tree(ctx)
	if err != nil {
		return err
	}
	team := tree.ByPath(strings.Split(teamPath(0, o.teams), "/"))
	if team == nil {
		return errors.New("no team 1")
	}
	// Heap profiles before and after the cold reports: their difference
	// (go tool pprof -sample_index=alloc_space -base FILE.heap0 FILE.heap)
	// is what the cold reports allocated, by call site.
	writeHeap := func(name string) error {
		hf, err := os.Create(name)
		if err != nil {
			return err
		}
		defer hf.Close()
		return pprof.Lookup("allocs").WriteTo(hf, 0)
	}
	if err := writeHeap(o.coldprofile + ".heap0"); err != nil {
		return err
	}
	f, err := os.Create(o.coldprofile)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	var ds, cpus []time.Duration
	var allocs []uint64
	var peak heapPeak
	for i := range max(o.cold, 1) {
		now := time.Now()
		if _, err := st.IngestRatings(ctx, []tandem.Rating{{Source: "reportload-inproc", ExternalID: fmt.Sprintf("c%d-%d", now.UnixNano(), i),
			OccurredAt: now.Add(-time.Hour).Truncate(time.Second), UnitID: team.ID, Metric: tandem.MetricCSAT, Score: 4}}, now); err != nil {
			pprof.StopCPUProfile()
			return err
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		stop := peak.watch()
		c0 := proc.CPUTime()
		t0 := time.Now()
		if _, err := loader.Load(ctx, v.params, 0); err != nil {
			stop()
			pprof.StopCPUProfile()
			return err
		}
		ds = append(ds, time.Since(t0))
		cpus = append(cpus, proc.CPUTime()-c0)
		stop()
		runtime.ReadMemStats(&m1)
		allocs = append(allocs, m1.TotalAlloc-m0.TotalAlloc)
	}
	pprof.StopCPUProfile()
	if err := writeHeap(o.coldprofile + ".heap"); err != nil {
		return err
	}
	slices.Sort(allocs)
	fmt.Printf("in process, %s right after one new rating: median %.1f ms of %d; CPU profile %s, allocations %[4]s.heap0 → %[4]s.heap\n", v.name, ms(median(ds)), len(ds), o.coldprofile)
	fmt.Printf("  CPU per cold report (this process): median %.1f ms\n", ms(median(cpus)))
	fmt.Printf("  allocated per cold report: median %.1f MB; heap objects at most %.1f MB (sampled every ms, GOGC %s)\n",
		float64(allocs[len(allocs)/2])/1e6, float64(peak.max.Load())/1e6, cmp.Or(os.Getenv("GOGC"), "100"))
	return nil
}

// heapPeak samples the bytes of heap objects (live and not yet swept)
// while a report is built: the peak the garbage collector lets the heap
// reach, which is what the process's peak memory follows.
type heapPeak struct{ max atomic.Uint64 }

// watch samples until the returned function is called.
func (h *heapPeak) watch() (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			if b := s[0].Value.Uint64(); b > h.max.Load() {
				h.max.Store(b)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// median of durations (sorted or not).
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
