// Package cli is fcgiscope's headless command line: the subcommands send,
// values, proxy, tap, backend and version, run on the same engine as the
// window.
//
// It does not import Fyne. main.go runs it when its first argument is a
// subcommand (see IsCommand) and opens the window otherwise; in the build
// without the window (-tags headless) it runs it for every command line, and
// a new subcommand needs no change there.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sirupsen/logrus"

	"fcgiscope/ui/buildinfo"
)

// Runner runs one command line. Its zero value is not usable: Stdout and
// Stderr must be set.
type Runner struct {
	// Stdout receives the command's output, Stderr the logs and errors.
	Stdout, Stderr io.Writer
	// Stdin is read for --stdin-file -, --body-file - and --data-file -
	// (nil: nothing to read).
	Stdin io.Reader
	// Getenv reads the environment (nil: os.Getenv).
	Getenv func(string) string
	// Listening, when set, is called once with the address the proxy or
	// the backend listens on, as soon as it accepts connections (tests use
	// it with --listen 127.0.0.1:0). The log line "listening" says the same.
	Listening func(addr string)
	// Build describes the binary, for the version command (the zero value
	// says unknown).
	Build buildinfo.Info
	// NoWindow says that the binary was built without the window (-tags
	// headless): the usage says so, and a command line without a subcommand
	// lists the commands.
	NoWindow bool
}

// Run runs the subcommand named by args[0] with the flags that follow,
// reading os.Stdin, and returns the process exit code: ExitOK, ExitFailure
// or ExitUsage. Cancelling ctx (SIGINT in main) stops a running proxy or
// backend and aborts a request in flight.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	r := &Runner{Stdout: stdout, Stderr: stderr, Stdin: os.Stdin}
	return r.Run(ctx, args)
}

// IsCommand reports whether name is a subcommand (or help: "help", "-h",
// "--help"), so that main.go knows to call Run rather than open the window.
func IsCommand(name string) bool {
	if isHelp(name) {
		return true
	}
	_, ok := findCommand(name)
	return ok
}

func isHelp(name string) bool {
	switch name {
	case "help", "-h", "-help", "--help":
		return true
	}
	return false
}

// command is one subcommand.
type command struct {
	name     string
	synopsis string // flags summary after the name
	summary  string // one line
	logLevel string // default --log-level
	// setup registers the command's own flags on fs and returns the
	// function that runs it once the flags are parsed.
	setup func(fs *flag.FlagSet) func(ctx context.Context, e *env) error
}

// commands returns the subcommands, in the order of the help.
func commands() []command {
	return []command{
		{"send", "--addr ADDR | --preset FILE [--env NAME] [--url URL --docroot DIR ...] [--param NAME=VALUE ...] [--json]",
			"send one request and show every record, the response, stderr and timings", "warn", setupSend},
		{"values", "--addr ADDR [--json]",
			"ask a backend FCGI_GET_VALUES (MAX_CONNS, MAX_REQS, MPXS_CONNS)", "warn", setupValues},
		{"proxy", "--addr ADDR --docroot DIR [--listen 127.0.0.1:8080] [--max-conns 64] [--keep-conn auto|on|off] [--record DIR [--record-keep N]]",
			"serve HTTP, forward each request to the backend, optionally record every exchange", "info", setupProxy},
		{"tap", "--listen unix:/run/fcgiscope.sock --upstream unix:/run/php/php8.2-fpm.sock [--record DIR [--record-keep N]] [--json] | --read FILE [--port 9000 | --all-ports] [--json]",
			"stand between a web server and php-fpm and show every exchange live, or read a pcap/pcapng capture", "info", setupTap},
		{"backend", "[--listen 127.0.0.1:9000]",
			"run the demo FastCGI backend (/echo, /stderr, /status, /slow, ...)", "info", setupBackend},
		{"version", "[--json]", "print the version, the commit and the Go and Fyne releases of this binary", "warn", setupVersion},
	}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// env is what a running command gets: the Runner, the logger built from the
// global flags and the redaction they chose.
type env struct {
	*Runner
	log *logrus.Logger
	red redactor
}

func (r *Runner) getenv(name string) string {
	if r.Getenv == nil {
		return os.Getenv(name)
	}
	return r.Getenv(name)
}

// Run runs one command line; see the package function Run.
func (r *Runner) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		if r.NoWindow {
			fmt.Fprintln(r.Stderr, "fcgiscope: this build has no window (built with -tags headless, for servers and containers); run one of its commands:")
			r.commandList(r.Stderr)
			fmt.Fprintln(r.Stderr, "\nRun 'fcgiscope help' for every flag of every command.")
			return ExitUsage
		}
		fmt.Fprintln(r.Stderr, "fcgiscope: no subcommand")
		r.usage(r.Stderr)
		return ExitUsage
	}
	name, args := args[0], args[1:]
	if isHelp(name) {
		return r.help(args)
	}
	cmd, ok := findCommand(name)
	if !ok {
		fmt.Fprintf(r.Stderr, "fcgiscope: unknown subcommand %q (run 'fcgiscope help')\n", name)
		return ExitUsage
	}

	fs := newFlagSet("fcgiscope "+cmd.name, r.Stderr)
	var lf LogFlags
	lf.Register(fs, cmd.logLevel, r.getenv)
	run := cmd.setup(fs)
	err := parseFlags(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		r.commandUsage(r.Stdout, cmd)
		return ExitOK
	}
	if err != nil {
		return r.fail(cmd, err)
	}
	log, err := NewLogger(r.Stderr, lf.Level, lf.Format)
	if err != nil {
		return r.fail(cmd, &usageError{msg: strings.TrimPrefix(err.Error(), "cli: ")})
	}
	return r.fail(cmd, run(ctx, &env{Runner: r, log: log, red: redactor{secrets: lf.Secrets}}))
}

// fail prints err (if any) and returns the exit code it means.
func (r *Runner) fail(cmd command, err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(r.Stderr, "fcgiscope %s: %v\nRun 'fcgiscope help %s' for usage.\n", cmd.name, ue.msg, cmd.name)
		return ExitUsage
	}
	if errors.As(err, new(reported)) {
		return ExitFailure
	}
	fmt.Fprintf(r.Stderr, "fcgiscope %s: %v\n", cmd.name, err)
	return ExitFailure
}

// help prints the usage of one command, or of all.
func (r *Runner) help(args []string) int {
	switch {
	case len(args) == 0:
		r.usage(r.Stdout)
		return ExitOK
	case len(args) == 1:
		if cmd, ok := findCommand(args[0]); ok {
			r.commandUsage(r.Stdout, cmd)
			return ExitOK
		}
		fmt.Fprintf(r.Stderr, "fcgiscope help: unknown subcommand %q\n", args[0])
	default:
		fmt.Fprintln(r.Stderr, "fcgiscope help: at most one subcommand")
	}
	return ExitUsage
}

// usage prints the usage of every subcommand.
func (r *Runner) usage(w io.Writer) {
	window := "open the window"
	if r.NoWindow {
		window = "(this build has no window: -tags headless)"
	}
	fmt.Fprintf(w, `fcgiscope: inspect FastCGI backends record by record.

Usage:
  fcgiscope                    %s
  fcgiscope <command> [flags]  run headless
  fcgiscope help [command]     this help, or one command's

Commands:
`, window)
	r.commandList(w)
	fmt.Fprintf(w, `
Addresses: host:port, tcp://host:port, unix:/path/php-fpm.sock or /path/php-fpm.sock.
Exit codes: 0 success (send: END_REQUEST with REQUEST_COMPLETE arrived within
--timeout, whatever the HTTP status), 1 failure (cannot connect, timed out,
refused with UNKNOWN_ROLE, OVERLOADED or CANT_MPX_CONN, connection closed,
protocol error), 2 bad command line.
`)
	for _, c := range commands() {
		fmt.Fprintln(w)
		r.commandUsage(w, c)
	}
}

// commandList prints each subcommand's name and summary, one a line.
func (r *Runner) commandList(w io.Writer) {
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// commandUsage prints one command's synopsis and flags.
func (r *Runner) commandUsage(w io.Writer, cmd command) {
	fs := newFlagSet("fcgiscope "+cmd.name, w)
	var lf LogFlags
	lf.Register(fs, cmd.logLevel, r.getenv)
	cmd.setup(fs)
	fmt.Fprintf(w, "fcgiscope %s %s\n  %s\n", cmd.name, cmd.synopsis, cmd.summary)
	if extra := commandNotes(cmd.name); extra != "" {
		fmt.Fprint(w, extra)
	}
	fmt.Fprintln(w, "Flags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// commandNotes returns the extra paragraphs of a command's usage.
func commandNotes(name string) string {
	switch name {
	case "send":
		return `  HTTP mode (--url or --docroot given): the request is composed as HTTP and
  mapped to CGI params like nginx does; --param then adds a param or
  overrides one of the same name. Raw mode: only the --param values are
  sent, in the order given, duplicates kept; --stdin-file is the body.

  --preset FILE sends a preset saved by the window (its target, mode, role,
  keep-conn, request id, params, HTTP fields, body and data file); each flag
  given overrides its field: --addr, --role, --keep-conn (--keep-conn=false
  clears it), --data-file, --method, --url, --docroot, --server-name,
  --server-port, --remote-addr, --https. --header replaces the preset's
  header lines of the same name (all of them, at the place of the first)
  and appends the others. --body, --body-file and --stdin-file replace the
  body. --param applies after the mapping, as without a preset. HTTP flags
  need an HTTP-mode preset, or --url to switch a raw-mode one to HTTP.

  --env NAME replaces each {{variable}} in the target, params, URL, headers,
  other HTTP fields and body with the value in that environment, before
  anything is sent; an unknown variable is an error (exit 2). The
  environments file (environments.toml) is --env-file, else the first found
  next to the preset or in a parent folder, else the one in the window's
  presets folder. A preset that uses variables needs --env; without a
  preset and without --env the flags are sent as written.
`
	case "proxy":
		return `  Listens on loopback by default; naming another address exposes the backend.
`
	case "tap":
		return tapNotes
	}
	return ""
}
