package provider

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

// sseReader splits a server-sent event stream into events. Lines end in LF
// or CRLF; comments (":...") and unknown fields are skipped; several data
// lines join with "\n"; an event ends at a blank line (or at the end of the
// stream, to be lenient with servers that forget the last one).
type sseReader struct {
	br      *bufio.Reader
	line    []byte // a line longer than the bufio buffer
	data    []byte
	event   []byte
	hasData bool
	eof     bool
}

func newSSEReader(br *bufio.Reader) *sseReader { return &sseReader{br: br} }

// next returns the next event's name and data; both are valid only until the
// following call. It returns io.EOF after a clean end of stream, and the
// read error otherwise.
func (s *sseReader) next() (event, data []byte, err error) {
	for !s.eof {
		line, err := s.readLine()
		if err == io.EOF {
			s.eof = true
			if len(line) > 0 {
				s.field(line)
			}
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if len(line) == 0 {
			if s.hasData {
				return s.dispatch()
			}
			s.event = s.event[:0]
			continue
		}
		s.field(line)
	}
	if s.hasData {
		return s.dispatch()
	}
	return nil, nil, io.EOF
}

func (s *sseReader) dispatch() (event, data []byte, err error) {
	event, data = s.event, s.data
	s.event, s.data, s.hasData = s.event[:0], s.data[:0], false
	return event, data, nil
}

// field applies one non-blank line.
func (s *sseReader) field(line []byte) {
	if line[0] == ':' {
		return
	}
	name, value, _ := bytes.Cut(line, []byte{':'})
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	switch string(name) {
	case "data":
		if s.hasData {
			s.data = append(s.data, '\n')
		}
		s.data = append(s.data, value...)
		s.hasData = true
	case "event":
		s.event = append(s.event[:0], value...)
	}
}

// readLine returns the next line without its end. At the end of the stream
// it returns the unterminated rest (maybe empty) with io.EOF.
func (s *sseReader) readLine() ([]byte, error) {
	b, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.line = append(s.line[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = s.br.ReadSlice('\n')
			s.line = append(s.line, b...)
		}
		b = s.line
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	b = bytes.TrimSuffix(b, []byte{'\n'})
	b = bytes.TrimSuffix(b, []byte{'\r'})
	return b, err
}

// skipSpace discards leading whitespace and returns the first byte after it,
// or 0 at the end of the stream.
func skipSpace(br *bufio.Reader) (byte, error) {
	for {
		b, err := br.Peek(1)
		if err == io.EOF {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.Discard(1)
			continue
		}
		return b[0], nil
	}
}

// bodyReaders are the read buffers of response bodies, kept for the next
// call: a call in flight holds one, instead of every call leaving 32 KB of
// garbage behind.
var bodyReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 32<<10) }}

func getBodyReader(r io.Reader) *bufio.Reader {
	br := bodyReaders.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putBodyReader gives br back once nothing read from it is in use.
func putBodyReader(br *bufio.Reader) {
	br.Reset(nil)
	bodyReaders.Put(br)
}
