//go:build unix

package bench

import (
	"os"
	"os/signal"
	"syscall"
)

// terminate asks a process to stop, as a service manager does.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// onProfileSignal runs fn once, when SIGUSR1 arrives.
func onProfileSignal(fn func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	go func() {
		<-ch
		signal.Stop(ch)
		fn()
	}()
}

func sendProfileSignal(p *os.Process) error { return p.Signal(syscall.SIGUSR1) }
