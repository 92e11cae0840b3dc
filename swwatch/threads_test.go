package swwatch

import (
	"testing"

	"gdbserverx/target"
)

// TestThreads watches a global that 2N threads write and read under a
// mutex on the same page (its futex calls meet the protected page),
// half of them created after the watch was set, and checks every access
// against the program's own counts, and that every thread was seen.
func TestThreads(t *testing.T) {
	const n, m = 4, 10
	for _, kind := range []Kind{Write, Access, Read} {
		t.Run(kind.String(), func(t *testing.T) {
			s := start(t, "threads", itoa(n), itoa(m))
			ready := s.breakAt("ready")
			s.runTo(ready, nil)
			s.w.RemoveBreakpoint(ready)
			done := s.breakAt("done")
			g := s.sym("g")
			s.watch(Watch{ID: 7, Addr: g, Len: 8, Kind: kind})
			got := tally{}
			tids := map[target.Tid]bool{}
			for {
				s.resume()
				ev := s.next()
				if ev.Kind != target.EventStopped {
					t.Fatalf("ended: %+v", ev)
				}
				atDone := false
				for _, st := range ev.Stops {
					switch st.Reason {
					case target.StopWatch:
						got.add(st.Watches)
						tids[st.Tid] = true
					case target.StopBreakpoint:
						atDone = st.PC == done
					default:
						t.Fatalf("unexpected stop %+v", st)
					}
				}
				if atDone {
					break
				}
			}
			var w, r int
			for i := 0; i < 256; i++ {
				w += int(s.readU64(s.sym("writes") + 8*uint64(i)))
				r += int(s.readU64(s.sym("reads") + 8*uint64(i)))
			}
			if w != 2*n*m || r != 2*n*m {
				t.Fatalf("the program counted %d writes, %d reads", w, r)
			}
			want := map[target.WatchKind]int{}
			if kind&Write != 0 {
				want[target.WatchWrite] = w
			}
			if kind&Read != 0 {
				want[target.WatchRead] = r
			}
			if len(got[7]) != len(want) || got[7][target.WatchWrite] != want[target.WatchWrite] || got[7][target.WatchRead] != want[target.WatchRead] {
				t.Errorf("hits %v, want %v", got[7], want)
			}
			if len(tids) != 2*n {
				t.Errorf("hits in %d threads, want %d", len(tids), 2*n)
			}
			if v := s.readU64(g); v != 2*n*m {
				t.Errorf("g = %d, want %d", v, 2*n*m)
			}
			t.Logf("stats %+v; notes %v", s.w.Stats(), s.notesOf(NoteOpenSyscall))
		})
	}
}
