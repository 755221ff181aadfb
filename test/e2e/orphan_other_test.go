//go:build !linux

package e2e_test

import "os/exec"

// dieWithParent does nothing where the kernel cannot kill a process with
// its parent: a server there may outlive a test binary that is killed.
func dieWithParent(*exec.Cmd) {}
