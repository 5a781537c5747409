package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/tandem-hq/tandem/internal/tandem"
)

// flags is a flag set whose flags fall back to TANDEM_* environment
// variables. The help output names the variable of each flag.
type flags struct {
	*flag.FlagSet
	about string
}

func newFlags(name, about string) *flags {
	fs := &flags{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), about: about}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: tandem %s\n\n%s\n\nFlags:\n", name, about)
		fs.PrintDefaults()
	}
	return fs
}

func (fs *flags) string(p *string, name, env, def, usage string) {
	if v, ok := os.LookupEnv(env); ok && v != "" {
		def = v
	}
	fs.StringVar(p, name, def, usage+" ($"+env+")")
}

func (fs *flags) bool(p *bool, name, env string, def bool, usage string) {
	if v, ok := os.LookupEnv(env); ok && v != "" {
		if b, err := strconv.ParseBool(v); err == nil {
			def = b
		}
	}
	fs.BoolVar(p, name, def, usage+" ($"+env+")")
}

func (fs *flags) float(p *float64, name, env string, def float64, usage string) {
	if v, ok := os.LookupEnv(env); ok && v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			def = f
		}
	}
	fs.Float64Var(p, name, def, usage+" ($"+env+")")
}

func (fs *flags) duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	if v, ok := os.LookupEnv(env); ok && v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			def = d
		}
	}
	fs.DurationVar(p, name, def, usage+" ($"+env+")")
}

// parse parses args; --help prints usage and returns errUsage-free nil
// error handling through flag.ErrHelp.
func (fs *flags) parse(args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return errHelp
		}
		return errUsage
	}
	return nil
}

// errHelp ends a command after --help; main exits 0 for it.
var errHelp = &tandem.Error{Code: "help"}

// common are the settings most commands share.
type common struct {
	db        string
	logLevel  string
	logFormat string
}

func (c *common) register(fs *flags, defaultDB string) {
	fs.string(&c.db, "db", "TANDEM_DATABASE_URL", defaultDB, "database: a SQLite file path, or a postgres:// URL")
	fs.string(&c.logLevel, "log-level", "TANDEM_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	fs.string(&c.logFormat, "log-format", "TANDEM_LOG_FORMAT", "text", "log format: text or json")
}

// logOutput is where the log goes; a test of the terminal output points
// it at the same buffer as the command's output.
var logOutput io.Writer = os.Stderr

func (c *common) logger() (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, tandem.Errorf(tandem.EINVALID, "--log-level %q: use debug, info, warn or error", c.logLevel)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch c.logFormat {
	case "text", "":
		return slog.New(slog.NewTextHandler(logOutput, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(logOutput, opts)), nil
	}
	return nil, tandem.Errorf(tandem.EINVALID, "--log-format %q: use text or json", c.logFormat)
}
