// Flows that run outside the Engine's client pool, on a connection of their
// own: two requests multiplexed on one connection, and GET_VALUES.

package teach

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// connOptions returns the client options, timeout and capture limit of e
// (zero values for a nil Engine).
func connOptions(e *session.Engine) (fcgi.Options, time.Duration, int64) {
	if e == nil {
		return fcgi.Options{}, 0, 0
	}
	o := e.Options()
	return e.ClientOptions(), o.Timeout, o.CaptureLimit
}

// chainTrace returns a Trace calling both a and b (either may be nil).
func chainTrace(a, b fcgi.Trace) fcgi.Trace {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(ev fcgi.Event) { a(ev); b(ev) }
}

// RunMultiplexDemo sends /slow?ms=300&chunks=1 and then, while it runs,
// /echo on the same connection (a connection of its own, not the Engine's
// pool, whose clients never multiplex), both with KEEP_CONN. Against a
// backend that multiplexes, such as the demo, the second request finishes
// first. It returns both exchanges, the slow one first. e gives the client
// options, the timeout and the capture limit; it may be nil.
func RunMultiplexDemo(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
	opts, timeout, limit := connOptions(e)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	slowIn := demoInput("GET", "/slow", "ms=300&chunks=1", nil)
	echoIn := demoInput("GET", "/echo", "", nil)
	ins := []session.Input{slowIn, echoIn}
	xs := make([]*session.Exchange, len(ins))
	for i := range ins {
		ins[i].KeepConn, ins[i].Target = true, target
		xs[i] = session.NewExchange(ins[i])
		xs[i].CaptureLimit = limit
	}
	conn, err := fcgi.Dial(ctx, target, opts)
	if err != nil {
		err = fmt.Errorf("session: multiplex demo: %s to %s: %w", session.Describe(err), target, err)
		for _, x := range xs {
			x.Begin(target, lessonRequest(x.Input, nil), time.Now())
			x.Complete(session.Outcome{Err: err})
		}
		return xs, err
	}
	defer conn.Close()

	// The second request goes out once the first is wholly sent.
	sent := make(chan struct{})
	var once sync.Once
	xs[0].OnRecord = func(ri session.RecordInfo) {
		if ri.Dir == fcgi.Sent && ri.Type == fcgi.TypeStdin && ri.ContentLength == 0 {
			once.Do(func() { close(sent) })
		}
	}
	errs := make([]error, len(xs))
	done := make(chan struct{})
	go func() {
		defer close(done)
		errs[0] = session.SendOn(ctx, conn, target, lessonRequest(ins[0], nil), xs[0])
	}()
	select {
	case <-sent:
	case <-done:
	}
	errs[1] = session.SendOn(ctx, conn, target, lessonRequest(ins[1], nil), xs[1])
	<-done
	return xs, errors.Join(errs...)
}

// RunGetValues asks the backend at target for FCGI_MAX_CONNS, FCGI_MAX_REQS
// and FCGI_MPXS_CONNS on a connection of its own and records the
// GET_VALUES and GET_VALUES_RESULT records into an Exchange (request id 0,
// no role). e gives the client options, the timeout and the capture limit;
// it may be nil.
func RunGetValues(ctx context.Context, e *session.Engine, target string) (*session.Exchange, error) {
	opts, timeout, limit := connOptions(e)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	x := session.NewExchange(session.Input{Mode: session.ModeRaw, Target: target})
	x.CaptureLimit = limit
	start := time.Now()
	x.Begin(target, nil, start) // no request, no role
	opts.Trace = chainTrace(opts.Trace, x.Trace(start))
	var o session.Outcome
	conn, err := fcgi.Dial(ctx, target, opts)
	if err == nil {
		o.Connect = time.Since(start)
		_, err = conn.GetValues(ctx)
		conn.Close()
	}
	o.Total = time.Since(start)
	if err != nil {
		o.Err = fmt.Errorf("session: GET_VALUES %s to %s: %w", session.Describe(err), target, err)
	}
	x.Complete(o)
	return x, o.Err
}
