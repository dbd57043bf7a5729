package fcgitest

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group, so that killGroup reaches its workers,
// and has the kernel kill it if the test binary dies first (timeout panic, SIGKILL).
//
// Pdeathsig fires when the OS thread that started the child exits; Go keeps its threads alive
// unless a goroutine exits while locked to one, which test code here does not do.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// quit sends SIGQUIT, the graceful stop of php-fpm and nginx, to the master only: the master
// forwards it to its workers.
func quit(p *os.Process) { _ = p.Signal(syscall.SIGQUIT) }

// killGroup sends SIGKILL to the process group led by pid. Errors (typically ESRCH, nobody
// left) are ignored.
func killGroup(pid int, _ *os.Process) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
