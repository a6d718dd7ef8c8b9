//go:build !unix

package tools

import "os/exec"

// shell runs a command string.
var shell = []string{"cmd.exe", "/C"}

// setGroup does nothing here: without process groups only the shell
// itself is killed at the timeout.
func setGroup(*exec.Cmd) {}

// killGroup kills the shell.
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
