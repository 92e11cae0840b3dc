package linux

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/internal/gdbtest"
	"gdbserverx/target"
)

// debugRegs is the image that arms each piece in the slot of its
// position, encoded by hwbp: no DR7 bit is computed in these tests.
func debugRegs(pieces ...hwbp.Piece) target.DebugRegisters {
	var sl hwbp.Slots
	copy(sl[:], pieces)
	return target.DebugRegisters(sl.MustEncode())
}

// watchWrite is a piece that watches n bytes at addr for writes.
func watchWrite(addr uint64, n uint8) hwbp.Piece {
	return hwbp.Piece{Addr: addr, Len: n, Cond: hwbp.CondWrite}
}

// breakAt is an execute piece at addr.
func breakAt(addr uint64) hwbp.Piece { return hwbp.Piece{Addr: addr, Len: 1, Cond: hwbp.CondExecute} }

// eventTimeout bounds every wait for an event.
const eventTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	checkOwner = true
	code := m.Run()
	gdbtest.Cleanup()
	os.Exit(code)
}

// program compiles testdata/NAME.c once per test binary (non-PIE, so that
// symbol addresses are the run-time ones; with AVX where the CPU has it,
// for the register tests) and returns the binary's path.
func program(t testing.TB, name string) string {
	t.Helper()
	flags := []string{"-O0", "-no-pie", "-fno-pie"}
	if cpu.X86.HasAVX {
		flags = append(flags, "-mavx")
	}
	return gdbtest.CompileC(t, filepath.Join("testdata", name+".c"), flags...)
}

// symbol returns the address of a symbol of a test program.
var symbol = gdbtest.Symbol

// testTracers holds each test's Tracer: a test's goroutine is one
// thread, which can trace for one Tracer only.
var testTracers sync.Map // testing.TB -> *Tracer

// tracerFor makes the test's goroutine a tracer (it stays locked to its
// thread until the test ends) and returns its Tracer.
func tracerFor(t testing.TB) *Tracer {
	t.Helper()
	if v, ok := testTracers.Load(t); ok {
		return v.(*Tracer)
	}
	tr, err := NewTracer()
	if err != nil {
		t.Fatalf("NewTracer: %v", err)
	}
	testTracers.Store(t, tr)
	t.Cleanup(func() {
		testTracers.Delete(t)
		tr.Close()
	})
	return tr
}

// launchCfg and attachPid start or attach on the test's Tracer.
func launchCfg(t testing.TB, cfg Config) (*Process, error) { return tracerFor(t).Launch(cfg) }
func attachPid(t testing.TB, pid int) (*Process, error)    { return tracerFor(t).Attach(pid) }

// launch starts a test program; the test kills it (if it is still there)
// when it ends.
func launch(t testing.TB, name string, args ...string) (*Process, string) {
	t.Helper()
	bin := program(t, name)
	p, err := launchCfg(t, Config{Path: bin, Args: append([]string{bin}, args...)})
	if err != nil {
		t.Fatalf("Launch(%s): %v", name, err)
	}
	t.Cleanup(func() { cleanup(t, p) })
	return p, bin
}

// cleanup kills the process and takes its events until the last.
func cleanup(t testing.TB, p *Process) {
	p.Kill()
	deadline := time.Now().Add(eventTimeout)
	for {
		for {
			if _, ok := p.NextEvent(); !ok {
				break
			}
		}
		if p.over {
			return
		}
		if !pumpUntil(p.owner, deadline) {
			t.Errorf("process %d: no final event %v after Kill", p.Pid(), eventTimeout)
			return
		}
	}
}

// pumpUntil waits until the Tracer's event fd is readable, or the
// deadline, and pumps. It reports false at the deadline.
func pumpUntil(tr *Tracer, deadline time.Time) bool { return tr.Wait(time.Until(deadline)) }

// nextWithin waits up to d for the next event of p.
func nextWithin(p *Process, d time.Duration) (target.Event, bool) {
	deadline := time.Now().Add(d)
	for {
		if ev, ok := p.NextEvent(); ok {
			return ev, true
		}
		if p.over || !pumpUntil(p.owner, deadline) {
			return target.Event{}, false
		}
	}
}

// next waits for the next event.
func next(t testing.TB, p *Process) target.Event {
	t.Helper()
	ev, ok := nextWithin(p, eventTimeout)
	if !ok {
		t.Fatalf("no event within %v (process over: %v)", eventTimeout, p.over)
	}
	return ev
}

// nextReal waits for the next event, passing SIGCHLD stops (a child of
// the program exited) back to the program as a client would.
func nextReal(t testing.TB, p *Process) target.Event {
	t.Helper()
	for {
		ev := next(t, p)
		if ev.Kind != target.EventStopped || len(ev.Stops) != 1 ||
			ev.Stops[0].Reason != target.StopSignal || ev.Stops[0].Signal != target.Signal(unix.SIGCHLD) {
			return ev
		}
		if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: ev.Stops[0].Signal}}); err != nil {
			t.Fatal(err)
		}
	}
}

// noEvent checks that no event is waiting, after collecting what the
// kernel has.
func noEvent(t testing.TB, p *Process) {
	t.Helper()
	p.owner.Pump()
	if ev, ok := p.NextEvent(); ok {
		t.Fatalf("unexpected event %+v", ev)
	}
}

func cont(t testing.TB, p *Process) {
	t.Helper()
	if err := p.Resume([]target.Action{{Kind: target.Continue}}); err != nil {
		t.Fatalf("Resume: %v", err)
	}
}

// stopOf returns the stop of tid in ev, failing if there is none.
func stopOf(t testing.TB, ev target.Event, tid target.Tid) target.ThreadStop {
	t.Helper()
	for _, s := range ev.Stops {
		if s.Tid == tid {
			return s
		}
	}
	t.Fatalf("no stop for thread %d in %+v", tid, ev)
	return target.ThreadStop{}
}

// onlyStop checks that ev is a stop with one reason and returns it.
func onlyStop(t testing.TB, ev target.Event) target.ThreadStop {
	t.Helper()
	if ev.Kind != target.EventStopped || len(ev.Stops) != 1 {
		t.Fatalf("want one stop, got %+v", ev)
	}
	return ev.Stops[0]
}

// regs reads the register file of a thread.
func regs(t testing.TB, p *Process, tid target.Tid) []byte {
	t.Helper()
	buf := make([]byte, p.Description().Size())
	if err := p.ReadRegisters(tid, buf); err != nil {
		t.Fatalf("ReadRegisters(%d): %v", tid, err)
	}
	return buf
}

func reg64(t testing.TB, p *Process, buf []byte, name string) uint64 {
	t.Helper()
	r, ok := p.Description().Lookup(name)
	if !ok {
		t.Fatalf("no register %s", name)
	}
	return le.Uint64(buf[r.Offset:])
}
