package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
)

// What the system says about the debugged process (target/facts.go),
// through the server to gdb, beside GNU gdbserver's answers for the
// same program.

// servers are the two servers a test compares: gdbserverx, and GNU
// gdbserver when it is installed.
func servers(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{"gdbserverx": gdbtest.Server(t)}
	if gs, err := exec.LookPath("gdbserver"); err == nil {
		out["gdbserver"] = gs
	} else {
		t.Log("GNU gdbserver is not installed: gdbserverx alone")
	}
	return out
}

// libraryRE is a line of `info sharedlibrary`: From, To, Syms Read and
// the name.
var libraryRE = regexp.MustCompile(`(?m)^0x[0-9a-f]+\s+0x[0-9a-f]+\s+(Yes|No)(?: \(\*\))?\s+(\S+)$`)

// TestSharedLibraryList: gdb finds a program's own shared library
// through qXfer:libraries-svr4 (target.LibraryLister), stops in it and
// reads its variable, and lists the same libraries as with GNU
// gdbserver.
func TestSharedLibraryList(t *testing.T) {
	root := gdbtest.Root(t)
	lib := gdbtest.CompileC(t, filepath.Join(root, "testdata", "shlib_lib.c"), "-shared", "-fPIC")
	prog := gdbtest.CompileC(t, filepath.Join(root, "testdata", "shlib.c"), lib)
	lists := map[string][]string{}
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
		out := gdbtest.Batch(t, "target remote "+srv.Addr(),
			"break shlib_triple",
			"continue",
			"info sharedlibrary",
			"print shlib_calls",
			"finish",
			"print shlib_calls",
			"kill",
		)
		contains(t, out,
			`Breakpoint 1, shlib_triple \(x=14\) at .*shlib_lib\.c:`,
			`\$1 = 0`,
			`Value returned is \$2 = 42`,
			`\$3 = 1`,
		)
		for _, m := range libraryRE.FindAllStringSubmatch(out, -1) {
			lists[name] = append(lists[name], m[1]+" "+m[2])
		}
		if !slices.Contains(lists[name], "Yes target:"+lib) {
			t.Errorf("%s: `info sharedlibrary` lacks %s, read:\n%s", name, lib, out)
		}
	}
	t.Logf("libraries:\n%s", strings.Join(lists["gdbserverx"], "\n"))
	if gs, ok := lists["gdbserver"]; ok && !slices.Equal(gs, lists["gdbserverx"]) {
		t.Errorf("libraries through gdbserverx:\n%s\nthrough gdbserver:\n%s",
			strings.Join(lists["gdbserverx"], "\n"), strings.Join(gs, "\n"))
	}
}

// TestThreadCoresMI: gdb/MI's -thread-info gives each thread the core it
// last ran on (qXfer:threads:read's core attribute, from
// target.ThreadInfo), as with GNU gdbserver. The server, and so the
// program, runs on one CPU only (taskset): the highest this test may
// use, so that a constant 0 would not pass on a machine of several CPUs.
func TestThreadCoresMI(t *testing.T) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	cpu := 0
	for i := 0; i < 1024; i++ { // a CPUSet holds 1024 CPUs
		if set.IsSet(i) {
			cpu = i
		}
	}
	t.Logf("server and program on CPU %d of %d", cpu, set.Count())
	prog := gdbtest.Program(t, "threads")
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, "taskset", "-c", fmt.Sprint(cpu), bin, "127.0.0.1:0", prog, "1")
		mi := ide(t, srv)
		if r := mi.Cmd("-break-insert all_started"); r.Class != "done" {
			t.Fatalf("%s: -break-insert: %+v", name, r)
		}
		mi.Cmd("-exec-continue")
		if s := mi.Stopped(); !strings.Contains(s, `reason="breakpoint-hit"`) {
			t.Fatalf("%s: stop %s", name, s)
		}
		r := mi.Cmd("-thread-info")
		threads := strings.Count(r.Rest, "target-id=")
		cores := regexp.MustCompile(`core="(\d+)"`).FindAllStringSubmatch(r.Rest, -1)
		if threads != 5 || len(cores) != threads {
			t.Errorf("%s: %d threads, %d with a core, want 5 each: %s", name, threads, len(cores), r.Rest)
		}
		for _, c := range cores {
			if c[1] != fmt.Sprint(cpu) {
				t.Errorf("%s: a thread on core %s, want %d: %s", name, c[1], cpu, r.Rest)
				break
			}
		}
		mi.Cmd("kill")
	}
}
