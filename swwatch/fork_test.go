package swwatch

import (
	"testing"

	"gdbserverx/target"
)

// TestFork starts children while a watch is set: the children run with
// the program's own protections (a fork child that writes the watched
// variable does not die of the engine's protection), and the parent's
// writes are all reported.
func TestFork(t *testing.T) {
	for _, mode := range []string{"fork", "vfork", "spawn"} {
		t.Run(mode, func(t *testing.T) {
			s := start(t, "fork", mode)
			ready := s.breakAt("ready")
			s.runTo(ready, nil)
			s.w.RemoveBreakpoint(ready)
			done := s.breakAt("done")
			s.watch(Watch{ID: 1, Addr: s.sym("g"), Len: 8, Kind: Write})
			got, ev := s.runTo(done, func(st target.ThreadStop) target.Signal {
				if st.Signal == 17 { // SIGCHLD
					return st.Signal
				}
				t.Fatalf("signal stop %+v", st)
				return 0
			})
			if ev.Kind != target.EventStopped {
				t.Fatalf("ended: %+v", ev)
			}
			if st := s.readU64(s.sym("status")) & 0xffffffff; st != 0 {
				t.Errorf("the child ended with status %#x, want 0", st)
			}
			if got[1][target.WatchWrite] != 2 {
				t.Errorf("hits %v, want the parent's 2 writes", got[1])
			}
		})
	}
}
