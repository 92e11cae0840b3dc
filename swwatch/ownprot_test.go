package swwatch

import (
	"testing"

	"gdbserverx/target"
	"golang.org/x/sys/unix"
)

// TestOwnProtection runs testdata/ownprot.c: the program's own faults
// (its own mprotect, an unmapped page, a read of the watched variable
// while the program made its page PROT_NONE) reach its handler with
// their addresses, and the watches keep working across the program's
// mprotect, munmap and mmap of their pages.
func TestOwnProtection(t *testing.T) {
	s := start(t, "ownprot")
	ready := s.breakAt("ready")
	s.runTo(ready, nil)
	s.w.RemoveBreakpoint(ready)
	done := s.breakAt("done")
	pg := s.sym("pg")
	q := s.readU64(s.sym("q"))
	s.watch(Watch{ID: 1, Addr: pg, Len: 8, Kind: Write}, Watch{ID: 2, Addr: q, Len: 8, Kind: Write})
	var signals []uint64
	got, ev := s.runTo(done, func(st target.ThreadStop) target.Signal {
		if st.Signal == target.SIGSEGV {
			signals = append(signals, le.Uint64(st.SigInfo[siAddrOffset:]))
		}
		return st.Signal
	})
	if ev.Kind != target.EventStopped {
		t.Fatalf("ended: %+v", ev)
	}
	want := []uint64{pg + 64, q, pg}
	if len(signals) != len(want) {
		t.Fatalf("SIGSEGVs at %#x, want %#x", signals, want)
	}
	for i := range want {
		if signals[i] != want[i] {
			t.Errorf("SIGSEGV %d at %#x, want %#x", i, signals[i], want[i])
		}
		if f := s.readU64(s.sym("faults") + 8*uint64(i)); f != want[i] {
			t.Errorf("the handler saw fault %d at %#x, want %#x", i, f, want[i])
		}
	}
	if n := s.readU64(s.sym("nfaults")); n != 3 {
		t.Errorf("the handler ran %d times, want 3", n)
	}
	if got[1][target.WatchWrite] != 3 || got[2][target.WatchWrite] != 2 {
		t.Errorf("hits %v, want 3 writes of g, 2 of q[0]", got)
	}
	if g := s.readU64(pg); g != 3 {
		t.Errorf("g = %d, want 3", g)
	}
	_ = unix.SIGSEGV
	t.Logf("stats %+v", s.w.Stats())
}
