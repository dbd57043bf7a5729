package tap_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/tap"
)

// tapAround puts relays on both sides of a tap in front of upstream and
// returns the address a web server connects to.
func tapAround(t *testing.T, upstream string, opts tap.Options) (addr string, tp *tap.Tap, col *collector, before, after *relay) {
	t.Helper()
	after = startRelay(t, "unix", upstream)
	opts.Upstream = after.addr
	tp, col = startTap(t, opts)
	before = startRelay(t, "unix", tp.Addr())
	return before.addr, tp, col, before, after
}

// send sends one GET of path with our client (the web server here),
// giving up after a second: some backends never finish.
func send(t *testing.T, addr, path string, keep bool) {
	t.Helper()
	c := fcgi.NewClient(addr, fcgi.ClientOptions{})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, _ = c.Do(ctx, &fcgi.Request{KeepConn: keep, Params: getParams(path)})
}

// sendAfterEnd sends one GET of path with KEEP_CONN, as a web server
// keeping the connection would, and closes the connection only once the
// record the application sends after END_REQUEST arrived. Closing at
// END_REQUEST, as send does, races that record: when the close wins, the
// application's late record finds the connection gone (it is never sent, or
// the tap cannot deliver it and so does not show it as sent), and no
// exchange shows it.
func sendAfterEnd(t *testing.T, addr, path string) {
	t.Helper()
	nc := dialTap(t, addr)
	defer nc.Close()
	w := fcgi.NewWriter(nc)
	if err := errors.Join(w.WriteBeginRequest(1, fcgi.RoleResponder, fcgi.FlagKeepConn),
		w.WriteParams(1, getParams(path)), w.CloseStream(fcgi.TypeStdin, 1)); err != nil {
		t.Fatal(err)
	}
	r := fcgi.NewReader(nc)
	ended := false
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			t.Fatalf("reading the answer (END_REQUEST seen: %v): %v", ended, err)
		}
		switch {
		case rec.Header.Type == fcgi.TypeEndRequest:
			ended = true
		case ended && rec.Header.Type == fcgi.TypeStdout:
			return
		}
	}
}

// flagged reports whether x shows kind among its anomalies or text in its
// error, warnings or record notes.
func flagged(x *session.Exchange, kind session.AnomalyKind, text string) bool {
	for _, a := range session.Anomalies(x) {
		if kind != "" && a.Kind == kind {
			return true
		}
	}
	if text == "" {
		return false
	}
	all := append([]string{x.ErrorText()}, x.Warnings()...)
	for _, r := range x.Records() {
		all = append(all, r.Note())
	}
	return slices.ContainsFunc(all, func(s string) bool { return strings.Contains(s, text) })
}

// TestTapHostile: backends that break the protocol, behind the tap: every
// byte reaches the other side unchanged, and the exchange flags what was
// wrong.
func TestTapHostile(t *testing.T) {
	cases := []struct {
		name string
		b    fcgitest.Behaviour
		kind session.AnomalyKind
		text string
	}{
		{"wrong-id", fcgitest.WrongID(), session.AnomalyInactiveID, ""},
		{"bad-version", fcgitest.BadVersion(2), session.AnomalyVersion, "version 2"},
		{"unknown-type", fcgitest.UnknownType(42), session.AnomalyUnknownType, ""},
		{"close-mid-header", fcgitest.CloseMidHeader(5), session.AnomalyShortContent, "before END_REQUEST"},
		{"close-mid-record", fcgitest.CloseMidRecord(10), session.AnomalyShortContent, "ended inside"},
		{"close-before-end", fcgitest.CloseBeforeEnd("partial"), "", "application closed the connection before END_REQUEST"},
		{"longer-than-claimed", fcgitest.LongerThanClaimed(4), "", "before END_REQUEST"},
		{"shorter-than-claimed", fcgitest.ShorterThanClaimed(200), "", "before END_REQUEST"},
		{"overloaded", fcgitest.EndWith(byte(fcgi.StatusOverloaded)), "", "OVERLOADED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := fcgitest.StartHostile(t, "unix", tc.b)
			addr, _, col, before, after := tapAround(t, "unix:"+h.Addr, tap.Options{})
			send(t, addr, "/x", false)
			xs := col.wait(t, 1)
			sameBytes(t, before, after)
			if !slices.ContainsFunc(xs, func(x *session.Exchange) bool { return flagged(x, tc.kind, tc.text) }) {
				for _, x := range xs {
					t.Logf("exchange: error %q warnings %q anomalies %v", x.ErrorText(), x.Warnings(), session.Anomalies(x))
				}
				t.Errorf("no exchange flags %q / %q", tc.kind, tc.text)
			}
		})
	}
}

// TestTapMisbehaviours: the demo backend's misbehaving routes behind the
// tap: forwarded unchanged, and flagged.
func TestTapMisbehaviours(t *testing.T) {
	want := map[string]struct {
		kind session.AnomalyKind
		text string
	}{
		"wrong-id":             {session.AnomalyInactiveID, ""},
		"version2":             {session.AnomalyVersion, "version 2"},
		"unknown-type":         {session.AnomalyUnknownType, ""},
		"short-content":        {session.AnomalyShortContent, ""},
		"close-early":          {"", "before END_REQUEST"},
		"after-end":            {session.AnomalyInactiveID, "no open request"},
		"odd-padding":          {session.AnomalyPadding, ""},
		"stderr-unclosed":      {session.AnomalyUnclosedStream, ""},
		"status/overloaded":    {"", "OVERLOADED"},
		"status/cant-mpx-conn": {"", "CANT_MPX_CONN"},
	}
	backend := fcgitest.StartDemo(t)
	for _, r := range demo.Misbehaviours() {
		name := strings.TrimPrefix(r.Path, demo.MisbehavePrefix)
		w, ok := want[name]
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			addr, _, col, before, after := tapAround(t, backend, tap.Options{})
			if name == "after-end" {
				sendAfterEnd(t, addr, r.Path)
			} else {
				send(t, addr, r.Path, false)
			}
			xs := col.wait(t, 1)
			sameBytes(t, before, after)
			if name == "after-end" {
				xs = col.wait(t, 2) // the late record comes in an exchange of its own
			}
			if !slices.ContainsFunc(xs, func(x *session.Exchange) bool { return flagged(x, w.kind, w.text) }) {
				for _, x := range xs {
					t.Logf("exchange %q: error %q warnings %q anomalies %v", tap.Summarize(x).URI, x.ErrorText(), x.Warnings(), session.Anomalies(x))
				}
				t.Errorf("no exchange flags %q / %q", w.kind, w.text)
			}
		})
	}
	for name := range want {
		found := slices.ContainsFunc(demo.Misbehaviours(), func(r demo.Route) bool { return r.Path == demo.MisbehavePrefix+name })
		if !found {
			t.Errorf("the demo backend has no route %s any more", name)
		}
	}
}
