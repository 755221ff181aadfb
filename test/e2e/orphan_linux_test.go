package e2e_test

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill cmd's process when the test binary
// dies without running its cleanups (a -timeout panic, a kill), so that no
// server outlives the tests. The signal is tied to the thread that starts
// the process, which the Go runtime keeps alive.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
