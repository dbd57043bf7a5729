//go:build linux

package fcgitest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTerminateKillsGroup checks the SIGKILL fallback: a master that ignores SIGQUIT is killed
// after the grace period together with the child it forked.
func TestTerminateKillsGroup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	p, err := startProcess(dir, "/bin/sh", "-c", `trap "" QUIT; sleep 60 & echo $! > child.pid; wait`)
	if err != nil {
		t.Skip(err)
	}
	p.grace = 100 * time.Millisecond
	var child int
	for deadline := time.Now().Add(5 * time.Second); child == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			p.terminate()
			t.Fatal("child pid not written")
		}
		if b, err := os.ReadFile(pidFile); err == nil && strings.HasSuffix(string(b), "\n") {
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	start := time.Now()
	p.terminate()
	if d := time.Since(start); d < p.grace || d > 3*time.Second {
		t.Errorf("terminate took %v, want just over the %v grace period", d, p.grace)
	}
	// The orphaned sleep is reparented to PID 1, which may take its time to reap it: a zombie
	// counts as dead.
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st, err := os.ReadFile("/proc/" + strconv.Itoa(child) + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d still alive after terminate: %s", child, st)
		}
	}
}
