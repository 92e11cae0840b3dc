package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/target"
)

// This file runs one thread for a moment while the world stays stopped
// (target.ThreadRunner): a single step, or a system call injected at a
// syscall instruction of the vDSO. The software-watchpoint engine does
// both at every page fault it serves, so they are made cheap: no event,
// no stop of the world, no register prefetch beyond what is needed.

// stopPlace says where in the kernel a stopped thread waits, which
// decides whether a system call can be injected there.
type stopPlace uint8

const (
	// stopPlain: on the way back to user mode, with the registers of
	// user mode (a signal-delivery-stop, a group-stop, an interrupt
	// trap). A system call can run from here.
	stopPlain stopPlace = iota
	// stopSyscallEntry: at a syscall-entry-stop. The call has not run;
	// an injected call would replace it, so none is injected here.
	stopSyscallEntry
	// stopSyscallExit: at a syscall-exit-stop; rax holds the result. An
	// injected call runs with orig_rax -1, so that no restart logic
	// applies to it, and the registers put back restore the pending
	// return exactly (a -ERESTARTSYS is restarted as before).
	stopSyscallExit
	// stopInSyscall: at a ptrace event inside a system call (exec,
	// clone, fork, vfork): the kernel is yet to store the call's return
	// value in rax, which would overwrite an injected call's number. The
	// thread is first taken to its syscall-exit-stop.
	stopInSyscall
)

var (
	_ target.SyscallEntryTracer = (*Process)(nil)
	_ target.ThreadRunner       = (*Process)(nil)
)

// TraceSyscallEntries turns syscall-entry stops on or off for the next
// resumes (see target.SyscallEntryTracer).
func (p *Process) TraceSyscallEntries(on bool) error {
	if err := p.usable(); err != nil {
		return err
	}
	p.entries = on
	return nil
}

// StepThread executes one instruction of a stopped thread while the
// others stay stopped (see target.ThreadRunner). Asynchronous signals are
// blocked during the step (PTRACE_SETSIGMASK), so that one pending is
// not delivered in place of the instruction; it stays pending. Not for a
// step that is a system call or delivers a signal (see stepThread).
func (p *Process) StepThread(tid target.Tid, sig target.Signal) (target.ThreadStop, error) {
	if err := p.usable(); err != nil {
		return target.ThreadStop{}, err
	}
	th, err := p.stoppedThread(tid)
	if err != nil {
		return target.ThreadStop{}, err
	}
	resume, err := pauser{p}.pauseOthers(th)
	defer resume()
	if err != nil {
		return target.ThreadStop{}, err
	}
	return runner{p}.stepThread(tid, sig)
}

// InjectSyscall runs a system call in a stopped thread and restores its
// registers (see target.ThreadRunner). The thread executes a syscall
// instruction of the vDSO (or, without one, two bytes written over its
// PC and put back), single-stepped with asynchronous signals blocked.
func (p *Process) InjectSyscall(tid target.Tid, nr int, args ...uint64) (uint64, error) {
	if len(args) > 6 {
		return 0, fmt.Errorf("inject system call %d: %d arguments, at most 6", nr, len(args))
	}
	if err := p.usable(); err != nil {
		return 0, err
	}
	var a [6]uint64
	copy(a[:], args)
	if p.nonStop {
		// Stop the others around it (pauseOthers), as all-stop has them.
		var th *thread
		if tid != 0 {
			var err error
			if th, err = p.stoppedThread(tid); err != nil {
				return 0, err
			}
		}
		resume, err := pauser{p}.pauseOthers(th)
		defer resume()
		if err != nil {
			return 0, err
		}
	}
	return runner{p}.injectSyscall(tid, nr, a)
}

// runner is the machinery of target.ThreadRunner: it runs one stopped
// thread for a moment, a step or an injected system call, and collects
// its stop, with the others stopped (paused in non-stop mode). Its state
// is the Process's.
type runner struct{ p *Process }

// asyncSignals are the signals blocked while a thread runs for a moment:
// all but the synchronous ones, which the instruction itself may raise.
// Blocking those would make the kernel reset their handler when it
// forces them (kernel/signal.c force_sig_info_to_task). SIGKILL and
// SIGSTOP cannot be blocked anyway.
const asyncSignals = ^uint64(1<<(unix.SIGSEGV-1) | 1<<(unix.SIGBUS-1) | 1<<(unix.SIGFPE-1) |
	1<<(unix.SIGILL-1) | 1<<(unix.SIGTRAP-1) | 1<<(unix.SIGSYS-1) |
	1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1))

// blockAsync blocks the asynchronous signals of th and returns its mask
// to give back with unblock, and the mask set. (Never with a resume that
// delivers a signal: the kernel requeues a delivered signal that is
// blocked, kernel/signal.c ptrace_signal.)
func (r runner) blockAsync(th *thread) (old, set uint64, err error) {
	p := r.p
	if err := p.c.ptracePtr(unix.PTRACE_GETSIGMASK, th.tid, 8, unsafe.Pointer(&old)); err != nil {
		return 0, 0, err
	}
	set = old | asyncSignals
	if set != old {
		if err := p.c.ptracePtr(unix.PTRACE_SETSIGMASK, th.tid, 8, unsafe.Pointer(&set)); err != nil {
			return 0, 0, err
		}
	}
	return old, set, nil
}

// unblock gives th its mask back, unless the instruction it ran set a
// mask of its own (rt_sigreturn, rt_sigprocmask, a signal delivered to a
// handler): that one is the program's now, and stays.
func (r runner) unblock(th *thread, old, set uint64) {
	p := r.p
	if th.gone || set == old {
		return
	}
	var cur uint64
	if err := p.c.ptracePtr(unix.PTRACE_GETSIGMASK, th.tid, 8, unsafe.Pointer(&cur)); err != nil {
		return
	}
	// The kernel never holds SIGKILL and SIGSTOP blocked.
	const unblockable = 1<<(unix.SIGKILL-1) | 1<<(unix.SIGSTOP-1)
	if cur != set&^unblockable {
		return
	}
	p.c.ptracePtr(unix.PTRACE_SETSIGMASK, th.tid, 8, unsafe.Pointer(&old))
}

// stepThread serves StepThread.
func (r runner) stepThread(tid target.Tid, sig target.Signal) (target.ThreadStop, error) {
	p := r.p
	th, err := p.stoppedThread(tid)
	if err != nil {
		return target.ThreadStop{}, err
	}
	if err := p.applyDR(th); err != nil {
		return target.ThreadStop{}, r.threadErr(th, err)
	}
	if err := p.flushRegs(th); err != nil {
		return target.ThreadStop{}, r.threadErr(th, err)
	}
	// Asynchronous signals are held back during the step, so that one
	// pending is not delivered in place of the instruction; but not
	// when the step is a system call (from its entry stop, or at a
	// syscall instruction) or delivers a signal: those may set the mask
	// themselves (rt_sigprocmask, rt_sigreturn, a handler's sa_mask),
	// relative to the mask they find, which must be the program's. A
	// signal delivered before a syscall instruction is then the step's
	// stop (StopSignal), the instruction not executed.
	if sig == 0 && th.stop != stopSyscallEntry && !r.atSyscallInsn(th) {
		old, set, err := r.blockAsync(th)
		if err != nil {
			return target.ThreadStop{}, r.threadErr(th, fmt.Errorf("block signals of thread %d: %w", th.tid, err))
		}
		defer r.unblock(th, old, set)
	}
	// While the world is stopped, a stop that is not an event leaves its
	// thread stopped (quiet), and a real one is collected in p.stops.
	p.stopping = true
	defer func() { p.stopping = false }()
	n0 := len(p.stops)
	defer func() { p.stops = p.stops[:n0] }()
	for try := 0; try < 16; try++ {
		if err := p.c.ptrace(unix.PTRACE_SINGLESTEP, th.tid, 0, uintptr(sig)); err != nil {
			return target.ThreadStop{}, r.threadErr(th, fmt.Errorf("step thread %d: %w", th.tid, err))
		}
		sig = 0
		th.kind = target.Step
		th.regs.invalidate()
		th.stop = stopPlain
		th.state = running
		p.nRunning++
		for th.state != stopped && !th.gone && !p.over {
			wpid, ws, err := p.c.wait4(th.tid, true)
			if err != nil {
				p.lost(err)
				break
			}
			p.dispatch(wpid, ws)
		}
		if p.over || th.gone {
			return target.ThreadStop{}, r.threadErr(th, errThreadGone)
		}
		for i := n0; i < len(p.stops); i++ {
			if st := p.stops[i]; int(st.Tid) == th.tid {
				if err := p.loadGP(th); err != nil {
					return target.ThreadStop{}, r.threadErr(th, err)
				}
				st.PC = th.regs.gp.Rip
				return st, nil
			}
		}
		// A stop that is not an event (a leftover interrupt trap): the
		// instruction has not run; step again.
	}
	return target.ThreadStop{}, fmt.Errorf("step thread %d: no step after 16 tries", th.tid)
}

// atSyscallInsn says whether th's next instruction enters the kernel
// (SYSCALL, SYSENTER, INT 0x80).
func (r runner) atSyscallInsn(th *thread) bool {
	p := r.p
	if p.loadGP(th) != nil {
		return false
	}
	var b [2]byte
	if _, err := p.mem.read(th.regs.gp.Rip, b[:]); err != nil {
		return false
	}
	return b == [2]byte{0x0f, 0x05} || b == [2]byte{0x0f, 0x34} || b == [2]byte{0xcd, 0x80}
}

// threadErr names what became of th when a request on it failed: the
// process ended, or the thread is gone.
func (r runner) threadErr(th *thread, err error) error {
	p := r.p
	switch {
	case p.over:
		return fmt.Errorf("thread %d: %w", th.tid, target.ErrExited)
	case isGone(err) || th.gone:
		if !th.gone {
			p.removeThread(th) // its exit status comes
		}
		return fmt.Errorf("thread %d: %w", th.tid, target.ErrNoThread)
	}
	return err
}

// injectSyscall serves InjectSyscall: it picks the thread, when asked to.
func (r runner) injectSyscall(tid target.Tid, nr int, args [6]uint64) (uint64, error) {
	p := r.p
	var th *thread
	if tid != 0 {
		var err error
		if th, err = p.stoppedThread(tid); err != nil {
			return 0, err
		}
		if th.stop == stopSyscallEntry {
			return 0, fmt.Errorf("inject system call %d in thread %d: the thread is entering a system call", nr, tid)
		}
	} else {
		// Rather a thread in user mode than one that must first leave
		// a system call (one more round trip).
		for _, t := range p.order {
			if t.gone || t.state != stopped || t.stop == stopSyscallEntry {
				continue
			}
			if th == nil || th.stop == stopInSyscall && t.stop != stopInSyscall {
				th = t
			}
		}
		if th == nil {
			return 0, fmt.Errorf("inject system call %d: no stopped thread can run it", nr)
		}
	}
	v, err := r.inject(th, nr, args)
	if err != nil {
		return 0, r.threadErr(th, fmt.Errorf("inject system call %d in thread %d: %w", nr, th.tid, err))
	}
	return v, nil
}

// inject runs system call nr in th. See stopPlace for where it may.
func (r runner) inject(th *thread, nr int, args [6]uint64) (uint64, error) {
	p := r.p
	if th.stop == stopInSyscall {
		if err := r.leaveSyscall(th); err != nil {
			return 0, err
		}
	}
	if err := p.loadGP(th); err != nil {
		return 0, err
	}
	site, err := r.syscallSite(th)
	if err != nil {
		return 0, err
	}
	if site.patched != nil {
		defer site.unpatch()
	}
	saved := th.regs.gp
	in := saved
	in.Rip = site.addr
	in.Rax = uint64(nr)
	in.Orig_rax = ^uint64(0) // no syscall-restart logic on the way out
	in.Rdi, in.Rsi, in.Rdx, in.R10, in.R8, in.R9 = args[0], args[1], args[2], args[3], args[4], args[5]
	in.Eflags &^= hwbp.FlagTF // the kernel steps it itself
	old, set, err := r.blockAsync(th)
	if err != nil {
		return 0, err
	}
	defer r.unblock(th, old, set)
	if err := p.c.setRegs(th.tid, &in); err != nil {
		return 0, err
	}
	// The registers are the thread's own again whatever happens below,
	// as far as the thread lives.
	defer func() {
		if !th.gone {
			p.c.setRegs(th.tid, &saved)
			th.regs.gp, th.regs.gpValid, th.regs.gpDirty = saved, true, false
		}
	}()
	for try := 0; try < 16; try++ {
		if v, done, err := r.stepInjected(th, site.addr); done || err != nil {
			return v, err
		}
	}
	return 0, errors.New("no step after 16 tries")
}

// stepInjected single-steps th over the syscall instruction at addr and
// returns the call's result, or done false when the step did not run it
// (a stop that came first: a pending trap, an interrupt's trap, a
// signal).
func (r runner) stepInjected(th *thread, addr uint64) (v uint64, done bool, err error) {
	p := r.p
	if err := p.c.ptrace(unix.PTRACE_SINGLESTEP, th.tid, 0, 0); err != nil {
		return 0, false, err
	}
	wpid, ws, err := p.c.wait4(th.tid, true)
	if err != nil {
		return 0, false, err
	}
	if !ws.Stopped() {
		// Killed meanwhile (SIGKILL, exit_group of another thread).
		th.state = running
		p.nRunning++
		p.dispatch(wpid, ws)
		return 0, false, errThreadGone
	}
	switch sig, ev := ws.StopSignal(), stopEvent(ws); {
	case ev == unix.PTRACE_EVENT_EXIT:
		p.c.ptrace(unix.PTRACE_CONT, th.tid, 0, 0)
		p.removeThread(th)
		return 0, false, errThreadGone
	case ev == 0 && sig == unix.SIGTRAP:
		var out unix.PtraceRegs
		if err := p.c.getRegs(th.tid, &out); err != nil {
			return 0, false, err
		}
		if out.Rip != addr {
			th.stop = stopPlain // at the step's trap now
			return out.Rax, true, nil
		}
		// A trap that was pending before the step: the call has not run.
	case ev == 0 && sig != unix.SIGTRAP|0x80 && sig != unix.SIGSTOP:
		// A signal the mask could not hold back (sent with kill, but
		// synchronous by number): deliver it at the next resume. Not a
		// fault the thread's own instruction raised before the stop
		// (collectTrap takes those in, but for a process without a stop
		// filter): the registers put back take the thread to that
		// instruction again, which raises it again, where it is reported
		// as itself.
		var info [siginfoSize]byte
		if p.c.getSiginfo(th.tid, &info) != nil || !synchronous(info[:]) {
			th.requeue = int(sig)
		}
	}
	return 0, false, nil
}

// leaveSyscall takes a thread stopped at a ptrace event inside a system
// call to the call's syscall-exit-stop.
func (r runner) leaveSyscall(th *thread) error {
	p := r.p
	if err := p.flushRegs(th); err != nil {
		return err
	}
	for {
		if err := p.c.ptrace(unix.PTRACE_SYSCALL, th.tid, 0, 0); err != nil {
			return err
		}
		th.regs.invalidate()
		wpid, ws, err := p.c.wait4(th.tid, true)
		if err != nil {
			return err
		}
		if !ws.Stopped() {
			th.state = running
			p.nRunning++
			p.dispatch(wpid, ws)
			return errThreadGone
		}
		if stopEvent(ws) == 0 && ws.StopSignal() == unix.SIGTRAP|0x80 {
			th.stop = stopSyscallExit
			return nil
		}
		if stopEvent(ws) == unix.PTRACE_EVENT_EXIT {
			p.c.ptrace(unix.PTRACE_CONT, th.tid, 0, 0)
			p.removeThread(th)
			return errThreadGone
		}
	}
}

// site is where an injected system call runs.
type site struct {
	addr    uint64
	patched []byte // the bytes under a patched syscall instruction
	m       *memory
}

func (s site) unpatch() { s.m.rawWrite(s.addr, s.patched) }

// syscallSite finds a syscall instruction the thread can execute: one of
// the vDSO's (found once per image), or else one written over the
// thread's PC for the duration.
func (r runner) syscallSite(th *thread) (site, error) {
	p := r.p
	if p.sysInsn == 0 {
		p.sysInsn = findVDSOSyscall(p.pid, p.mem)
	}
	if a := p.sysInsn; a != ^uint64(0) && !p.mem.isBreakpoint(a) && !p.mem.isBreakpoint(a+1) {
		return site{addr: a}, nil
	}
	pc := th.regs.gp.Rip
	old, err := p.mem.rawSwap(pc, []byte{0x0f, 0x05})
	if err != nil {
		return site{}, fmt.Errorf("no vDSO, and no syscall instruction can be written at %#x: %w", pc, err)
	}
	return site{addr: pc, patched: old, m: p.mem}, nil
}

const (
	atSysinfoEHdr = 33 // AT_SYSINFO_EHDR: the vDSO's ELF header
	ptLoad        = 1
	pfX           = 1
)

// findVDSOSyscall returns the address of a syscall instruction (0f 05)
// in an executable segment of the vDSO, or ^0 if there is none.
func findVDSOSyscall(pid int, m *memory) uint64 {
	auxv, err := os.ReadFile(fmt.Sprintf("/proc/%d/auxv", pid))
	if err != nil {
		return ^uint64(0)
	}
	var base uint64
	for i := 0; i+16 <= len(auxv); i += 16 {
		if binary.LittleEndian.Uint64(auxv[i:]) == atSysinfoEHdr {
			base = binary.LittleEndian.Uint64(auxv[i+8:])
		}
	}
	if base == 0 {
		return ^uint64(0)
	}
	var eh [64]byte
	if _, err := m.read(base, eh[:]); err != nil || string(eh[:4]) != "\x7fELF" {
		return ^uint64(0)
	}
	phoff := le.Uint64(eh[0x20:])
	phentsize, phnum := uint64(le.Uint16(eh[0x36:])), int(le.Uint16(eh[0x38:]))
	for i := 0; i < phnum && phentsize >= 56; i++ {
		var ph [56]byte
		if _, err := m.read(base+phoff+uint64(i)*phentsize, ph[:]); err != nil {
			break
		}
		if le.Uint32(ph[0:]) != ptLoad || le.Uint32(ph[4:])&pfX == 0 {
			continue
		}
		off, size := le.Uint64(ph[8:]), le.Uint64(ph[32:])
		if size > 1<<20 {
			continue
		}
		text := make([]byte, size)
		n, _ := m.read(base+off, text)
		for j := 0; j+1 < n; j++ {
			if text[j] == 0x0f && text[j+1] == 0x05 {
				return base + off + uint64(j)
			}
		}
	}
	return ^uint64(0)
}
