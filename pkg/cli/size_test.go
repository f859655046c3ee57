package cli

import "testing"

func TestSizeFlag_Set(t *testing.T) {
	t.Parallel()
	var n int64
	f := sizeFlag{&n}
	if err := f.Set("64MiB"); err != nil || n != 64<<20 || f.String() != "67108864" {
		t.Errorf("Set(64MiB): n=%d %q %v", n, f.String(), err)
	}
	if err := f.Set("lots"); err == nil {
		t.Error("Set(lots) took it")
	}
	flags := newServeCommand().Flags()
	if err := flags.Set("disk-low-water", "1G"); err != nil {
		t.Errorf("--disk-low-water 1G: %v", err)
	}
	if got := flags.Lookup("disk-low-water").Value.String(); got != "1073741824" {
		t.Errorf("--disk-low-water 1G reads back %s", got)
	}
}
