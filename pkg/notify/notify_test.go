package notify_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/notify"
)

func TestNotifier_Notify_WakesOnlyThatStream(t *testing.T) {
	t.Parallel()
	n := notify.New()
	a, _ := n.Wait("p", "a")
	a2, _ := n.Wait("p", "a")
	b, _ := n.Wait("p", "b")
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
	first, _ := n.Wait("p", "s")
	n.Notify("p", "s")
	<-first
	second, _ := n.Wait("p", "s")
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
	wake, _ := n.Wait("p", "s")
	select {
	case <-wake:
		t.Fatal("a wait taken after notifies without waiters is already closed")
	default:
	}
}

// TestNotifier_Release_LeavesNothingBehind waits on many names no event
// ever comes to (a client subscribing to streams that never appear) and
// checks that releasing the waits frees them, while a name still held
// keeps waking.
func TestNotifier_Release_LeavesNothingBehind(t *testing.T) {
	t.Parallel()
	n := notify.New()
	for i := range 1000 {
		_, release := n.Wait("p", fmt.Sprint("never-", i))
		release()
		release() // twice is once
	}
	held, releaseHeld := n.Wait("p", "s")
	_, releaseOther := n.Wait("p", "s")
	releaseOther()
	if got := n.Streams(); got != 1 {
		t.Fatalf("%d streams waited on after releasing all but one wait, want 1", got)
	}
	n.Notify("p", "s")
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("a held wait was not woken")
	}
	newer, releaseNewer := n.Wait("p", "s")
	defer releaseNewer()
	releaseHeld() // after the notify: must not drop the newer wait
	if got := n.Streams(); got != 1 {
		t.Fatalf("%d streams waited on, want the newer wait's 1", got)
	}
	n.Notify("p", "s")
	<-newer
	if got := n.Streams(); got != 0 {
		t.Fatalf("%d streams waited on after the last notify, want 0", got)
	}
}
