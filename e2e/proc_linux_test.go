package e2e

import "syscall"

// childProcAttr makes child processes die with the test process, so a test binary killed by a
// timeout leaves no worker behind.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
