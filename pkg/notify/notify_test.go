package notify_test

import (
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/notify"
)

func TestNotifier_Notify_WakesOnlyThatStream(t *testing.T) {
	t.Parallel()
	n := notify.New()
	a := n.Wait("p", "a")
	a2 := n.Wait("p", "a")
	b := n.Wait("p", "b")
	n.Notify("p", "a")
	for _, ch := range []<-chan struct{}{a, a2} {
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatal("waiter on p/a was not woken")
		}
	}
	select {
	case <-b:
		t.Fatal("waiter on p/b was woken by a notify of p/a")
	default:
	}
}

func TestNotifier_Wait_AfterNotifyGetsNewChannel(t *testing.T) {
	t.Parallel()
	n := notify.New()
	first := n.Wait("p", "s")
	n.Notify("p", "s")
	<-first
	second := n.Wait("p", "s")
	select {
	case <-second:
		t.Fatal("a wait taken after the notify must not be closed yet")
	default:
	}
	n.Notify("p", "s")
	<-second
}

func TestNotifier_Notify_WithoutWaitersDoesNotBlock(t *testing.T) {
	t.Parallel()
	n := notify.New()
	for range 1000 {
		n.Notify("p", "s")
	}
	// Notifies nobody waited for leave nothing behind: a new wait blocks.
	select {
	case <-n.Wait("p", "s"):
		t.Fatal("a wait taken after notifies without waiters is already closed")
	default:
	}
}
