package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tandem-hq/tandem/internal/demo"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func runDemo(ctx context.Context, args []string, out io.Writer) error {
	var cfg serveConfig
	var noServe bool
	var seed uint64
	fs := newFlags("demo [flags]", "Create (or refresh) a demo database with a realistic organisation and serve it.\n"+
		"The demo database is separate from your real one (tandem-demo.db by default) and is rebuilt on every run.")
	cfg.register(fs, "tandem-demo.db")
	fs.BoolVar(&noServe, "no-serve", false, "only build the database, do not start the server")
	fs.Uint64Var(&seed, "seed", 42, "random seed: the same seed gives the same organisation")
	if err := fs.parse(args); err != nil {
		return err
	}
	log, err := cfg.logger()
	if err != nil {
		return err
	}
	if err := resetDemoDB(ctx, cfg.db); err != nil {
		return err
	}
	start := time.Now()
	st, err := store.Open(ctx, cfg.db, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	base := cfg.baseURL
	if base == "" {
		base = "http://" + cfg.addr
	}
	sum, err := demo.Generate(ctx, st, demo.Options{Seed: seed, Today: tandem.Today(start), Now: start, BaseURL: base})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Demo database %s: %d units, %d employees (%d of them exited), %d weekly pulse rounds, %d customer ratings, built in %s.\n",
		cfg.db, sum.Units, sum.Employees, sum.Exited, sum.Rounds, sum.Ratings, time.Since(start).Round(time.Millisecond))
	if noServe {
		return nil
	}
	return serve(ctx, &cfg, st, log, func(addr string) {
		fmt.Fprintf(out, "\nTandem demo is running at %s\nSign in with any of these (password %q):\n", "http://"+addr, demo.Password)
		for _, a := range sum.Accounts {
			fmt.Fprintf(out, "  %-26s %-7s %s\n", a.Email, a.Role, a.Scope)
		}
		if len(sum.Pulse.Links) > 0 {
			fmt.Fprintf(out, "\nRound %d of %q is open until %s. Answer it as an employee with one of these links:\n",
				sum.Pulse.OpenRound.Seq, sum.Pulse.Program.Name, sum.Pulse.OpenRound.ClosesAt.In(sum.Pulse.Location()).Format("Mon 2 Jan 15:04 MST"))
			for _, l := range sum.Pulse.Links {
				fmt.Fprintf(out, "  %s\n", l)
			}
		}
		fmt.Fprintf(out, "Press Ctrl+C to stop.\n")
	})
}

// resetDemoDB removes an earlier demo database so the demo starts fresh.
// It refuses to remove a database that is not a demo: a typo in --db must
// not delete real data.
func resetDemoDB(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	st, err := store.Open(ctx, path, store.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	isDemo := ""
	if err == nil && v.Current > 0 {
		isDemo, err = st.Setting(ctx, "demo")
	}
	st.Close()
	if err != nil {
		return err
	}
	if v.Current > 0 && isDemo != "1" {
		return tandem.Errorf(tandem.EINVALID, "%s is not a demo database; tandem demo only replaces its own. Choose another file with --db", path)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove the old demo database: %w", err)
		}
	}
	return nil
}
