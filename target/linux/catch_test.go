package linux

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// syscallStops runs p to its end and lists its stops, each as
// "entry|exit NR by main|thread"; any other stop fails the test.
func syscallStops(t *testing.T, p *Process) []string {
	t.Helper()
	var got []string
	for {
		cont(t, p)
		ev := nextReal(t, p)
		if ev.Kind != target.EventStopped {
			if ev.Kind != target.EventExited || ev.ExitCode != 0 {
				t.Fatalf("end: %+v", ev)
			}
			return got
		}
		st := onlyStop(t, ev)
		who := "thread"
		if int(st.Tid) == p.Pid() {
			who = "main"
		}
		switch st.Reason {
		case target.StopSyscallEntry:
			got = append(got, fmt.Sprintf("entry %d by %s", st.Syscall, who))
		case target.StopSyscallExit:
			got = append(got, fmt.Sprintf("exit %d by %s", st.Syscall, who))
		default:
			t.Fatalf("stop %+v, want a syscall stop", st)
		}
	}
}

// TestCatchSyscalls: the caught calls stop at their entry and exit, in
// whichever thread makes them, and no other call does (syscalls.c calls
// getppid, never getpid); the execve of the launch, stopped in at its
// exec event, does not return as a caught call.
func TestCatchSyscalls(t *testing.T) {
	p, _ := launch(t, "syscalls", "2")
	if err := p.CatchSyscalls(target.SyscallsOf(unix.SYS_WRITE, unix.SYS_GETPID, unix.SYS_EXECVE)); err != nil {
		t.Fatal(err)
	}
	got := syscallStops(t, p)
	want := []string{"entry 1 by thread", "exit 1 by thread", "entry 1 by thread", "exit 1 by thread", "entry 1 by main", "exit 1 by main"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("stops:\n got %q\nwant %q", got, want)
	}
}

// TestCatchAllSyscalls: with every call caught, the first stop after the
// launch is an entry (not the exit of the launch's execve), entries and
// exits alternate in each thread, and an empty set lets the program run
// to its end.
func TestCatchAllSyscalls(t *testing.T) {
	p, _ := launch(t, "syscalls", "1")
	if err := p.CatchSyscalls(target.AllSyscalls()); err != nil {
		t.Fatal(err)
	}
	inCall := map[target.Tid]int{}
	for n := 0; n < 40; n++ {
		cont(t, p)
		st := onlyStop(t, nextReal(t, p))
		switch st.Reason {
		case target.StopSyscallEntry:
			if nr, in := inCall[st.Tid]; in {
				t.Fatalf("stop %d: thread %d enters %d, still in %d", n, st.Tid, st.Syscall, nr)
			}
			inCall[st.Tid] = st.Syscall
		case target.StopSyscallExit:
			nr, in := inCall[st.Tid]
			if !in || nr != st.Syscall {
				t.Fatalf("stop %d: thread %d leaves %d, entered %d (%v)", n, st.Tid, st.Syscall, nr, in)
			}
			delete(inCall, st.Tid)
		default:
			t.Fatalf("stop %d: %+v", n, st)
		}
	}
	if err := p.CatchSyscalls(target.SyscallSet{}); err != nil {
		t.Fatal(err)
	}
	cont(t, p)
	if ev := nextReal(t, p); ev.Kind != target.EventExited {
		t.Fatalf("with nothing caught: %+v, want the exit", ev)
	}
}
