// The values subcommand: FCGI_GET_VALUES.

package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// valuesJSON is the values subcommand's --json output. Its fields are a
// contract: add, never rename.
type valuesJSON struct {
	Target string     `json:"target"`
	Values []jsonPair `json:"values"` // in the order of GET_VALUES_RESULT
	Error  *string    `json:"error"`
}

type jsonPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func setupValues(fs *flag.FlagSet) func(context.Context, *env) error {
	addr := fs.String("addr", "", "backend address (required): host:port, unix:/path or /path")
	asJSON := fs.Bool("json", false, "print one JSON object: {target, values [{name, value}], error}")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	return func(ctx context.Context, e *env) error {
		if *addr == "" {
			return usagef("--addr is required")
		}
		if _, _, err := fcgi.ParseAddr(*addr); err != nil {
			return usagef("--addr: %v", err)
		}
		if *timeout <= 0 {
			return usagef("--timeout must be positive")
		}
		return runValues(ctx, e, *addr, *asJSON, *timeout)
	}
}

func runValues(ctx context.Context, e *env, addr string, asJSON bool, timeout time.Duration) error {
	pool := session.NewPool(session.PoolOptions{Client: fcgi.ClientOptions{Options: fcgi.Options{Trace: TraceLogger(e.log)}}})
	defer pool.Close()
	eng := session.NewEngine(pool, session.EngineOptions{Timeout: timeout})
	e.log.WithField("addr", addr).Debug("GET_VALUES")
	vals, err := eng.GetValues(ctx, addr)

	if asJSON {
		out := valuesJSON{Target: addr, Values: make([]jsonPair, len(vals))}
		for i, p := range vals {
			out.Values[i] = jsonPair{Name: p.Name, Value: p.Value}
		}
		if err != nil {
			msg := err.Error()
			out.Error = &msg
		}
		b, jerr := json.Marshal(out)
		if jerr != nil {
			return fmt.Errorf("cli: values: encoding JSON: %w", jerr)
		}
		if _, werr := fmt.Fprintf(e.Stdout, "%s\n", b); werr != nil {
			return fmt.Errorf("cli: values: writing output: %w", werr)
		}
		return err
	}
	if err == nil && len(vals) == 0 {
		fmt.Fprintln(e.Stdout, "(the backend answered GET_VALUES_RESULT with no values)")
	}
	for _, p := range vals {
		fmt.Fprintf(e.Stdout, "%s=%s\n", p.Name, p.Value)
	}
	return err
}
