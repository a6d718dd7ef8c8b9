package config

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const writerEnv = "OPENCLAW_CONFIG_TEST_WRITER"

func TestMain(m *testing.M) {
	if f := os.Getenv(writerEnv); f != "" {
		crashWriter(f)
		return
	}
	os.Exit(m.Run())
}

// crashWriter sets gateway.port to 1, 2, 3, ... and reports each port on
// stdout once it is written, until it is killed.
func crashWriter(file string) {
	for i := 1; ; i++ {
		if err := Set(file, "gateway.port", i); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(i)
	}
}

// TestKillDuringWrite kills a writer with SIGKILL at many points of its
// write loop: the file must always load and hold the last reported write
// or the one in flight, never a truncated or mixed file.
func TestKillDuringWrite(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "openclaw.toml")
	// A big value makes each write take long enough to be interrupted.
	big := strings.Repeat("You are a careful agent. ", 20000)
	if err := Set(f, "agents.list[0]", map[string]any{"id": "a", "systemPrompt": big}); err != nil {
		t.Fatal(err)
	}
	last := 0
	for round := 0; round < 8; round++ {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), writerEnv+"="+f)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		seen := 0
		for seen <= round && sc.Scan() {
			n, err := strconv.Atoi(sc.Text())
			if err != nil {
				t.Fatalf("writer: %s", sc.Text())
			}
			last = n
			seen++
		}
		_ = cmd.Process.Kill()
		// Writes reported after the ones read above still count.
		for sc.Scan() {
			if n, err := strconv.Atoi(sc.Text()); err == nil {
				last = n
			}
		}
		_ = cmd.Wait()
		c, err := Load(f)
		if err != nil {
			t.Fatalf("round %d: file does not load after kill -9: %v", round, err)
		}
		if p := c.Gateway.Port; p != last && p != last+1 {
			t.Fatalf("round %d: port %d, want %d or %d", round, p, last, last+1)
		}
		if c.Agents.List[0].SystemPrompt != big {
			t.Fatalf("round %d: the big value was damaged", round)
		}
		// The next writer starts over at 1; make the file agree.
		if err := Set(f, "gateway.port", 0); err != nil {
			t.Fatal(err)
		}
		last = 0
	}
}
