package diskspace

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/silt-io/silt/pkg/event"
)

// fakeFS returns a Statfs that reports *free bytes free.
func fakeFS(free *int64) func(string) (Space, error) {
	return func(string) (Space, error) { return Space{Free: *free, Total: 1 << 30}, nil }
}

func TestGuard_Check_LowWaterForAppends(t *testing.T) {
	t.Parallel()
	free := int64(40 << 20)
	g := New("/data", Options{LowWater: 32 << 20, Statfs: fakeFS(&free)})
	if err := g.Check(8<<20, ForAppends); err != nil {
		t.Fatalf("8 MiB with 40 free and a 32 MiB mark: %v", err)
	}
	err := g.Check(8<<20+1, ForAppends)
	if !errors.Is(err, event.ErrDiskFull) || !IsFull(err) {
		t.Fatalf("one byte more: got %v, want ErrDiskFull", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "disk full") || !strings.Contains(msg, "40.0 MiB free in …/data") || strings.Contains(msg, "in /data") || !strings.Contains(msg, "low-water mark of 32.0 MiB") {
		t.Errorf("message %q does not say what is free and what must stay free", msg)
	}
	if err := g.Check(38<<20, Essential); err != nil {
		t.Errorf("an essential write down to the floor: %v", err)
	}
	if err := g.Check(38<<20+1, Essential); !IsFull(err) {
		t.Errorf("an essential write below the floor: got %v", err)
	}
}

func TestGuard_Check_SubtractsOwedAndReserved(t *testing.T) {
	t.Parallel()
	free := int64(100 << 20)
	g := New("/data", Options{LowWater: 10 << 20, Statfs: fakeFS(&free)})
	owed := int64(50 << 20)
	g.Owe(func() int64 { return owed })
	if err := g.Check(40<<20, ForAppends); err != nil {
		t.Fatalf("100 free - 50 owed - 40 = 10: %v", err)
	}
	release, err := g.Reserve(20<<20, Essential)
	if err != nil {
		t.Fatalf("reserve: %v", err)
	}
	if err := g.Check(40<<20, ForAppends); !IsFull(err) {
		t.Fatalf("with 20 MiB reserved: got %v, want full", err)
	}
	release()
	release() // a second call does nothing
	if err := g.Check(40<<20, ForAppends); err != nil {
		t.Fatalf("after release: %v", err)
	}
	owed = 0
	free = 50 << 20
	if err := g.Check(40<<20, ForAppends); err != nil {
		t.Fatalf("nothing owed: %v", err)
	}
}

func TestGuard_Check_RecoversWhenSpaceReturns(t *testing.T) {
	t.Parallel()
	free := int64(1 << 20)
	g := New("/data", Options{Statfs: fakeFS(&free)})
	if err := g.Check(1, ForAppends); !IsFull(err) {
		t.Fatalf("1 MiB free under the default mark: got %v", err)
	}
	free = 1 << 30
	if err := g.Check(1, ForAppends); err != nil {
		t.Fatalf("after space returned: %v", err)
	}
}

func TestGuard_Check_StatfsError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	g := New("/data", Options{Statfs: func(string) (Space, error) { return Space{}, boom }})
	if err := g.Check(1, ForAppends); !errors.Is(err, boom) || IsFull(err) {
		t.Errorf("got %v, want the statfs error", err)
	}
	g = New("/data", Options{Statfs: func(string) (Space, error) { return Space{}, errors.ErrUnsupported }})
	if err := g.Check(1<<50, ForAppends); err != nil {
		t.Errorf("unsupported statfs: got %v, want every write admitted", err)
	}
}

func TestGuard_Check_Nil(t *testing.T) {
	t.Parallel()
	var g *Guard
	g.Owe(func() int64 { return 1 })
	if err := g.Check(1<<60, ForAppends); err != nil {
		t.Errorf("nil guard: %v", err)
	}
	release, err := g.Reserve(1, Essential)
	if err != nil {
		t.Fatal(err)
	}
	release()
}

func TestGuard_Wait_UntilSpace(t *testing.T) {
	t.Parallel()
	free := make(chan int64, 1)
	free <- 0
	last := int64(0)
	g := New("/data", Options{PollEvery: time.Millisecond, Statfs: func(string) (Space, error) {
		select {
		case last = <-free:
		default:
		}
		return Space{Free: last}, nil
	}})
	reports := 0
	err := g.Wait(t.Context(), 1, Essential, func(error) {
		if reports++; reports == 3 {
			free <- 1 << 30
		}
	})
	if err != nil || reports != 3 {
		t.Errorf("Wait: %v after %d reports, want nil after 3", err, reports)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	free <- 0
	if err := g.Wait(ctx, 1, Essential, nil); !errors.Is(err, context.Canceled) || !IsFull(err) {
		t.Errorf("Wait with a cancelled context: %v", err)
	}
}

func TestIsFull_OSErrors(t *testing.T) {
	t.Parallel()
	for _, err := range []error{syscall.ENOSPC, syscall.EDQUOT, fmt.Errorf("write x: %w", syscall.ENOSPC), event.ErrDiskFull} {
		if !IsFull(err) {
			t.Errorf("IsFull(%v) = false", err)
		}
	}
	if IsFull(syscall.EIO) {
		t.Error("IsFull(EIO) = true")
	}
}

func TestStatfs_TempDir(t *testing.T) {
	t.Parallel()
	sp, err := Statfs(t.TempDir())
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip("no statfs on this platform")
	}
	if err != nil || sp.Total <= 0 || sp.Free < 0 || sp.Free > sp.Total {
		t.Errorf("Statfs = %+v, %v", sp, err)
	}
}

func TestAllocated_SparseFile(t *testing.T) {
	t.Parallel()
	f, err := os.Create(filepath.Join(t.TempDir(), "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(64 << 20); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 8192)); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if got := Allocated(fi); got < 8192 || got >= 64<<20 {
		t.Errorf("Allocated = %d for 8 KiB written into a 64 MiB sparse file", got)
	}
}
