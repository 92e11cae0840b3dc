package swwatch

import (
	"testing"

	"gdbserverx/target"
)

// TestKernelWrites watches buffers that system calls write: read(2) from
// a regular file (run in place), from a pipe (a call that blocks, run
// with its page open), a read that stores the bytes already there, and
// clock_gettime both through the vDSO (user-mode stores) and as a system
// call (CLOCK_PROCESS_CPUTIME_ID). Each write of the kernel is one write
// hit at the PC after the syscall instruction; no call fails with
// EFAULT.
func TestKernelWrites(t *testing.T) {
	for _, mode := range []string{"file", "pipe", "same"} {
		t.Run(mode, func(t *testing.T) {
			s := start(t, "syscalls", mode)
			ready := s.breakAt("ready")
			s.runTo(ready, nil)
			s.w.RemoveBreakpoint(ready)
			done := s.breakAt("done")
			buf := s.sym("pg")
			s.watch(Watch{ID: 3, Addr: buf, Len: 16, Kind: Write})
			var hits []target.ThreadStop
			for {
				s.resume()
				ev := s.next()
				st := onlyStop(t, ev)
				if st.Reason == target.StopBreakpoint && st.PC == done {
					break
				}
				if st.Reason != target.StopWatch {
					t.Fatalf("unexpected stop %+v", st)
				}
				hits = append(hits, st)
			}
			if n := s.readU64(s.sym("nread")); n != 16 {
				t.Fatalf("read returned %d, want 16", int64(n))
			}
			if len(hits) != 1 || len(hits[0].Watches) != 1 || hits[0].Watches[0] != (target.WatchHit{ID: 3, Kind: Write, Addr: buf}) {
				t.Fatalf("hits %+v, want one write at %#x", hits, buf)
			}
			// The PC after a syscall instruction.
			var code [2]byte
			s.w.ReadMemory(hits[0].PC-2, code[:])
			if code != [2]byte{0x0f, 0x05} {
				t.Errorf("hit at %#x, after % x: not after a syscall instruction", hits[0].PC, code)
			}
			if mode == "pipe" && len(s.notesOf(NoteOpenSyscall)) == 0 {
				t.Errorf("no note of the page opened for the blocking read")
			}
			t.Logf("stats %+v", s.w.Stats())
		})
	}
	t.Run("clock", func(t *testing.T) {
		s := start(t, "syscalls", "clock")
		ready := s.breakAt("ready")
		s.runTo(ready, nil)
		s.w.RemoveBreakpoint(ready)
		done := s.breakAt("done")
		ts := s.sym("tp")
		s.watch(Watch{ID: 4, Addr: ts, Len: 16, Kind: Write})
		var user, kernel int
		for {
			s.resume()
			st := onlyStop(t, s.next())
			if st.Reason == target.StopBreakpoint && st.PC == done {
				break
			}
			if st.Reason != target.StopWatch {
				t.Fatalf("unexpected stop %+v", st)
			}
			var code [2]byte
			s.w.ReadMemory(st.PC-2, code[:])
			if code == [2]byte{0x0f, 0x05} {
				kernel++
			} else {
				user++
			}
		}
		if kernel != 1 || user < 1 {
			t.Errorf("%d hits in user mode (vDSO), %d by the kernel; want some and 1", user, kernel)
		}
		if s.readU64(s.sym("nread")) != 1 {
			t.Errorf("CLOCK_PROCESS_CPUTIME_ID gave 0 ns")
		}
		t.Logf("%d user-mode writes (vDSO), stats %+v", user, s.w.Stats())
	})
}
