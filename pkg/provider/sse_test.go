package provider

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSSEReader(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		in   string
		want []string // "event|data"
	}{
		{"lf", "data: a\n\ndata: b\n\n", []string{"|a", "|b"}},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []string{"|a", "|b"}},
		{"comments and unknown fields", ": ping\nid: 7\nretry: 10\ndata: a\n\n:\n\n", []string{"|a"}},
		{"event names", "event: ping\ndata: {}\n\nevent: x\ndata: y\n\n", []string{"ping|{}", "x|y"}},
		{"event name does not leak", "event: x\ndata: 1\n\ndata: 2\n\n", []string{"x|1", "|2"}},
		{"multi-line data", "data: a\ndata: b\n\n", []string{"|a\nb"}},
		{"no space after colon", "data:a\n\n", []string{"|a"}},
		{"only one space stripped", "data:  a\n\n", []string{"| a"}},
		{"empty data counts", "data:\n\n", []string{"|"}},
		{"event without data is dropped", "event: x\n\ndata: y\n\n", []string{"|y"}},
		{"blank lines between", "\n\n\ndata: a\n\n\n\n", []string{"|a"}},
		{"no final blank line", "data: a\n\ndata: b\n", []string{"|a", "|b"}},
		{"no final newline", "data: a", []string{"|a"}},
		{"line longer than the buffer", "data: " + long + "\n\n", []string{"|" + long}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A tiny buffer and one-byte reads exercise the split paths.
			sr := newSSEReader(bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(tt.in)), 16))
			var got []string
			for {
				ev, data, err := sr.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(ev)+"|"+string(data))
			}
			diff(t, "events", got, tt.want)
		})
	}
}

func TestSSEReaderError(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b"), iotest.ErrReader(boom))
	sr := newSSEReader(bufio.NewReader(r))
	if _, data, err := sr.next(); err != nil || string(data) != "a" {
		t.Fatalf("first event: %q %v", data, err)
	}
	if _, _, err := sr.next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the read error", err)
	}
}

func TestSkipSpace(t *testing.T) {
	for in, want := range map[string]byte{"": 0, "  \r\n{": '{', "data:": 'd', "\n\n": 0} {
		br := bufio.NewReader(strings.NewReader(in))
		got, err := skipSpace(br)
		if err != nil || got != want {
			t.Errorf("skipSpace(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
