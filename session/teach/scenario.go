// Scenarios: the demo backend's misbehaviours, ready to send, each run on a
// connection of its own so that strays and late records are recorded.

package teach

import (
	"context"
	"strings"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
)

// Scenario is one of the demo backend's misbehaviours, ready to send.
type Scenario struct {
	// ID is the route's path after demo.MisbehavePrefix, e.g. "wrong-id"
	// or "status/overloaded".
	ID   string
	Path string
	// Doc is the route's Summary: what the backend does and what a client
	// should make of it.
	Doc string
	// Input is a ready request for the demo backend (Target LessonTarget).
	Input session.Input
}

// scenarioSettings returns the query string and KEEP_CONN of a scenario's
// input.
func scenarioSettings(id string) (query string, keepConn bool) {
	switch id {
	case "slow-first-byte":
		return "ms=2000", false
	case "dribble":
		return "n=100", false
	case "status/app":
		return "code=3", false
	case "after-end":
		return "", true // the late record needs the connection open
	}
	return "", false
}

// Scenarios returns the demo backend's misbehaviours, in the order of its
// index page.
func Scenarios() []Scenario {
	var out []Scenario
	for _, r := range demo.Misbehaviours() {
		id := strings.TrimPrefix(r.Path, demo.MisbehavePrefix)
		query, keep := scenarioSettings(id)
		in := demoInput("GET", r.Path, query, nil)
		in.KeepConn = keep
		out = append(out, Scenario{ID: id, Path: r.Path, Doc: r.Summary, Input: in})
	}
	return out
}

// DefaultScenarioLinger is how long RunScenario keeps listening after the
// request ended, for records the backend sends late.
const DefaultScenarioLinger = 200 * time.Millisecond

// RunScenario sends the scenario's input to target on a connection of its
// own and records every record of that connection into the exchange,
// including strays and those that arrive after END_REQUEST within linger
// (DefaultScenarioLinger when 0), which a pooled request would not see. The
// error is the request's, as Engine.Send reports it; e may be nil.
func RunScenario(ctx context.Context, e *session.Engine, target string, s Scenario, linger time.Duration) (*session.Exchange, error) {
	opts, timeout, limit := connOptions(e)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if linger <= 0 {
		linger = DefaultScenarioLinger
	}
	in := s.Input
	in.Target = target
	x := session.NewExchange(in)
	x.CaptureLimit = limit
	start := time.Now()
	req := lessonRequest(in, nil)
	opts.Trace = chainTrace(opts.Trace, x.Trace(start))
	conn, err := fcgi.Dial(ctx, target, opts)
	x.Begin(target, req, start)
	if err != nil {
		o := session.OutcomeOf(target, start, nil, err)
		x.Complete(o)
		return x, o.Err
	}
	// The connection's trace records into x: the request needs none.
	resp, doErr := conn.Do(ctx, req.FCGI())
	o := session.OutcomeOf(target, start, resp, doErr)
	// Records of other ids and late ones are in x too: the client's
	// counts are for the request alone.
	o.Counted = false
	// Late records: keep reading until the backend closes the connection,
	// linger passes or ctx ends.
	t := time.NewTimer(linger)
	tick := time.NewTicker(10 * time.Millisecond)
wait:
	for conn.Err() == nil {
		select {
		case <-t.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	t.Stop()
	tick.Stop()
	conn.Close()
	x.Complete(o)
	return x, o.Err
}
