// Command answerload measures answer submissions (POST /p/TOKEN) through
// Tandem's real web server under 64 concurrent clients on loopback, beside
// a bare echo handler measured in the same run. The targets: at
// least 25 % of the bare handler's requests per second, and p99 latency
// under 50 ms.
//
// It builds a SQLite database with a generated roster (-employees, 20,000
// by default) and a weekly program for everyone, starts one round with the
// scheduler's runner, and mints one answer link per invitation the way
// the outbox does (auth.NewToken, store.AddInvitationToken). Then it
// serves Tandem with web.Server.Run (net/http on 127.0.0.1:0, the same
// server, middleware and logging `tandem serve` runs) and, on another
// port, a bare echo server whose one POST handler reads the form and
// answers 200 "ok". The load generator (in this process) runs -clients
// goroutines sharing one keep-alive http.Client; each request is a valid,
// complete answer form posted with a token not used before, so every one
// stores a response. After a warm-up of each server it measures -n
// requests against the bare server, then -n against Tandem, -pairs times
// in a row, and prints requests per second, p50/p99 latency and the process's
// CPU time per request (server and load generator together) of each,
// and the ratio. Any answer other than 200 counts as a failure. Then it
// stores -direct more answers by calling the store from one goroutine, to
// time one submission's database work with no HTTP and no contention, and
// checks that the database holds one response per request.
//
//	go run ./bench/answerload
//	go run ./bench/answerload -n 5000 -pairs 3 -cpuprofile /tmp/answer.pprof
//	go run ./bench/answerload -foreign-links   # links the server did not mint itself
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tandem-hq/tandem/bench/internal/benchorg"
	"github.com/tandem-hq/tandem/bench/internal/machine"
	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/pulse"
	"github.com/tandem-hq/tandem/internal/schedule"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/testbin"
	"github.com/tandem-hq/tandem/internal/web"
)

type options struct {
	employees  int
	n          int
	warm       int
	clients    int
	pairs      int
	logLevel   string
	direct     int
	cpuprofile string
	keep       bool
	// foreignLinks mints the answer links outside the server's store.
	foreignLinks bool
}

func main() {
	var o options
	flag.IntVar(&o.employees, "employees", 20_000, "employees on the roster (each gets one invitation, so one answer link)")
	flag.IntVar(&o.n, "n", 5000, "requests per measured phase")
	flag.IntVar(&o.warm, "warm", 500, "warm-up requests per server before measuring")
	flag.IntVar(&o.clients, "clients", 64, "concurrent clients")
	flag.IntVar(&o.pairs, "pairs", 3, "bare/Tandem pairs of phases")
	flag.StringVar(&o.logLevel, "log-level", "info", "Tandem's log level (info logs a line per request, as `tandem serve` does by default; the lines go to io.Discard)")
	flag.BoolVar(&o.foreignLinks, "foreign-links", false, "mint the answer links through another store on the same file (as another replica, or a server started since, meets them), so that every answer reads its invitation")
	flag.IntVar(&o.direct, "direct", 1000, "after the load, answers stored by calling the store directly from one goroutine, to time one submission's database work alone")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the Tandem phases to this file")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder with the database")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "answerload:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	need := o.warm + o.pairs*o.n + o.direct
	if need > o.employees {
		return fmt.Errorf("-warm + -pairs × -n + -direct = %d answers need as many invitations, but -employees is %d", need, o.employees)
	}
	fmt.Println(machine.Describe())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "tandem-answerload-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Println("keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level}))

	t0 := time.Now()
	org, err := benchorg.New(ctx, dir, o.employees, pulse.ChannelLog)
	if err != nil {
		return err
	}
	defer org.Store.Close()
	st := org.Store
	round, _, err := schedule.NewRunner(st, logger).SendNow(ctx, org.Program.ID, time.Now())
	if err != nil {
		return fmt.Errorf("start a round: %w", err)
	}
	ids, err := org.InvitationIDs(ctx, round.ID)
	if err != nil {
		return err
	}
	if len(ids) < need {
		return fmt.Errorf("the round has %d invitations, want at least %d", len(ids), need)
	}
	// The outbox worker of `tandem serve` mints links in the serving
	// process, which remembers them; -foreign-links mints them through
	// another store on the same file, as a restarted server or another
	// replica would meet them.
	minter := st
	if o.foreignLinks {
		if minter, err = store.Open(ctx, org.Path, store.Options{}); err != nil {
			return err
		}
	}
	tokens := make([]string, need)
	for i := range tokens {
		tokens[i] = auth.NewToken()
		if err := minter.AddInvitationToken(ctx, ids[i], auth.HashToken(tokens[i])); err != nil {
			return err
		}
	}
	if minter != st {
		if err := minter.Close(); err != nil {
			return err
		}
	}
	qs, err := st.RoundQuestions(ctx, round.ID)
	if err != nil {
		return err
	}
	body := testbin.AnswerForm(qs)
	fmt.Printf("set up in %s: %d employees, round %d with %d invitations and %d questions, %d answer links\n",
		time.Since(t0).Round(time.Millisecond), o.employees, round.ID, len(ids), len(qs), need)
	fmt.Printf("answer form (%d bytes): %s\n", len(body), body)

	// Tandem, served the way `tandem serve` serves it.
	srv, err := web.New(web.Config{Addr: "127.0.0.1:0", Version: "bench"}, st, logger)
	if err != nil {
		return err
	}
	ready := make(chan string, 1)
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Run(ctx, func(addr string) { ready <- addr }) }()
	var tandemAddr string
	select {
	case tandemAddr = <-ready:
	case err := <-srvDone:
		return fmt.Errorf("tandem server: %w", err)
	}

	// The bare handler: echo, one route, read the form, say ok.
	bare := echo.New()
	bare.HideBanner, bare.HidePort = true, true
	bare.POST("/p/:token", func(c echo.Context) error {
		if _, err := c.FormParams(); err != nil {
			return err
		}
		return c.String(http.StatusOK, "ok")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	bareSrv := &http.Server{Handler: bare, ReadHeaderTimeout: 10 * time.Second}
	go bareSrv.Serve(ln)
	defer bareSrv.Close()
	bareAddr := ln.Addr().String()

	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 4 * o.clients
	tr.MaxIdleConnsPerHost = o.clients
	tr.DisableCompression = true
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}

	bareURLs := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "http://" + bareAddr + "/p/" + auth.NewToken()
		}
		return out
	}
	next := 0
	tandemURLs := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "http://" + tandemAddr + "/p/" + tokens[next]
			next++
		}
		return out
	}

	fmt.Printf("warm-up: %d requests to each server\n", o.warm)
	if r := load(ctx, client, o.clients, bareURLs(o.warm), body); r.failures > 0 {
		return fmt.Errorf("warm-up of the bare server: %s", r.failureText())
	}
	if r := load(ctx, client, o.clients, tandemURLs(o.warm), body); r.failures > 0 {
		return fmt.Errorf("warm-up of Tandem: %s", r.failureText())
	}

	var prof *os.File
	if o.cpuprofile != "" {
		if prof, err = os.Create(o.cpuprofile); err != nil {
			return err
		}
		defer prof.Close()
	}
	fmt.Printf("\n%d requests per phase, %d clients, GOMAXPROCS %d\n", o.n, o.clients, runtime.GOMAXPROCS(0))
	fmt.Printf("%-6s %-7s %10s %9s %9s %9s %9s %12s\n", "pair", "server", "req/s", "p50 ms", "p90 ms", "p99 ms", "failures", "CPU µs/req")
	var bares, reals []result
	var walSizes []string
	failed := 0
	for pair := 1; pair <= o.pairs; pair++ {
		b := load(ctx, client, o.clients, bareURLs(o.n), body)
		b.print(pair, "bare")
		if prof != nil {
			if err := pprof.StartCPUProfile(prof); err != nil {
				return err
			}
		}
		r := load(ctx, client, o.clients, tandemURLs(o.n), body)
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
			prof = nil // one Tandem phase is enough
		}
		r.print(pair, "tandem")
		if fi, err := os.Stat(org.Path + "-wal"); err == nil {
			walSizes = append(walSizes, fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6))
		}
		bares, reals = append(bares, b), append(reals, r)
		failed += b.failures + r.failures
		for _, x := range []result{b, r} {
			if x.failures > 0 {
				fmt.Println("  failures:", x.failureText())
			}
		}
	}

	fmt.Println()
	var ratios []float64
	for i := range bares {
		ratios = append(ratios, reals[i].rps()/bares[i].rps())
	}
	medBare := median(mapf(bares, result.rps))
	medReal := median(mapf(reals, result.rps))
	medP99 := median(mapf(reals, func(r result) float64 { return ms(r.pct(99)) }))
	fmt.Printf("bare handler: median %.0f req/s, median p99 %.1f ms\n", medBare, median(mapf(bares, func(r result) float64 { return ms(r.pct(99)) })))
	fmt.Printf("tandem:       median %.0f req/s, median p50 %.1f ms, median p99 %.1f ms (worst phase %.1f ms)\n", medReal,
		median(mapf(reals, func(r result) float64 { return ms(r.pct(50)) })), medP99, slices.Max(mapf(reals, func(r result) float64 { return ms(r.pct(99)) })))
	fmt.Printf("ratio tandem/bare per pair: %s; median %.1f %% (target at least 25 %%: %s)\n", percents(ratios), 100*median(ratios), verdict(median(ratios) >= 0.25))
	fmt.Printf("tandem p99: median %.1f ms (target under 50 ms: %s)\n", medP99, verdict(medP99 < 50))
	fmt.Printf("failures (non-200 or errors): %d\n", failed)
	fmt.Printf("SQLite WAL file after each Tandem phase: %s\n", strings.Join(walSizes, ", "))

	if o.direct > 0 {
		if err := timeDirect(ctx, st, tokens[next:next+o.direct], qs); err != nil {
			return err
		}
		next += o.direct
	}

	// Every answer was stored once.
	var responded, responses int
	if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM invitations WHERE round_id = ? AND responded", round.ID).Scan(&responded); err != nil {
		return err
	}
	if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM responses WHERE round_id = ?", round.ID).Scan(&responses); err != nil {
		return err
	}
	fmt.Printf("database: %d invitations answered, %d responses stored (sent %d)\n", responded, responses, next)
	fmt.Println(machine.Load())
	cancel()
	if err := <-srvDone; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	if failed > 0 || responded != next || responses != next {
		return errors.New("some requests failed or were not stored")
	}
	return nil
}

// timeDirect stores one answer per token the way submitAnswer does, from
// one goroutine with no HTTP and no competition for the writer: the
// invitation and question reads, then the write transaction. It prints
// the median time of each part.
func timeDirect(ctx context.Context, st *store.Store, tokens []string, qs []pulse.Question) error {
	var answers []pulse.Answer
	for _, q := range qs {
		v := "4"
		if q.Kind == pulse.Scale010 {
			v = "8"
		}
		a, ok, err := pulse.ParseAnswer(&q, v)
		if err != nil {
			return err
		}
		if ok {
			answers = append(answers, a)
		}
	}
	var reads, writes []float64
	for _, tok := range tokens {
		hash := auth.HashToken(tok)
		t0 := time.Now()
		inv, err := st.InvitationByToken(ctx, hash)
		if err != nil {
			return err
		}
		if _, err := st.RoundQuestions(ctx, inv.RoundID); err != nil {
			return err
		}
		t1 := time.Now()
		if err := st.SubmitResponse(ctx, hash, answers, "Good week overall.", time.Now()); err != nil {
			return err
		}
		reads, writes = append(reads, ms(t1.Sub(t0))), append(writes, ms(time.Since(t1)))
	}
	w := median(writes)
	fmt.Printf("store alone, one goroutine, %d answers: reads (invitation + questions) median %.3f ms, SubmitResponse transaction median %.3f ms (one writer: at most ≈%.0f answers/s)\n",
		len(tokens), median(reads), w, 1000/w)
	return nil
}

// result is one phase: the latency of each request and what failed.
type result struct {
	wall     time.Duration
	cpu      time.Duration   // of the whole process, load generator included
	lat      []time.Duration // sorted
	failures int
	problems map[string]int
}

func (r result) rps() float64 { return float64(len(r.lat)) / r.wall.Seconds() }

func (r result) pct(p int) time.Duration {
	i := (len(r.lat)*p+99)/100 - 1
	return r.lat[max(i, 0)]
}

func (r result) print(pair int, name string) {
	fmt.Printf("%-6d %-7s %10.0f %9.2f %9.2f %9.2f %9d %12.0f\n", pair, name, r.rps(), ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), r.failures,
		float64(r.cpu.Microseconds())/float64(len(r.lat)))
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
	cpu0 := processCPU()
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
					lat[i] = time.Since(t0)
					fail(err.Error())
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if err != nil {
					fail("read body: " + err.Error())
				} else if resp.StatusCode != http.StatusOK {
					fail("HTTP " + strconv.Itoa(resp.StatusCode))
				}
			}
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.cpu = processCPU() - cpu0
	slices.Sort(lat)
	res.lat = lat
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// processCPU is the CPU time this process (server and clients) has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}

func mapf[T any](xs []T, f func(T) float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func percents(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.1f %%", 100*x))
	}
	return strings.Join(parts, ", ")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}
