package main

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gdbserverx/internal/gdbtest"
)

// Non-stop mode (issue 17) with real gdb 13 through gdb/MI, as an IDE
// drives it (`-gdb-set non-stop on`): testdata/nonstop.c's four workers
// w0..w3 (gdb threads 2..5) count in counts[i] while main (thread 1)
// waits. Each test runs against gdbserverx and, when installed, GNU
// gdbserver: the outcomes are the same.

// nonStopIDE starts a program under a server and connects gdb/MI to it in
// non-stop mode, stopped at ready() (every worker started) with the
// workers running.
func nonStopIDE(t *testing.T, server string, args ...string) (*gdbtest.MI, *gdbtest.Proc) {
	t.Helper()
	prog := gdbtest.Program(t, "nonstop", "-pthread")
	dbg := []string{}
	if strings.HasSuffix(server, "gdbserverx") && os.Getenv("NSDEBUG") != "" {
		dbg = []string{"--debug"}
	}
	srv := gdbtest.StartServer(t, server, append(append(dbg, "127.0.0.1:0", prog), args...)...)
	mi := gdbtest.StartMI(t)
	mi.Cmd("-gdb-set non-stop on")
	if r := mi.Cmd("-target-select remote " + srv.Addr()); r.Class != "connected" {
		t.Fatalf("-target-select: %+v", r)
	}
	mi.Cmd("-file-exec-and-symbols " + prog)
	if r := mi.Cmd("-break-insert -t ready"); r.Class != "done" {
		t.Fatalf("break ready: %+v", r)
	}
	if r := mi.Cmd("-exec-continue"); r.Class != "running" {
		t.Fatalf("-exec-continue: %+v", r)
	}
	stopped := waitStop(t, mi, `reason="breakpoint-hit"`)
	if !strings.Contains(stopped, `func="ready"`) {
		t.Fatalf("first stop not at ready: %s", stopped)
	}
	return mi, srv
}

// waitStop waits for the next *stopped record matching re; the session's
// position moves past it.
func waitStop(t *testing.T, mi *gdbtest.MI, re string) string {
	t.Helper()
	i, _, err := mi.Out.Wait(mi.Next, regexp.MustCompile(`^\*stopped,.*`+re), gdbtest.Timeout)
	if err != nil {
		t.Fatalf("%v\n%s", err, mi.Out)
	}
	mi.Next = i + 1
	return mi.Out.All()[i]
}

// eval evaluates an expression in gdb (memory is readable while threads
// run, in non-stop mode).
func eval(t *testing.T, mi *gdbtest.MI, expr string) string {
	t.Helper()
	r := mi.Cmd("-data-evaluate-expression " + gdbtest.Quote(expr))
	m := regexp.MustCompile(`value="([^"]*)"`).FindStringSubmatch(r.Rest)
	if r.Class != "done" || m == nil {
		t.Fatalf("evaluate %s: %+v", expr, r)
	}
	return m[1]
}

func evalInt(t *testing.T, mi *gdbtest.MI, expr string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(eval(t, mi, expr), 10, 64)
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// advances waits until a counter has moved on from what it was: the
// thread that counts it runs. It fails at the deadline.
func advances(t *testing.T, mi *gdbtest.MI, expr string) {
	t.Helper()
	first := evalInt(t, mi, expr)
	deadline := time.Now().Add(gdbtest.Timeout)
	for evalInt(t, mi, expr) == first {
		if time.Now().After(deadline) {
			t.Fatalf("%s stays at %d: its thread does not run", expr, first)
		}
	}
}

// threadState is what -thread-info says of a thread: "stopped" or
// "running".
func threadState(t *testing.T, mi *gdbtest.MI, id int) string {
	t.Helper()
	r := mi.Cmd(fmt.Sprintf("-thread-info %d", id))
	m := regexp.MustCompile(`state="(\w+)"`).FindStringSubmatch(r.Rest)
	if m == nil {
		t.Fatalf("-thread-info %d: %+v", id, r)
	}
	return m[1]
}

func TestNonStopInterruptOneThread(t *testing.T) {
	for name, server := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			mi, _ := nonStopIDE(t, server)
			if s := threadState(t, mi, 3); s != "running" {
				t.Fatalf("w1 is %s at the main thread's breakpoint", s)
			}
			advances(t, mi, "counts[1]")
			mi.Cmd("-exec-interrupt --thread 2")
			waitStop(t, mi, `thread-id="2"`)
			// w0 is stopped, the others run.
			w0 := evalInt(t, mi, "counts[0]")
			advances(t, mi, "counts[1]")
			advances(t, mi, "counts[3]")
			if now := evalInt(t, mi, "counts[0]"); now != w0 {
				t.Errorf("counts[0] moved from %d to %d while w0 was stopped", w0, now)
			}
			if s := threadState(t, mi, 2); s != "stopped" {
				t.Errorf("w0 is %s after its interrupt", s)
			}
			// It goes on when continued alone.
			mi.Cmd("-exec-continue --thread 2")
			advances(t, mi, "counts[0]")
		})
	}
}

func TestNonStopBreakpointInOneThread(t *testing.T) {
	for name, server := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			mi, _ := nonStopIDE(t, server)
			mi.Cmd("-break-insert only0") // inserted while the workers run
			stop := waitStop(t, mi, `reason="breakpoint-hit"`)
			if !strings.Contains(stop, `thread-id="2"`) || !strings.Contains(stop, `func="only0"`) {
				t.Fatalf("only w0 (thread 2) calls only0: %s", stop)
			}
			advances(t, mi, "counts[1]")
			advances(t, mi, "counts[2]")
			if s := threadState(t, mi, 2); s != "stopped" {
				t.Errorf("w0 is %s at its breakpoint", s)
			}
			// Removed while the others run, it stops nobody again.
			mi.Cmd("-break-delete")
			mi.Cmd("-exec-continue --thread 2")
			advances(t, mi, "counts[0]")
		})
	}
}

func TestNonStopWatchpointsInTwoThreads(t *testing.T) {
	for name, server := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			mi, _ := nonStopIDE(t, server)
			from := mi.Next // a hit may be told before the second reply
			for _, v := range []string{"watch1", "watch2"} {
				if r := mi.Cmd("-break-watch " + v); r.Class != "done" {
					t.Fatalf("watch %s: %+v", v, r)
				}
			}
			// Both hits are told, each stopping its own thread: w1 is
			// thread 3, w2 thread 4.
			mi.Next = from
			seen := map[string]bool{}
			for len(seen) < 2 {
				stop := waitStop(t, mi, `reason="watchpoint-trigger"`)
				m := regexp.MustCompile(`thread-id="(\d+)"`).FindStringSubmatch(stop)
				if m == nil || (m[1] != "3" && m[1] != "4") {
					t.Fatalf("watchpoint hit in an unexpected thread: %s", stop)
				}
				seen[m[1]] = true
			}
			advances(t, mi, "counts[0]")
			if s := threadState(t, mi, 3); s != "stopped" {
				t.Errorf("w1 is %s at its watchpoint", s)
			}
			if s := threadState(t, mi, 4); s != "stopped" {
				t.Errorf("w2 is %s at its watchpoint", s)
			}
		})
	}
}

func TestNonStopStepOneThread(t *testing.T) {
	for name, server := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			mi, _ := nonStopIDE(t, server)
			mi.Cmd("-exec-interrupt --thread 3")
			waitStop(t, mi, `thread-id="3"`)
			for range 3 {
				mi.Cmd("-exec-next --thread 3")
				waitStop(t, mi, `reason="end-stepping-range".*thread-id="3"`)
				advances(t, mi, "counts[0]")
			}
			for range 3 {
				mi.Cmd("-exec-step-instruction --thread 3")
				waitStop(t, mi, `reason="end-stepping-range".*thread-id="3"`)
			}
			advances(t, mi, "counts[2]")
		})
	}
}

func TestNonStopThreadsComeAndGo(t *testing.T) {
	for name, server := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			mi, _ := nonStopIDE(t, server, "churn")
			mi.Cmd("-exec-continue --thread 1")
			mi.Cmd("-break-insert short_work")
			stop := waitStop(t, mi, `reason="breakpoint-hit".*func="short_work"`)
			m := regexp.MustCompile(`thread-id="(\d+)"`).FindStringSubmatch(stop)
			if m == nil || m[1] == "1" || m[1] == "2" || m[1] == "3" || m[1] == "4" || m[1] == "5" {
				t.Fatalf("short_work hit by a thread that is not new: %s", stop)
			}
			mi.Cmd("-break-delete")
			mi.Cmd("-exec-continue --thread " + m[1])
			advances(t, mi, "shorts")
			// gdb learns of the exit when it lists the threads again.
			deadline := time.Now().Add(gdbtest.Timeout)
			for strings.Contains(mi.Cmd("-thread-info").Rest, `{id="`+m[1]+`"`) {
				if time.Now().After(deadline) {
					t.Fatalf("thread %s is still listed after it ended", m[1])
				}
			}
			if s := threadState(t, mi, 2); s != "running" {
				t.Errorf("w0 is %s", s)
			}
		})
	}
}

func TestNonStopExit(t *testing.T) {
	for name, server := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			mi, _ := nonStopIDE(t, server)
			eval(t, mi, "finish = 1")
			mi.Cmd("-exec-continue --thread 1")
			waitStop(t, mi, `reason="exited",exit-code="05"`)
		})
	}
}

// TestNonStopBesideAllStop: an IDE in non-stop mode (client #1) and a gdb
// in all-stop mode (client #2) on one program. The all-stop client's stop
// holds every thread; when it resumes, the threads the non-stop client
// holds stay stopped and the others run. Each is told when the other
// takes its watchpoint's slot: the all-stop client at once (it waits for
// a stop reply), the non-stop client with its next monitor command (gdb
// takes any other packet for the reply to its last request).
func TestNonStopBesideAllStop(t *testing.T) {
	a, srv := nonStopIDE(t, gdbtest.Server(t))
	a.Cmd("-exec-interrupt --thread 5")
	waitStop(t, a, `thread-id="5"`) // client #1 holds main and w3
	console(t, a, "monitor priority 10")
	for i := range 4 {
		if r := a.Cmd(fmt.Sprintf("-break-watch quiet[%d]", i)); r.Class != "done" {
			t.Fatalf("watch quiet[%d]: %+v", i, r)
		}
	}
	advances(t, a, "counts[1]")

	b := ide(t, srv) // connecting, it holds every thread
	before := evalInt(t, a, "counts[1]")
	evalInt(t, b, "counts[1]")
	if after := evalInt(t, a, "counts[1]"); after != before {
		t.Errorf("counts[1] moved from %d to %d while the all-stop client held every thread", before, after)
	}
	console(t, b, "monitor priority 20")
	if r := b.Cmd("-break-watch quiet[4]"); r.Class != "done" {
		t.Fatalf("client #2 watch: %+v", r)
	}
	b.Cmd("-exec-continue")
	advances(t, a, "counts[1]")
	w3 := evalInt(t, a, "counts[3]")
	advances(t, a, "counts[2]")
	if now := evalInt(t, a, "counts[3]"); now != w3 {
		t.Errorf("w3, held by client #1, ran when client #2 resumed: counts[3] %d -> %d", w3, now)
	}
	for _, id := range []int{1, 5} {
		if s := threadState(t, a, id); s != "stopped" {
			t.Errorf("client #1's thread %d is %s", id, s)
		}
	}
	out := console(t, a, "monitor clients")
	for _, want := range []string{
		`gdbserverx: watch 0x[0-9a-f]+ <quiet\+24> len 8: evicted from hardware by client #2 \(priority 20 > 10\)`,
		`#1 \(you\)\s+\S+\s+10\s+non-stop\s+2 threads`,
		`#2\s+\S+\s+20\s+running\s+-`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("client #1's monitor clients lacks %q:\n%s", want, out)
		}
	}

	// Client #1 raises itself above client #2 and takes the slot back
	// while threads run; client #2, running, is told at once.
	console(t, a, "monitor priority 30")
	if r := a.Cmd("-break-watch shorts"); r.Class != "done" {
		t.Fatalf("client #1's fifth watch: %+v", r)
	}
	note := waitLine(t, b, `^@"gdbserverx: watch 0x[0-9a-f]+ <quiet\+32> len 8: evicted from hardware by client #1 \(priority 30 > 20\)`)
	t.Logf("client #2 was told: %s", note)
}
