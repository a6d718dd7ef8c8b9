//go:build !unix

package bench

import (
	"errors"
	"os"
)

// terminate stops a process; there is no SIGTERM here.
func terminate(p *os.Process) error { return p.Kill() }

func onProfileSignal(func()) {}

func sendProfileSignal(*os.Process) error {
	return errors.New("gateway profiles need a unix system (they are asked for with SIGUSR1)")
}
