package swwatch

import (
	"errors"
	"testing"

	"gdbserverx/hwbp"
	"gdbserverx/target"
)

// TestClientSteps single-steps the write loop as a client's stepi does,
// with a watch on g: every step is one instruction (StopDebug with the
// step bit), and the steps that wrote g carry the hit, which the value
// of g confirms.
func TestClientSteps(t *testing.T) {
	s := start(t, "access", "w", "1000")
	g := s.sym("alone")
	s.watch(Watch{ID: 1, Addr: g, Len: 8, Kind: Write})
	// Run to the loop: the first hit.
	s.resume()
	st := onlyStop(t, s.next())
	if st.Reason != target.StopWatch {
		t.Fatalf("%+v", st)
	}
	g0 := s.readU64(g)
	hits := 0
	for i := 0; i < 200; i++ {
		pc := s.reg(st.Tid, "rip")
		s.resume(target.Action{Tid: st.Tid, Kind: target.Step})
		st = onlyStop(t, s.next())
		if st.Reason != target.StopDebug || st.DR6&hwbp.DR6SingleStep == 0 || st.PC == pc {
			t.Fatalf("step %d: %+v", i, st)
		}
		if len(st.Watches) > 0 {
			hits++
			if st.Watches[0] != (target.WatchHit{ID: 1, Kind: Write, Addr: g}) {
				t.Fatalf("step %d: %+v", i, st.Watches)
			}
		}
	}
	if n := int(s.readU64(g) - g0); n != hits || hits < 40 {
		t.Errorf("%d steps reported a hit, g moved by %d", hits, n)
	}
}

// TestBreakpointOnStore puts a breakpoint on the watched store itself
// and steps over it as gdb does (remove, step, insert): the breakpoint
// stops before the store, the step reports the write.
func TestBreakpointOnStore(t *testing.T) {
	const n = 20
	s := start(t, "access", "bp", itoa(n))
	store := s.breakAt("store_g")
	done := s.breakAt("done")
	g := s.sym("alone")
	s.watch(Watch{ID: 1, Addr: g, Len: 8, Kind: Write})
	bps, hits := 0, 0
	for {
		s.resume()
		st := onlyStop(t, s.next())
		if st.PC == done {
			break
		}
		if st.Reason != target.StopBreakpoint || st.PC != store {
			t.Fatalf("%+v, want the breakpoint on the store", st)
		}
		bps++
		s.w.RemoveBreakpoint(store)
		s.resume(target.Action{Tid: st.Tid, Kind: target.Step})
		st = onlyStop(t, s.next())
		if st.Reason != target.StopDebug || len(st.Watches) != 1 {
			t.Fatalf("step over the store: %+v", st)
		}
		hits++
		s.w.InsertBreakpoint(store)
	}
	if bps != n || hits != n || s.readU64(g) != n {
		t.Errorf("%d breakpoint stops, %d hits, g = %d; want %d", bps, hits, s.readU64(g), n)
	}
}

// TestMoveWatch takes the watch out of the set and puts it back at
// alternate stops (as a point moving between a debug register and
// emulation does): each write while it is in is reported once, none
// while it is out.
func TestMoveWatch(t *testing.T) {
	const n = 40
	s := start(t, "access", "bp", itoa(n))
	tick := s.breakAt("tick")
	done := s.breakAt("done")
	g := s.sym("alone")
	w := Watch{ID: 5, Addr: g, Len: 8, Kind: Write}
	in := true
	s.watch(w)
	hits, want := 0, 0
	for i := 0; ; {
		s.resume()
		st := onlyStop(t, s.next())
		switch {
		case st.PC == done:
			if hits != want || want != n/2 {
				t.Errorf("%d hits, want %d", hits, want)
			}
			return
		case st.Reason == target.StopWatch:
			if !in {
				t.Fatalf("hit while out: %+v", st)
			}
			hits++
		case st.PC == tick:
			// The store of iteration i is done; move for the next one.
			if in {
				want++
			}
			i++
			in = i%2 == 0
			if in {
				s.watch(w)
			} else {
				s.watch()
			}
			// Step off the breakpoint.
			s.w.RemoveBreakpoint(tick)
			s.resume(target.Action{Tid: st.Tid, Kind: target.Step})
			onlyStop(t, s.next())
			s.w.InsertBreakpoint(tick)
		default:
			t.Fatalf("%+v", st)
		}
	}
}

// TestInterrupt interrupts a run in which the engine is busy with false
// faults: the run ends with Interrupted, and nothing is lost.
func TestInterrupt(t *testing.T) {
	const n = 3000
	s := start(t, "access", "hot", itoa(n))
	done := s.breakAt("done")
	h := s.sym("shared") + 16*8
	s.watch(Watch{ID: 1, Addr: h, Len: 8, Kind: Write})
	hits, interrupts := 0, 0
	for {
		s.resume()
		if interrupts < 5 {
			if err := s.w.Interrupt(); err != nil {
				t.Fatal(err)
			}
		}
		ev := s.next()
		if ev.Interrupted {
			interrupts++
		}
		atDone := false
		for _, st := range ev.Stops {
			hits += len(st.Watches)
			atDone = atDone || st.PC == done
		}
		if atDone {
			break
		}
	}
	if interrupts != 5 || hits != n {
		t.Errorf("%d interrupted stops (want 5), %d hits (want %d)", interrupts, hits, n)
	}
}

// TestExitWhileEmulating lets the program end with a watch set: the end
// comes, no event follows it, and calls fail with ErrExited.
func TestExitWhileEmulating(t *testing.T) {
	s := start(t, "access", "w", "30")
	s.watch(Watch{ID: 1, Addr: s.sym("alone"), Len: 8, Kind: Access})
	c, ev := s.runTo(0, nil)
	if ev.Kind != target.EventExited || ev.ExitCode != 0 || c[1][target.WatchWrite] != 30 {
		t.Fatalf("%+v, hits %v", ev, c)
	}
	if ev, ok := s.w.NextEvent(); ok {
		t.Errorf("event %+v after the end", ev)
	}
	if err := s.w.SetWatches(nil); !errors.Is(err, target.ErrExited) && err != nil {
		t.Errorf("SetWatches after the end: %v", err)
	}
	if err := s.w.Resume([]target.Action{{Kind: target.Continue}}); !errors.Is(err, target.ErrExited) {
		t.Errorf("Resume after the end: %v", err)
	}
}

// TestExec: the watch is gone with the old image; the new program runs
// to its end.
func TestExec(t *testing.T) {
	s := start(t, "access", "exec")
	s.watch(Watch{ID: 1, Addr: s.sym("alone"), Len: 8, Kind: Write})
	s.resume()
	if st := onlyStop(t, s.next()); st.Reason != target.StopWatch {
		t.Fatalf("%+v", st)
	}
	s.resume()
	if st := onlyStop(t, s.next()); st.Reason != target.StopExec {
		t.Fatalf("%+v", st)
	}
	if len(s.w.Watches()) != 0 {
		t.Errorf("watches after exec: %v", s.w.Watches())
	}
	s.resume()
	if ev := s.next(); ev.Kind != target.EventExited || ev.ExitCode != 0 {
		t.Fatalf("%+v", ev)
	}
}

// TestDetach gives the pages back: after Detach the program runs on
// untraced and ends normally.
func TestDetach(t *testing.T) {
	s := start(t, "access", "w", "100000")
	g := s.sym("alone")
	s.watch(Watch{ID: 1, Addr: g, Len: 8, Kind: Write})
	s.resume()
	if st := onlyStop(t, s.next()); st.Reason != target.StopWatch {
		t.Fatalf("%+v", st)
	}
	if err := s.w.Detach(); err != nil {
		t.Fatal(err)
	}
	if ev, ok := s.w.NextEvent(); ok {
		t.Errorf("event %+v after Detach", ev)
	}
	// The program is no longer traced: wait for it as its parent.
	pid := s.w.Pid()
	var ws waitStatus
	if err := waitPid(pid, &ws); err != nil {
		t.Fatal(err)
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("the detached program ended with %v", ws)
	}
}

// TestHardwareOnSameBytes: a hardware watchpoint of the caller's on the
// bytes of an emulated watch. The engine steps the instruction (so that
// the debug register fires) instead of emulating it, and one stop
// reports both: StopDebug with the slot's bit in DR6 (and no step bit),
// and the emulated hit.
func TestHardwareOnSameBytes(t *testing.T) {
	const n = 20
	s := start(t, "access", "w", itoa(n))
	done := s.breakAt("done")
	g := s.sym("alone")
	if err := s.w.SetDebugRegisters(hwWatch8(g)); err != nil {
		t.Fatal(err)
	}
	s.watch(Watch{ID: 1, Addr: g, Len: 8, Kind: Write})
	both := 0
	for {
		s.resume()
		st := onlyStop(t, s.next())
		if st.PC == done {
			break
		}
		if st.Reason != target.StopDebug || st.DR6&hwbp.DR6Hit(0) == 0 || st.DR6&hwbp.DR6SingleStep != 0 || len(st.Watches) != 1 {
			t.Fatalf("%+v, want a debug stop with B0 and the emulated hit", st)
		}
		both++
	}
	if both != n || s.w.Stats().Emulated != 0 {
		t.Errorf("%d stops with both (want %d), %d emulated (want 0)", both, n, s.w.Stats().Emulated)
	}
}
