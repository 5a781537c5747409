package testbin

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the child when this process dies, so
// that a test killed by its timeout leaves no server running.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
