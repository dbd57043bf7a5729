// The proxy against nginx in front of the same real FastCGI server (issue
// 13): where nginx answers 502 for no STDOUT the proxy does too, header
// bytes pass through alike, and where the proxy differs on purpose (no
// header buffer to overflow) the exchange says what nginx would do.

package proxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
)

func TestProxyLikeNginx(t *testing.T) {
	for _, kind := range []fcgitest.ServerKind{fcgitest.FCGIWrap, fcgitest.UWSGI} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			s := fcgitest.NewServer(t, kind)
			ngx := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: s.DocRoot, FastCGIPass: s.Pass(), Ext: s.Ext})
			p := New(sessiontest.Engine(t, session.EngineOptions{}), s.Target(), HTTPBuilder(s.DocRoot))
			sub, unsubscribe := p.Subscribe()
			defer unsubscribe()
			client := &http.Client{Timeout: 30 * time.Second}
			for _, tc := range []struct {
				query string
				same  bool // the proxy answers as nginx; else nginx 502 and a warning
			}{
				{"a=onlyerr", true},
				{"a=latin1", true},
				{"a=status&code=201", true},
				{"a=bighdr&n=5000", false},
			} {
				url := s.ScriptName + "?" + tc.query
				resp, err := client.Get(ngx.URL + url)
				if err != nil {
					t.Fatal(err)
				}
				nbody, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				rec := httptest.NewRecorder()
				p.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
				x := <-sub
				if !tc.same {
					if resp.StatusCode != 502 || rec.Code != 200 || !strings.Contains(strings.Join(x.Warnings(), "\n"), "fastcgi_buffer_size") {
						t.Errorf("%s: nginx %d, proxy %d, warnings %q; want 502, 200 and a warning", tc.query, resp.StatusCode, rec.Code, x.Warnings())
					}
					continue
				}
				if rec.Code != resp.StatusCode || rec.Header().Get("X-Name") != resp.Header.Get("X-Name") {
					t.Errorf("%s: nginx %d X-Name %q, proxy %d X-Name %q", tc.query, resp.StatusCode, resp.Header.Get("X-Name"),
						rec.Code, rec.Header().Get("X-Name"))
				}
				if resp.StatusCode < 500 && !bytes.Equal(rec.Body.Bytes(), nbody) {
					t.Errorf("%s: body nginx %q, proxy %q", tc.query, nbody, rec.Body.Bytes())
				}
			}
		})
	}
}
