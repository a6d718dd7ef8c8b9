package gateway

import (
	"context"
	"net/http"
	"time"
)

// sseWriter writes one server-sent event stream. Every write is flushed at
// once and must complete within streamWriteTimeout; a failed write (the
// client gone or no longer reading) cancels the stream's context, and with
// it the run and the upstream model call.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	cancel  context.CancelFunc
	err     error
	started bool
}

// newSSE returns the writer and the context the run should use; the caller
// defers close.
func newSSE(w http.ResponseWriter, r *http.Request) (*sseWriter, context.Context) {
	ctx, cancel := context.WithCancel(r.Context())
	return &sseWriter{w: w, rc: http.NewResponseController(w), cancel: cancel}, ctx
}

// start sends the stream's headers and status.
func (s *sseWriter) start() {
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
	s.started = true
}

// send writes and flushes b; after a failure it does nothing.
func (s *sseWriter) send(b []byte) {
	if s.err != nil {
		return
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, s.err = s.w.Write(b); s.err == nil {
		s.err = s.rc.Flush()
	}
	if s.err != nil {
		s.cancel()
	}
}

// close releases the context and clears the write deadline, which a later
// request on the same connection must not inherit.
func (s *sseWriter) close() {
	s.cancel()
	_ = s.rc.SetWriteDeadline(time.Time{})
}
