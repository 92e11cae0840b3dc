package linux

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/target"
)

// nonStopProgram runs testdata/nonstop.c to ready() in all-stop mode,
// turns non-stop mode on, and returns the process and the tids of its
// workers w0..w3, all stopped.
func nonStopProgram(t *testing.T) (*Process, string, [4]target.Tid) {
	t.Helper()
	p, bin := launch(t, "nonstop")
	ready := symbol(t, bin, "ready")
	p.InsertBreakpoint(ready)
	cont(t, p)
	if st := onlyStop(t, next(t, p)); st.Reason != target.StopBreakpoint {
		t.Fatalf("%+v, want the breakpoint at ready", st)
	}
	p.RemoveBreakpoint(ready)
	var w [4]target.Tid
	ths, err := p.Threads()
	if err != nil {
		t.Fatal(err)
	}
	for _, th := range ths {
		if len(th.Name) == 2 && th.Name[0] == 'w' {
			w[th.Name[1]-'0'] = th.Tid
		}
	}
	for i, tid := range w {
		if tid == 0 {
			t.Fatalf("no thread w%d in %+v", i, ths)
		}
	}
	if err := p.SetNonStop(true); err != nil {
		t.Fatal(err)
	}
	return p, bin, w
}

// counts reads counts[0..3].
func counts(t *testing.T, p *Process, bin string) [4]uint64 {
	t.Helper()
	var b [32]byte
	if _, err := p.ReadMemory(symbol(t, bin, "counts"), b[:]); err != nil {
		t.Fatal(err)
	}
	var c [4]uint64
	for i := range c {
		c[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return c
}

// advance waits until the counts of the threads in who have all moved
// from c0 (they run), pumping the tracer's events meanwhile.
func advance(t *testing.T, p *Process, bin string, c0 [4]uint64, who ...int) {
	t.Helper()
	deadline := time.Now().Add(eventTimeout)
	for {
		c := counts(t, p, bin)
		moved := true
		for _, i := range who {
			moved = moved && c[i] != c0[i]
		}
		if moved {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("counts %v, still %v for threads %v", c, c0, who)
		}
		p.owner.Pump()
		runtime.Gosched()
	}
}

// TestNonStopBreakpointStopsOneThread: a breakpoint only w0 reaches stops
// w0 alone; the other threads go on while it is stopped, and it goes on
// when resumed alone.
func TestNonStopBreakpointStopsOneThread(t *testing.T) {
	p, bin, w := nonStopProgram(t)
	only0 := symbol(t, bin, "only0")
	p.InsertBreakpoint(only0)
	cont(t, p)
	ev := next(t, p)
	st := onlyStop(t, ev)
	if st.Reason != target.StopBreakpoint || st.Tid != w[0] || st.PC != only0 {
		t.Fatalf("%+v, want w0 (%d) at only0", st, w[0])
	}
	c0 := counts(t, p, bin)
	advance(t, p, bin, c0, 1, 2, 3)
	if c := counts(t, p, bin); c[0] != c0[0] {
		t.Errorf("w0 counted on while stopped: %d -> %d", c0[0], c[0])
	}
	if err := p.ReadRegisters(w[1], make([]byte, p.Description().Size())); err == nil {
		t.Errorf("ReadRegisters of running w1 succeeded")
	}
	regs(t, p, w[0]) // the stopped one's can be read
	p.RemoveBreakpoint(only0)
	if err := p.Resume([]target.Action{{Tid: w[0], Kind: target.Continue}}); err != nil {
		t.Fatal(err)
	}
	advance(t, p, bin, counts(t, p, bin), 0, 1, 2, 3)
	noEvent(t, p)
}

// TestNonStopStopThreads: StopThreads stops the threads named, each with
// an event of its own (StopInterrupt); the others run on.
func TestNonStopStopThreads(t *testing.T) {
	p, bin, w := nonStopProgram(t)
	cont(t, p)
	if err := p.StopThreads([]target.Tid{w[1]}); err != nil {
		t.Fatal(err)
	}
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopInterrupt || st.Tid != w[1] {
		t.Fatalf("%+v, want w1 (%d) interrupted", st, w[1])
	}
	c0 := counts(t, p, bin)
	advance(t, p, bin, c0, 0, 2, 3)
	if c := counts(t, p, bin); c[1] != c0[1] {
		t.Errorf("w1 counted on while stopped")
	}
	// Every thread: an event each, w1 (stopped already) none.
	if err := p.StopThreads(nil); err != nil {
		t.Fatal(err)
	}
	seen := map[target.Tid]bool{}
	for len(seen) < 4 { // w0, w2, w3 and main
		st := onlyStop(t, next(t, p))
		if st.Reason != target.StopInterrupt || seen[st.Tid] || st.Tid == w[1] {
			t.Fatalf("%+v (seen %v)", st, seen)
		}
		seen[st.Tid] = true
	}
	noEvent(t, p)
	if !p.allStopped() {
		t.Fatal("not every thread stopped")
	}
}

// TestNonStopWatchWhileRunning: debug registers set while the threads run
// reach them at once: a write watchpoint on counts[2] fires in w2.
func TestNonStopWatchWhileRunning(t *testing.T) {
	p, bin, w := nonStopProgram(t)
	cont(t, p)
	if err := p.SetDebugRegisters(debugRegs(watchWrite(symbol(t, bin, "counts")+16, 8))); err != nil {
		t.Fatal(err)
	}
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopDebug || st.Tid != w[2] || st.DR6&hwbp.DR6Hit(0) == 0 {
		t.Fatalf("%+v, want w2's watchpoint hit", st)
	}
	advance(t, p, bin, counts(t, p, bin), 0, 1, 3)
}

// TestNonStopRemoveWhileRunning: a breakpoint every thread hits, removed
// while they run: a thread that executed its int3 before the removal and
// reports after it is taken back onto the instruction, not reported as a
// SIGTRAP of the program's.
func TestNonStopRemoveWhileRunning(t *testing.T) {
	p, bin, _ := nonStopProgram(t)
	mark := symbol(t, bin, "mark")
	for round := 0; round < 20; round++ {
		p.InsertBreakpoint(mark)
		cont(t, p)
		first := onlyStop(t, next(t, p))
		if first.Reason != target.StopBreakpoint {
			t.Fatalf("round %d: %+v", round, first)
		}
		p.RemoveBreakpoint(mark)
		// The others may have hit it too: those events are breakpoints
		// (they reported before the removal was seen) or nothing.
		for {
			ev, ok := nextWithin(p, 20*time.Millisecond)
			if !ok {
				break
			}
			if st := onlyStop(t, ev); st.Reason != target.StopBreakpoint {
				t.Fatalf("round %d: %+v after the removal", round, st)
			}
		}
	}
	if err := p.StopThreads(nil); err != nil {
		t.Fatal(err)
	}
	for !p.allStopped() {
		ev := next(t, p)
		if st := onlyStop(t, ev); st.Reason != target.StopInterrupt && st.Reason != target.StopBreakpoint {
			t.Fatalf("%+v", st)
		}
	}
}

// TestNonStopThreadRunner: a system call injected and a step made in one
// stopped thread while the others run (they are paused around it, as
// all-stop has them), and the others run on afterwards.
func TestNonStopThreadRunner(t *testing.T) {
	p, bin, w := nonStopProgram(t)
	cont(t, p)
	if err := p.StopThreads([]target.Tid{w[3]}); err != nil {
		t.Fatal(err)
	}
	if st := onlyStop(t, next(t, p)); st.Tid != w[3] {
		t.Fatalf("%+v", st)
	}
	for i := 0; i < 50; i++ {
		if v, err := p.InjectSyscall(w[3], unix.SYS_GETTID); err != nil || target.Tid(v) != w[3] {
			t.Fatalf("gettid in w3 = %d, %v", v, err)
		}
		st, err := p.StepThread(w[3], 0)
		if err != nil || st.Reason != target.StopDebug {
			t.Fatalf("step %d: %+v, %v", i, st, err)
		}
	}
	advance(t, p, bin, counts(t, p, bin), 0, 1, 2)
	noEvent(t, p)
}
