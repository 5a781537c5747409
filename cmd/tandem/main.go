// Command tandem runs Tandem: an employee engagement and retention tracker
// that links pulse results to customer satisfaction, team by team.
//
// Every subcommand reads its settings from flags, falling back to TANDEM_*
// environment variables; see `tandem help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // program time zones work on machines without tzdata

	"github.com/tandem-hq/tandem/internal/tandem"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, out io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the web server", runServe},
		{"demo", "create or refresh a demo database and serve it", runDemo},
		{"import", "import a file: tandem import roster FILE, tandem import ratings FILE, tandem import history FILE", runImport},
		{"user", "manage accounts: tandem user add EMAIL --role admin|hr|leader", runUser},
		{"report", "print a report: tandem report correlation|retention [--format table|json|csv]", runReport},
		{"migrate", "apply database migrations (also done at every start)", runMigrate},
		{"backup", "copy the SQLite database while it is in use: tandem backup FILE", runBackup},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Tandem %s: employee engagement and retention, linked to customer satisfaction.\n\nUsage: tandem COMMAND [flags]\n\nCommands:\n", version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun tandem COMMAND --help for the flags of a command.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil && !errors.Is(err, errHelp) {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "tandem:", describe(err))
		}
		os.Exit(exitCode(err))
	}
}

var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) || tandem.ErrorCode(err) == tandem.EINVALID {
		return 2
	}
	return 1
}

// describe prints domain errors by their message, others as they are.
func describe(err error) string {
	var te *tandem.Error
	if errors.As(err, &te) && err == error(te) {
		return te.Error()
	}
	return err.Error()
}

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(out)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], out)
		}
	}
	fmt.Fprintf(os.Stderr, "tandem: unknown command %q\n\n", args[0])
	usage(os.Stderr)
	return errUsage
}

func runVersion(ctx context.Context, args []string, out io.Writer) error {
	fs := newFlags("version", "Print the version of this binary.")
	if err := fs.parse(args); err != nil {
		return err
	}
	fmt.Fprintln(out, "tandem", version)
	return nil
}
