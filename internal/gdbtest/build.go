// Package gdbtest runs the real pieces in tests: it builds the gdbserverx
// binary and the C programs of testdata/ once per test binary, starts
// servers (gdbserverx or GNU gdbserver) and waits for their readiness line,
// runs gdb in batch mode and drives gdb/MI sessions.
//
// Nothing here sleeps: every wait is on an event (a line of output, a
// record, a process exit) with a deadline.
package gdbtest

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Root is the module's root directory (where go.mod is).
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{} // key -> path, or "!"+error
)

// scratch is a directory shared by every build of this test binary. It is
// removed by Cleanup (call it from TestMain) or left in $TMPDIR otherwise.
func scratch() (string, error) {
	if buildDir != "" {
		return buildDir, nil
	}
	d, err := os.MkdirTemp("", "gdbtest-")
	if err != nil {
		return "", err
	}
	buildDir = d
	return d, nil
}

// Cleanup removes the builds of this test binary. Call it from TestMain
// after m.Run.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
		built = map[string]string{}
	}
}

func cached(t testing.TB, key string, build func(dir string) (string, error)) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[key]; ok {
		if strings.HasPrefix(p, "!") {
			t.Fatal(p[1:])
		}
		return p
	}
	dir, err := scratch()
	if err != nil {
		t.Fatal(err)
	}
	p, err := build(dir)
	if err != nil {
		built[key] = "!" + err.Error()
		t.Fatal(err)
	}
	built[key] = p
	return p
}

// Server builds ./cmd/gdbserverx (with the race detector when the test
// binary has it) and returns the binary's path.
func Server(t testing.TB) string {
	t.Helper()
	root := Root(t)
	return cached(t, "gdbserverx", func(dir string) (string, error) {
		out := filepath.Join(dir, "gdbserverx")
		args := []string{"build", "-o", out}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "./cmd/gdbserverx")
		cmd := exec.Command("go", args...)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build ./cmd/gdbserverx: %v\n%s", err, b)
		}
		return out, nil
	})
}

// Program compiles testdata/NAME.c (at the module's root) with gcc (-g,
// plus flags; -O0 unless a flag says otherwise; -pthread always) and
// returns the binary's path. Builds are cached per name and flags.
func Program(t testing.TB, name string, flags ...string) string {
	t.Helper()
	return CompileC(t, filepath.Join(Root(t), "testdata", name+".c"), flags...)
}

// CompileC compiles the C file src (relative to the test's directory, or
// absolute) as Program does, once per test binary and flags, and returns
// the binary's path.
func CompileC(t testing.TB, src string, flags ...string) string {
	t.Helper()
	abs, err := filepath.Abs(src)
	if err != nil {
		t.Fatal(err)
	}
	key := "c:" + abs + ":" + strings.Join(flags, " ")
	return cached(t, key, func(dir string) (string, error) {
		// One directory per source directory and flags: the binary keeps
		// the source's name, which is the program's (and its main
		// thread's) name.
		sub := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "", "=", "").Replace(filepath.Dir(abs)+strings.Join(flags, "")))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return "", err
		}
		out := filepath.Join(sub, strings.TrimSuffix(filepath.Base(abs), ".c"))
		args := []string{"-g", "-pthread", "-o", out, abs}
		hasO := false
		for _, f := range flags {
			if strings.HasPrefix(f, "-O") {
				hasO = true
			}
		}
		if !hasO {
			args = append(args, "-O0")
		}
		args = append(args, flags...)
		if b, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("gcc %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return out, nil
	})
}

// Symbol returns the address of a symbol of a binary, as the symbol table
// has it (a non-PIE program's run-time address).
func Symbol(t testing.TB, bin, name string) uint64 {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			return s.Value
		}
	}
	t.Fatalf("%s: no symbol %s", bin, name)
	return 0
}

// GNUServer returns the path of GNU gdbserver, or skips the test when it
// is not installed.
func GNUServer(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("gdbserver")
	if err != nil {
		t.Skip("GNU gdbserver is not installed (apt-get install gdbserver)")
	}
	return p
}
