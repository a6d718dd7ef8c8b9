//go:build unix

package tools

import (
	"os/exec"
	"syscall"
)

// shell runs a command string.
var shell = []string{"/bin/sh", "-c"}

// setGroup puts the command in a new process group, so that it and all it
// starts can be killed together.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup kills the command's process group. The group's id is the
// shell's pid, which stays reserved while any member of the group lives.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
