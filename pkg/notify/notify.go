// Package notify wakes readers when a stream has more events.
//
// A Notifier carries no data: it only says "there is more", and every waiter
// reads the events from the store at its own pace. That is what keeps a slow
// subscriber from blocking writers or other subscribers, and why any front
// door (Connect Subscribe, Durable Streams long-poll, SSE) can wait on it.
//
// The pattern is: take Wait's channel, then read the store, then block on the
// channel only if the read found nothing new. A commit that lands between the
// read and the block has already closed the channel, so no wake-up is lost.
package notify

import "sync"

// Key names one stream.
type Key struct {
	Project string
	Stream  string
}

// Notifier broadcasts commits per stream.
type Notifier struct {
	// mu protects waiters.
	mu sync.Mutex
	// waiters holds, per stream that someone waits on, the channel that the
	// next Notify closes and how many waits hold it. An entry lives while
	// a wait holds it and no Notify came: waits on names that never get an
	// event leave nothing behind once released.
	waiters map[Key]*waiters
}

type waiters struct {
	ch    chan struct{}
	holds int
}

// New returns an empty Notifier.
func New() *Notifier {
	return &Notifier{waiters: make(map[Key]*waiters)}
}

// Wait returns a channel that is closed by the next Notify of the stream,
// and the function that releases it; the caller calls release once it no
// longer waits on the channel.
func (n *Notifier) Wait(project, stream string) (wake <-chan struct{}, release func()) {
	k := Key{project, stream}
	n.mu.Lock()
	defer n.mu.Unlock()
	w := n.waiters[k]
	if w == nil {
		w = &waiters{ch: make(chan struct{})}
		n.waiters[k] = w
	}
	w.holds++
	var once sync.Once
	return w.ch, func() { once.Do(func() { n.release(k, w) }) }
}

// release drops one hold of w, and w itself with its last hold unless a
// Notify already dropped it.
func (n *Notifier) release(k Key, w *waiters) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if w.holds--; w.holds == 0 && n.waiters[k] == w {
		delete(n.waiters, k)
	}
}

// Notify wakes everyone waiting on the stream. It never blocks on waiters.
func (n *Notifier) Notify(project, stream string) {
	k := Key{project, stream}
	n.mu.Lock()
	w := n.waiters[k]
	delete(n.waiters, k)
	n.mu.Unlock()
	if w != nil {
		close(w.ch)
	}
}
