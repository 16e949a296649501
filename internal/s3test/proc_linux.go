package s3test

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the gateway if the test binary dies
// without running its cleanups (a panic, a timeout, a kill).
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
