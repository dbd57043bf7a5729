//go:build !linux

package fcgitest

import (
	"os"
	"syscall"
)

// The helpers target Debian; elsewhere they manage the master process only.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func startGuard(int) (stop func()) { return func() {} }

func quit(p *os.Process) {
	if err := p.Signal(syscall.Signal(3)); err != nil { // SIGQUIT where signals exist
		_ = p.Kill()
	}
}

func killGroup(_ int, p *os.Process) {
	if p != nil {
		_ = p.Kill()
	}
}

func signalGroup(_ int, p *os.Process, sig os.Signal) {
	if err := p.Signal(sig); err != nil {
		_ = p.Kill()
	}
}
