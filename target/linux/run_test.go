package linux

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/target"
)

func TestBreakpoint(t *testing.T) {
	p, bin := launch(t, "loop")
	tick := symbol(t, bin, "tick")
	var orig [4]byte
	if _, err := p.ReadMemory(tick, orig[:]); err != nil {
		t.Fatal(err)
	}
	if err := p.InsertBreakpoint(tick); err != nil {
		t.Fatal(err)
	}
	// Reads show the original byte; memory holds the int3.
	var b [4]byte
	if n, err := p.ReadMemory(tick-1, b[:]); err != nil || n != 4 || b[1] != orig[0] {
		t.Errorf("ReadMemory over the breakpoint = % x, %v; want original % x", b, err, orig[0])
	}
	raw := rawByte(t, p.Pid(), tick)
	if raw != int3 {
		t.Errorf("memory at tick holds %#x, want int3", raw)
	}
	for i := 0; i < 3; i++ {
		cont(t, p)
		st := onlyStop(t, next(t, p))
		if st.Reason != target.StopBreakpoint || st.PC != tick || st.Signal != target.SIGTRAP || st.SigCode != siKernel {
			t.Fatalf("hit %d: %+v, want breakpoint at %#x", i, st, tick)
		}
		if pc := reg64(t, p, regs(t, p, st.Tid), "rip"); pc != tick {
			t.Fatalf("rip %#x after the hit, want %#x (moved back)", pc, tick)
		}
		// gdb's way over a breakpoint: remove, step, insert.
		p.RemoveBreakpoint(tick)
		if err := p.Resume([]target.Action{{Tid: st.Tid, Kind: target.Step}}); err != nil {
			t.Fatal(err)
		}
		s := onlyStop(t, next(t, p))
		if s.Reason != target.StopDebug || s.DR6&hwbp.DR6SingleStep == 0 || s.PC == tick {
			t.Fatalf("step: %+v, want a single step off tick", s)
		}
		p.InsertBreakpoint(tick)
	}
	// A write over the breakpoint updates the saved byte and keeps the
	// int3.
	if _, err := p.WriteMemory(tick, orig[:1]); err != nil {
		t.Fatal(err)
	}
	if raw := rawByte(t, p.Pid(), tick); raw != int3 {
		t.Errorf("after a write over it, memory holds %#x, want int3", raw)
	}
	if err := p.RemoveBreakpoint(tick); err != nil {
		t.Fatal(err)
	}
	if raw := rawByte(t, p.Pid(), tick); raw != orig[0] {
		t.Errorf("after removal, memory holds %#x, want %#x", raw, orig[0])
	}
	// An int3 that is not ours is a SIGTRAP signal: write one in place of
	// tick's first byte and see.
	p.WriteMemory(tick, []byte{int3})
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopSignal || st.Signal != target.SIGTRAP || st.PC != tick+1 {
		t.Errorf("foreign int3: %+v, want a SIGTRAP signal stop after it", st)
	}
}

func rawByte(t testing.TB, pid int, addr uint64) byte {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], int64(addr)); err != nil {
		t.Fatal(err)
	}
	return b[0]
}

func TestSingleStep(t *testing.T) {
	p, _ := launch(t, "loop")
	tid := target.Tid(p.Pid())
	pc0 := reg64(t, p, regs(t, p, tid), "rip")
	for i := 0; i < 20; i++ {
		if err := p.Resume([]target.Action{{Tid: tid, Kind: target.Step}}); err != nil {
			t.Fatal(err)
		}
		st := onlyStop(t, next(t, p))
		// The first step, from inside execve, ends at the syscall's exit:
		// TRAP_BRKPT rather than TRAP_TRACE.
		if st.Reason != target.StopDebug || st.DR6&hwbp.DR6SingleStep == 0 || (st.SigCode != trapTrace && st.SigCode != trapBrkpt) {
			t.Fatalf("step %d: %+v, want StopDebug with BS", i, st)
		}
		if pc := reg64(t, p, regs(t, p, tid), "rip"); pc != st.PC {
			t.Fatalf("rip %#x, stop PC %#x", pc, st.PC)
		}
	}
	if pc := reg64(t, p, regs(t, p, tid), "rip"); pc == pc0 {
		t.Errorf("20 steps did not move the PC")
	}
}

// TestEventFdWakes: every stop wakes the Tracer's event fd, and none is
// missed between the last wait4 of a pump and the next poll (the SIGCHLD
// handler writes the eventfd, which keeps the wake-up until the pump
// clears it): a thousand steps, each waited for in poll(2) only.
func TestEventFdWakes(t *testing.T) {
	p, _ := launch(t, "loop")
	tid := target.Tid(p.Pid())
	for i := 0; i < 1000; i++ {
		if err := p.Resume([]target.Action{{Tid: tid, Kind: target.Step}}); err != nil {
			t.Fatal(err)
		}
		ev, ok := nextWithin(p, eventTimeout)
		if !ok {
			t.Fatalf("step %d: the event fd did not wake within %v", i, eventTimeout)
		}
		onlyStop(t, ev)
	}
}

func TestReadMemory(t *testing.T) {
	p, bin := launch(t, "loop")
	tick := symbol(t, bin, "tick")
	// Across the end of a mapping: partial read with an error.
	maps, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", p.Pid()))
	var lo, hi uint64
	for _, l := range splitLines(string(maps)) {
		fmt.Sscanf(l, "%x-%x", &lo, &hi)
		if tick >= lo && tick < hi {
			break
		}
	}
	buf := make([]byte, 64)
	n, err := p.ReadMemory(hi-16, buf)
	if n < 16 {
		t.Errorf("read at the end of a mapping: n=%d, want at least 16", n)
	}
	if n < len(buf) && err == nil {
		t.Errorf("partial read (n=%d) without an error", n)
	}
	if n, err := p.ReadMemory(0, buf[:8]); n != 0 || err == nil {
		t.Errorf("read at 0: n=%d err=%v, want an error", n, err)
	}
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	counter := symbol(t, bin, "counter")
	if n, err := p.WriteMemory(counter, data); n != 8 || err != nil {
		t.Fatal(n, err)
	}
	got := make([]byte, 8)
	if _, err := p.ReadMemory(counter, got); err != nil || string(got) != string(data) {
		t.Errorf("read back % x, %v", got, err)
	}
}

// TestReadMemoryFallback reads a PROT_NONE page: process_vm_readv
// refuses it, /proc/PID/mem reads it as ptrace would.
func TestReadMemoryFallback(t *testing.T) {
	p, bin := launch(t, "guard")
	cont(t, p)
	onlyStop(t, next(t, p))
	var a [8]byte
	if _, err := p.ReadMemory(symbol(t, bin, "guarded"), a[:]); err != nil {
		t.Fatal(err)
	}
	addr := le.Uint64(a[:])
	buf := make([]byte, 16)
	local := []unix.Iovec{{Base: &buf[0]}}
	local[0].SetLen(len(buf))
	if _, err := unix.ProcessVMReadv(p.Pid(), local, []unix.RemoteIovec{{Base: uintptr(addr), Len: len(buf)}}, 0); err == nil {
		t.Log("process_vm_readv read a PROT_NONE page: the fallback is not exercised")
	}
	clear(buf)
	if n, err := p.ReadMemory(addr, buf); err != nil || string(buf[:n]) != "behind the guard" {
		t.Fatalf("ReadMemory(PROT_NONE page) = %q, %v", buf[:n], err)
	}
}

func splitLines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != '\n' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

func TestInterruptWhileRunning(t *testing.T) {
	p, _ := launch(t, "many", "4", "spin")
	for i := 0; i < 20; i++ {
		cont(t, p)
		if err := p.Interrupt(); err != nil {
			t.Fatal(err)
		}
		p.Interrupt() // twice is harmless
		ev := next(t, p)
		if ev.Kind != target.EventStopped || !ev.Interrupted || len(ev.Stops) != 0 {
			t.Fatalf("cycle %d: %+v, want an interrupted stop with no reasons", i, ev)
		}
		noEvent(t, p)
	}
	// While stopped, Interrupt does nothing.
	if err := p.Interrupt(); err != nil {
		t.Fatal(err)
	}
	noEvent(t, p)
}

// TestInterruptRacesEvents interrupts while threads hit breakpoints all the
// time: every event is either interrupted or a breakpoint, never a stray
// stop, and no interrupt is left over for the next run.
func TestInterruptRacesEvents(t *testing.T) {
	p, bin := launch(t, "loop")
	tick := symbol(t, bin, "tick")
	p.InsertBreakpoint(tick)
	for i := 0; i < 300; i++ {
		cont(t, p)
		if i%3 != 0 {
			p.owner.Pump() // sometimes after the hit is collected
		}
		p.Interrupt()
		ev := next(t, p)
		for _, s := range ev.Stops {
			if s.Reason != target.StopBreakpoint {
				t.Fatalf("cycle %d: %+v", i, ev)
			}
		}
		if len(ev.Stops) == 0 && !ev.Interrupted {
			t.Fatalf("cycle %d: empty stop not interrupted: %+v", i, ev)
		}
	}
	// A leftover interrupt trap is swallowed by the next run.
	cont(t, p)
	if st := onlyStop(t, next(t, p)); st.Reason != target.StopBreakpoint {
		t.Fatalf("%+v", st)
	}
}

func TestManyThreadsAllStop(t *testing.T) {
	const n = 200
	p, bin := launch(t, "many", fmt.Sprint(n))
	ready := symbol(t, bin, "all_ready")
	p.InsertBreakpoint(ready)
	cont(t, p)
	ev := next(t, p)
	st := onlyStop(t, ev)
	if st.Reason != target.StopBreakpoint || st.Tid != target.Tid(p.Pid()) {
		t.Fatalf("%+v", st)
	}
	if len(ev.Threads) != n+1 || ev.Threads[0] != target.Tid(p.Pid()) {
		t.Fatalf("%d threads, want %d, main first", len(ev.Threads), n+1)
	}
	seen := map[target.Tid]bool{}
	for _, tid := range ev.Threads {
		if seen[tid] {
			t.Errorf("thread %d listed twice", tid)
		}
		seen[tid] = true
	}
	p.RemoveBreakpoint(ready)
	var total time.Duration
	const cycles = 10
	for i := 0; i < cycles; i++ {
		t0 := time.Now()
		cont(t, p)
		p.Interrupt()
		ev := next(t, p)
		total += time.Since(t0)
		if !ev.Interrupted || len(ev.Threads) != n+1 {
			t.Fatalf("%+v", ev)
		}
		for _, tid := range ev.Threads {
			if s := procState(int(tid)); s != "t" {
				t.Fatalf("thread %d in state %q while stopped", tid, s)
			}
		}
	}
	t.Logf("%d threads: resume+interrupt+stop %v per cycle", n+1, total/cycles)
	if total/cycles > 500*time.Millisecond {
		t.Errorf("all-stop cycle takes %v with %d threads", total/cycles, n+1)
	}
}

func TestChurn(t *testing.T) {
	p, bin := launch(t, "churn")
	// A watch on g, written by every new thread: new threads are
	// programmed before they run, so hits keep coming.
	g := symbol(t, bin, "g")
	if err := p.SetDebugRegisters(debugRegs(watchWrite(g, 8))); err != nil {
		t.Fatal(err)
	}
	hits, goneChecked := 0, 0
	var prev []target.Tid
	buf := make([]byte, p.Description().Size())
	for i := 0; i < 300; i++ {
		cont(t, p)
		if i%3 == 0 {
			p.Interrupt()
		}
		ev := next(t, p)
		if ev.Kind != target.EventStopped {
			t.Fatalf("%+v", ev)
		}
		for _, s := range ev.Stops {
			if s.Reason == target.StopDebug && s.DR6&hwbp.DR6Hit(0) != 0 {
				hits++
			} else {
				t.Fatalf("unexpected stop %+v", s)
			}
		}
		// A thread of the last stop that exited since is an expected
		// answer (ESRCH inside), not a failure of the target.
		now := map[target.Tid]bool{}
		for _, tid := range ev.Threads {
			now[tid] = true
		}
		for _, tid := range prev {
			if !now[tid] {
				if err := p.ReadRegisters(tid, buf); !errors.Is(err, target.ErrNoThread) {
					t.Fatalf("ReadRegisters of exited thread %d: %v, want ErrNoThread", tid, err)
				}
				goneChecked++
				break
			}
		}
		prev = ev.Threads
		// Every thread listed exists and is stopped.
		threads, err := p.Threads()
		if err != nil {
			t.Fatal(err)
		}
		for _, th := range threads {
			if s := procState(int(th.Tid)); s != "t" {
				t.Fatalf("listed thread %d in state %q", th.Tid, s)
			}
		}
	}
	if hits < 100 {
		t.Errorf("%d watch hits in 300 cycles", hits)
	}
	if goneChecked == 0 {
		t.Errorf("no thread exited between two stops in 300 cycles")
	}
	t.Logf("%d hits, %d exited threads checked, counts %+v", hits, goneChecked, p.Counts())
}

func TestGroupStop(t *testing.T) {
	p, _ := launch(t, "signals", "stop")
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopSignal || st.Signal != target.SIGSTOP {
		t.Fatalf("%+v, want the program's own SIGSTOP", st)
	}
	// Pass it: the program is stopped by job control, not by us.
	if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: target.SIGSTOP}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(eventTimeout)
	for procState(p.Pid()) != "t" {
		if time.Now().After(deadline) {
			t.Fatal("not in group-stop")
		}
		runtime.Gosched()
	}
	noEvent(t, p)
	// Interrupt reaches a tracer whose threads are all listening.
	p.Interrupt()
	ev := next(t, p)
	if !ev.Interrupted || len(ev.Stops) != 0 {
		t.Fatalf("%+v, want interrupted", ev)
	}
	// Continue: still stopped by job control until SIGCONT.
	cont(t, p)
	noEvent(t, p)
	if err := unix.Kill(p.Pid(), unix.SIGCONT); err != nil {
		t.Fatal(err)
	}
	st = onlyStop(t, next(t, p))
	if st.Reason != target.StopSignal || st.Signal != target.Signal(unix.SIGCONT) {
		t.Fatalf("%+v, want SIGCONT", st)
	}
	if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: st.Signal}}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 5 {
		t.Fatalf("%+v, want exit 5", ev)
	}
}

func TestSyscallExits(t *testing.T) {
	p, _ := launch(t, "exit")
	if err := p.TraceSyscalls(true); err != nil {
		t.Fatal(err)
	}
	tid := target.Tid(p.Pid())
	seen := map[int]bool{}
	for i := 0; i < 5; i++ {
		cont(t, p)
		st := onlyStop(t, next(t, p))
		if st.Reason != target.StopSyscallExit {
			t.Fatalf("%+v, want a syscall exit", st)
		}
		if orig := reg64(t, p, regs(t, p, tid), "orig_rax"); int(orig) != st.Syscall {
			t.Errorf("Syscall %d, orig_rax %d", st.Syscall, orig)
		}
		seen[st.Syscall] = true
	}
	if len(seen) < 2 {
		t.Errorf("syscalls seen: %v", seen)
	}
	p.TraceSyscalls(false)
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 42 {
		t.Fatalf("%+v", ev)
	}
}

func TestZombieLeader(t *testing.T) {
	p, bin := launch(t, "leader")
	cont(t, p)
	deadline := time.Now().Add(eventTimeout)
	for !zombie(p.Pid(), p.Pid()) {
		if time.Now().After(deadline) {
			t.Fatal("the leader did not exit")
		}
		p.owner.Pump() // its PTRACE_EVENT_EXIT stop waits for the tracer
		runtime.Gosched()
	}
	p.Interrupt()
	ev := next(t, p)
	if !ev.Interrupted || len(ev.Threads) != 1 || ev.Threads[0] == target.Tid(p.Pid()) {
		t.Fatalf("%+v, want interrupted with the one worker", ev)
	}
	if _, err := p.WriteMemory(symbol(t, bin, "quit"), []byte{1, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 3 {
		t.Fatalf("%+v, want exit 3", ev)
	}
}

func TestExecFromThread(t *testing.T) {
	p, _ := launch(t, "execthread")
	cont(t, p)
	ev := next(t, p)
	st := onlyStop(t, ev)
	if st.Reason != target.StopExec || st.Tid != target.Tid(p.Pid()) {
		t.Fatalf("%+v, want exec by the pid", ev)
	}
	if len(ev.Threads) != 1 || ev.Threads[0] != target.Tid(p.Pid()) {
		t.Fatalf("threads %v after exec, want [%d]", ev.Threads, p.Pid())
	}
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 9 {
		t.Fatalf("%+v, want exit 9", ev)
	}
}

func TestForkAndBreakpoints(t *testing.T) {
	p, bin := launch(t, "forkexec")
	tick := symbol(t, bin, "tick")
	p.InsertBreakpoint(tick)
	cont(t, p)
	// The fork child called tick without our int3 (it would have died of
	// SIGTRAP, and the parent would exit 105); the vfork child exec'd.
	st := onlyStop(t, nextReal(t, p))
	if st.Reason != target.StopBreakpoint || st.Tid != target.Tid(p.Pid()) || st.PC != tick {
		t.Fatalf("%+v, want the parent at tick", st)
	}
	p.RemoveBreakpoint(tick)
	cont(t, p)
	if st := onlyStop(t, nextReal(t, p)); st.Reason != target.StopExec {
		t.Fatalf("%+v, want exec", st)
	}
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 7 {
		t.Fatalf("%+v, want exit 7", ev)
	}
}

func TestResumeSomeThreads(t *testing.T) {
	p, bin := launch(t, "many", "3", "spin")
	ready := symbol(t, bin, "all_ready")
	p.InsertBreakpoint(ready)
	cont(t, p)
	ev := next(t, p)
	p.RemoveBreakpoint(ready)
	if len(ev.Threads) != 4 {
		t.Fatalf("%+v", ev)
	}
	// Step one worker only; the others stay stopped.
	w := ev.Threads[2]
	if err := p.Resume([]target.Action{{Tid: w, Kind: target.Step}}); err != nil {
		t.Fatal(err)
	}
	st := onlyStop(t, next(t, p))
	if st.Tid != w || st.Reason != target.StopDebug {
		t.Fatalf("%+v", st)
	}
	if err := p.Resume([]target.Action{{Tid: 12345678, Kind: target.Continue}}); err == nil {
		t.Error("Resume of an unknown thread succeeded")
	}
	if err := p.Resume([]target.Action{{Tid: w, Kind: target.Step}, {Kind: target.Continue}}); err != nil {
		t.Fatal(err)
	}
	ev = next(t, p)
	st = stopOf(t, ev, w)
	if st.Reason != target.StopDebug || st.DR6&hwbp.DR6SingleStep == 0 {
		t.Fatalf("%+v", ev)
	}
}

// TestTwoProcesses traces two processes at once, plus a plain child of
// the server: each tracer waits only for its own tracees (__WNOTHREAD).
func TestTwoProcesses(t *testing.T) {
	a, bin := launch(t, "loop")
	b, _ := launch(t, "many", "3", "spin")
	tick := symbol(t, bin, "tick")
	a.InsertBreakpoint(tick)
	other := exec.Command("sleep", "0.05")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		cont(t, a)
		cont(t, b)
		b.Interrupt()
		if st := onlyStop(t, next(t, a)); st.Reason != target.StopBreakpoint || st.PC != tick {
			t.Fatalf("a: %+v", st)
		}
		if ev := next(t, b); !ev.Interrupted || len(ev.Stops) != 0 {
			t.Fatalf("b: %+v", ev)
		}
	}
	if err := other.Wait(); err != nil {
		t.Errorf("the server's own child: %v", err)
	}
}
