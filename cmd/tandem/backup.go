package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tandem-hq/tandem/internal/store"
)

func runBackup(ctx context.Context, args []string, out io.Writer) error {
	var c common
	fs := newFlags("backup [flags] FILE", "Write a consistent copy of the SQLite database to FILE, safely while tandem serve runs.\n"+
		"For PostgreSQL use pg_dump (see docs/deploy.md). To restore, stop tandem and put the copy in place of the database file.")
	c.register(fs, "tandem.db")
	if err := fs.parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "Usage: tandem backup [--db tandem.db] FILE")
		return errUsage
	}
	st, err := store.Open(ctx, c.db, store.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	if err := st.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	info, err := os.Stat(fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "backed up %s to %s (%d KB) in %s\n", c.db, fs.Arg(0), info.Size()/1024, time.Since(start).Round(time.Millisecond))
	return nil
}
