package session

import (
	"container/list"
	"context"
	"sync"
)

// queues hands out the right to run on a session key inside this process,
// in arrival order. It is package-wide (keyed by the lock file's path) so two
// Stores on the same state dir in one process still queue together instead
// of racing for the file lock, which is not fair.
var queues = &ticketQueues{m: map[string]*ticketQueue{}}

type ticketQueues struct {
	mu sync.Mutex
	m  map[string]*ticketQueue
}

// ticketQueue is one key's queue: held says a run owns the key; waiters are
// served front first.
type ticketQueue struct {
	held    bool
	waiters list.List // of *waiter
}

type waiter struct {
	ready   chan struct{} // closed when the key is handed to this waiter
	granted bool          // set under ticketQueues.mu together with close(ready)
}

// acquire waits for the key's turn. A caller whose ctx ends first leaves the
// queue and gets ctx.Err(); it never holds the key then.
func (t *ticketQueues) acquire(ctx context.Context, k string) error {
	t.mu.Lock()
	q := t.m[k]
	if q == nil {
		q = &ticketQueue{}
		t.m[k] = q
	}
	if !q.held && q.waiters.Len() == 0 {
		q.held = true
		t.mu.Unlock()
		return nil
	}
	w := &waiter{ready: make(chan struct{})}
	el := q.waiters.PushBack(w)
	t.mu.Unlock()

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	if w.granted {
		// Handed over just as ctx ended: pass the turn on rather than run
		// after the caller gave up.
		t.mu.Unlock()
		t.release(k)
		return ctx.Err()
	}
	q.waiters.Remove(el)
	t.mu.Unlock()
	return ctx.Err()
}

// release hands the key to the next waiter, or frees it.
func (t *ticketQueues) release(k string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	q := t.m[k]
	if q == nil || !q.held {
		panic("session: release of a key that is not held")
	}
	if front := q.waiters.Front(); front != nil {
		w := q.waiters.Remove(front).(*waiter)
		w.granted = true
		close(w.ready)
		return
	}
	delete(t.m, k)
}
