package provider

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// httpBase is what the HTTP providers share.
type httpBase struct {
	id          string
	url         string
	apiKey      string
	headers     map[string]string
	client      *http.Client
	readTimeout time.Duration
}

// errReadTimeout is the cancel cause the watchdog gives.
var errReadTimeout = errors.New("read timeout")

// call is one HTTP round trip under a read watchdog: a timer, re-armed by
// every byte received, that aborts the request when the server is silent for
// longer than the read timeout. It costs no goroutine while it waits.
type call struct {
	h      *httpBase
	model  string
	ctx    context.Context // the caller's
	rctx   context.Context // the request's: ends with ctx or the watchdog
	cancel context.CancelCauseFunc
	timer  *time.Timer
	gotHdr bool // response headers arrived
}

func (h *httpBase) start(ctx context.Context, model string) *call {
	rctx, cancel := context.WithCancelCause(ctx)
	c := &call{h: h, model: model, ctx: ctx, rctx: rctx, cancel: cancel}
	c.timer = time.AfterFunc(h.readTimeout, func() { cancel(errReadTimeout) })
	return c
}

// touch re-arms the watchdog after the server showed life.
func (c *call) touch() { c.timer.Reset(c.h.readTimeout) }

// end releases the watchdog and aborts whatever is still in flight.
func (c *call) end() {
	c.timer.Stop()
	c.cancel(nil)
}

// post sends body and returns the 2xx response with a watched body, or the
// mapped error. setHeaders adds the API's own headers; the configured extra
// headers go on top.
func (c *call) post(body []byte, setHeaders func(http.Header)) (*http.Response, error) {
	req, err := http.NewRequestWithContext(c.rctx, http.MethodPost, c.h.url, bytes.NewReader(body))
	if err != nil {
		return nil, c.fail(ErrBadRequest, 0, "cannot build request", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream, application/json")
	req.Header.Set("User-Agent", "openclaw")
	setHeaders(req.Header)
	for k, v := range c.h.headers {
		req.Header.Set(k, v)
	}
	resp, err := c.h.client.Do(req)
	if err != nil {
		return nil, c.transportErr(err)
	}
	c.gotHdr = true
	c.touch()
	resp.Body = &watchedBody{ReadCloser: resp.Body, c: c}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, c.statusErr(resp)
}

// watchedBody re-arms the watchdog on every read that returns data.
type watchedBody struct {
	io.ReadCloser
	c *call
}

func (w *watchedBody) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	if n > 0 {
		w.c.touch()
	}
	return n, err
}

// drain reads what little is left after the end marker so the connection
// goes back to the pool, but never waits long for a server that keeps the
// stream open after saying it is done.
func (c *call) drain(r io.Reader) {
	c.timer.Reset(250 * time.Millisecond)
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
}

// fail builds an *Error of this call with a redacted, truncated message.
func (c *call) fail(kind ErrorKind, status int, msg string, err error) *Error {
	return &Error{Kind: kind, Provider: c.h.id, Model: c.model, Status: status, Message: c.redact(msg), Err: err}
}

// interrupted maps the end of the request context: the watchdog (timeout)
// or the caller (canceled). It returns nil while neither happened.
func (c *call) interrupted() *Error {
	if c.ctx.Err() != nil {
		return c.fail(ErrCanceled, 0, "canceled: "+c.ctx.Err().Error(), c.ctx.Err())
	}
	if errors.Is(context.Cause(c.rctx), errReadTimeout) {
		if !c.gotHdr {
			return c.fail(ErrTimeout, 0, fmt.Sprintf("no response within %s", c.h.readTimeout), errReadTimeout)
		}
		return c.fail(ErrTimeout, 0, fmt.Sprintf("stream stalled for more than %s", c.h.readTimeout), errReadTimeout)
	}
	return nil
}

// transportErr maps a failure of client.Do: nothing came back.
func (c *call) transportErr(err error) *Error {
	if e := c.interrupted(); e != nil {
		return e
	}
	var dns *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &dns):
		return c.fail(ErrConnection, 0, "cannot resolve "+dns.Name, err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return c.fail(ErrConnection, 0, "connection refused", err)
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return c.fail(ErrConnection, 0, "connection closed before a response", err)
	case errors.As(err, &ne) && ne.Timeout():
		return c.fail(ErrConnection, 0, "cannot connect in time", err)
	case strings.Contains(err.Error(), "malformed HTTP"):
		return c.fail(ErrBadResponse, 0, "not an HTTP response", err)
	}
	return c.fail(ErrConnection, 0, err.Error(), err)
}

// bodyErr maps a failure while reading a response body that had started.
func (c *call) bodyErr(err error) *Error {
	if e := c.interrupted(); e != nil {
		return e
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return c.fail(ErrConnection, 0, "connection reset during the response", err)
	}
	return c.fail(ErrBadResponse, 0, "response cut short: "+err.Error(), err)
}

// maxErrBody bounds how much of an error body is read, maxErrMsg how much
// of the upstream message is kept.
const (
	maxErrBody = 64 << 10
	maxErrMsg  = 300
)

// statusErr maps a non-2xx response.
func (c *call) statusErr(resp *http.Response) *Error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxErrBody))
	if err != nil {
		if e := c.interrupted(); e != nil {
			return e
		}
	}
	typ, msg := upstreamMessage(b)
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	kind := statusKind(resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		kind = ErrBadRequest
		msg = "redirected to " + redactURL(resp.Header.Get("Location")) + "; fix the baseUrl"
	}
	e := c.fail(kind, resp.StatusCode, msg, nil)
	if typ != "" && kind == ErrBadRequest {
		// A 400 that says overloaded or rate limited is what it says.
		if k := typeKind(typ); k == ErrOverloaded || k == ErrRateLimit {
			e.Kind = k
		}
	}
	e.RetryAfter = parseRetryAfter(resp.Header, time.Now())
	return e
}

// statusKind maps an HTTP status to an error kind.
func statusKind(status int) ErrorKind {
	switch {
	case status == 401 || status == 403:
		return ErrAuth
	case status == 429:
		return ErrRateLimit
	case status == 408:
		return ErrTimeout
	case status >= 500:
		return ErrOverloaded
	case status >= 400:
		return ErrBadRequest
	}
	return ErrBadResponse
}

// typeKind maps an error type named in an error body or stream event.
func typeKind(t string) ErrorKind {
	switch t {
	case "authentication_error", "permission_error", "invalid_api_key":
		return ErrAuth
	case "rate_limit_error", "rate_limit_exceeded", "insufficient_quota", "tokens", "requests":
		return ErrRateLimit
	case "overloaded_error", "api_error", "server_error", "service_unavailable", "internal_error":
		return ErrOverloaded
	case "invalid_request_error", "not_found_error", "request_too_large", "model_not_found":
		return ErrBadRequest
	case "timeout_error":
		return ErrTimeout
	}
	return ErrBadResponse
}

// errorBody is the error shape of both APIs: OpenAI's {"error":{...}} and
// Anthropic's {"type":"error","error":{...}}. Some servers put a plain
// string in "error".
type errorBody struct {
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
	Detail  any             `json:"detail"`
}

type errorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    any    `json:"code"`
}

// upstreamMessage pulls the error type and message out of an error body;
// anything else is kept as text.
func upstreamMessage(b []byte) (typ, msg string) {
	var eb errorBody
	if json.Unmarshal(b, &eb) == nil {
		var d errorDetail
		var s string
		switch {
		case json.Unmarshal(eb.Error, &d) == nil && (d.Message != "" || d.Type != ""):
			typ, msg = d.Type, d.Message
			if code, ok := d.Code.(string); ok && typ == "" {
				typ = code
			}
		case json.Unmarshal(eb.Error, &s) == nil && s != "":
			msg = s
		case eb.Message != "":
			msg = eb.Message
		case eb.Detail != nil:
			msg = fmt.Sprint(eb.Detail)
		}
		if msg != "" || typ != "" {
			return typ, msg
		}
	}
	if s := strings.TrimSpace(string(b)); s != "{}" {
		return "", s
	}
	return "", ""
}

// redact removes the API key from s and truncates it.
func (c *call) redact(s string) string {
	if c.h.apiKey != "" {
		s = strings.ReplaceAll(s, c.h.apiKey, "[redacted]")
	}
	return truncate(s, maxErrMsg)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// parseRetryAfter reads retry-after-ms (milliseconds) or Retry-After
// (seconds or an HTTP date). Zero means none.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if f, err := strconv.ParseFloat(v, 64); err == nil && f > 0 {
			return durationOf(f, time.Millisecond)
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if !(f > 0) { // NaN too
			return 0
		}
		return durationOf(f, time.Second)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// durationOf is f units, saturated at the longest Duration: converting an
// out-of-range float to an integer is undefined in Go (on amd64 a
// Retry-After of 1e300 came out negative, and the 429 lost its header).
func durationOf(f float64, unit time.Duration) time.Duration {
	if d := f * float64(unit); d < math.MaxInt64 {
		return time.Duration(d)
	}
	return math.MaxInt64
}

// streamErr maps an error reported inside a 200 response or stream.
func (c *call) streamErr(typ, msg string) *Error {
	if msg == "" {
		msg = "error event without a message"
	}
	if typ != "" {
		msg = typ + ": " + msg
	}
	return c.fail(typeKind(typ), 0, msg, nil)
}

// readWhole reads a whole (not streamed) JSON body into v and returns its
// bytes, for servers that ignore stream:true.
func (c *call) readWhole(br *bufio.Reader, v any) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(br, 64<<20))
	if err != nil {
		return nil, c.bodyErr(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, c.fail(ErrBadResponse, 0, "invalid JSON response: "+truncate(string(b), 100), err)
	}
	return b, nil
}

// endStream checks how a stream ended: after its end marker the rest is
// drained (keeping the connection reusable); without one and without a
// finish reason, the reply was cut short.
func (c *call) endStream(br *bufio.Reader, done, finished bool) error {
	if done {
		c.drain(br)
	} else if !finished {
		return c.fail(ErrBadResponse, 0, "stream ended before the reply finished", io.ErrUnexpectedEOF)
	}
	return nil
}
