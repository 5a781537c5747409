//go:build !linux

package replicas

import "os/exec"

// dieWithTest does nothing where the kernel cannot tie a child's life to
// its parent's; the tests' cleanups still kill their replicas.
func dieWithTest(cmd *exec.Cmd) {}
