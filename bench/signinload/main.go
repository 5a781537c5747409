// Command signinload measures what parallel sign-ins cost a running
// `tandem serve`: 300 attempts sent at the same instant, and the server's
// peak resident memory (VmHWM in /proc/PID/status) before and after.
// Issue 15: with 300 parallel attempts the server once checked 138
// passwords against a limit of 5 and peaked at 2.1 GiB; memory must stay
// bounded (argon2id takes 19 MiB per hash).
//
// Each round starts a fresh `tandem serve` (SQLite, --rate-limit 0,
// --trusted-proxies 127.0.0.1/32, so that X-Forwarded-For gives each
// attempt its address) on a fresh database holding one account, created
// with the binary's own `tandem user add`. It fetches the sign-in page
// once for a CSRF cookie and token, reads VmHWM, then opens -n
// connections and releases all -n POST /login at once, in one of two
// shapes:
//
//	one-account:  every attempt at the one account from one address,
//	              one with the right password and the rest wrong (the
//	              review's "59 wrong, 1 right", scaled to -n);
//	spread:       every attempt at a different unknown account from a
//	              different address (X-Forwarded-For 10.x.y.z), so that
//	              no throttle applies and only the hashing slots bound
//	              the work.
//
// It prints, per round and as medians: the answers by status (303
// signed in, 401 wrong, 429 refused), the passwords checked (303 + 401),
// the burst's wall time, p50/p99 latency, and the server's peak memory
// before and after the burst. Other answers are listed by status; -1 is a
// connection the server closed without answering (its write timeout).
//
//	go run ./bench/signinload
//	go run ./bench/signinload -rounds 5 -n 300
//	go run ./bench/signinload -bin /tmp/tandem-before   # another build, for a before/after
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tandem-hq/tandem/bench/internal/machine"
	"github.com/tandem-hq/tandem/bench/internal/proc"
	"github.com/tandem-hq/tandem/internal/testbin"
)

const (
	account  = "hr@example.com"
	password = "correct horse battery"
)

type result struct {
	shape           string
	signedIn, wrong int
	throttled, busy int
	other           int
	otherKinds      map[int]int
	wall, p50, p99  time.Duration
	idleKB, peakKB  int64
}

func main() {
	n := flag.Int("n", 300, "parallel sign-in attempts per burst")
	rounds := flag.Int("rounds", 5, "rounds per shape, each on a fresh server and database")
	bin := flag.String("bin", "", "tandem binary to measure (default: build ./cmd/tandem)")
	flag.Parse()
	if err := run(*n, *rounds, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "signinload:", err)
		os.Exit(1)
	}
}

func run(n, rounds int, bin string) error {
	fmt.Println(machine.Describe())
	dir, err := os.MkdirTemp("", "tandem-signinload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		if bin, err = testbin.Build(dir); err != nil {
			return err
		}
	}
	fmt.Printf("binary %s, %d parallel attempts per burst, %d rounds per shape\n\n", bin, n, rounds)
	byShape := map[string][]result{}
	for r := 0; r < rounds; r++ {
		for _, shape := range []string{"one-account", "spread"} {
			res, err := burst(dir, bin, shape, n, r)
			if err != nil {
				return err
			}
			fmt.Printf("round %d %-11s  303 %3d  401 %3d  429 %3d (throttled %d, busy %d)  other %d %v  checked %3d  wall %6.0f ms  p50 %6.0f ms  p99 %6.0f ms  peak RSS %4.0f MiB (idle %3.0f MiB)\n",
				r+1, shape, res.signedIn, res.wrong, res.throttled+res.busy, res.throttled, res.busy, res.other, res.otherKinds, res.signedIn+res.wrong,
				ms(res.wall), ms(res.p50), ms(res.p99), mib(res.peakKB), mib(res.idleKB))
			byShape[shape] = append(byShape[shape], res)
		}
	}
	fmt.Println("\nmedians")
	for _, shape := range []string{"one-account", "spread"} {
		rs := byShape[shape]
		med := func(f func(result) float64) float64 {
			v := make([]float64, len(rs))
			for i, r := range rs {
				v[i] = f(r)
			}
			slices.Sort(v)
			if len(v)%2 == 1 {
				return v[len(v)/2]
			}
			return (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		fmt.Printf("%-11s  checked %.0f (max %.0f)  429 %.0f  wall %.0f ms  p50 %.0f ms  p99 %.0f ms  peak RSS %.0f MiB (max %.0f)  idle %.0f MiB\n", shape,
			med(func(r result) float64 { return float64(r.signedIn + r.wrong) }),
			slices.Max(collect(rs, func(r result) float64 { return float64(r.signedIn + r.wrong) })),
			med(func(r result) float64 { return float64(r.throttled + r.busy) }),
			med(func(r result) float64 { return ms(r.wall) }), med(func(r result) float64 { return ms(r.p50) }),
			med(func(r result) float64 { return ms(r.p99) }), med(func(r result) float64 { return mib(r.peakKB) }),
			slices.Max(collect(rs, func(r result) float64 { return mib(r.peakKB) })),
			med(func(r result) float64 { return mib(r.idleKB) }))
	}
	return nil
}

func collect(rs []result, f func(result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(kb int64) float64       { return float64(kb) / 1024 }

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func burst(dir, bin, shape string, n, round int) (result, error) {
	res := result{shape: shape}
	db := filepath.Join(dir, fmt.Sprintf("%s-%d.db", shape, round))
	add := proc.Command(dir, bin, "user", "add", account, "--role", "hr", "--db", db)
	add.Env = append(add.Env, "TANDEM_PASSWORD="+password)
	if out, err := add.CombinedOutput(); err != nil {
		return res, fmt.Errorf("tandem user add: %v\n%s", err, out)
	}
	srv, err := testbin.Serve(testbin.ServeOptions{Bin: bin, DB: db, Dir: dir, Poll: 20 * time.Millisecond,
		Log:  filepath.Join(dir, fmt.Sprintf("%s-%d.log", shape, round)),
		Args: []string{"--rate-limit", "0", "--log-level", "error", "--trusted-proxies", "127.0.0.1/32"}})
	if err != nil {
		return res, err
	}
	defer srv.Stop(15 * time.Second)
	cmd := srv.Cmd
	base := srv.URL()
	resp, err := http.Get(base + "/login")
	if err != nil {
		return res, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var cookie string
	for _, c := range resp.Cookies() {
		if c.Name == "tandem_csrf" {
			cookie = c.Name + "=" + c.Value
		}
	}
	if resp.StatusCode != http.StatusOK {
		return res, fmt.Errorf("GET /login: %d\n%s", resp.StatusCode, srv.Tail(20))
	}
	m := csrfRe.FindSubmatch(page)
	if m == nil || cookie == "" {
		return res, fmt.Errorf("no CSRF token on the sign-in page")
	}
	token := string(m[1])
	if res.idleKB, err = peakKB(cmd.Process.Pid); err != nil {
		return res, err
	}

	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	// Open the connections first, so that the burst is n requests on n
	// open connections, not n connection setups.
	var warm sync.WaitGroup
	for i := 0; i < n; i++ {
		warm.Add(1)
		go func() {
			defer warm.Done()
			if resp, err := client.Get(base + "/healthz"); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	warm.Wait()

	start := make(chan struct{})
	lat := make([]time.Duration, n)
	status := make([]int, n)
	body := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		email, pw, ip := account, "wrong password "+strconv.Itoa(i), "127.0.0.1"
		switch shape {
		case "one-account":
			if i == n/2 {
				pw = password
			}
		case "spread":
			email = fmt.Sprintf("nobody%d@example.com", i)
			ip = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		}
		form := url.Values{"email": {email}, "password": {pw}, "_csrf": {token}}.Encode()
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Cookie", cookie)
			if ip != "127.0.0.1" {
				req.Header.Set("X-Forwarded-For", ip)
			}
			<-start
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				// The server closed the connection (its write timeout)
				// or refused it.
				lat[i], status[i] = time.Since(t0), -1
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			lat[i], status[i], body[i] = time.Since(t0), resp.StatusCode, string(b)
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	res.wall = time.Since(t0)
	for i, s := range status {
		switch {
		case s == http.StatusSeeOther:
			res.signedIn++
		case s == http.StatusUnauthorized:
			res.wrong++
		case s == http.StatusTooManyRequests && strings.Contains(body[i], "Too many failed sign-ins"):
			res.throttled++
		case s == http.StatusTooManyRequests:
			res.busy++
		default:
			res.other++
			if res.otherKinds == nil {
				res.otherKinds = map[int]int{}
			}
			res.otherKinds[s]++
		}
	}
	slices.Sort(lat)
	res.p50, res.p99 = lat[n/2], lat[n*99/100]
	if res.peakKB, err = peakKB(cmd.Process.Pid); err != nil {
		return res, err
	}
	return res, nil
}

// peakKB reads a process's peak resident memory (VmHWM), in KiB.
func peakKB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
