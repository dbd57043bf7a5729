package tap_test

import (
	"strings"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session/tap"
)

func TestTapDemo(t *testing.T) {
	demo := fcgitest.StartDemo(t)
	tp, col := startTap(t, tap.Options{Upstream: demo})
	c := fcgi.NewClient(tp.Addr(), fcgi.ClientOptions{})
	defer c.Close()
	_, out, err := get(t, c, "/echo", false)
	if err != nil {
		t.Fatal(err)
	}
	xs := col.wait(t, 1)
	x := xs[0]
	if got := x.Stdout(); string(got) != string(out) {
		t.Errorf("stdout %q, client got %q", got, out)
	}
	if v, _ := x.Params().Get("SCRIPT_NAME"); v != "/echo" {
		t.Errorf("SCRIPT_NAME = %q", v)
	}
	if x.ErrorText() != "" || x.End() == nil {
		t.Errorf("error %q end %v", x.ErrorText(), x.End())
	}
	t.Logf("%d records, warnings %q, status %d", x.Len(), x.Warnings(), x.Response().Status)
	if !strings.Contains(string(out), "SCRIPT_NAME") {
		t.Errorf("out %q", out)
	}
}
