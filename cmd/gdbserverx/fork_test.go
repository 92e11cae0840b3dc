package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// Forks with real gdb (fork-events, vfork-events): testdata/forks.c forks
// a child that calls child_work and exits 3, then vforks one that execs
// /bin/true, and prints how each ended. A breakpoint left in a child's
// memory would kill it with SIGTRAP ("killed by signal 5").

// waitOutput waits for a line of the program's output on the server's
// stdout.
func waitOutput(t *testing.T, srv *gdbtest.Proc, line string) {
	t.Helper()
	if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile("^"+regexp.QuoteMeta(line)+"$"), gdbtest.Timeout); err != nil {
		t.Errorf("program output: %v\n--- stdout ---\n%s", err, srv.Stdout)
	}
}

// TestForkChildrenDetachedClean is gdb's default (follow the parent,
// detach the child): gdb is told of both forks, takes its breakpoint out
// of each child and lets it go; the children run clean.
func TestForkChildrenDetachedClean(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "forks"))
	out := gdb(t, srv, "break child_work", "continue", "continue")
	contains(t, out,
		`\[Detaching after fork from child process \d+\]`,
		`\[Detaching after vfork from child process \d+\]`,
		`Breakpoint 1, child_work \(\)`,
		`\[Inferior 1 \(process \d+\) exited normally\]`,
	)
	waitOutput(t, srv, "fork child: exited 3")
	waitOutput(t, srv, "vfork child: exited 0")
}

// TestFollowForkModeChild: gdb follows the child, which stops at the
// breakpoint and is debugged to its end; the parent, detached, runs on
// without breakpoints.
func TestFollowForkModeChild(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "forks"))
	out := gdb(t, srv,
		"set follow-fork-mode child",
		"break child_work",
		"continue",
		"bt 2",
		"info inferiors",
		"continue",
	)
	contains(t, out,
		`\[Attaching after Thread \d+\.\d+ fork to child Thread (\d+)\.\d+\]`,
		`\[Inferior 1 \(process \d+\) detached\]`,
		`Thread 2\.1 "forks" hit Breakpoint 1, child_work \(\)`,
		`#1  0x[0-9a-f]+ in main \(\) at .*forks\.c`,
		`\* 2    process \d+ `,
		`\[Inferior 2 \(process \d+\) exited with code 03\]`,
	)
	waitOutput(t, srv, "fork child: exited 3")
	waitOutput(t, srv, "vfork child: exited 0")
}

// TestDetachOnForkOff keeps both processes under gdb: the fork is
// caught, the child is debugged as inferior 2 to its end, then the
// parent goes on (its vfork child detached, as the setting is back on).
func TestDetachOnForkOff(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "forks"))
	out := gdb(t, srv,
		"set detach-on-fork off",
		"catch fork",
		"break child_work",
		"continue",
		"stepi", // gdb adds the child as inferior 2 when the parent resumes
		"info inferiors",
		"inferior 2",
		"continue",
		"continue",
		"inferior 1",
		"set detach-on-fork on",
		"continue",
		"continue",
	)
	m := regexp.MustCompile(`Catchpoint 1 \(forked process (\d+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no fork caught:\n%s", out)
	}
	child := m[1]
	contains(t, out,
		`\[New inferior 2 \(process `+child+`\)\]`,
		`  2    process `+child+` `,
		`Thread 2\.1 "forks" hit Breakpoint 2\.2, child_work \(\)`,
		`\[Inferior 2 \(process `+child+`\) exited with code 03\]`,
		`\[Detaching after vfork from child process \d+\]`,
		`Thread 1 "forks" hit Breakpoint 2, child_work \(\)`,
		`\[Inferior 1 \(process \d+\) exited normally\]`,
	)
	waitOutput(t, srv, "fork child: exited 3")
	waitOutput(t, srv, "vfork child: exited 0")
}

// TestCatchVFork: the vfork is caught; the parent, blocked in the kernel
// until the child execs, goes on after it (vforkdone) with its
// breakpoints in place.
func TestCatchVFork(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "forks"))
	out := gdb(t, srv, "catch vfork", "break child_work", "continue", "continue", "continue")
	contains(t, out,
		`Catchpoint 1 \(vforked process \d+\)`,
		`Breakpoint 2, child_work \(\)`,
		`\[Inferior 1 \(process \d+\) exited normally\]`,
	)
	waitOutput(t, srv, "vfork child: exited 0")
}

// TestKillKeptChildren: gdb, leaving, kills both inferiors it keeps; no
// process is left behind.
func TestKillKeptChildren(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "forks"))
	out := gdb(t, srv,
		"set detach-on-fork off",
		"catch fork",
		"continue",
		"stepi",
		"info inferiors",
		"kill inferiors 1 2",
	)
	m := regexp.MustCompile(`Catchpoint 1 \(forked process (\d+)\)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no fork caught:\n%s", out)
	}
	contains(t, out, `  2    process `+m[1]+` `)
	child, _ := strconv.Atoi(m[1])
	if err := gdbtest.WaitGone(child, gdbtest.Timeout); err != nil {
		t.Error(err)
	}
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Errorf("server after both processes were killed: %v", err)
	}
}

// TestCatchExec: catch exec stops at the new program's entry, with its
// name, on target remote and extended-remote, through gdbserverx and GNU
// gdbserver alike; a breakpoint set after the exec in the new image
// fires, and the program ends normally.
func TestCatchExec(t *testing.T) {
	prog := gdbtest.Program(t, "execs")
	for name, bin := range sideBySide(t) {
		for _, how := range []string{"remote", "extended-remote"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
				out := gdbtest.Batch(t, "target "+how+" "+srv.Addr(), "catch exec", "continue", "break after_exec", "continue", "bt", "continue")
				contains(t, out,
					`process \d+ is executing new program: .*execs`,
					`Catchpoint 1 \(exec'd .*execs\)`,
					`Breakpoint 2, after_exec \(n=2\)`,
					`#1  0x[0-9a-f]+ in main \(argc=2,`,
					`\[Inferior 1 \(process \d+\) exited normally\]`,
				)
			})
		}
	}
}

// TestStepiOverForkSyscall: stepi onto the syscall instruction of fork()
// and over it, with displaced stepping on and off: the step ends on the
// next instruction, gdb is told of the fork and detaches the child, and
// both children end as they should, through gdbserverx and GNU gdbserver
// alike (issue 14).
func TestStepiOverForkSyscall(t *testing.T) {
	prog := gdbtest.Program(t, "forks")
	for name, bin := range sideBySide(t) {
		for _, ds := range []string{"on", "off"} {
			t.Run(name+"/displaced-stepping-"+ds, func(t *testing.T) {
				srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
				out := gdbtest.Script(t, "file "+prog+"\ntarget remote "+srv.Addr()+"\nset displaced-stepping "+ds+`
break fork
continue
python
def insn():
    f = gdb.selected_frame()
    return f.architecture().disassemble(f.pc())[0]['asm']
n = 0
while not insn().startswith('syscall') and n < 5000:
    gdb.execute("stepi", to_string=True)
    n += 1
pc = gdb.selected_frame().pc()
print("at: %s" % insn())
gdb.execute("stepi")
print("stepped over %d bytes" % (gdb.selected_frame().pc() - pc))
end
continue
`)
				contains(t, out,
					`(?m)^at: syscall`,
					`\[Detaching after fork from child process \d+\]`,
					`(?m)^stepped over 2 bytes`,
					`\[Inferior 1 \(process \d+\) exited normally\]`,
				)
				waitOutput(t, srv, "fork child: exited 3")
				waitOutput(t, srv, "vfork child: exited 0")
			})
		}
	}
}

// TestNextOverForkWhileAnotherThreadForks: main's `next` over its fork()
// while another thread forks twenty children: gdb ends the next on the
// following line and the program ends normally, every child having
// exited 7. The other thread's children, whose forks are not told yet,
// stay out of the thread list (before, gdb took one for a new inferior
// without a target description: "Remote 'g' packet reply is too long",
// 2 runs in 3). Five runs per server, beside GNU gdbserver (issue 14).
func TestNextOverForkWhileAnotherThreadForks(t *testing.T) {
	prog := gdbtest.Program(t, "tforks", "-pthread")
	for name, bin := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			for range 5 {
				srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
				out := gdb(t, srv, "break tforks.c:25", "continue", "next", "next", "continue")
				contains(t, out,
					`(?m)^26\s+pid_t c = fork\(\); /\* next over this \*/`,
					`(?m)^27\s+if \(c == 0\)`,
					`\[Inferior 1 \(process \d+\) exited normally\]`,
				)
				if strings.Contains(out, "packet reply is too long") {
					t.Fatalf("gdb read registers of an inferior it was not told of:\n%s", out)
				}
			}
		})
	}
}
