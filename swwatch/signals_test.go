package swwatch

import (
	"testing"

	"gdbserverx/target"
)

// TestSignalFrameOnWatchedPage delivers signals to a handler while a
// watched local sits on the page where the kernel writes the signal
// frame: the frame is written (the program does not die of SIGSEGV),
// the handler runs every time, and every write of the local is reported.
func TestSignalFrameOnWatchedPage(t *testing.T) {
	const n = 10
	s := start(t, "signals", itoa(n))
	ready := s.breakAt("ready")
	s.runTo(ready, nil)
	s.w.RemoveBreakpoint(ready)
	done := s.breakAt("done")
	v := s.readU64(s.sym("vaddr"))
	s.watch(Watch{ID: 1, Addr: v, Len: 8, Kind: Write})
	signals := 0
	got, ev := s.runTo(done, func(st target.ThreadStop) target.Signal {
		if st.Signal != 10 { // SIGUSR1
			t.Fatalf("signal stop %+v", st)
		}
		signals++
		return st.Signal
	})
	if ev.Kind != target.EventStopped {
		t.Fatalf("ended: %+v", ev)
	}
	if h := s.readU64(s.sym("hcount")); h != n || signals != n {
		t.Errorf("handler ran %d times, %d signal stops; want %d", h, signals, n)
	}
	// f(0)'s first write came before the watch.
	if w := got[1][target.WatchWrite]; w != 2*n-1 {
		t.Errorf("%d writes of the local, want %d", w, 2*n-1)
	}
	t.Logf("stats %+v", s.w.Stats())
}

// TestStepOverSyscall single-steps from ready() until read(2) has
// returned into a watched buffer: the step over the syscall instruction
// is served in place, reports the kernel's write, and the read succeeds.
func TestStepOverSyscall(t *testing.T) {
	s := start(t, "syscalls", "file")
	ready := s.breakAt("ready")
	s.runTo(ready, nil)
	s.w.RemoveBreakpoint(ready)
	done := s.sym("done")
	buf := s.sym("pg")
	s.watch(Watch{ID: 2, Addr: buf, Len: 16, Kind: Write})
	tid := target.Tid(s.w.Pid())
	hits := 0
	for i := 0; ; i++ {
		if i > 5000 {
			t.Fatal("done() not reached in 5000 steps")
		}
		s.resume(target.Action{Tid: tid, Kind: target.Step})
		st := onlyStop(t, s.next())
		if st.Reason != target.StopDebug {
			t.Fatalf("step %d: %+v", i, st)
		}
		if len(st.Watches) > 0 {
			hits++
			var code [2]byte
			s.w.ReadMemory(st.PC-2, code[:])
			if code != [2]byte{0x0f, 0x05} {
				t.Errorf("hit after % x at %#x, want after a syscall instruction", code, st.PC)
			}
		}
		if st.PC == done {
			break
		}
	}
	if n := s.readU64(s.sym("nread")); n != 16 || hits != 1 {
		t.Errorf("read returned %d, %d hits; want 16 and 1", int64(n), hits)
	}
}
