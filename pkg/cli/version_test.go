package cli

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionOf_ReadsModuleVersionAndVCS(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/silt-io/silt", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		},
	}
	want := "silt v1.2.0 (revision 0123456789abcdef0123456789abcdef01234567, 2026-12-01T10:00:00Z, modified) go1.26.0 linux/arm64"
	if got := versionOf(bi).String(); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	var js bytes.Buffer
	if err := printVersion(&js, versionOf(bi), true); err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"version":"v1.2.0","revision":"0123456789abcdef0123456789abcdef01234567","time":"2026-12-01T10:00:00Z","modified":true,"go":"go1.26.0","platform":"linux/arm64"}` + "\n"
	if js.String() != wantJSON {
		t.Fatalf("JSON %s, want %s", js.String(), wantJSON)
	}
	// Built without VCS information (-buildvcs=false, go run, a tarball).
	bare := versionOf(&debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}})
	if s := bare.String(); !strings.HasPrefix(s, "silt (devel) (revision unknown) go1.26.0 ") {
		t.Fatalf("without VCS: %s", s)
	}
}

// `silt version` and `silt --version` print the running binary's version.
func TestVersion_CommandAndFlag(t *testing.T) {
	t.Parallel()
	want := readVersion().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		root := NewRoot(IO{In: strings.NewReader(""), Out: &out, Err: &out})
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want || !strings.Contains(want, " go1.") {
			t.Fatalf("silt %s printed %q, want %q", args[0], out.String(), want)
		}
	}
}
