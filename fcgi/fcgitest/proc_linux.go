package fcgitest

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// sysProcAttr puts the child in its own process group, so that killGroup and the guard reach
// its workers, and has the kernel kill it if the test binary dies first.
//
// Pdeathsig fires when the OS thread that started the child exits; Go keeps its threads alive
// unless a goroutine exits while locked to one, which test code here does not do. It only reaches
// the master: php-fpm and nginx workers outlive their master, which is what the guard is for.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// startGuard starts a shell in the process group pgid that waits for EOF on a pipe held only by
// the test binary, then SIGKILLs the whole group, itself included. EOF comes from stop or, when
// the test binary dies without running its cleanups (a -timeout panic, SIGKILL), from the
// kernel closing the pipe, so no worker is left behind either way. stop waits for the shell.
func startGuard(pgid int) (stop func()) {
	cmd := exec.Command("/bin/sh", "-c", "read -r line; kill -s KILL 0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
	in, err := cmd.StdinPipe() // close-on-exec in the test binary: no other child inherits it
	if err != nil {
		return func() {}
	}
	if err := cmd.Start(); err != nil {
		in.Close() // the group is already gone, or there is no /bin/sh: nothing to guard
		return func() {}
	}
	return func() {
		in.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(stopGrace):
			cmd.Process.Kill()
			<-done
		}
	}
}

// quit sends SIGQUIT, the graceful stop of php-fpm and nginx, to the master only: the master
// forwards it to its workers.
func quit(p *os.Process) { _ = p.Signal(syscall.SIGQUIT) }

// killGroup sends SIGKILL to the process group led by pid. Errors (typically ESRCH, nobody
// left) are ignored.
func killGroup(pid int, _ *os.Process) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// signalGroup sends sig to the process group led by pid: a server whose workers must each be
// told (fcgiwrap's survive their master, and hold its output pipe open).
func signalGroup(pid int, _ *os.Process, sig os.Signal) {
	if s, ok := sig.(syscall.Signal); ok {
		_ = syscall.Kill(-pid, s)
	}
}
