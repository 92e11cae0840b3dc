package main

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// Breakpoint conditions and commands evaluated by the server (Z0 and Z1
// with agent expressions: `set breakpoint condition-evaluation target`,
// gdb's default with a server that offers them, and `set dprintf-style
// agent`), through gdbserverx and GNU gdbserver.

// stopReplies counts the breakpoint stop replies in gdb's `set debug
// remote 1` output: the hits the server told gdb of (gdb's own steps
// over its breakpoints are stops too, without swbreak or hwbreak).
func stopReplies(out string) int {
	return len(regexp.MustCompile(`Packet received: T05(sw|hw)break:`).FindAllString(out, -1))
}

// TestConditionsOnTarget: `break f if i == 150` (agent.c calls f 200
// times) stops once, at i == 150, and the server tells gdb of that stop
// only: the 150 false hits before it never reach gdb. The same for a
// hardware breakpoint (Z1), and for two conditional breakpoints at one
// address (their conditions ORed: two stops), as with GNU gdbserver. A
// condition that cannot be evaluated (a read of address 8) counts as
// true: the first hit is reported (gdb, which leaves the condition to
// the target, shows a plain stop there). GNU gdbserver takes whatever
// its buffer held for the unreadable bytes and never stops.
func TestConditionsOnTarget(t *testing.T) {
	prog := gdbtest.Program(t, "agent")
	for name, bin := range servers(t) {
		for _, tc := range []struct {
			name   string
			cmds   []string
			stops  int
			output []string
		}{
			{"break", []string{"break f if i == 150", "continue", "print i", "print s->count", "info breakpoints"}, 1,
				[]string{`Breakpoint 2, f \(i=150, `, `\$1 = 150`, `\$2 = 38`, `stop only if i == 150 \(target evals\)\n\s+breakpoint already hit 1 time`}},
			{"hbreak", []string{"hbreak f if i == 77", "continue", "print i", "info breakpoints"}, 1,
				[]string{`Breakpoint 2, f \(i=77, `, `\$1 = 77`, `hw breakpoint .*\n.*stop only if i == 77 \(target evals\)`}},
			{"ORed", []string{"break f if i == 30", "break f if s->count == 26 && i > 100", "continue", "print i", "continue", "print i"}, 2,
				[]string{`Breakpoint 2, f \(i=30, `, `\$1 = 30`, `Breakpoint 3, f \(i=101, `, `\$2 = 101`}},
			{"error", []string{"break f if *(int *)8 == 1", "continue", "print i"}, 1,
				[]string{`Breakpoint 2, f \(i=0, `, `\$1 = 0`}},
		} {
			srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
			cmds := append([]string{"target remote " + srv.Addr(), "break main", "continue", "set debug remote 1"}, tc.cmds...)
			cmds = append(cmds, "set debug remote 0", "kill")
			out := gdbtest.Batch(t, cmds...)
			if name == "gdbserver" && tc.name == "error" {
				t.Logf("gdbserver, an unreadable condition: %d stops", stopReplies(out))
				continue
			}
			if n := stopReplies(out); n != tc.stops {
				t.Errorf("%s, %s: gdb was told %d stops, want %d", name, tc.name, n, tc.stops)
			}
			// gdb's debug lines may start in the middle of one of its
			// own ("Breakpoint 2, f ([remote] Sending packet: ...").
			contains(t, regexp.MustCompile(`[ \t]*\[remote\][^\n]*\n`).ReplaceAllString(out, ""), tc.output...)
			if t.Failed() {
				t.Fatalf("%s, %s", name, tc.name)
			}
		}
	}
}

// hitsAt counts the breakpoint stop replies in gdb's `set debug remote
// 1` output whose pc (register 0x10, expedited, in target byte order)
// is addr (hex): the hits of one breakpoint, not those of gdb's own in
// the dynamic linker.
func hitsAt(out, addr string) int {
	v, _ := strconv.ParseUint(addr, 16, 64)
	var le [8]byte
	binary.LittleEndian.PutUint64(le[:], v)
	pc := fmt.Sprintf("10:%x;", le)
	n := 0
	for _, m := range regexp.MustCompile(`Packet received: T05swbreak:[^\n"]*`).FindAllString(out, -1) {
		if strings.Contains(m, pc) {
			n++
		}
	}
	return n
}

// agentLine is what `dprintf f,"i=%d count=%d name=%s\n",i,s->count,s->name`
// prints at the call of agent.c's f with i.
func agentLine(i int) string {
	return fmt.Sprintf("i=%d count=%d name=%s", i, i>>2+1, [4]string{"zero", "one", "two", "three"}[i&3])
}

// dprintfLines waits for the server's standard output to hold last and
// returns its lines that start like it.
func dprintfLines(t *testing.T, srv *gdbtest.Proc, last, prefix string) []string {
	t.Helper()
	if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile("^"+regexp.QuoteMeta(last)+"$"), gdbtest.Timeout); err != nil {
		t.Fatalf("no %q on the server's output: %v\n%s", last, err, srv.Stdout)
	}
	var out []string
	for _, l := range srv.Stdout.All() {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// TestDprintfAgent: with `set dprintf-style agent` the server prints a
// dprintf's line at every call, on its standard output, and gdb is told
// of no stop; its %s reads the string from the program's memory. A
// conditional dprintf prints only where its condition holds, as gdb's
// own dprintf does; GNU gdbserver runs a breakpoint's commands at every
// hit, whatever the condition, and prints 200 lines.
func TestDprintfAgent(t *testing.T) {
	prog := gdbtest.Program(t, "agent")
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
		out := gdbtest.Batch(t, "target remote "+srv.Addr(), "set dprintf-style agent",
			`dprintf f,"i=%d count=%d name=%s\n",i,s->count,s->name`, "break main", "continue",
			"set debug remote 1", "continue", "set debug remote 0")
		if n := stopReplies(out); n != 0 || !regexp.MustCompile(`exited normally`).MatchString(out) {
			t.Errorf("%s: gdb was told %d stops (want none), and the program ended:\n%s", name, n, out)
		}
		lines := dprintfLines(t, srv, agentLine(199), "i=")
		var want []string
		for i := 0; i < 200; i++ {
			want = append(want, agentLine(i))
		}
		if strings.Join(lines, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: dprintf printed %d lines:\n%s", name, len(lines), strings.Join(lines, "\n"))
		}

		srv = gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
		gdbtest.Batch(t, "target remote "+srv.Addr(), "set dprintf-style agent",
			`dprintf f,"i=%d count=%d name=%s\n",i,s->count,s->name`, "condition 1 i % 50 == 7",
			"continue")
		// The program has ended, and the server with it: its output is
		// all there.
		if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
			t.Fatal(err)
		}
		<-srv.Stdout.Done()
		lines = nil
		for _, l := range srv.Stdout.All() {
			if strings.HasPrefix(l, "i=") {
				lines = append(lines, l)
			}
		}
		got := strings.Join(lines, "\n")
		switch name {
		case "gdbserverx":
			want := strings.Join([]string{agentLine(7), agentLine(57), agentLine(107), agentLine(157)}, "\n")
			if got != want {
				t.Errorf("conditional dprintf printed:\n%s\nwant:\n%s", got, want)
			}
		default:
			t.Logf("%s: the conditional dprintf printed %d lines", name, len(lines))
		}
	}
}

// TestConditionsInThreads: four threads call tick at once
// (condthreads.c). A dprintf there prints exactly one line per call,
// none missed, none twice: each thread whose hit nobody is told of steps
// over the breakpoint before it runs on, without executing its int3
// again. A conditional breakpoint stops once, in the right thread, and
// the program makes every call.
func TestConditionsInThreads(t *testing.T) {
	prog := gdbtest.Program(t, "condthreads")
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, "100")
		gdbtest.Batch(t, "target remote "+srv.Addr(), "set dprintf-style agent",
			`dprintf tick,"tick %d %d\n",id,i`, "break done", "continue", "kill")
		lines := dprintfLines(t, srv, "all calls made", "tick ")
		seen := map[string]int{}
		for _, l := range lines {
			seen[l]++
		}
		bad := 0
		for id := 0; id < 4; id++ {
			for i := 0; i < 100; i++ {
				if seen[fmt.Sprintf("tick %d %d", id, i)] != 1 {
					bad++
				}
			}
		}
		if bad > 0 || len(lines) != 400 {
			t.Errorf("%s: %d lines, %d calls not printed exactly once", name, len(lines), bad)
		}

		srv = gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, "100")
		out := gdbtest.Batch(t, "target remote "+srv.Addr(), "break tick if id == 2 && i == 60", "continue",
			"print id", "print i", "delete", "continue")
		contains(t, out, `Breakpoint 1, tick \(id=2, i=60\)`, `\$1 = 2\n`, `\$2 = 60\n`, `exited normally`)
		if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile("^all calls made$"), gdbtest.Timeout); err != nil {
			t.Errorf("%s: the program did not make every call: %v\n%s", name, err, srv.Stdout)
		}
	}
}

// TestConditionsTwoClients: two clients with breakpoints at the same
// address and different conditions: each is told the hit where its own
// condition holds, and no other (gdbserverx only: GNU gdbserver serves
// one client).
func TestConditionsTwoClients(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "agent"))
	a := ide(t, srv)
	b := ide(t, srv)
	bp := regexp.MustCompile(`Breakpoint 1 at 0x([0-9a-f]+)`).FindStringSubmatch(console(t, a, "break f if i == 50"))
	if bp == nil {
		t.Fatal("no breakpoint address")
	}
	console(t, b, "break f if i == 120")
	// gdb checks a condition again when it is told of a hit, and goes on
	// when it is false: a hit told to the wrong client shows only in the
	// packets.
	console(t, a, "set debug remote 1")
	console(t, b, "set debug remote 1")
	a.Cmd("-exec-continue")
	b.Cmd("-exec-continue")
	for _, c := range []struct {
		mi *gdbtest.MI
		i  string
	}{{a, "50"}, {b, "120"}} {
		stop := c.mi.Stopped()
		if !strings.Contains(stop, `reason="breakpoint-hit"`) || !strings.Contains(stop, `{name="i",value="`+c.i+`"}`) {
			t.Fatalf("stop %s, want the hit at i == %s", stop, c.i)
		}
		if got := console(t, c.mi, "print i"); !strings.Contains(got, "= "+c.i) {
			t.Errorf("print i: %s, want %s", got, c.i)
		}
		c.mi.Cmd("-exec-continue")
	}
	for _, mi := range []*gdbtest.MI{a, b} {
		if stop := mi.Stopped(); !strings.Contains(stop, `reason="exited-normally"`) {
			t.Errorf("end: %s", stop)
		}
		if n := hitsAt(strings.Join(mi.Out.All(), "\n"), bp[1]); n != 1 {
			t.Errorf("a client was told %d hits of f, want 1", n)
		}
	}
}

// TestConditionsNonStop: in non-stop mode a `break f if i == 150` stops
// once, at i == 150: the false hits before it let their thread run on
// (gdbserverx tells them to gdb, which evaluates the condition itself and
// resumes the thread; a thread left at its breakpoint with nobody told
// would run into it again, with no resume of the world to step it over).
func TestConditionsNonStop(t *testing.T) {
	prog := gdbtest.Program(t, "agent")
	for name, bin := range servers(t) {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
		out := gdbtest.Batch(t, "set non-stop on", "target remote "+srv.Addr(), "break main", "continue",
			"break f if i == 150", "continue", "print i", "kill")
		contains(t, out, `Breakpoint 2, f \(i=150, `, `\$1 = 150`)
		if t.Failed() {
			t.Fatalf("through %s", name)
		}
	}
}
