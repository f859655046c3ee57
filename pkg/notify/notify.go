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
	// next Notify closes.
	waiters map[Key]chan struct{}
}

// New returns an empty Notifier.
func New() *Notifier {
	return &Notifier{waiters: make(map[Key]chan struct{})}
}

// Wait returns a channel that is closed by the next Notify of the stream.
func (n *Notifier) Wait(project, stream string) <-chan struct{} {
	k := Key{project, stream}
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.waiters[k]
	if !ok {
		ch = make(chan struct{})
		n.waiters[k] = ch
	}
	return ch
}

// Notify wakes everyone waiting on the stream. It never blocks on waiters.
func (n *Notifier) Notify(project, stream string) {
	k := Key{project, stream}
	n.mu.Lock()
	ch, ok := n.waiters[k]
	if ok {
		delete(n.waiters, k)
	}
	n.mu.Unlock()
	if ok {
		close(ch)
	}
}
