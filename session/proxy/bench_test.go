// Benchmark of the proxy's request path in this process: what one proxied
// request costs the proxy (the front-end comparison with nginx is
// bench/'s BenchmarkFrontEnd).

package proxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

// BenchmarkProxyServeHTTP: one GET through ServeHTTP to the demo backend in
// this process over a kept connection, mapped by HTTPBuilder, recording off
// and on (the Recorder's work happens on its goroutine, counted here too).
func BenchmarkProxyServeHTTP(b *testing.B) {
	addr := fcgitest.StartDemo(b)
	for _, record := range []bool{false, true} {
		name := "record=off"
		if record {
			name = "record=on"
		}
		b.Run(name, func(b *testing.B) {
			pool := session.NewPool(session.PoolOptions{MaxConns: map[string]int{addr: 1}})
			defer pool.Close()
			p := New(session.NewEngine(pool, session.EngineOptions{Timeout: 60 * time.Second}), addr, HTTPBuilder(b.TempDir()))
			p.KeepConn = KeepConnOn
			if record {
				p.Recorder = session.NewRecorder(session.RecorderOptions{Dir: b.TempDir(), KeepFiles: 1000})
				defer p.Recorder.Close()
			}
			req := httptest.NewRequest("GET", "/status?code=200", nil)
			req.Header.Set("User-Agent", "bench")
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				p.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
			if p.Recorder != nil {
				p.Recorder.Flush()
			}
		})
	}
}
