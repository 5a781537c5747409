// Command servestart measures how long `tandem serve` takes to start on an
// existing database: from starting the process until GET /readyz answers
// 200. That includes the Go runtime's start, opening the SQLite database,
// the migrations check and the first query. The target is under
// 300 ms.
//
// It builds the binary once, creates a demo database with
// `tandem demo --no-serve` (or uses -db), then starts and stops the server
// -n times, polling /readyz every 2 ms on 127.0.0.1, and prints the median,
// p90, min and max. For scale it also times `tandem version`, the cost of
// starting the process alone. Run it from the repository:
//
//	go run ./bench/servestart -n 20
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/testbin"
)

func main() {
	n := flag.Int("n", 20, "number of starts to time")
	db := flag.String("db", "", "existing database to serve (default: a fresh demo database in a temporary folder)")
	keep := flag.Bool("keep", false, "keep the temporary folder with the binary and database")
	flag.Parse()
	if err := run(*n, *db, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "servestart:", err)
		os.Exit(1)
	}
}

func run(n int, db string, keep bool) error {
	if n < 1 {
		return errors.New("-n must be at least 1")
	}
	root, err := testbin.ModuleRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tandem-servestart-")
	if err != nil {
		return err
	}
	if keep {
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

	if db == "" {
		db = filepath.Join(dir, "demo.db")
		out, err := testbin.Command(dir, bin, "demo", "--no-serve", "--db", db).CombinedOutput()
		if err != nil {
			return fmt.Errorf("tandem demo: %v\n%s", err, out)
		}
		fmt.Print(string(out))
	}
	if fi, err := os.Stat(db); err != nil {
		return err
	} else {
		fmt.Printf("database %s: %.1f MB\n", db, float64(fi.Size())/1e6)
	}

	// The floor: starting the process and exiting, no database.
	var floor []time.Duration
	for range n {
		t0 := time.Now()
		if out, err := testbin.Command(dir, bin, "version").CombinedOutput(); err != nil {
			return fmt.Errorf("tandem version: %v\n%s", err, out)
		}
		floor = append(floor, time.Since(t0))
	}

	var starts []time.Duration
	for i := range n {
		d, err := timeStart(dir, bin, db)
		if err != nil {
			return fmt.Errorf("start %d: %w", i+1, err)
		}
		starts = append(starts, d)
	}

	fmt.Printf("\n%d starts of `tandem serve` until /readyz answered 200 (polled every 2 ms):\n", n)
	report("serve → /readyz 200", starts)
	report("tandem version (process start only)", floor)
	fmt.Printf("all serve starts (ms): %s\n", list(starts))
	return nil
}

// timeStart starts the server on a free port, waits until /readyz answers
// 200 and stops it with SIGTERM. It returns the time from starting the
// process to the first 200.
func timeStart(dir, bin, db string) (time.Duration, error) {
	s, err := testbin.Serve(testbin.ServeOptions{Bin: bin, DB: db, Dir: dir, Log: filepath.Join(dir, "serve.log"),
		Args: []string{"--log-level", "warn"}, Ready: 10 * time.Second, Poll: 2 * time.Millisecond})
	if err != nil {
		return 0, err
	}
	if err := s.Stop(15 * time.Second); err != nil {
		return 0, fmt.Errorf("stop: %v\n%s", err, s.Tail(20))
	}
	return s.Ready, nil
}

func report(name string, ds []time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	fmt.Printf("  %-38s median %6.1f ms  p90 %6.1f ms  min %6.1f ms  max %6.1f ms\n",
		name, ms(median(s)), ms(percentile(s, 0.9)), ms(s[0]), ms(s[len(s)-1]))
}

// median of sorted durations.
func median(s []time.Duration) time.Duration {
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// percentile of sorted durations, by nearest rank.
func percentile(s []time.Duration, p float64) time.Duration {
	rank := int(p*float64(len(s)) + 0.999999)
	return s[min(max(rank, 1), len(s))-1]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func list(ds []time.Duration) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%.1f", ms(d))
	}
	return strings.Join(parts, " ")
}
