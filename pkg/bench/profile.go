package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"
)

// ProfileEnv names the directory a gateway started by the driver writes its
// profiles to. StartChildProfile reads it.
const ProfileEnv = "OPENCLAW_BENCH_PROFILE"

// profileDone is written last, when the profiles are complete.
const profileDone = "done"

// StartChildProfile starts a CPU profile of this process when ProfileEnv
// names a directory, and writes it there with the allocation and heap
// profiles when the driver signals (see profileSignal). Without the
// variable it does nothing; openclaw calls it at start-up.
func StartChildProfile() {
	dir := os.Getenv(ProfileEnv)
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench profile: %v\n", err)
		return
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "bench profile: %v\n", err)
		f.Close()
		return
	}
	onProfileSignal(func() {
		pprof.StopCPUProfile()
		f.Close()
		write := func(name, profile string) {
			out, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench profile: %v\n", err)
				return
			}
			defer out.Close()
			pprof.Lookup(profile).WriteTo(out, 0)
		}
		write("allocs.pprof", "allocs")
		runtime.GC()
		write("heap.pprof", "heap")
		os.WriteFile(filepath.Join(dir, profileDone), nil, 0o644)
	})
}

// profile asks the gateway for its profiles and waits until they are
// written.
func (g *gateway) profile(ctx context.Context, dir string) ([]string, error) {
	if err := sendProfileSignal(g.cmd.Process); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, profileDone)); err == nil {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("the gateway did not write its profiles to %s; its log: %s", dir, tail(g.log))
		}
		time.Sleep(10 * time.Millisecond)
	}
	var files []string
	for _, f := range []string{"cpu.pprof", "allocs.pprof", "heap.pprof"} {
		files = append(files, filepath.Join(dir, f))
	}
	return files, nil
}
