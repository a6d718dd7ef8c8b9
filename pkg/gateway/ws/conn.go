package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/charmbracelet/log"
	"github.com/coder/websocket"
	"github.com/google/uuid"
)

// conn is one client connection.
type conn struct {
	s    *Server
	ws   *websocket.Conn
	req  *http.Request
	id   string
	log  *log.Logger
	ctx  context.Context
	stop context.CancelFunc

	wake chan struct{} // the writer has frames or a close to send

	mu          sync.Mutex // guards the fields below
	queue       [][]byte
	queued      int64
	seq         int64
	helloSent   bool
	closing     bool
	closeCode   websocket.StatusCode
	closeReason string
	runs        map[*run]struct{} // runs this connection waits for
	client      ClientInfo
}

func newConn(s *Server, wsc *websocket.Conn, r *http.Request) *conn {
	ctx, stop := context.WithCancel(context.Background())
	id := newConnID()
	return &conn{
		s: s, ws: wsc, req: r, id: id, log: s.log.With("conn", id[:8]),
		ctx: ctx, stop: stop, wake: make(chan struct{}, 1), runs: map[*run]struct{}{},
	}
}

// serve runs the connection: the writer in its own goroutine, the reader
// here. It returns when both have ended.
func (c *conn) serve() {
	writerDone := make(chan struct{})
	go c.writeLoop(writerDone)
	defer func() {
		c.stop()
		<-writerDone
		c.ws.CloseNow()
		c.leaveRuns()
	}()

	c.sendRaw(marshal(Event{Type: TypeEvent, Event: "connect.challenge",
		Payload: marshal(map[string]any{"nonce": uuid.NewString(), "ts": time.Now().UnixMilli()})}))
	timer := time.AfterFunc(c.s.opts.HandshakeTimeout, func() {
		c.mu.Lock()
		pending := !c.helloSent
		c.mu.Unlock()
		if pending {
			c.log.Warn("websocket handshake timeout", "remote", c.req.RemoteAddr)
			c.closeWith(ClosePolicy, "handshake timeout")
		}
	})
	defer timer.Stop()

	c.ws.SetReadLimit(PreAuthMaxPayload)
	authed := false
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			if st := websocket.CloseStatus(err); st == CloseTooBig {
				c.log.Warn("websocket frame over the limit", "authenticated", authed)
			}
			return
		}
		if c.isClosing() {
			continue // drain until the close handshake ends
		}
		if !authed {
			authed = c.handshake(data)
			if authed {
				c.ws.SetReadLimit(c.s.opts.MaxPayload)
			}
			continue
		}
		c.handle(data)
	}
}

// handshake handles the first frame; it reports whether the client is now
// connected. On failure it has queued the error and the close.
func (c *conn) handshake(data []byte) bool {
	req, err := DecodeRequest(data)
	if err != nil {
		c.log.Warn("websocket invalid handshake", "remote", c.req.RemoteAddr, "err", err)
		c.closeWith(ClosePolicy, "invalid request frame")
		return false
	}
	if req.Method != "connect" {
		msg := "invalid handshake: first request must be connect"
		c.respondErr(req.ID, &ErrorShape{Code: CodeInvalidRequest, Message: msg})
		c.closeWith(ClosePolicy, msg)
		return false
	}
	cp, err := decodeConnect(req.Params)
	if err != nil {
		msg := "invalid connect params: " + err.Error()
		c.respondErr(req.ID, &ErrorShape{Code: CodeInvalidRequest, Message: msg})
		c.closeWith(ClosePolicy, msg)
		return false
	}
	if cp.MaxProtocol < ProtocolVersion || cp.MinProtocol > ProtocolVersion {
		c.log.Warn("websocket protocol mismatch", "remote", c.req.RemoteAddr, "client", cp.Client.ID, "min", cp.MinProtocol, "max", cp.MaxProtocol)
		c.respondErr(req.ID, &ErrorShape{Code: CodeInvalidRequest, Message: "protocol mismatch",
			Details: marshal(map[string]int{"expectedProtocol": ProtocolVersion})})
		c.closeWith(CloseProtocolError, "protocol mismatch")
		return false
	}
	if auth := c.s.opts.Authorize; auth != nil {
		d := auth(c.req, cp.Auth)
		if !d.OK {
			msg := authFailureMessage(d.Reason)
			c.log.Warn("websocket unauthorized", "remote", c.req.RemoteAddr, "client", cp.Client.ID, "reason", d.Reason)
			es := &ErrorShape{Code: CodeInvalidRequest, Message: msg}
			if d.Reason == "rate_limited" {
				no := false
				ms := d.RetryAfter.Milliseconds()
				es.Retryable, es.RetryAfterMs = &no, &ms
			}
			c.respondErr(req.ID, es)
			c.closeWith(ClosePolicy, msg)
			return false
		}
	}
	hello := HelloOK{
		Type: "hello-ok", Protocol: ProtocolVersion,
		Server:   ServerInfo{Version: c.s.opts.Version, ConnID: c.id},
		Features: Features{Methods: Methods, Events: Events},
		Policy: Policy{MaxPayload: c.s.opts.MaxPayload, MaxBufferedBytes: c.s.opts.MaxBuffered,
			TickIntervalMs: c.s.opts.TickInterval.Milliseconds()},
	}
	b := marshal(Response{Type: TypeRes, ID: req.ID, OK: true, Payload: marshal(hello)})
	c.mu.Lock()
	if c.closing { // the handshake timed out meanwhile
		c.mu.Unlock()
		return false
	}
	c.helloSent = true
	c.client = cp.Client
	c.mu.Unlock()
	c.sendRaw(b)
	c.log.Info("websocket connected", "remote", c.req.RemoteAddr, "client", cp.Client.ID, "mode", cp.Client.Mode, "version", cp.Client.Version)
	return true
}

// authFailureMessage words an auth failure as the original does.
func authFailureMessage(reason string) string {
	switch reason {
	case "token_missing":
		return "unauthorized: gateway token missing (provide gateway auth token)"
	case "token_mismatch":
		return "unauthorized: gateway token mismatch (provide gateway auth token)"
	case "password_missing":
		return "unauthorized: gateway password missing (provide gateway auth password)"
	case "password_mismatch":
		return "unauthorized: gateway password mismatch (provide gateway auth password)"
	case "rate_limited":
		return "unauthorized: too many failed authentication attempts (retry later)"
	}
	return "unauthorized"
}

// handle handles one frame after the handshake.
func (c *conn) handle(data []byte) {
	req, err := DecodeRequest(data)
	if err != nil {
		id := "invalid"
		if req != nil && req.ID != "" {
			id = req.ID
		}
		c.respondErr(id, &ErrorShape{Code: CodeInvalidRequest, Message: err.Error()})
		return
	}
	switch req.Method {
	case "connect":
		c.respondErr(req.ID, invalid("already connected"))
	case "health":
		c.respond(req.ID, c.s.health())
	case "status":
		c.respond(req.ID, c.s.status())
	case "agent":
		c.s.startAgent(c, req)
	case "agent.abort":
		c.s.abort(c, req)
	case "sessions.list":
		c.answer(req.ID)(c.s.sessionsList(req.Params))
	case "chat.history":
		c.answer(req.ID)(c.s.chatHistory(req.Params))
	default:
		c.respondErr(req.ID, invalid("unknown method: "+req.Method))
	}
}

func invalid(msg string) *ErrorShape { return &ErrorShape{Code: CodeInvalidRequest, Message: msg} }

// answer returns a function that sends a method's result or error.
func (c *conn) answer(id string) func(any, *ErrorShape) {
	return func(v any, es *ErrorShape) {
		if es != nil {
			c.respondErr(id, es)
			return
		}
		c.respond(id, v)
	}
}

func (c *conn) respond(id string, payload any) {
	c.sendRaw(marshal(Response{Type: TypeRes, ID: id, OK: true, Payload: marshal(payload)}))
}

func (c *conn) respondErr(id string, es *ErrorShape) {
	c.sendRaw(marshal(Response{Type: TypeRes, ID: id, OK: false, Error: es}))
}

// sendRaw queues a frame that is not an event.
func (c *conn) sendRaw(b []byte) { c.enqueue(b, false, nil) }

// sendEvent queues an event with the connection's next seq. A droppable
// event (tick) is dropped rather than queued behind a slow client.
func (c *conn) sendEvent(name string, payload json.RawMessage, droppable bool) {
	c.enqueue(nil, droppable, func(seq int64) []byte {
		return marshal(Event{Type: TypeEvent, Event: name, Payload: payload, Seq: &seq})
	})
}

// enqueue adds a frame to the writer's queue; build, when set, makes the
// frame from the event seq it is given. A client that lets more than
// MaxBuffered bytes pile up is closed: it cannot keep up.
func (c *conn) enqueue(b []byte, droppable bool, build func(seq int64) []byte) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if c.queued > c.s.opts.MaxBuffered {
		if droppable {
			c.mu.Unlock()
			return
		}
		c.queue, c.queued = nil, 0
		c.startCloseLocked(ClosePolicy, "slow consumer")
		c.mu.Unlock()
		c.log.Warn("websocket client too slow, closing", "remote", c.req.RemoteAddr)
		return
	}
	if build != nil {
		c.seq++
		b = build(c.seq)
	}
	c.queue = append(c.queue, b)
	c.queued += int64(len(b))
	c.mu.Unlock()
	c.signal()
}

func (c *conn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) isClosing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closing
}

// closeWith asks the writer to close the connection once the frames queued
// before have been written.
func (c *conn) closeWith(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	c.startCloseLocked(code, reason)
	c.mu.Unlock()
	c.signal()
}

func (c *conn) startCloseLocked(code websocket.StatusCode, reason string) {
	if c.closing {
		return
	}
	c.closing, c.closeCode, c.closeReason = true, code, truncateReason(reason)
}

// truncateReason keeps a close reason within the 123 bytes a close frame
// allows, on a rune boundary.
func truncateReason(s string) string {
	const max = 123
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// writeLoop writes queued frames in order, sends ticks, and performs the
// close. It ends when the connection is closed or the reader has ended.
func (c *conn) writeLoop(done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(c.s.opts.TickInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.wake:
		case <-tick.C:
			c.mu.Lock()
			hello := c.helloSent
			c.mu.Unlock()
			if hello {
				c.sendEvent("tick", marshal(map[string]int64{"ts": time.Now().UnixMilli()}), true)
			}
			continue
		}
		c.mu.Lock()
		frames := c.queue
		c.queue, c.queued = nil, 0
		closing, code, reason := c.closing, c.closeCode, c.closeReason
		c.mu.Unlock()
		for _, f := range frames {
			if err := c.write(f); err != nil {
				c.log.Debug("websocket write failed", "err", err)
				c.mu.Lock()
				c.startCloseLocked(websocket.StatusAbnormalClosure, "")
				c.queue, c.queued = nil, 0
				c.mu.Unlock()
				c.ws.CloseNow()
				return
			}
		}
		if closing {
			if err := c.ws.Close(code, reason); err != nil && !errors.Is(err, context.Canceled) {
				c.log.Debug("websocket close", "err", err)
			}
			return
		}
	}
}

func (c *conn) write(b []byte) error {
	ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// leaveRuns stops waiting for this connection's runs; a run nobody waits
// for any more is canceled.
func (c *conn) leaveRuns() {
	c.mu.Lock()
	runs := make([]*run, 0, len(c.runs))
	for r := range c.runs {
		runs = append(runs, r)
	}
	c.runs = map[*run]struct{}{}
	c.mu.Unlock()
	for _, r := range runs {
		r.leave(c)
	}
}

// headerHasToken reports whether a comma-separated header has the token.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

var errShutdown = errors.New("gateway shutting down")

// String names the connection in logs.
func (c *conn) String() string { return fmt.Sprintf("conn %s", c.id) }
