package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tandem-hq/tandem/internal/auth"
	"github.com/tandem-hq/tandem/internal/roster"
	"github.com/tandem-hq/tandem/internal/store"
	"github.com/tandem-hq/tandem/internal/tandem"
)

func runMigrate(ctx context.Context, args []string, out io.Writer) error {
	var c common
	var status bool
	var to string
	fs := newFlags("migrate [--status] [--to postgres://…]", "Apply pending database migrations. tandem serve applies them too; run this to upgrade ahead of a start.\n"+
		"With --to, copy the SQLite database (--db) into an empty PostgreSQL database instead, in one transaction, every table's rows counted on both sides.")
	c.register(fs, "tandem.db")
	fs.BoolVar(&status, "status", false, "only show the schema version")
	fs.StringVar(&to, "to", "", "copy the SQLite database into this empty PostgreSQL database (postgres://…); stop tandem serve first, or the copy misses what is written after it starts")
	if err := fs.parse(args); err != nil {
		return err
	}
	if to != "" {
		return copyToPostgres(ctx, c.db, to, out)
	}
	st, err := store.Open(ctx, c.db, store.Options{NoMigrate: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if !status {
		applied, err := st.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(out, "nothing to do: the database is up to date")
		}
		for _, v := range applied {
			fmt.Fprintf(out, "applied migration %04d\n", v)
		}
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "schema version %d of %d\n", v.Current, v.Latest)
	return nil
}

// copyToPostgres is `tandem migrate --to`: the SQLite database at db into
// the PostgreSQL database at to.
func copyToPostgres(ctx context.Context, db, to string, out io.Writer) error {
	if strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://") {
		return tandem.Errorf(tandem.EINVALID, "--db must name the SQLite file to copy from; it names a PostgreSQL database")
	}
	if _, err := os.Stat(strings.TrimPrefix(strings.TrimPrefix(db, "sqlite:"), "file:")); err != nil {
		return tandem.Errorf(tandem.EINVALID, "--db %s: there is no SQLite database there to copy", db)
	}
	src, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	start := time.Now()
	counts, err := store.CopyToPostgres(ctx, src, to)
	if err != nil {
		return err
	}
	var total int64
	for _, c := range counts {
		if c.Rows > 0 {
			fmt.Fprintf(out, "%-24s %10d rows\n", c.Table, c.Rows)
		}
		total += c.Rows
	}
	fmt.Fprintf(out, "copied %d rows in %d tables in %s; the counts agree on both sides.\nServe it with: tandem serve --db '%s'\n",
		total, len(counts), time.Since(start).Round(time.Millisecond), redactURL(to))
	return nil
}

// redactURL hides a password in a database URL before it is printed.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the --to URL"
	}
	return u.Redacted()
}

func runImport(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "ratings" {
		return runImportRatings(ctx, args[1:], out)
	}
	if len(args) > 0 && args[0] == "history" {
		return runImportHistory(ctx, args[1:], out)
	}
	if len(args) == 0 || (args[0] != "roster" && !strings.HasPrefix(args[0], "-")) {
		fmt.Fprintln(os.Stderr, "Usage: tandem import roster [flags] FILE\n       tandem import ratings [flags] FILE\n       tandem import history --program NAME [flags] FILE")
		return errUsage
	}
	if args[0] == "roster" {
		args = args[1:]
	}
	var c common
	var dryRun, full bool
	fs := newFlags("import roster [flags] FILE", "Import a roster CSV: add and update employees, create units from team paths.\nAny bad row: nothing is imported, and every problem is listed by line and column.")
	c.register(fs, "tandem.db")
	fs.BoolVar(&dryRun, "dry-run", false, "show what would change, change nothing")
	fs.BoolVar(&full, "mark-missing-exited", false, "the file is the full roster: mark active employees not in it as exited today")
	if err := fs.parse(reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "Usage: tandem import roster [flags] FILE")
		return errUsage
	}
	st, err := store.Open(ctx, c.db, store.Options{Now: clockOf(ctx)})
	if err != nil {
		return err
	}
	defer st.Close()
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return fmt.Errorf("open the roster file: %w", err)
	}
	defer f.Close()
	today := tandem.Today(nowOf(ctx))
	plan, err := st.PlanRoster(ctx, f, roster.Options{MarkMissingExited: full, Today: today})
	var ie *roster.ImportError
	if errors.As(err, &ie) {
		fmt.Fprintln(out, ie.Error())
		return tandem.Errorf(tandem.EINVALID, "%s: %d problem(s), nothing imported", fs.Arg(0), len(ie.Errors))
	} else if err != nil {
		return err
	}
	printPlan(out, plan)
	if dryRun {
		fmt.Fprintln(out, "dry run: nothing changed")
		return nil
	}
	res, err := st.ApplyRoster(ctx, plan, today)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("imported %s: %d added, %d updated, %d marked exited, %d new units", fs.Arg(0), res.Added, res.Updated, res.Exited, res.UnitsCreated)
	if err := st.Audit(ctx, store.AuditEntry{UserEmail: "cli", Action: "roster.import", Detail: msg}); err != nil {
		return err
	}
	fmt.Fprintln(out, msg)
	return nil
}

func printPlan(out io.Writer, p *roster.Plan) {
	fmt.Fprintf(out, "%d rows: %d to add, %d to change, %d unchanged, %d to mark exited, %d new units\n",
		len(p.File.Records), len(p.Add), len(p.Update), p.Unchanged, len(p.Exit), len(p.NewUnits))
	for _, u := range p.NewUnits {
		fmt.Fprintf(out, "  new unit  %s\n", strings.Join(u, " / "))
	}
	for _, r := range p.Add {
		fmt.Fprintf(out, "  add       line %d: %s <%s> in %s\n", r.Line, r.Name, r.Email, strings.Join(r.TeamPath, " / "))
	}
	for _, u := range p.Update {
		var ch []string
		for _, c := range u.Changes {
			ch = append(ch, fmt.Sprintf("%s %q → %q", c.Field, c.Old, c.New))
		}
		fmt.Fprintf(out, "  change    line %d: %s: %s\n", u.Record.Line, u.Record.Name, strings.Join(ch, "; "))
	}
	for _, e := range p.Exit {
		fmt.Fprintf(out, "  exit      %s <%s> (not in the file)\n", e.Name, e.Email)
	}
}

// reorder moves flags before positional arguments, so that
// `tandem import roster FILE --dry-run` works as people type it.
func reorder(args []string) []string {
	var flagsFirst, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			flagsFirst = append(flagsFirst, a)
			// A flag given as "--db PATH" takes the next word.
			if !strings.Contains(a, "=") && takesValue(a) && i+1 < len(args) {
				flagsFirst = append(flagsFirst, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flagsFirst, pos...)
}

func takesValue(flag string) bool {
	switch strings.TrimLeft(flag, "-") {
	case "dry-run", "mark-missing-exited", "status", "h", "help":
		return false
	}
	return true
}

func runUser(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(os.Stderr, "Usage: tandem user add EMAIL --role admin|hr|leader [--unit PATH-OR-ID] [--name NAME]\n\nThe password is read from $TANDEM_PASSWORD, or generated and printed once.")
		return errUsage
	}
	var c common
	var role, unit, name string
	fs := newFlags("user add EMAIL --role ROLE [flags]", "Create an account. The password comes from $TANDEM_PASSWORD, or is generated and printed once.")
	c.register(fs, "tandem.db")
	fs.StringVar(&role, "role", "", "admin, hr or leader (required)")
	fs.StringVar(&unit, "unit", "", "for a leader: the unit they lead, as a path (Sales/EMEA) or an id")
	fs.StringVar(&name, "name", "", "display name")
	if err := fs.parse(reorder(args[1:])); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "Usage: tandem user add EMAIL --role admin|hr|leader")
		return errUsage
	}
	r, err := tandem.ParseRole(role)
	if err != nil {
		return tandem.Errorf(tandem.EINVALID, "--role: %s", tandem.ErrorMessage(err))
	}
	st, err := store.Open(ctx, c.db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	u := &tandem.User{Email: tandem.NormalizeEmail(fs.Arg(0)), Name: name, Role: r}
	if unit != "" {
		tree, err := st.Tree(ctx)
		if err != nil {
			return err
		}
		u.ScopeUnitID, err = findUnit(tree, unit)
		if err != nil {
			return err
		}
	}
	password := os.Getenv("TANDEM_PASSWORD")
	generated := password == ""
	if generated {
		password = auth.NewToken()[:20]
	}
	if err := tandem.ValidatePassword(password); err != nil {
		return tandem.Errorf(tandem.EINVALID, "$TANDEM_PASSWORD %s", tandem.ErrorMessage(err))
	}
	if u.PasswordHash, err = auth.HashPassword(password); err != nil {
		return err
	}
	if err := st.CreateUser(ctx, u); err != nil {
		return err
	}
	if err := st.Audit(ctx, store.AuditEntry{UserEmail: "cli", Action: "user.create", Detail: fmt.Sprintf("%s as %s", u.Email, u.Role)}); err != nil {
		return err
	}
	fmt.Fprintf(out, "created %s account %s\n", u.Role, u.Email)
	if generated {
		fmt.Fprintf(out, "password: %s\n(shown once; they can change it after signing in)\n", password)
	}
	return nil
}

// findUnit resolves a unit given as an id or a path.
func findUnit(tree *tandem.Tree, ref string) (int64, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil && tree.Unit(id) != nil {
		return id, nil
	}
	parts, err := tandem.SplitUnitPath(ref)
	if err != nil {
		return 0, err
	}
	if u := tree.ByPath(parts); u != nil {
		return u.ID, nil
	}
	return 0, tandem.Errorf(tandem.EINVALID, "--unit %q: no such unit; give its path from the top (Company/Sales/EMEA) or its id", ref)
}
