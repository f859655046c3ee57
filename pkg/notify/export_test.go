package notify

// Streams is how many streams have waits on them.
func (n *Notifier) Streams() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.waiters)
}
