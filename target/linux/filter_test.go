package linux

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// TestStopFilter serves syscall-entry stops in a stop filter: it turns
// each getppid into getpid through the thread's registers and resumes
// the thread, with no event; a breakpoint then shows the result.
func TestStopFilter(t *testing.T) {
	p, bin := launch(t, "inject")
	tid := target.Tid(p.Pid())
	got := symbol(t, bin, "got")
	origRAX, _ := p.Description().Lookup("orig_rax")
	var seen atomic.Int64
	filter := func(th target.FilterThread, st *target.ThreadStop) target.FilterVerdict {
		if st.Reason != target.StopSyscallEntry || st.Syscall != unix.SYS_GETPPID {
			return target.FilterReport
		}
		buf := make([]byte, p.Description().Size())
		if err := th.GeneralRegisters(buf); err != nil {
			t.Error(err)
			return target.FilterReport
		}
		le.PutUint64(buf[origRAX.Offset:], unix.SYS_GETPID)
		if err := th.SetGeneralRegisters(buf); err != nil {
			t.Error(err)
		}
		seen.Add(1)
		return target.FilterResume
	}
	if err := p.SetStopFilter(filter); err != nil {
		t.Fatal(err)
	}
	p.TraceSyscallEntries(true)
	c0 := p.Counts()
	// Run past the startup's system calls to the first got().
	p.InsertBreakpoint(got)
	for {
		cont(t, p)
		st := onlyStop(t, next(t, p))
		if st.Reason == target.StopBreakpoint {
			break
		}
		if st.Reason != target.StopSyscallEntry || st.Syscall == unix.SYS_GETPPID {
			t.Fatalf("%+v", st)
		}
	}
	if v := reg64(t, p, regs(t, p, tid), "rdi"); int(v) != p.Pid() {
		t.Errorf("got(%d), want the pid %d: the filter's registers were not used", v, p.Pid())
	}
	if seen.Load() != 1 || p.Counts().Filtered-c0.Filtered != 1 {
		t.Errorf("filter served %d stops, Counts.Filtered %d; want 1", seen.Load(), p.Counts().Filtered-c0.Filtered)
	}
	// Removed, it sees nothing.
	p.SetStopFilter(nil)
	p.RemoveBreakpoint(got)
	cont(t, p)
	if st := onlyStop(t, next(t, p)); st.Reason != target.StopSyscallEntry || st.Syscall != unix.SYS_GETPPID {
		t.Fatalf("%+v", st)
	}
}

// TestStepIntoHandler steps a thread while delivering a signal to its
// handler, with Resume and with StepThread: the step stops at the
// handler's first instruction as a completed step (the kernel reports it
// with si_code SIGTRAP, kernel/signal.c signal_delivered).
func TestStepIntoHandler(t *testing.T) {
	p, bin := launch(t, "sigstep")
	tick, handler := symbol(t, bin, "tick"), symbol(t, bin, "handler")
	p.InsertBreakpoint(tick)
	cont(t, p)
	st := onlyStop(t, next(t, p))
	p.RemoveBreakpoint(tick)
	if err := p.Resume([]target.Action{{Tid: st.Tid, Kind: target.Step, Signal: target.Signal(unix.SIGUSR1)}}); err != nil {
		t.Fatal(err)
	}
	s := onlyStop(t, next(t, p))
	if s.Reason != target.StopDebug || s.DR6&dr6BS == 0 || s.PC != handler {
		t.Fatalf("step with a signal: %+v, want a step stop at the handler %#x", s, handler)
	}
	// Back to tick, and the same with StepThread.
	p.InsertBreakpoint(tick)
	cont(t, p)
	onlyStop(t, next(t, p))
	p.RemoveBreakpoint(tick)
	s, err := p.StepThread(st.Tid, target.Signal(unix.SIGUSR1))
	if err != nil || s.Reason != target.StopDebug || s.PC != handler {
		t.Fatalf("StepThread with a signal: %+v, %v", s, err)
	}
	noEvent(t, p)
}

// TestStepThreadKeepsMask: the signal mask a stepped instruction sets
// (rt_sigprocmask here) is the program's, and stays after StepThread,
// which blocks asynchronous signals only for the step.
func TestStepThreadKeepsMask(t *testing.T) {
	p, _ := launch(t, "sigstep")
	p.TraceSyscallEntries(true)
	var st target.ThreadStop
	for {
		cont(t, p)
		st = onlyStop(t, next(t, p))
		if st.Reason == target.StopSyscallEntry && st.Syscall == unix.SYS_RT_SIGPROCMASK {
			r := regs(t, p, st.Tid)
			if reg64(t, p, r, "rdi") == unix.SIG_BLOCK && reg64(t, p, r, "rsi") != 0 {
				break
			}
		}
	}
	p.TraceSyscallEntries(false)
	if _, err := p.StepThread(st.Tid, 0); err != nil {
		t.Fatal(err)
	}
	blk := sigBlk(t, p.Pid())
	if want := uint64(1) << (unix.SIGUSR2 - 1); blk != want {
		t.Errorf("SigBlk %#x after the stepped sigprocmask, want %#x", blk, want)
	}
	// And a step of an ordinary instruction gives the mask back as it was.
	if _, err := p.StepThread(st.Tid, 0); err != nil {
		t.Fatal(err)
	}
	if b := sigBlk(t, p.Pid()); b != blk {
		t.Errorf("SigBlk %#x after a plain step, want %#x", b, blk)
	}
}

func sigBlk(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no SigBlk")
	return 0
}
