// The proxy answers as nginx does when the application does not answer
// well (issue 13): no STDOUT is 502, not an empty 200; out of time is 504;
// closed after the headers without END_REQUEST is what arrived, labelled.
// servers_test.go checks it against nginx in front of the same real server.

package proxy

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
)

func TestProxyAnswersAsNginx(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	p := New(sessiontest.Engine(t, session.EngineOptions{Timeout: time.Second}), addr, func(r *http.Request) (*session.Request, error) {
		return demoReq(r.URL.Path, r.URL.RawQuery), nil
	})
	for _, tc := range []struct {
		url    string
		status int
		body   string
		warned bool
	}{
		{"/stderr?lines=1&stdout=none", http.StatusBadGateway, "upstream prematurely closed FastCGI stdout", false},
		{"/misbehave/slow-first-byte?ms=20000", http.StatusGatewayTimeout, "504 Gateway Timeout", false},
		{"/misbehave/close-early", http.StatusOK, "", true},
		{"/status?code=201", http.StatusCreated, "status 201", false},
	} {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", tc.url, nil))
		if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.body) {
			t.Errorf("%s: %d %q, want %d with %q", tc.url, rec.Code, rec.Body, tc.status, tc.body)
		}
		if got := rec.Header().Get(WarningHeader) != ""; got != tc.warned {
			t.Errorf("%s: %s header %q", tc.url, WarningHeader, rec.Header().Get(WarningHeader))
		}
	}
}
