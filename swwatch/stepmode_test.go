package swwatch

import (
	"testing"

	"gdbserverx/target"
)

// TestStepMode watches a __thread variable, which sits on the page of
// the thread's descriptor (the kernel writes its rseq area and tid
// there, so the page is never protected): the engine single-steps,
// runs the system calls and steps over the vDSO's clock_gettime, and
// reports every access.
func TestStepMode(t *testing.T) {
	const n = 20
	s := start(t, "tls", itoa(n))
	ready := s.breakAt("ready")
	s.runTo(ready, nil)
	s.w.RemoveBreakpoint(ready)
	done := s.breakAt("done")
	tv := s.readU64(s.sym("tvaddr"))
	s.watch(Watch{ID: 1, Addr: tv, Len: 8, Kind: Access})
	if !s.w.e.step.on {
		t.Fatalf("not in step mode: the variable's page %#x is protected", pageOf(tv))
	}
	got, ev := s.runTo(done, nil)
	if ev.Kind != target.EventStopped {
		t.Fatalf("ended: %+v", ev)
	}
	if got[1][target.WatchWrite] != n || got[1][target.WatchRead] != n {
		t.Errorf("hits %v, want %d reads and %d writes", got[1], n, n)
	}
	if len(s.w.retBPs) != 0 || len(s.w.e.step.calls) != 0 {
		t.Errorf("return breakpoints left: %v %v", s.w.retBPs, s.w.e.step.calls)
	}
	// The program runs on to its end.
	s.watch()
	s.w.RemoveBreakpoint(done)
	if _, ev := s.runTo(0, nil); ev.Kind != target.EventExited || ev.ExitCode != 0 {
		t.Errorf("end: %+v", ev)
	}
	t.Logf("stats %+v", s.w.Stats())
}
