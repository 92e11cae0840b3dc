package linux

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/target"
)

func TestWatchTwoSlotsOneStore(t *testing.T) {
	p, bin := launch(t, "watch", "pair")
	pair := symbol(t, bin, "pair")
	img := debugRegs(watchWrite(pair, 4), watchWrite(pair+4, 4))
	if err := p.SetDebugRegisters(img); err != nil {
		t.Fatal(err)
	}
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopDebug || st.DR6&(hwbp.DR6Hit(0)|hwbp.DR6Hit(1)) != hwbp.DR6Hit(0)|hwbp.DR6Hit(1) || st.SigCode != trapHwbkpt {
		t.Fatalf("%+v, want one debug stop with DR6 B0 and B1", st)
	}
	// Memory is already written (a trap, after the instruction).
	var b [8]byte
	p.ReadMemory(pair, b[:])
	if le.Uint64(b[:]) != 0x1122334455667788 {
		t.Errorf("pair = %#x after the hit", le.Uint64(b[:]))
	}
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 0 {
		t.Fatalf("%+v", ev)
	}
}

// TestWatchNewThreads sets a watch on g before any thread exists; eight
// threads are created later and write g once each: each new thread must
// be programmed before it runs.
func TestWatchNewThreads(t *testing.T) {
	p, bin := launch(t, "watch")
	g := symbol(t, bin, "g")
	if err := p.SetDebugRegisters(debugRegs(watchWrite(g, 8))); err != nil {
		t.Fatal(err)
	}
	writers := map[target.Tid]bool{}
	var values []uint64
	for {
		cont(t, p)
		ev := next(t, p)
		if ev.Kind == target.EventExited {
			break
		}
		for _, s := range ev.Stops {
			if s.Reason != target.StopDebug || s.DR6&hwbp.DR6Hit(0) == 0 {
				t.Fatalf("unexpected stop %+v", s)
			}
			if s.Tid == target.Tid(p.Pid()) || writers[s.Tid] {
				t.Errorf("hit by thread %d (main %d, seen %v)", s.Tid, p.Pid(), writers[s.Tid])
			}
			writers[s.Tid] = true
			var b [8]byte
			p.ReadMemory(g, b[:])
			values = append(values, le.Uint64(b[:]))
		}
	}
	if len(writers) != 8 {
		t.Errorf("%d threads hit the watch, want 8 (values %v)", len(writers), values)
	}
}

// TestNoDebugWritesOnPlainCycle: once every thread holds the image, a stop
// and a resume write no debug register.
func TestNoDebugWritesOnPlainCycle(t *testing.T) {
	p, bin := launch(t, "many", "4", "spin")
	ready := symbol(t, bin, "all_ready")
	p.InsertBreakpoint(ready)
	cont(t, p)
	next(t, p)
	p.RemoveBreakpoint(ready)
	// A write watch on code: set, never hit.
	img := debugRegs(watchWrite(symbol(t, bin, "main")&^7, 8))
	p.SetDebugRegisters(img)
	cont(t, p)
	p.Interrupt()
	next(t, p)
	after := p.Counts().DebugRegisterWrites
	if after != 2*5 {
		t.Errorf("%d debug-register writes for 5 threads, want 10 (DR0 and DR7 each)", after)
	}
	for i := 0; i < 10; i++ {
		p.SetDebugRegisters(img) // the same image again: nothing to do
		cont(t, p)
		p.Interrupt()
		next(t, p)
	}
	if got := p.Counts().DebugRegisterWrites; got != after {
		t.Errorf("%d debug-register writes in 10 plain cycles, want 0", got-after)
	}
	// Clearing the image is one DR7 write per thread, no address write.
	p.SetDebugRegisters(target.DebugRegisters{})
	cont(t, p)
	p.Interrupt()
	next(t, p)
	if got := p.Counts().DebugRegisterWrites; got != after+5 {
		t.Errorf("clearing took %d writes, want 5", got-after)
	}
}

// TestExecResetsDebugRegisters: exec flushes the debug registers; the
// tracer's record follows and the watch is written again for the new
// image. The fork and vfork children run without our breakpoints.
func TestExecResetsDebugRegisters(t *testing.T) {
	p, bin := launch(t, "forkexec")
	g := symbol(t, bin, "g")
	if err := p.SetDebugRegisters(debugRegs(watchWrite(g, 8))); err != nil {
		t.Fatal(err)
	}
	var hits []uint64
	var reasons []target.StopReason
	writesAtExec := uint64(0)
	for {
		cont(t, p)
		ev := nextReal(t, p)
		if ev.Kind == target.EventExited {
			if ev.ExitCode != 7 {
				t.Fatalf("exit %d, want 7", ev.ExitCode)
			}
			break
		}
		st := onlyStop(t, ev)
		reasons = append(reasons, st.Reason)
		switch st.Reason {
		case target.StopExec:
			writesAtExec = p.Counts().DebugRegisterWrites
		case target.StopDebug:
			var b [8]byte
			p.ReadMemory(g, b[:])
			hits = append(hits, le.Uint64(b[:]))
		default:
			t.Fatalf("unexpected %+v", st)
		}
	}
	// The parent's tick (g=1), g = 1 again... as values: 1, 1, then 2 in
	// the new image.
	want := []uint64{1, 1, 2}
	if fmt.Sprint(hits) != fmt.Sprint(want) {
		t.Errorf("watch saw %v, want %v (reasons %v)", hits, want, reasons)
	}
	if got := p.Counts().DebugRegisterWrites; got != writesAtExec+2 {
		t.Errorf("%d writes after exec, want 2 (DR0, DR7)", got-writesAtExec)
	}
}

func TestDebugRegisterENOSPCInjected(t *testing.T) {
	p, bin := launch(t, "loop")
	tid := target.Tid(p.Pid())
	pc := reg64(t, p, regs(t, p, tid), "rip")
	p.drFault = func(tid, reg int, v uint64) error {
		if reg == 7 && v != 0 {
			return unix.ENOSPC
		}
		return nil
	}
	img := debugRegs(watchWrite(symbol(t, bin, "counter"), 8))
	p.SetDebugRegisters(img)
	err := p.Resume([]target.Action{{Kind: target.Continue}})
	var dre *target.DebugRegisterError
	if !errors.As(err, &dre) || !errors.Is(err, target.ErrNoSpace) || !errors.Is(err, unix.ENOSPC) || dre.Reg != 7 || dre.Tid != tid {
		t.Fatalf("Resume = %v, want a DebugRegisterError for DR7 of %d with ErrNoSpace", err, tid)
	}
	// Nothing ran: still stopped, same PC.
	if got := reg64(t, p, regs(t, p, tid), "rip"); got != pc {
		t.Errorf("rip moved from %#x to %#x", pc, got)
	}
	noEvent(t, p)
	// One slot less (here: none) and it runs.
	p.drFault = nil
	p.SetDebugRegisters(target.DebugRegisters{})
	cont(t, p)
	p.Interrupt()
	if ev := next(t, p); !ev.Interrupted {
		t.Fatalf("%+v", ev)
	}
}

// perfBreakpoint opens a perf hardware breakpoint (write, 8 bytes) on
// thread tid, taking one of its debug-register slots.
func perfBreakpoint(tid int, addr uint64) (int, error) {
	attr := unix.PerfEventAttr{
		Type:    unix.PERF_TYPE_BREAKPOINT,
		Size:    uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
		Sample:  1,
		Bp_type: 2, // HW_BREAKPOINT_W
		Ext1:    addr,
		Ext2:    8,
	}
	return unix.PerfEventOpen(&attr, tid, -1, -1, unix.PERF_FLAG_FD_CLOEXEC)
}

// TestDebugRegisterENOSPCReal fills the thread's breakpoint slots with
// perf events, as another perf user would, and checks that the kernel's
// ENOSPC comes back from Resume as ErrNoSpace.
func TestDebugRegisterENOSPCReal(t *testing.T) {
	p, bin := launch(t, "loop")
	counter := symbol(t, bin, "counter")
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for i := 0; i < 8; i++ {
		fd, err := perfBreakpoint(p.Pid(), counter)
		if errors.Is(err, unix.ENOSPC) {
			break
		}
		if err != nil {
			t.Skipf("perf_event_open breakpoint: %v", err)
		}
		fds = append(fds, fd)
	}
	t.Logf("perf took %d breakpoint slots of thread %d", len(fds), p.Pid())
	if len(fds) == 0 {
		t.Skip("no breakpoint slot available to perf")
	}
	p.SetDebugRegisters(debugRegs(watchWrite(counter, 8)))
	err := p.Resume([]target.Action{{Kind: target.Continue}})
	var dre *target.DebugRegisterError
	if !errors.As(err, &dre) || !errors.Is(err, target.ErrNoSpace) {
		t.Fatalf("Resume with the slots full = %v, want ErrNoSpace", err)
	}
	t.Logf("refused: %v", err)
	// Free one slot: the same image is accepted.
	unix.Close(fds[len(fds)-1])
	fds = fds[:len(fds)-1]
	if err := p.Resume([]target.Action{{Kind: target.Continue}}); err != nil {
		t.Fatalf("Resume after a slot was freed: %v", err)
	}
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopDebug || st.DR6&hwbp.DR6Hit(0) == 0 {
		t.Fatalf("%+v, want the watch hit", st)
	}
}

// TestDebugRegisterSlotKept checks the kernel facts the planner relies
// on: a written address register keeps its kernel slot while disabled
// (perf then gets one slot less), so re-enabling it is a DR7 write that
// cannot be refused; a new slot is refused at its address write.
func TestDebugRegisterSlotKept(t *testing.T) {
	p, bin := launch(t, "loop")
	counter := symbol(t, bin, "counter")
	img := debugRegs(watchWrite(counter, 8))
	p.SetDebugRegisters(img)
	cont(t, p)
	if st := onlyStop(t, next(t, p)); st.Reason != target.StopDebug {
		t.Fatalf("%+v", st)
	}
	p.SetDebugRegisters(target.DebugRegisters{Addr: img.Addr}) // disabled, DR0 kept
	cont(t, p)
	p.Interrupt()
	next(t, p)
	var fds []int
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for i := 0; i < 8; i++ {
		fd, err := perfBreakpoint(p.Pid(), counter)
		if err != nil {
			if len(fds) == 0 {
				t.Skipf("perf_event_open breakpoint: %v", err)
			}
			break
		}
		fds = append(fds, fd)
	}
	if len(fds) != 3 {
		t.Errorf("with a disabled ptrace breakpoint in DR0, perf took %d slots, want 3", len(fds))
	}
	// Re-enable slot 0: one DR7 write, accepted.
	before := p.Counts().DebugRegisterWrites
	p.SetDebugRegisters(img)
	cont(t, p)
	if st := onlyStop(t, next(t, p)); st.Reason != target.StopDebug || st.DR6&hwbp.DR6Hit(0) == 0 {
		t.Fatalf("%+v", st)
	}
	if n := p.Counts().DebugRegisterWrites - before; n != 1 {
		t.Errorf("re-enabling took %d writes, want 1", n)
	}
	// A second slot: refused at its address write.
	img2 := debugRegs(watchWrite(counter, 8), watchWrite(counter, 4))
	p.SetDebugRegisters(img2)
	err := p.Resume([]target.Action{{Kind: target.Continue}})
	var dre *target.DebugRegisterError
	if !errors.As(err, &dre) || !errors.Is(err, target.ErrNoSpace) || dre.Reg != 1 {
		t.Fatalf("Resume = %v, want ErrNoSpace on DR1", err)
	}
}
