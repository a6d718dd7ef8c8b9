// Package wsclient is a client of the gateway's WebSocket protocol: it
// dials, answers the connect challenge with the gateway's secret, and then
// sends requests and delivers responses and events in the order the server
// sent them.
package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/openclaw/openclaw-go/pkg/gateway/ws"
)

// DefaultHandshakeTimeout bounds dialing and the connect handshake.
const DefaultHandshakeTimeout = 10 * time.Second

// maxFrame bounds one server frame (a long chat.history answer).
const maxFrame = 32 << 20

// Options configure Dial.
type Options struct {
	URL      string // ws:// or wss://; http(s):// is taken as ws(s)://
	Token    string // the gateway's token (auth mode token)
	Password string // the gateway's password (auth mode password)
	// Client describes this client in connect; empty fields get defaults
	// (id "cli", mode "cli", this platform, version "dev").
	Client ws.ClientInfo
	// OnEvent receives every event after the handshake, in order, on the
	// client's reading goroutine (before any response the server sent
	// after it). It must not block for long.
	OnEvent func(ws.Frame)
	// HandshakeTimeout bounds dialing and the handshake; 0 is
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
}

// DialError says why Dial failed. Refused is set when a gateway answered
// and turned the connection down (bad secret, protocol); otherwise none
// answered (nothing listening, not a gateway, timeout).
type DialError struct {
	URL     string
	Refused bool
	Reason  string         // short, for a one-line message
	Close   *ws.ErrorShape // the server's error response, when it sent one
	Err     error          // the underlying error
}

func (e *DialError) Error() string {
	if e.Refused {
		return fmt.Sprintf("the gateway at %s refused the connection: %s", e.URL, e.Reason)
	}
	return fmt.Sprintf("no gateway at %s (%s)", e.URL, e.Reason)
}

func (e *DialError) Unwrap() error { return e.Err }

// Client is a connected client. Its methods are safe for concurrent use.
type Client struct {
	conn    *websocket.Conn
	hello   ws.HelloOK
	onEvent func(ws.Frame)

	mu      sync.Mutex
	nextID  int64
	pending map[string]chan ws.Frame

	done chan struct{}
	err  error // why the connection ended; set before done is closed
}

// NormalizeURL turns a gateway address into a ws:// or wss:// URL.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("invalid gateway URL %q: use ws://host:port", raw)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss":
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("invalid gateway URL %q: the scheme must be ws or wss", raw)
	}
	return u.String(), nil
}

// Dial connects and performs the handshake. A failure is a *DialError.
func Dial(ctx context.Context, opts Options) (*Client, error) {
	u, err := NormalizeURL(opts.URL)
	if err != nil {
		return nil, &DialError{URL: opts.URL, Reason: err.Error(), Err: err}
	}
	timeout := opts.HandshakeTimeout
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	fail := func(refused bool, reason string, err error) (*Client, error) {
		return nil, &DialError{URL: u, Refused: refused, Reason: reason, Err: err}
	}
	conn, resp, err := websocket.Dial(hctx, u, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return fail(false, fmt.Sprintf("not a WebSocket endpoint: HTTP %d", resp.StatusCode), err)
		}
		return fail(false, dialReason(hctx, err), err)
	}
	conn.SetReadLimit(maxFrame)
	c := &Client{conn: conn, onEvent: opts.OnEvent, pending: map[string]chan ws.Frame{}, done: make(chan struct{})}

	// The challenge comes first; its nonce only matters to device auth.
	f, err := readFrame(hctx, conn)
	if err != nil {
		conn.CloseNow()
		return fail(false, "no connect challenge: "+readReason(hctx, err), err)
	}
	if f.Type != ws.TypeEvent || f.Event != "connect.challenge" {
		conn.CloseNow()
		return fail(false, "not a gateway: the first frame was not a connect challenge", nil)
	}
	ci := opts.Client
	if ci.ID == "" {
		ci.ID = "cli"
	}
	if ci.Mode == "" {
		ci.Mode = "cli"
	}
	if ci.Platform == "" {
		ci.Platform = runtime.GOOS
	}
	if ci.Version == "" {
		ci.Version = "dev"
	}
	params := ws.ConnectParams{MinProtocol: ws.ProtocolVersion, MaxProtocol: ws.ProtocolVersion, Client: ci,
		Auth: ws.ConnectAuth{Token: opts.Token, Password: opts.Password}}
	req, _ := json.Marshal(ws.Request{Type: ws.TypeReq, ID: "connect", Method: "connect", Params: mustJSON(params)})
	if err := conn.Write(hctx, websocket.MessageText, req); err != nil {
		conn.CloseNow()
		return fail(false, readReason(hctx, err), err)
	}
	f, err = readFrame(hctx, conn)
	if err != nil {
		conn.CloseNow()
		if ce := (websocket.CloseError{}); errors.As(err, &ce) {
			return fail(true, closeReason(ce), err)
		}
		return fail(false, "no answer to connect: "+readReason(hctx, err), err)
	}
	if f.Type != ws.TypeRes || f.ID != "connect" {
		conn.CloseNow()
		return fail(false, "unexpected answer to connect", nil)
	}
	if !f.OK {
		conn.CloseNow()
		reason := "connect refused"
		if f.Error != nil {
			reason = f.Error.Message
		}
		return nil, &DialError{URL: u, Refused: true, Reason: reason, Close: f.Error}
	}
	if err := json.Unmarshal(f.Payload, &c.hello); err != nil || c.hello.Type != "hello-ok" {
		conn.CloseNow()
		return fail(false, "unexpected answer to connect", err)
	}
	go c.readLoop()
	return c, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func readFrame(ctx context.Context, conn *websocket.Conn) (ws.Frame, error) {
	var f ws.Frame
	_, data, err := conn.Read(ctx)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return f, fmt.Errorf("invalid frame from the gateway: %w", err)
	}
	return f, nil
}

// dialReason is a short reason a dial failed.
func dialReason(ctx context.Context, err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case ctx.Err() != nil:
		return "timed out"
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return ne.Err.Error()
	}
	return err.Error()
}

func readReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "timed out"
	}
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return closeReason(ce)
	}
	return err.Error()
}

func closeReason(ce websocket.CloseError) string {
	if ce.Reason != "" {
		return fmt.Sprintf("%s (close %d)", ce.Reason, ce.Code)
	}
	return fmt.Sprintf("closed with code %d", ce.Code)
}

// Hello returns the server's hello-ok.
func (c *Client) Hello() ws.HelloOK { return c.hello }

// readLoop delivers frames until the connection ends.
func (c *Client) readLoop() {
	var err error
	for {
		var f ws.Frame
		f, err = readFrame(context.Background(), c.conn)
		if err != nil {
			break
		}
		switch f.Type {
		case ws.TypeEvent:
			if c.onEvent != nil {
				c.onEvent(f)
			}
		case ws.TypeRes:
			c.mu.Lock()
			ch := c.pending[f.ID]
			c.mu.Unlock()
			if ch != nil {
				select {
				case ch <- f:
				default: // a caller that stopped listening
				}
			}
		}
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
	c.conn.CloseNow()
}

// Done is closed when the connection has ended; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err is why the connection ended (nil while it is open).
func (c *Client) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var ce websocket.CloseError
	if errors.As(c.err, &ce) {
		return fmt.Errorf("the gateway closed the connection: %s", closeReason(ce))
	}
	return c.err
}

// Close closes the connection and waits for the reading goroutine.
func (c *Client) Close() error {
	err := c.conn.Close(websocket.StatusNormalClosure, "")
	<-c.done
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Call is a request in flight; Next returns its responses in order (the
// agent method answers twice).
type Call struct {
	c  *Client
	ID string
	ch chan ws.Frame
}

// Start sends a request; the responses come from the returned Call, which
// must be closed.
func (c *Client) Start(ctx context.Context, method string, params any) (*Call, error) {
	p, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode %s params: %w", method, err)
	}
	c.mu.Lock()
	c.nextID++
	id := strconv.FormatInt(c.nextID, 10)
	call := &Call{c: c, ID: id, ch: make(chan ws.Frame, 8)}
	c.pending[id] = call.ch
	c.mu.Unlock()
	b, _ := json.Marshal(ws.Request{Type: ws.TypeReq, ID: id, Method: method, Params: p})
	if err := c.conn.Write(ctx, websocket.MessageText, b); err != nil {
		call.Close()
		if e := c.Err(); e != nil {
			return nil, e
		}
		return nil, fmt.Errorf("send %s: %w", method, err)
	}
	return call, nil
}

// Next waits for the call's next response. A connection that ended first
// is an error.
func (k *Call) Next(ctx context.Context) (ws.Frame, error) {
	select {
	case f := <-k.ch:
		return f, nil
	default:
	}
	select {
	case f := <-k.ch:
		return f, nil
	case <-k.c.done:
		select {
		case f := <-k.ch:
			return f, nil
		default:
		}
		err := k.c.Err()
		if err == nil {
			err = errors.New("the connection to the gateway ended")
		}
		return ws.Frame{}, err
	case <-ctx.Done():
		return ws.Frame{}, ctx.Err()
	}
}

// Close stops listening for the call's responses.
func (k *Call) Close() {
	k.c.mu.Lock()
	delete(k.c.pending, k.ID)
	k.c.mu.Unlock()
}

// Call sends a request and waits for its one response: the payload, or the
// server's *ws.ErrorShape.
func (c *Client) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	k, err := c.Start(ctx, method, params)
	if err != nil {
		return nil, err
	}
	defer k.Close()
	f, err := k.Next(ctx)
	if err != nil {
		return nil, err
	}
	if !f.OK {
		if f.Error == nil {
			return nil, &ws.ErrorShape{Code: ws.CodeUnavailable, Message: "request failed"}
		}
		return nil, f.Error
	}
	return f.Payload, nil
}
