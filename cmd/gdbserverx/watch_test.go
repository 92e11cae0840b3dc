package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
)

// counting builds a gdb script: connect to addr, run to `stop_at`, set the
// points (each a gdb command), make each one print "HIT <n>" with its
// value and go on, then continue to the end. Counting HIT lines tells what
// the user would have seen stop by stop.
func counting(addr, stopAt string, points ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "target remote %s\nbreak %s\ncontinue\ndelete\n", addr, stopAt)
	for i, p := range points {
		fmt.Fprintf(&b, "%s\ncommands\nsilent\nprintf \"HIT %d at %%d\\n\", $bpnum\ncontinue\nend\n", p, i+1)
	}
	b.WriteString("continue\n")
	return b.String()
}

// hits counts the HIT lines of point n (1-based).
func hits(out string, n int) int {
	return len(regexp.MustCompile(fmt.Sprintf(`(?m)^HIT %d at`, n)).FindAllString(out, -1))
}

func TestWatchSizes(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "sizes")
	out := gdbtest.Script(t, counting(srv.Addr(), "sizes",
		"watch c1", "watch s2", "watch i4", "watch l8"))
	for i := 1; i <= 4; i++ {
		if n := hits(out, i); n != 3 {
			t.Errorf("watchpoint %d reported %d times, want 3\n%s", i, n, out)
		}
	}
	if !strings.Contains(out, "exited normally") {
		t.Errorf("program did not finish:\n%s", out)
	}

	// An unaligned range, a 12-byte struct field and a 32-byte array,
	// each alone (together they need more than four slots).
	for _, w := range []string{"watch odd.bytes", "watch rec.name", "watch arr"} {
		srv := serve(t, gdbtest.Program(t, "watch"), "sizes")
		out := gdbtest.Script(t, counting(srv.Addr(), "sizes", w))
		if n := hits(out, 1); n != 3 {
			t.Errorf("%s reported %d times, want 3\n%s", w, n, out)
		}
	}
}

func TestWatchCondition(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "loop", "20")
	out := gdbtest.Batch(t, "target remote "+srv.Addr(), "break loop", "continue",
		"watch g if g == 13", "continue", "print g", "delete", "continue")
	contains(t, out, `Hardware watchpoint 2: g`, `New value = 13`, `\$1 = 13`, `exited normally`)
}

func TestHardwareBreakpoint(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "loop", "5")
	out := gdbtest.Batch(t, "target remote "+srv.Addr(), "hbreak done", "continue", "bt 1", "continue")
	contains(t, out, `Hardware assisted breakpoint 1 at`, `Breakpoint 1, done \(\)`, `#0  done \(\)`, `exited normally`)
}

// TestWatchThreads sets a watchpoint before eight threads exist; each
// stores three values into the watched variable, and every store must be
// reported, in the thread that made it (the value says which).
func TestWatchThreads(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "threads")
	script := fmt.Sprintf(`target remote %s
break after_watch
continue
delete
watch g
commands
silent
printf "HIT thread %%d value %%d\n", $_thread, g
continue
end
continue
`, srv.Addr())
	out := gdbtest.Script(t, script)
	m := regexp.MustCompile(`(?m)^HIT thread (\d+) value (\d+)$`).FindAllStringSubmatch(out, -1)
	if len(m) != 24 {
		t.Fatalf("watch g in 8 new threads: %d hits, want 24\n%s", len(m), out)
	}
	writer := map[string]string{} // writer number -> gdb thread
	for _, h := range m {
		n := h[2][:len(h[2])-1]
		if th, ok := writer[n]; ok && th != h[1] {
			t.Errorf("stores of writer %s reported in threads %s and %s", n, th, h[1])
		}
		writer[n] = h[1]
	}
	if len(writer) != 8 {
		t.Errorf("%d writers seen, want 8\n%s", len(writer), out)
	}
}

// TestWatchTwoAtOnce: one 8-byte store writes two watched ints; gdb must
// be told of both.
func TestWatchTwoAtOnce(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "pair")
	out := gdbtest.Script(t, counting(srv.Addr(), "main", "watch pair.a", "watch pair.b"))
	if hits(out, 1) != 1 || hits(out, 2) != 1 {
		t.Errorf("one store over two watched ints: hits %d and %d, want 1 and 1\n%s", hits(out, 1), hits(out, 2), out)
	}
}

// TestReadWatchExact compares rwatch with GNU gdbserver's: gdbserver does
// not serve Z3, so gdb emulates a read watchpoint with an access one and a
// value compare, and takes the two stores of the value already there for
// reads. gdbserverx reports the 5 reads and nothing else.
func TestReadWatchExact(t *testing.T) {
	prog := gdbtest.Program(t, "watch")
	srv := serve(t, prog, "rw")
	out := gdbtest.Script(t, counting(srv.Addr(), "after_watch", "rwatch g"))
	if n := hits(out, 1); n != 5 {
		t.Errorf("gdbserverx: rwatch g reported %d reads, want 5\n%s", n, out)
	}
	gnu := gdbtest.GNUServer(t)
	gs := gdbtest.StartServer(t, gnu, "127.0.0.1:0", prog, "rw")
	out = gdbtest.Script(t, counting(gs.Addr(), "after_watch", "rwatch g"))
	if n := hits(out, 1); n == 5 {
		t.Logf("GNU gdbserver reported the right count too (%d); its emulation got luckier than expected", n)
	} else {
		t.Logf("GNU gdbserver: rwatch g reported %d reads where the program made 5", n)
	}
}

// TestWatchKernelWrite: read(2) fills a watched buffer. The hardware never
// traps on the kernel's writes; gdbserverx compares at the syscall's exit
// and reports it, GNU gdbserver misses it.
func TestWatchKernelWrite(t *testing.T) {
	prog := gdbtest.Program(t, "watch")
	srv := serve(t, prog, "syscall")
	out := gdbtest.Batch(t, "target remote "+srv.Addr(), "break after_watch", "continue",
		"watch buf[0]", "continue", "delete", "continue")
	contains(t, out, `Hardware watchpoint 2: buf\[0\]`, `Old value = 0 '\\000'`, `New value = 104 'h'`, `in __GI___libc_read|in read`, `exited normally`)

	gnu := gdbtest.GNUServer(t)
	gs := gdbtest.StartServer(t, gnu, "127.0.0.1:0", prog, "syscall")
	out = gdbtest.Batch(t, "target remote "+gs.Addr(), "break after_watch", "continue",
		"watch buf[0]", "continue")
	if strings.Contains(out, "New value = 104") {
		t.Logf("GNU gdbserver saw the kernel write too")
	} else if !strings.Contains(out, "exited normally") {
		t.Errorf("GNU gdbserver run did not end as expected:\n%s", out)
	}
}

// TestKernelWriteEmulated: five watchpoints, four in the slots and the
// fifth emulated, and read(2) fills each watched variable in turn. The
// server traces system call exits for the slots' kernel writes; the
// engine then reports its own kernel writes on those exit stops, and
// the fifth write was lost there (issue 13, item 7), whether the fifth
// variable shared its page with the others or not.
func TestKernelWriteEmulated(t *testing.T) {
	prog := gdbtest.Program(t, "watch")
	for _, tc := range []struct{ mode, fifth string }{{"pipe5", "kv[4]"}, {"pipe5far", "kfar[0]"}} {
		srv := serve(t, prog, tc.mode)
		out := gdbtest.Script(t, counting(srv.Addr(), "after_watch",
			"watch kv[0]", "watch kv[1]", "watch kv[2]", "watch kv[3]", "watch "+tc.fifth))
		if !strings.Contains(out, "emulated in software") {
			t.Errorf("%s: no watchpoint was emulated; the test needs five:\n%s", tc.mode, out)
		}
		for i := 1; i <= 5; i++ {
			if n := hits(out, i); n != 1 {
				t.Errorf("%s: watchpoint %d reported %d kernel writes, want 1\n%s", tc.mode, i, n, out)
			}
		}
		contains(t, out, "exited normally")
	}
}

// stepWatchSIGTRAPs runs gdb against srv on the stepwatch program: `watch
// counter`, then n stepi. It returns how many times gdb said a thread
// received SIGTRAP, and how many watchpoint hits it showed.
func stepWatchSIGTRAPs(t *testing.T, addr string, n int) (traps, watchHits int, out string) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "target remote %s\nbreak all_started\ncontinue\ndelete\nwatch counter\n", addr)
	for range n {
		b.WriteString("stepi\n")
	}
	b.WriteString("kill\n")
	out = gdbtest.Script(t, b.String())
	traps = len(regexp.MustCompile(`received signal SIGTRAP`).FindAllString(out, -1))
	watchHits = len(regexp.MustCompile(`hit Hardware watchpoint`).FindAllString(out, -1))
	return traps, watchHits, out
}

// TestStepiBesideWatchHits: with `watch counter` on 64 busy threads,
// stepi in one thread often stops for the watchpoint in another, while
// the stepped thread completed its step in the same stop. That step
// must not come back later as a bare SIGTRAP (T05) of a thread gdb
// since continued: it did with 74 of 400 stepi (issue 13, item 6).
// GNU gdbserver shows none either; it runs the same script beside it.
func TestStepiBesideWatchHits(t *testing.T) {
	prog := gdbtest.Program(t, "stepwatch")
	const steps = 400
	srv := serve(t, prog)
	traps, watchHits, out := stepWatchSIGTRAPs(t, srv.Addr(), steps)
	t.Logf("gdbserverx: %d stepi, %d watchpoint hits shown, %d SIGTRAPs", steps, watchHits, traps)
	if watchHits == 0 {
		t.Fatalf("no watchpoint hit among %d stepi: the test did not exercise the case\n%s", steps, out)
	}
	if traps != 0 {
		t.Errorf("%d stepi beside watchpoint hits: gdb reported SIGTRAP %d times, want 0\n%s", steps, traps, out)
	}
	if testing.Short() {
		return
	}
	gs := gdbtest.StartServer(t, gdbtest.GNUServer(t), "127.0.0.1:0", prog)
	traps, watchHits, out = stepWatchSIGTRAPs(t, gs.Addr(), steps)
	t.Logf("GNU gdbserver: %d stepi, %d watchpoint hits shown, %d SIGTRAPs", steps, watchHits, traps)
	if traps != 0 {
		t.Logf("GNU gdbserver reported SIGTRAP too:\n%s", out)
	}
}

// TestFifthWatchpointErrorPolicy: with --policy error a fifth watchpoint
// fails exactly as with gdbserver.
func TestFifthWatchpointErrorPolicy(t *testing.T) {
	prog := gdbtest.Program(t, "watch")
	script := []string{"break five", "continue", "watch w[0]", "watch w[1]", "watch w[2]", "watch w[3]", "watch w[4]", "continue"}
	want := "Warning:\nCould not insert hardware watchpoint 6.\nCould not insert hardware breakpoints:\nYou may have requested too many hardware breakpoints/watchpoints.\n"
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--policy", "error", "127.0.0.1:0", prog, "five")
	out := gdb(t, srv, script...)
	if !strings.Contains(out, want) {
		t.Errorf("gdbserverx --policy error, fifth watchpoint:\n%s", out)
	}
	gnu := gdbtest.GNUServer(t)
	gs := gdbtest.StartServer(t, gnu, "127.0.0.1:0", prog, "five")
	gout := gdb(t, gs, script...)
	if !strings.Contains(gout, want) {
		t.Errorf("GNU gdbserver, fifth watchpoint (the reference):\n%s", gout)
	}
}

// TestNoDebugRegisterWritesPerStop: gdb removes and inserts every point at
// each stop; with k points in hardware an ordinary stop and resume must
// write no debug register (gdbserver writes 2+k+1 per thread per stop).
func TestNoDebugRegisterWritesPerStop(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "loop", "50")
	out := gdbtest.Batch(t, "target remote "+srv.Addr(), "break loop", "continue",
		"watch g", "awatch l8", "hbreak done", "continue", "monitor stats",
		"continue", "continue", "continue", "continue", "continue", "continue", "continue", "continue", "continue", "continue",
		"monitor stats")
	m := regexp.MustCompile(`debug-register writes: (\d+)`).FindAllStringSubmatch(out, -1)
	if len(m) != 2 {
		t.Fatalf("monitor stats printed no counts:\n%s", out)
	}
	if m[0][1] != m[1][1] {
		t.Errorf("10 stops with 3 hardware points wrote debug registers: %s before, %s after\n%s", m[0][1], m[1][1], out)
	}
	t.Logf("debug-register writes: %s after the first resume, %s after 10 more stops", m[0][1], m[1][1])
}

// TestFifthWatchpointEmulated: under the default policy a fifth
// watchpoint is no error: it is watched in software, the user is told so,
// and every hit of all five is reported.
func TestFifthWatchpointEmulated(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "five")
	out := gdbtest.Script(t, counting(srv.Addr(), "five",
		"watch w[0]", "watch w[1]", "watch w[2]", "watch w[3]", "watch w[4]"))
	for i := 1; i <= 5; i++ {
		if n := hits(out, i); n != 1 {
			t.Errorf("watchpoint %d (w[%d]) reported %d times, want 1\n%s", i, i-1, n, out)
		}
	}
	contains(t, out, `gdbserverx: watch 0x[0-9a-f]+ <w\+32> len 8: no hardware slot free \(held by this client at priority 0\); emulated in software`)
}

// TestEightMixedWatchpoints: eight watchpoints of mixed kinds, four of
// them in software, each reports exactly the accesses the program made.
func TestEightMixedWatchpoints(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "watch"), "mixed")
	out := gdbtest.Script(t, counting(srv.Addr(), "mixed",
		"watch mw[0]", "watch mw[1]", "watch mw[2]", "watch mw[3]",
		"rwatch mr[0]", "rwatch mr[1]", "awatch ma[0]", "awatch ma[1]"))
	if !strings.Contains(out, "emulated in software") {
		t.Errorf("no watchpoint was emulated; the test needs more points than slots:\n%s", out)
	}
	want := []int{3, 3, 3, 3, 3, 3, 6, 6}
	for i, w := range want {
		if n := hits(out, i+1); n != w {
			t.Errorf("watchpoint %d: %d hits, want %d\n%s", i+1, n, w, out)
		}
	}
	if !strings.Contains(out, "exited normally") {
		t.Errorf("the program did not finish:\n%s", out)
	}
}

// TestKernelRefusesSlotReal: another perf user (here the test, with
// perf_event_open) holds two of the thread's four debug-register slots.
// gdb sets four watchpoints; the kernel refuses two of them at the
// resume, and those two are told so and watched in software: every
// write is still reported, and the program finishes.
func TestKernelRefusesSlotReal(t *testing.T) {
	prog := gdbtest.Program(t, "watch")
	srv := serve(t, prog, "five")
	_, m, err := srv.Stderr.Wait(0, createdRE, gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(m[1])
	for i := 0; i < 2; i++ {
		attr := unix.PerfEventAttr{
			Type:    unix.PERF_TYPE_BREAKPOINT,
			Size:    uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
			Bp_type: 2, // HW_BREAKPOINT_W
			Ext1:    0x10000 + uint64(i)*8,
			Ext2:    8,
		}
		fd, err := unix.PerfEventOpen(&attr, pid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			t.Skipf("perf_event_open breakpoint on %d: %v", pid, err)
		}
		defer unix.Close(fd)
	}
	out := gdbtest.Script(t, counting(srv.Addr(), "five",
		"watch w[0]", "watch w[1]", "watch w[2]", "watch w[3]"))
	for i := 1; i <= 4; i++ {
		if n := hits(out, i); n != 1 {
			t.Errorf("watchpoint %d (w[%d]) reported %d times, want 1\n%s", i, i-1, n, out)
		}
	}
	refused := regexp.MustCompile(`gdbserverx: watch 0x[0-9a-f]+ <w\+\d+> len 8: evicted from hardware: the kernel refused a debug-register slot; now emulated in software`)
	if n := len(refused.FindAllString(out, -1)); n != 2 {
		t.Errorf("%d refusal notices, want 2 (perf holds two slots)\n%s", n, out)
	}
	contains(t, out, "exited normally")
}
