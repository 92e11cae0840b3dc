package swwatch

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// TestCatchWithWatches: the caller's caught system calls and the
// engine's own syscall stops coexist. While a watch is set the engine
// stops at every call, but the caller sees only the entries and exits of
// the calls it catches, whatever the engine does with them: a read(2)
// into the watched buffer that the engine runs in place (file), or with
// its page open while it blocks (pipe; pipe1, where the process has no
// other thread to open the page with, so the engine runs mprotect in
// place of the read and rewinds it), is reported as its entry, once,
// then its exit with the kernel's write; a caught call the engine has no
// business with (close) is reported too; a call neither catches (the
// pipe's writer's write) is never seen.
func TestCatchWithWatches(t *testing.T) {
	for _, mode := range []string{"file", "pipe", "pipe1"} {
		for _, watched := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/watched=%v", mode, watched), func(t *testing.T) {
				s := start(t, "syscalls", mode)
				ready := s.breakAt("ready")
				s.runTo(ready, nil)
				s.w.RemoveBreakpoint(ready)
				done := s.breakAt("done")
				buf := s.sym("pg")
				if watched {
					s.watch(Watch{ID: 3, Addr: buf, Len: 16, Kind: Write})
				}
				if err := s.w.CatchSyscalls(target.SyscallsOf(unix.SYS_READ, unix.SYS_CLOSE)); err != nil {
					t.Fatal(err)
				}
				var got []string
				for n := 0; ; n++ {
					s.resume()
					ev := s.next()
					if len(ev.Stops) == 1 && ev.Stops[0].Reason == target.StopBreakpoint && ev.Stops[0].PC == done {
						break
					}
					for _, st := range ev.Stops {
						switch st.Reason {
						case target.StopSyscallEntry:
							got = append(got, fmt.Sprintf("entry %d", st.Syscall))
						case target.StopSyscallExit:
							got = append(got, fmt.Sprintf("exit %d hits %d", st.Syscall, len(st.Watches)))
						default:
							t.Fatalf("stop %d: %+v", n, st)
						}
					}
				}
				hits := 0
				if watched {
					hits = 1
				}
				want := []string{"entry 0", fmt.Sprintf("exit 0 hits %d", hits)}
				if mode == "file" {
					want = append(want, "entry 3", "exit 3 hits 0")
				}
				if strings.Join(got, "; ") != strings.Join(want, "; ") {
					t.Errorf("stops:\n got %q\nwant %q", got, want)
				}
				if n := s.readU64(s.sym("nread")); n != 16 {
					t.Errorf("read returned %d, want 16", int64(n))
				}
				t.Logf("stats %+v", s.w.Stats())
			})
		}
	}
}
