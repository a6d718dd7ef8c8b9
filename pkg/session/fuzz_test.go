package session

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// fuzzFiles numbers the scratch transcripts of FuzzTranscript.
var fuzzFiles atomic.Int64

// FuzzTranscript feeds any bytes, as a transcript left on disk, to the
// reader and to the repair the next writer runs, then appends a turn:
//
//   - neither panics;
//   - the repair only cuts a tail, and leaves whole lines;
//   - the reader counts the same records before and after the repair (the
//     repair neither drops a record readers count nor revives one they
//     ignore);
//   - after the append the reader sees exactly those records plus the new
//     turn: nothing a crash left behind can glue itself to it.
func FuzzTranscript(f *testing.F) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	whole, err := encodeRecords([]Record{
		{Type: TypeUser, RunID: "r1", Text: "hi"},
		{Type: TypeAssistant, RunID: "r1", Text: "hello", Model: "m"},
	}, ts)
	if err != nil {
		f.Fatal(err)
	}
	one, _ := encodeRecords([]Record{{Type: TypeError, RunID: "r0", Text: "boom"}}, ts)
	three, _ := encodeRecords([]Record{
		{Type: TypeUser, RunID: "r2", Text: "ls"},
		{Type: TypeAssistant, RunID: "r2", ToolCalls: nil, Text: "calling"},
		{Type: TypeToolResult, RunID: "r2", ToolCallID: "c", Text: "a.txt"},
	}, ts)
	for _, s := range [][]byte{
		nil,
		whole,
		append(append([]byte{}, one...), whole...),
		whole[:len(whole)-1],                   // torn last line
		whole[:bytes.IndexByte(whole, '\n')+1], // an Append cut after its first line
		append(append([]byte{}, whole...), three[:len(three)/2]...),
		append(append([]byte{}, three[:bytes.LastIndexByte(three[:len(three)-1], '\n')+1]...), "garbage\n"...),
		[]byte("\x00\x00\x00\x00"), // a power loss's zeroed block
		[]byte("{}\nnull\n[1]\n\"s\"\n42\n\n  \n"),
		[]byte(`{"type":"user","text":"x","more":true}` + "\n" + `{"type":"user","text":"y"}` + "\n"),
		[]byte(`{"type":"user","ts":"not a time"}` + "\n"),
		[]byte(`{"type":"user","more":true,"text":"more not last"}` + "\n"),
		[]byte("\r\n" + `{"type":"assistant","text":"crlf"}` + "\r\n"),
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	newTurn, _ := encodeRecords([]Record{
		{Type: TypeUser, RunID: "new", Text: "again"},
		{Type: TypeAssistant, RunID: "new", Text: "answer"},
	}, ts)
	f.Fuzz(func(t *testing.T, data []byte) {
		before := parseRecords(data)

		path := filepath.Join(dir, strconv.FormatInt(fuzzFiles.Add(1), 10)+transcriptExt)
		defer os.Remove(path)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := repairFile(path); err != nil {
			t.Fatal(err)
		}
		repaired, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, repaired) {
			t.Fatalf("repair rewrote the file: %q -> %q", data, repaired)
		}
		if len(repaired) > 0 && repaired[len(repaired)-1] != '\n' {
			t.Fatalf("repair left a torn line: %q", repaired)
		}
		sameRecords(t, "after the repair", parseRecords(repaired), before)

		after := parseRecords(append(repaired, newTurn...))
		want := append(append([]Record{}, before...), parseRecords(newTurn)...)
		sameRecords(t, "after an append", after, want)
	})
}

func sameRecords(t *testing.T, what string, got, want []Record) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}
