// Command replicas measures answer submissions (POST /p/TOKEN) to real
// `tandem serve` processes in three configurations, with the same client
// in the same run: SQLite with one replica, PostgreSQL with one replica,
// and PostgreSQL with three replicas that the client spreads its requests
// over round-robin (as a load balancer would).
//
// It builds ./cmd/tandem, writes a roster CSV of -employees people (the
// bench/internal/benchorg roster: teams of 20 under ten divisions) and
// seeds one database per configuration the way an operator would: `tandem
// import roster FILE --db …` into a SQLite file, and into two new schemas
// of the PostgreSQL server named by -postgres. In-process it then saves a
// weekly program for everyone, starts one round with the scheduler's
// runner (schedule.Runner.SendNow), cancels the round's messages (nothing
// is sent during the benchmark), and mints one answer link per invitation
// the way the outbox does (auth.NewToken, store.AddInvitationToken).
//
// Each run measures the configurations one after the other: start the
// configuration's `tandem serve` processes (default flags but
// --rate-limit 0, as all requests come from one address; JSON logs at info
// level to files), send -warm requests, then -n measured requests
// from -clients goroutines sharing one keep-alive http.Client, then stop
// the processes with SIGTERM. Every request is a complete, valid answer
// with a link not used before, so every one stores a response; anything
// but 200 is a failure. It prints requests per second and p50/p90/p99
// latency per configuration and run, and the medians over -runs runs.
// Beside them it prints where the CPU went, in milliseconds per request:
// the tandem processes, the PostgreSQL backends serving them (read from
// /proc, so the server must run on this machine; backends that closed
// during the phase are missed) and this client.
//
//	go run ./bench/replicas
//	go run ./bench/replicas -n 6000 -runs 3 -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/tandem-hq/tandem/bench/internal/benchorg"
	"github.com/tandem-hq/tandem/bench/internal/machine"
	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"

	"github.com/tandem-hq/tandem/internal/testbin"
)

type options struct {
	employees int
	n         int
	warm      int
	clients   int
	runs      int
	replicas  int
	postgres  string
	keep      bool
}

func main() {
	var o options
	def := os.Getenv("TANDEM_TEST_POSTGRES")
	if def == "" {
		def = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	flag.IntVar(&o.employees, "employees", 20_000, "employees on the roster (each gets one invitation, so one answer link, per database)")
	flag.IntVar(&o.n, "n", 6000, "measured requests per configuration and run")
	flag.IntVar(&o.warm, "warm", 300, "warm-up requests before each measurement")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients")
	flag.IntVar(&o.runs, "runs", 3, "runs; each measures every configuration once")
	flag.IntVar(&o.replicas, "replicas", 3, "replicas of the multi-replica PostgreSQL configuration")
	flag.StringVar(&o.postgres, "postgres", def, "PostgreSQL server; the benchmark creates two schemas there and drops them at the end")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (binary, SQLite database, logs) and the schemas")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

// config is one configuration under test: its database and how many
// replicas serve it.
type config struct {
	name     string
	db       string // --db of tandem serve
	replicas int
	tokens   []string
	next     int // first unused token
	body     string
	roundID  int64
	app      string // application_name of the replicas' PostgreSQL sessions ("" on SQLite)
}

func run(o options) error {
	need := o.runs * (o.warm + o.n)
	if need > o.employees {
		return fmt.Errorf("-runs × (-warm + -n) = %d answers need as many invitations per database, but -employees is %d", need, o.employees)
	}
	fmt.Println(machine.Describe())
	ctx := context.Background()

	admin, err := sql.Open("pgx", o.postgres)
	if err != nil {
		return err
	}
	defer admin.Close()
	var pgVersion string
	if err := admin.QueryRowContext(ctx, "SELECT version()").Scan(&pgVersion); err != nil {
		return fmt.Errorf("PostgreSQL at %s: %w", o.postgres, err)
	}
	var syncCommit, sharedBuffers string
	admin.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&syncCommit)
	admin.QueryRowContext(ctx, "SHOW shared_buffers").Scan(&sharedBuffers)
	fmt.Printf("postgres: %s (synchronous_commit=%s, shared_buffers=%s), on the same machine\n", pgVersion, syncCommit, sharedBuffers)

	root, err := testbin.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tandem-bench-replicas-")
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
	if out, err := testbin.Command(root, "go", "build", "-o", bin, "./cmd/tandem").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	fmt.Printf("built %s in %s\n", bin, time.Since(t0).Round(time.Millisecond))

	rosterFile := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(rosterFile, benchorg.Roster(o.employees), 0o600); err != nil {
		return err
	}

	stamp := time.Now().UnixNano()
	schemas := []string{fmt.Sprintf("bench_%d_one", stamp), fmt.Sprintf("bench_%d_many", stamp)}
	for _, s := range schemas {
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+s); err != nil {
			return err
		}
		if !o.keep {
			defer admin.ExecContext(context.Background(), "DROP SCHEMA "+s+" CASCADE")
		}
	}
	configs := []*config{
		{name: "sqlite×1", db: filepath.Join(dir, "tandem.db"), replicas: 1},
		{name: "pg×1", db: withParams(o.postgres, "search_path", schemas[0], "application_name", schemas[0]), replicas: 1, app: schemas[0]},
		{name: fmt.Sprintf("pg×%d", o.replicas), db: withParams(o.postgres, "search_path", schemas[1], "application_name", schemas[1]), replicas: o.replicas, app: schemas[1]},
	}
	for _, c := range configs {
		t0 := time.Now()
		if err := seed(ctx, bin, dir, rosterFile, c, need); err != nil {
			return fmt.Errorf("seed %s: %w", c.name, err)
		}
		fmt.Printf("seeded %s in %s: %d employees, round %d, %d answer links\n", c.name, time.Since(t0).Round(time.Millisecond), o.employees, c.roundID, len(c.tokens))
	}
	fmt.Printf("answer form (%d bytes): %s\n", len(configs[0].body), configs[0].body)

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * o.clients
	tr.MaxIdleConnsPerHost = o.clients
	tr.DisableCompression = true
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}

	fmt.Printf("\n%d measured requests per phase after %d warm-up requests, %d clients, client GOMAXPROCS %d\n", o.n, o.warm, o.clients, runtime.GOMAXPROCS(0))
	fmt.Printf("CPU ms per request: of the tandem processes, of the PostgreSQL backends serving them (those still open at the end), of this client\n")
	fmt.Printf("%-4s %-9s %10s %9s %9s %9s %9s %9s %9s %9s\n", "run", "config", "req/s", "p50 ms", "p90 ms", "p99 ms", "failures", "cpu srv", "cpu pg", "cpu cli")
	results := map[string][]result{}
	failed := 0
	for r := 1; r <= o.runs; r++ {
		for _, c := range configs {
			res, err := measure(ctx, client, admin, bin, dir, c, o)
			if err != nil {
				return fmt.Errorf("run %d, %s: %w", r, c.name, err)
			}
			tr.CloseIdleConnections()
			res.print(r, c.name)
			if res.failures > 0 {
				fmt.Println("  failures:", res.failureText())
			}
			failed += res.failures
			results[c.name] = append(results[c.name], res)
		}
	}

	fmt.Printf("\nmedians of %d runs:\n", o.runs)
	fmt.Printf("%-9s %10s %9s %9s %9s %9s %9s %9s\n", "config", "req/s", "p50 ms", "p90 ms", "p99 ms", "cpu srv", "cpu pg", "cpu cli")
	for _, c := range configs {
		rs := results[c.name]
		fmt.Printf("%-9s %10.0f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f\n", c.name, median(mapf(rs, result.rps)),
			median(mapf(rs, func(r result) float64 { return ms(r.pct(50)) })),
			median(mapf(rs, func(r result) float64 { return ms(r.pct(90)) })),
			median(mapf(rs, func(r result) float64 { return ms(r.pct(99)) })),
			median(mapf(rs, func(r result) float64 { return r.cpuServer })),
			median(mapf(rs, func(r result) float64 { return r.cpuPostgres })),
			median(mapf(rs, func(r result) float64 { return r.cpuClient })))
	}
	fmt.Printf("failures (non-200 or errors): %d\n", failed)

	// Every answer was stored once.
	for _, c := range configs {
		st, err := store.Open(ctx, c.db, store.Options{})
		if err != nil {
			return err
		}
		var responded, responses int
		db := st.DB()
		q1, q2 := "SELECT COUNT(*) FROM invitations WHERE round_id = ? AND responded", "SELECT COUNT(*) FROM responses WHERE round_id = ?"
		if st.Engine() == store.Postgres {
			q1, q2 = strings.Replace(q1, "?", "$1", 1), strings.Replace(q2, "?", "$1", 1)
		}
		err = errors.Join(db.QueryRowContext(ctx, q1, c.roundID).Scan(&responded), db.QueryRowContext(ctx, q2, c.roundID).Scan(&responses))
		st.Close()
		if err != nil {
			return err
		}
		fmt.Printf("%s database: %d invitations answered, %d responses stored (sent %d)\n", c.name, responded, responses, c.next)
		if responded != c.next || responses != c.next {
			failed++
		}
	}
	fmt.Println(machine.Load())
	if failed > 0 {
		return errors.New("some requests failed or were not stored")
	}
	return nil
}

// seed imports the roster with the tandem command, then starts a round and
// mints need answer links in-process.
func seed(ctx context.Context, bin, dir, rosterFile string, c *config, need int) error {
	if out, err := testbin.Command(dir, bin, "import", "roster", rosterFile, "--db", c.db).CombinedOutput(); err != nil {
		return fmt.Errorf("tandem import roster: %v\n%s", err, tailString(string(out), 20))
	}
	st, err := store.Open(ctx, c.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	tree, err := st.Tree(ctx)
	if err != nil {
		return err
	}
	p := pulse.Defaults()
	p.Name = "Benchmark pulse"
	p.AudienceUnitID = tree.Roots()[0]
	if err := st.SaveProgram(ctx, &p); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	round, _, err := schedule.NewRunner(st, log).SendNow(ctx, p.ID, time.Now())
	if err != nil {
		return err
	}
	c.roundID = round.ID
	// The benchmark hands the links out itself; the outbox stays quiet.
	if err := st.CancelRoundMessages(ctx, round.ID, "benchmark"); err != nil {
		return err
	}
	invs, err := st.RoundInvitations(ctx, round.ID)
	if err != nil {
		return err
	}
	if len(invs) < need {
		return fmt.Errorf("the round has %d invitations, want at least %d", len(invs), need)
	}
	c.tokens = make([]string, need)
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= need {
					return
				}
				tok := auth.NewToken()
				if err := st.AddInvitationToken(ctx, invs[i].ID, auth.HashToken(tok)); err != nil {
					errs <- err
					return
				}
				c.tokens[i] = tok
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	qs, err := st.RoundQuestions(ctx, round.ID)
	if err != nil {
		return err
	}
	c.body = testbin.AnswerForm(qs)
	return nil
}

// measure starts the configuration's replicas, warms them up, measures
// o.n requests and stops the replicas.
func measure(ctx context.Context, client *http.Client, admin *sql.DB, bin, dir string, c *config, o options) (result, error) {
	var procs []*proc
	defer func() {
		for _, p := range procs {
			p.stop()
		}
	}()
	for i := range c.replicas {
		p, err := startServe(bin, dir, fmt.Sprintf("%s-%d", strings.ReplaceAll(c.name, "×", "x"), i), c.db)
		if err != nil {
			return result{}, err
		}
		procs = append(procs, p)
	}
	urls := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "http://" + procs[i%len(procs)].Addr + "/p/" + c.tokens[c.next]
			c.next++
		}
		return out
	}
	if r := load(ctx, client, o.clients, urls(o.warm), c.body); r.failures > 0 {
		return r, fmt.Errorf("warm-up: %s", r.failureText())
	}
	srv0, pg0, cli0 := cpuOf(procs), backendCPU(ctx, admin, c.app), selfCPU()
	res := load(ctx, client, o.clients, urls(o.n), c.body)
	srv1, pg1, cli1 := cpuOf(procs), backendCPU(ctx, admin, c.app), selfCPU()
	res.cpuServer = (srv1 - srv0) / float64(o.n)
	res.cpuClient = (cli1 - cli0) / float64(o.n)
	for pid, t1 := range pg1 {
		res.cpuPostgres += (t1 - pg0[pid]) / float64(o.n)
	}
	for _, p := range procs {
		if err := p.stop(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// proc is one `tandem serve` process.
type proc struct{ *testbin.Server }

func startServe(bin, dir, name, db string) (*proc, error) {
	// The client is one address; the per-address limit on answer links
	// would refuse most of its requests.
	s, err := testbin.Serve(testbin.ServeOptions{Bin: bin, DB: db, Dir: dir, Poll: 20 * time.Millisecond,
		Log:  filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano())),
		Args: []string{"--log-format", "json", "--rate-limit", "0"}})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &proc{s}, nil
}

// stop ends the process with SIGTERM (SIGKILL after 20 s) and waits.
func (p *proc) stop() error {
	if p.Exited() {
		return nil
	}
	return p.Stop(20 * time.Second)
}

// result is one phase: the latency of each request and what failed.
type result struct {
	wall     time.Duration
	lat      []time.Duration // sorted
	failures int
	problems map[string]int
	// CPU milliseconds per measured request.
	cpuServer, cpuPostgres, cpuClient float64
}

func (r result) rps() float64 { return float64(len(r.lat)) / r.wall.Seconds() }

func (r result) pct(p int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := (len(r.lat)*p+99)/100 - 1
	return r.lat[max(i, 0)]
}

func (r result) print(run int, name string) {
	fmt.Printf("%-4d %-9s %10.0f %9.2f %9.2f %9.2f %9d %9.2f %9.2f %9.2f\n", run, name, r.rps(), ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), r.failures,
		r.cpuServer, r.cpuPostgres, r.cpuClient)
}

func (r result) failureText() string {
	var parts []string
	for k, n := range r.problems {
		parts = append(parts, fmt.Sprintf("%d× %s", n, k))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// load posts body to every URL, from clients goroutines at once, and
// times each request from sending to the end of the response body.
func load(ctx context.Context, client *http.Client, clients int, urls []string, body string) result {
	lat := make([]time.Duration, len(urls))
	var next atomic.Int64
	var mu sync.Mutex
	res := result{problems: map[string]int{}}
	fail := func(what string) {
		mu.Lock()
		res.failures++
		res.problems[what]++
		mu.Unlock()
	}
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(urls) {
					return
				}
				t0 := time.Now()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, urls[i], strings.NewReader(body))
				if err != nil {
					fail(err.Error())
					continue
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := client.Do(req)
				if err != nil {
					fail(err.Error())
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					fail("status " + strconv.Itoa(resp.StatusCode))
				}
			}
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.lat = lat
	slices.Sort(res.lat)
	return res
}

// cpuOf returns the CPU milliseconds (user + system) the processes used.
func cpuOf(procs []*proc) float64 {
	var total float64
	for _, p := range procs {
		total += procCPU(p.Cmd.Process.Pid)
	}
	return total
}

// procCPU reads utime + stime of a process from /proc (in clock ticks of
// 10 ms, Linux's USER_HZ); 0 when it cannot.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	k, _ := strconv.ParseFloat(f[12], 64)
	return (u + k) * 10
}

// backendCPU returns the CPU milliseconds of each PostgreSQL backend whose
// session has application name app (the server runs on this machine).
func backendCPU(ctx context.Context, admin *sql.DB, app string) map[int]float64 {
	out := map[int]float64{}
	if app == "" {
		return out
	}
	rows, err := admin.QueryContext(ctx, "SELECT pid FROM pg_stat_activity WHERE application_name = $1", app)
	if err != nil {
		return out
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			out[pid] = procCPU(pid)
		}
	}
	return out
}

// selfCPU is this process's CPU milliseconds so far.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

func mapf[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func withParams(dsn string, kv ...string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
