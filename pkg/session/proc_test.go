package session

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The cross-process tests re-run this test binary as a child: with
// childEnv set, TestMain runs the child's part instead of the tests.
const childEnv = "OPENCLAW_SESSION_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runChild(mode string) error {
	state := os.Getenv("SESSION_TEST_STATE")
	name := os.Getenv("SESSION_TEST_NAME")
	fsync := os.Getenv("SESSION_TEST_FSYNC") == "1"
	s := NewStore(state, Options{Fsync: fsync})
	key := MainKey("main", "")
	if k := os.Getenv("SESSION_TEST_KEY"); k != "" {
		key = k
	}
	ctx := context.Background()
	switch mode {
	case "append":
		// runs runs of three separate appends each; nobody may get between them.
		runs, _ := strconv.Atoi(os.Getenv("SESSION_TEST_RUNS"))
		for i := range runs {
			ss, err := s.Acquire(ctx, "main", key, AcquireOptions{})
			if err != nil {
				return err
			}
			for j := range 3 {
				if err := ss.Append(Record{Type: TypeUser, RunID: fmt.Sprintf("%s-%d", name, i), Text: strconv.Itoa(j)}); err != nil {
					return err
				}
			}
			ss.Release()
		}
		return nil
	case "loop":
		// Append big records until killed; say "ready" once some are on disk.
		for i := 0; ; i++ {
			ss, err := s.Acquire(ctx, "main", key, AcquireOptions{})
			if err != nil {
				return err
			}
			big := strings.Repeat("x", 1<<10+rand.IntN(1<<20))
			if err := ss.Append(Record{Type: TypeUser, RunID: name, Text: strconv.Itoa(i)},
				Record{Type: TypeAssistant, RunID: name, Text: big}); err != nil {
				return err
			}
			ss.Release()
			if i == 0 {
				fmt.Println("ready")
			}
		}
	}
	return fmt.Errorf("unknown mode %q", mode)
}

func childCmd(t *testing.T, state, mode, name string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "SESSION_TEST_STATE="+state, "SESSION_TEST_NAME="+name)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestCrossProcessAppend(t *testing.T) {
	s, state := newTestStore(t, Options{})
	const children, runs = 5, 12
	var wg sync.WaitGroup
	errs := make(chan error, children)
	for c := range children {
		cmd := childCmd(t, state, "append", fmt.Sprint("c", c), "SESSION_TEST_RUNS="+strconv.Itoa(runs),
			"SESSION_TEST_FSYNC="+strconv.Itoa(c%2))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Run(); err != nil {
				errs <- fmt.Errorf("child c%d: %w", c, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	key := MainKey("main", "")
	e, ok, err := s.Get("main", key)
	if err != nil || !ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
	if e.Turns != children*runs*3 {
		t.Errorf("index turns = %d, want %d", e.Turns, children*runs*3)
	}
	if list, _ := s.List("main"); len(list) != 1 {
		t.Errorf("List has %d entries, want the one key", len(list))
	}
	recs, tail := readLines(t, s.TranscriptPath("main", e.SessionID))
	if len(recs) != children*runs*3 || len(tail) != 0 {
		t.Fatalf("%d records (tail %q), want %d", len(recs), tail, children*runs*3)
	}
	next := map[string]int{} // child -> its next run number
	for k := 0; k < len(recs); k += 3 {
		run := recs[k].RunID
		for j := range 3 {
			if recs[k+j].RunID != run || recs[k+j].Text != strconv.Itoa(j) {
				t.Fatalf("records %d..%d are not one run's three appends: %+v", k, k+2, recs[k:k+3])
			}
		}
		name, num, _ := strings.Cut(run, "-")
		if n, _ := strconv.Atoi(num); n != next[name] {
			t.Fatalf("run %s came when %s-%d was due", run, name, next[name])
		}
		next[name]++
	}
	if len(next) != children {
		t.Fatalf("runs from %d children, want %d", len(next), children)
	}
}

// TestCrossProcessKeys has processes update the one sessions.json for
// different keys at once: no update may be lost.
func TestCrossProcessKeys(t *testing.T) {
	s, state := newTestStore(t, Options{})
	const children, runs = 6, 8
	var wg sync.WaitGroup
	errs := make(chan error, children)
	for c := range children {
		cmd := childCmd(t, state, "append", fmt.Sprint("c", c), "SESSION_TEST_RUNS="+strconv.Itoa(runs),
			"SESSION_TEST_KEY="+ExplicitKey("main", fmt.Sprint("c", c)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Run(); err != nil {
				errs <- fmt.Errorf("child c%d: %w", c, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	list, err := s.List("main")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != children {
		t.Fatalf("List has %d entries, want %d", len(list), children)
	}
	for _, e := range list {
		if e.Turns != runs*3 {
			t.Errorf("%s: %d turns, want %d (an index update was lost)", e.Key, e.Turns, runs*3)
		}
		if recs, tail := readLines(t, s.TranscriptPath("main", e.SessionID)); len(recs) != runs*3 || len(tail) != 0 {
			t.Errorf("%s: %d records, want %d", e.Key, len(recs), runs*3)
		}
	}
}

func TestKilledWriterLeavesFilesUsable(t *testing.T) {
	s, state := newTestStore(t, Options{})
	key := MainKey("main", "")
	torn := 0
	const rounds = 5
	for round := range rounds {
		cmd := childCmd(t, state, "loop", fmt.Sprint("k", round), "SESSION_TEST_FSYNC="+strconv.Itoa(round%2))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child said %q, %v; want ready", line, err)
		}
		// Kill at a random moment of its write loop.
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()

		idxData, err := os.ReadFile(filepath.Join(s.SessionsDir("main"), "sessions.json"))
		if err != nil {
			t.Fatal(err)
		}
		var idx map[string]Entry
		if err := json.Unmarshal(idxData, &idx); err != nil {
			t.Fatalf("round %d: sessions.json does not parse after a kill: %v", round, err)
		}
		e, ok := idx[key]
		if !ok {
			t.Fatalf("round %d: sessions.json lost the key: %s", round, idxData)
		}
		path := s.TranscriptPath("main", e.SessionID)
		_, tail := readLines(t, path) // fails on any bad whole line
		if len(tail) > 0 {
			torn++
		}

		// Readers see whole Appends only; the next writer repairs the tail
		// and its records land whole.
		ss := mustAcquire(t, s, "main", key, AcquireOptions{})
		if ss.ID != e.SessionID {
			t.Fatalf("round %d: session id changed from %s to %s", round, e.SessionID, ss.ID)
		}
		h, err := ss.History()
		if err != nil {
			t.Fatal(err)
		}
		checkPairs(t, round, "History", h)
		mark := fmt.Sprint("after-kill-", round)
		if err := ss.Append(Record{Type: TypeUser, Text: mark}); err != nil {
			t.Fatalf("round %d: Append after a kill: %v", round, err)
		}
		ss.Release()
		after, tail := readLines(t, path)
		if len(tail) != 0 || len(after) != len(h)+1 || after[len(after)-1].Text != mark {
			t.Fatalf("round %d: after Append %d records (tail %d bytes), want %d ending with %q",
				round, len(after), len(tail), len(h)+1, mark)
		}
		recs := make([]Record, len(after))
		for k, l := range after {
			recs[k] = l.Record
		}
		checkPairs(t, round, "the repaired file", recs)
	}
	t.Logf("%d of %d kills left a torn last line", torn, rounds)
}

// checkPairs checks that the killed children's records come in whole
// Appends: a user record, then its assistant record.
func checkPairs(t *testing.T, round int, what string, recs []Record) {
	t.Helper()
	for k := 0; k < len(recs); k++ {
		r := recs[k]
		if !strings.HasPrefix(r.RunID, "k") {
			continue // the parent's own records
		}
		if r.Type != TypeUser || k+1 == len(recs) || recs[k+1].Type != TypeAssistant || recs[k+1].RunID != r.RunID {
			t.Fatalf("round %d: in %s record %d (%s of %s) is not followed by its assistant record", round, what, k, r.Type, r.RunID)
		}
		k++
	}
}
