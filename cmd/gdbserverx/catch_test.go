package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// gdb's `catch syscall` (QCatchSyscalls, syscall_entry and
// syscall_return stops), through gdbserverx and GNU gdbserver.

// catchRE is gdb's line for a syscall catchpoint's stop.
var catchRE = regexp.MustCompile(`(?m)(?:^|hit )Catchpoint (\d+) \((call to|returned from) syscall (\w+)\)`)

// catchLines lists the catchpoint stops of gdb's output, "N call to NAME"
// or "N returned from NAME", and the end of the program.
func catchLines(out string) []string {
	var got []string
	for _, m := range catchRE.FindAllStringSubmatch(out, -1) {
		got = append(got, m[1]+" "+m[2]+" "+m[3])
	}
	if regexp.MustCompile(`\[Inferior 1 \(process \d+\) exited normally\]`).MatchString(out) {
		got = append(got, "exited")
	}
	return got
}

// runToEnd continues until the program ends (the continue after that
// fails and ends the script).
const runToEnd = "while 1\ncontinue\nend\n"

// TestCatchSyscall: `catch syscall write` and `catch syscall
// group:process` stop at the entry and the return of those calls, in
// every thread, and at no other (getppid, which syscalls.c calls in each
// thread, is not caught). In one thread, the stops are GNU gdbserver's;
// in threads made by the program, gdbserver tells the first entry of
// each new thread as a return (it guesses entry from exit by toggling a
// per-thread flag, which a new thread starts wrong), gdbserverx tells
// each as the kernel says (PTRACE_GET_SYSCALL_INFO).
func TestCatchSyscall(t *testing.T) {
	prog := gdbtest.Program(t, "syscalls")
	for _, threads := range []int{0, 2} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			lists := map[string][]string{}
			for name, bin := range servers(t) {
				srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, fmt.Sprint(threads))
				out := gdbtest.Script(t, "target remote "+srv.Addr()+"\ncatch syscall write\ncatch syscall group:process\n"+runToEnd)
				lists[name] = catchLines(out)
				if name == "gdbserverx" {
					checkCatchLines(t, lists[name], threads, out)
				}
			}
			t.Logf("catchpoint stops:\n%s", strings.Join(lists["gdbserverx"], "\n"))
			gs, ok := lists["gdbserver"]
			switch {
			case !ok || slices.Equal(gs, lists["gdbserverx"]):
			case threads == 0:
				t.Errorf("through gdbserverx:\n%s\nthrough gdbserver:\n%s", strings.Join(lists["gdbserverx"], "\n"), strings.Join(gs, "\n"))
			default:
				t.Logf("GNU gdbserver tells them in threads as:\n%s", strings.Join(gs, "\n"))
			}
		})
	}
}

// checkCatchLines checks the catchpoint stops of syscalls.c with n
// threads: each thread's write, its entry then its return, and its exit;
// main's two writes and its exit_group.
func checkCatchLines(t *testing.T, got []string, n int, out string) {
	t.Helper()
	want := []string{"2 call to arch_prctl", "2 returned from arch_prctl"}
	for i := 0; i < n; i++ {
		want = append(want, "1 call to write", "1 returned from write", "2 call to exit")
	}
	want = append(want, "1 call to write", "1 returned from write", "1 call to write", "1 returned from write", "2 call to exit_group", "exited")
	if !slices.Equal(got, want) || strings.Contains(out, "getppid") {
		t.Errorf("catchpoint stops:\n got %q\nwant %q\n--- gdb ---\n%s", got, want, out)
	}
}

// TestCatchSyscallWithEmulatedWatch: a client whose fifth watchpoint is
// emulated in software (the four debug registers hold the others) while
// it catches read(2): the engine stops at every system call for the
// emulated watchpoint, yet the client sees only read's entry and return,
// and the kernel's write into the watched buffer, which the engine runs
// in place. (GNU gdbserver refuses a fifth hardware watchpoint.)
func TestCatchSyscallWithEmulatedWatch(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "syscalls"), "1")
	out := gdbtest.Script(t, "target remote "+srv.Addr()+`
break main
continue
watch w1
watch w2
watch w3
watch w4
watch page.buf[0]
catch syscall read
`+runToEnd)
	got := catchLines(out)
	want := []string{"7 call to read", "7 returned from read", "exited"}
	if !slices.Equal(got, want) {
		t.Errorf("catchpoint stops %q, want %q\n%s", got, want, out)
	}
	hit := regexp.MustCompile(`(?s)returned from syscall read.*Hardware watchpoint 6: page\.buf\[0\]\s+Old value = 0 '\\000'\s+New value = 48 '0'`)
	if !hit.MatchString(out) {
		t.Errorf("no hit of the emulated watchpoint after read's return:\n%s", out)
	}
	if strings.Contains(out, "syscall write") || strings.Contains(out, "syscall getppid") {
		t.Errorf("a call the client does not catch was reported:\n%s", out)
	}
}

// TestCatchSyscallTwoClients: each client's catchpoints are its own: one
// catches write, the other getppid, on one program; each is told the
// entries and returns of its calls only, and never hears of the other's
// stops (gdbserverx only: GNU gdbserver serves one client).
func TestCatchSyscallTwoClients(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "syscalls"), "2")
	a := ide(t, srv)
	b := ide(t, srv)
	console(t, a, "catch syscall write")
	console(t, b, "catch syscall getppid")
	// gdb resumes at once from a syscall stop it does not catch, so a
	// stop told to the wrong client would not show but in the packets.
	console(t, a, "set debug remote 1")
	console(t, b, "set debug remote 1")
	a.Cmd("-exec-continue")
	b.Cmd("-exec-continue")
	// The threads run one after the other: write, then getppid, in each;
	// then main writes into the pipe and "done".
	type step struct {
		mi        *gdbtest.MI
		who, call string
	}
	var seq []step
	for i := 0; i < 2; i++ {
		seq = append(seq, step{a, "a", "write"}, step{b, "b", "getppid"})
	}
	seq = append(seq, step{a, "a", "write"}, step{a, "a", "write"})
	for i, s := range seq {
		for _, reason := range []string{"syscall-entry", "syscall-return"} {
			stop := s.mi.Stopped()
			want := fmt.Sprintf(`reason="%s".*syscall-name="%s"`, reason, s.call)
			if !regexp.MustCompile(want).MatchString(stop) {
				t.Fatalf("step %d: client %s stopped with %s, want %s", i, s.who, stop, want)
			}
			s.mi.Cmd("-exec-continue")
		}
	}
	for _, mi := range []*gdbtest.MI{a, b} {
		if stop := mi.Stopped(); !strings.Contains(stop, `reason="exited-normally"`) {
			t.Errorf("end: %s", stop)
		}
	}
	// write is system call 1, getppid 0x6e.
	for _, c := range []struct {
		mi    *gdbtest.MI
		other string
	}{{a, "syscall_entry:6e;"}, {a, "syscall_return:6e;"}, {b, "syscall_entry:1;"}, {b, "syscall_return:1;"}} {
		if strings.Contains(strings.Join(c.mi.Out.All(), "\n"), c.other) {
			t.Errorf("a client was told of the other's stop %s:\n%s", c.other, c.mi.Out)
		}
	}
}
