package agent

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/openclaw/openclaw-go/pkg/provider"
)

// Observer receives the measurements of a Runner's runs (metrics). Its
// methods are called from the goroutine of the run, in order, so they must
// be quick and must not block.
type Observer interface {
	// RunStarted: the run was accepted (session and run slot held); it is
	// in flight until RunEnded.
	RunStarted(agentID string)
	// ModelCallEnded: one model call returned, answered or failed.
	ModelCallEnded(c ModelCall)
	// RunEnded: the run finished, well or not.
	RunEnded(s RunStats)
}

// ModelCall is one call of a model during a run.
type ModelCall struct {
	AgentID  string
	Provider string
	Model    string
	Duration time.Duration
	Usage    provider.Usage // this call's own usage
	Failed   bool
}

// RunStats sums up a finished run.
type RunStats struct {
	AgentID   string
	Provider  string // of the last model call
	Model     string
	Usage     provider.Usage
	Duration  time.Duration // from the start of the run
	ModelTime time.Duration // waiting on model calls
	Calls     int           // model calls, fallbacks included
	// Err is nil for a run that answered; else the run's error, an *Error
	// (or a plain error for a run that ended without its end event).
	Err error
}

// Outcome is "ok" for a run that answered, else the kind of its error:
// a small fixed set, fit for a metrics label.
func (s RunStats) Outcome() string {
	if s.Err == nil {
		return "ok"
	}
	var e *Error
	if errors.As(s.Err, &e) {
		return string(e.Kind)
	}
	return string(ErrInternal)
}

// Observe adds o to the observers of the runner's runs.
func (r *Runner) Observe(o Observer) {
	for {
		old := r.observers.Load()
		var list []Observer
		if old != nil {
			list = append(list, *old...)
		}
		list = append(list, o)
		if r.observers.CompareAndSwap(old, &list) {
			return
		}
	}
}

// ModelTimer adds up the time a request spent waiting on model calls, so
// that a caller can tell its own overhead apart. It is safe for concurrent
// use.
type ModelTimer struct {
	ns    atomic.Int64
	calls atomic.Int64
}

// Total is the time spent waiting on the model so far.
func (t *ModelTimer) Total() time.Duration { return time.Duration(t.ns.Load()) }

// Calls is the number of model calls timed so far.
func (t *ModelTimer) Calls() int { return int(t.calls.Load()) }

func (t *ModelTimer) add(d time.Duration) {
	t.ns.Add(int64(d))
	t.calls.Add(1)
}

type modelTimerKey struct{}

// WithModelTimer returns a context whose runs add their model time to the
// returned timer.
func WithModelTimer(ctx context.Context) (context.Context, *ModelTimer) {
	t := &ModelTimer{}
	return context.WithValue(ctx, modelTimerKey{}, t), t
}

// runObserver times a run from its own events: it wraps the run's emit
// function, so runner.go needs no more than one line for it.
type runObserver struct {
	obs   []Observer
	timer *ModelTimer
	next  func(Event)
	now   func() time.Time

	stats     RunStats
	start     time.Time
	started   bool
	ended     bool
	inCall    bool
	callStart time.Time
	usage     provider.Usage // the run's running total at the last call's end
}

// observe wraps *emit so that the runner's observers and the context's
// model timer see the run; the returned function ends the run's record when
// Run returns, also for a run that ended without an end event (a panic).
// With no observer and no timer it does nothing.
func (r *Runner) observe(ctx context.Context, agentID string, emit *func(Event)) func() {
	var obs []Observer
	if p := r.observers.Load(); p != nil {
		obs = *p
	}
	timer, _ := ctx.Value(modelTimerKey{}).(*ModelTimer)
	if len(obs) == 0 && timer == nil {
		return func() {}
	}
	o := &runObserver{obs: obs, timer: timer, next: *emit, now: time.Now, stats: RunStats{AgentID: agentID}}
	*emit = o.emit
	return o.done
}

func (o *runObserver) emit(ev Event) {
	switch ev.Type {
	case EventStart:
		o.started, o.start = true, o.now()
		for _, ob := range o.obs {
			ob.RunStarted(o.stats.AgentID)
		}
	case EventModel:
		o.endCall(provider.Usage{}, true) // a fallback: the call before failed
		o.inCall, o.callStart = true, o.now()
		o.stats.Provider, o.stats.Model = ev.Provider, ev.Model
	case EventUsage:
		u := ev.Usage
		call := provider.Usage{Input: u.Input - o.usage.Input, Output: u.Output - o.usage.Output,
			CacheRead: u.CacheRead - o.usage.CacheRead, CacheWrite: u.CacheWrite - o.usage.CacheWrite}
		o.usage = u
		o.endCall(call, false)
	case EventEnd:
		o.endRun(nil)
	case EventError:
		o.endCall(provider.Usage{}, true)
		o.endRun(ev.Err)
	}
	o.next(ev)
}

func (o *runObserver) endCall(u provider.Usage, failed bool) {
	if !o.inCall {
		return
	}
	o.inCall = false
	d := o.now().Sub(o.callStart)
	o.stats.ModelTime += d
	o.stats.Calls++
	if o.timer != nil {
		o.timer.add(d)
	}
	c := ModelCall{AgentID: o.stats.AgentID, Provider: o.stats.Provider, Model: o.stats.Model, Duration: d, Usage: u, Failed: failed}
	for _, ob := range o.obs {
		ob.ModelCallEnded(c)
	}
}

func (o *runObserver) endRun(err error) {
	if !o.started || o.ended {
		return
	}
	o.ended = true
	o.stats.Usage = o.usage
	o.stats.Duration = o.now().Sub(o.start)
	o.stats.Err = err
	for _, ob := range o.obs {
		ob.RunEnded(o.stats)
	}
}

var errNoEnd = errors.New("run ended without an end event")

// done closes a run that never emitted its end or error event.
func (o *runObserver) done() {
	o.endCall(provider.Usage{}, true)
	o.endRun(errNoEnd)
}
