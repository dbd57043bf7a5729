// Flags: the repeatable flag type and the global flags every subcommand takes.

package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Environment variables that set the default of the global log flags (a flag
// on the command line wins).
const (
	EnvLogLevel  = "FCGISCOPE_LOG_LEVEL"
	EnvLogFormat = "FCGISCOPE_LOG_FORMAT"
)

// Exit codes of Run.
const (
	ExitOK      = 0 // the command did its job (send: END_REQUEST with REQUEST_COMPLETE, in time)
	ExitFailure = 1 // transport or protocol failure, or a server that could not start
	ExitUsage   = 2 // bad command line
)

// repeated is a flag that may be given several times; the values keep the
// order of the command line.
type repeated []string

func (r *repeated) String() string { return strings.Join(*r, ", ") }

func (r *repeated) Set(v string) error {
	*r = append(*r, v)
	return nil
}

// reported is a failure the command's output already told (send's report
// or JSON holds the error): Run exits with ExitFailure without printing it
// again.
type reported struct{ err error }

func (e reported) Error() string { return e.err.Error() }
func (e reported) Unwrap() error { return e.err }

// usageError is a bad command line: Run prints it and exits with ExitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// LogFlags are the global flags every subcommand takes.
type LogFlags struct {
	Level   string // debug, info, warn or error
	Format  string // text or json
	Secrets bool   // log secret header and param values unredacted
}

// Register adds --log-level, --log-format and --log-secrets to fs.
// defLevel is the default level unless the environment (EnvLogLevel) gives
// one; getenv may be nil for os.Getenv.
func (lf *LogFlags) Register(fs *flag.FlagSet, defLevel string, getenv func(string) string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if v := getenv(EnvLogLevel); v != "" {
		defLevel = v
	}
	defFormat := "text"
	if v := getenv(EnvLogFormat); v != "" {
		defFormat = v
	}
	fs.StringVar(&lf.Level, "log-level", defLevel, "log level on stderr: debug, info, warn or error (env "+EnvLogLevel+")")
	fs.StringVar(&lf.Format, "log-format", defFormat, "log format: text or json (env "+EnvLogFormat+")")
	fs.BoolVar(&lf.Secrets, "log-secrets", false, "log Authorization and Cookie values (redacted by default)")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and
// writes its messages to w.
func newFlagSet(name string, w io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(w)
	return fs
}

// parseFlags parses args into fs and refuses positional arguments. It returns
// flag.ErrHelp for -h, a *usageError for anything else that is wrong.
func parseFlags(fs *flag.FlagSet, args []string) error {
	// The flag package prints its own error and the usage; keep only ours.
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q (every option is a --flag; quote values with spaces)", fs.Arg(0))
	}
	return nil
}

// flagsSet returns the names of the flags given on the command line.
func flagsSet(fs *flag.FlagSet) map[string]bool {
	set := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	return set
}
