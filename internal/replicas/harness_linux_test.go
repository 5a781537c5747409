//go:build linux

package replicas

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel kill the process when the test binary dies
// without running its cleanups (a -timeout panic, SIGKILL, a closed output
// pipe), so that no replica outlives its test holding the scheduler's lock.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
