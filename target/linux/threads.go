package linux

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/internal/x86cpu"
	"gdbserverx/target"
)

// threadState says where a thread is, as the tracer last saw it.
type threadState uint8

const (
	// stopped: in a ptrace-stop; registers and debug registers may be
	// read and written.
	stopped threadState = iota
	// running: resumed and not yet reported again.
	running
	// listening: in a group-stop (job control), restarted with
	// PTRACE_LISTEN: it does not run and cannot be ptraced until it
	// reports again (SIGCONT, PTRACE_INTERRUPT, SIGKILL).
	listening
)

// unknownDR is the record of a thread whose debug registers the tracer
// has not written: addresses no slot can hold, so that an enabled slot is
// always written (target.PlanDebugWrites).
var unknownDR = target.DebugRegisters{Addr: [4]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}}

// thread is one traced thread. Owned by the Tracer's thread.
type thread struct {
	tid   int
	state threadState
	gone  bool // removed from the table; kept in order until compaction

	// kind is how the thread was last resumed: a silent restart (after
	// a stop that is not an event) resumes it the same way.
	kind target.ResumeKind
	// groupStop: its last stop was a group-stop (PTRACE_EVENT_STOP with a
	// stop signal): the process is stopped by job control, and resuming
	// it to continue puts it back with PTRACE_LISTEN.
	groupStop bool
	// requeue is a signal that arrived while Attach stopped the thread;
	// it is delivered at the first resume that gives none.
	requeue int

	// stop says where in the kernel the thread is stopped, for
	// InjectSyscall; valid while it is stopped.
	stop stopPlace
	// launchExec: the thread is the launched program's, stopped at the
	// exec event of its start (or resumed from it with PTRACE_SYSCALL):
	// the syscall-exit-stop of that execve, which no client saw enter, is
	// no event (catch.go). Cleared by any other resume, and at that stop.
	launchExec bool

	regs regCache
	// dr is what the thread holds in its debug registers, by the tracer's
	// own record: readbacks are never trusted (a new thread reads back its
	// parent's DR7 with nothing armed).
	dr target.DebugRegisters

	// Non-stop mode (nonstop.go): stopWanted, StopThreads asked it to
	// stop; refresh, it was interrupted to write its debug registers;
	// pausing and paused, a ThreadRunner call of another thread stops it
	// for its length.
	stopWanted, refresh, pausing, paused bool
	// since is the count of breakpoint removals when it last resumed: an
	// int3 removed after that may still trap it (memory.removedSince).
	since uint64
}

// addThread enters a new thread in the table, last in creation order.
func (p *Process) addThread(tid int, st threadState, dr target.DebugRegisters) *thread {
	th := &thread{tid: tid, state: st, dr: dr}
	p.threads[tid] = th
	p.owner.tids[tid] = p
	p.order = append(p.order, th)
	switch st {
	case running:
		p.nRunning++
	case listening:
		p.nListening++
	}
	return th
}

// removeThread takes a thread that exited (or is exiting) out of the
// table. Its exit status, if it still comes, is ignored.
func (p *Process) removeThread(th *thread) {
	if th.gone {
		return
	}
	p.leaveState(th)
	th.gone = true
	delete(p.threads, th.tid)
	if p.owner.tids[th.tid] == p {
		delete(p.owner.tids, th.tid)
	}
	p.nGone++
	if p.nGone > 16 && p.nGone > len(p.order)/2 {
		p.order = slices.DeleteFunc(p.order, func(t *thread) bool { return t.gone })
		p.nGone = 0
	}
}

// leaveState marks th stopped and keeps the counts.
func (p *Process) leaveState(th *thread) {
	switch th.state {
	case running:
		p.nRunning--
	case listening:
		p.nListening--
	}
	th.state = stopped
}

// liveTids lists the threads, main thread first, then by creation.
func (p *Process) liveTids() []target.Tid {
	tids := make([]target.Tid, 0, len(p.threads))
	for _, th := range p.order {
		if !th.gone {
			tids = append(tids, target.Tid(th.tid))
		}
	}
	return tids
}

// stoppedThread finds a stopped thread for a request.
func (p *Process) stoppedThread(tid target.Tid) (*thread, error) {
	th := p.threads[int(tid)]
	if th == nil {
		return nil, fmt.Errorf("thread %d: %w", tid, target.ErrNoThread)
	}
	if th.state != stopped {
		return nil, fmt.Errorf("thread %d: %w", tid, target.ErrRunning)
	}
	return th, nil
}

// loadGP fetches the general registers of a stopped thread, once per stop.
func (p *Process) loadGP(th *thread) error {
	if th.regs.gpValid {
		return nil
	}
	if err := p.c.getRegs(th.tid, &th.regs.gp); err != nil {
		return fmt.Errorf("read registers of thread %d: %w", th.tid, err)
	}
	th.regs.gpValid = true
	return nil
}

// probeRegisters decides the register file of the process, at its first
// stop: one NT_X86_XSTATE read of a stopped thread gives the kernel's
// XSAVE mask for the process (XCR0's user part, in the image's
// software-reserved bytes) and the image's size; the components it
// enables and this CPU describes (CPUID leaf 0xD) become register groups
// of the description, as GNU gdbserver's x86_linux_read_description
// does. A kernel or CPU without XSAVE gives x87 and SSE only, through
// PTRACE_GETFPREGS.
func (p *Process) probeRegisters() {
	for _, th := range p.order {
		if th.gone || th.state != stopped {
			continue
		}
		buf := make([]byte, xstateMax)
		n, err := p.c.getRegset(th.tid, unix.NT_X86_XSTATE, buf)
		if err == nil && n >= x86cpu.ExtendedStart {
			p.regs = newRegLayout(true, le.Uint64(buf[x86cpu.XFeaturesOffset:]), n, x86cpu.Host())
		}
		break
	}
	p.desc = p.regs.desc
}

// loadFX fetches the x87, SSE, AVX, AVX-512 and PKU state: one
// PTRACE_GETREGSET of NT_X86_XSTATE (its first 512 bytes are the fxsave
// image), or PTRACE_GETFPREGS where the kernel gives no XSAVE image.
func (p *Process) loadFX(th *thread) error {
	if th.regs.fxValid {
		return nil
	}
	var n int
	var err error
	if p.regs.xsave {
		if p.xsBuf == nil {
			p.xsBuf = make([]byte, p.regs.size)
		}
		n, err = p.c.getRegset(th.tid, unix.NT_X86_XSTATE, p.xsBuf)
		if err == nil && n < p.regs.size {
			err = fmt.Errorf("short xstate of %d bytes, want %d", n, p.regs.size)
		}
	} else {
		if p.xsBuf == nil {
			p.xsBuf = make([]byte, fxsaveSize)
		}
		n, err = fxsaveSize, p.c.ptracePtr(ptraceGetFPRegs, th.tid, 0, ptrTo(p.xsBuf))
	}
	if err != nil {
		return fmt.Errorf("read floating-point registers of thread %d: %w", th.tid, err)
	}
	th.regs.fx = append(th.regs.fx[:0], p.xsBuf[:n]...)
	th.regs.fxValid = true
	return nil
}

// readRegisters fills buf with the register file of a stopped thread.
func (p *Process) readRegisters(th *thread, buf []byte) error {
	if len(buf) < p.desc.Size() {
		return fmt.Errorf("register buffer of %d bytes, want %d", len(buf), p.desc.Size())
	}
	if err := p.loadGP(th); err != nil {
		return err
	}
	if err := p.loadFX(th); err != nil {
		return err
	}
	putGP(buf, &th.regs.gp)
	putFP(buf, th.regs.fx)
	if p.regs.xsave {
		p.regs.putXState(buf, th.regs.fx)
	}
	return nil
}

// writeRegisters takes a whole register file and marks dirty only the
// groups whose registers changed; they are written when the thread
// resumes (or detaches).
func (p *Process) writeRegisters(th *thread, buf []byte) error {
	size := p.desc.Size()
	if len(buf) < size {
		return fmt.Errorf("register buffer of %d bytes, want %d", len(buf), size)
	}
	cur := make([]byte, size)
	if err := p.readRegisters(th, cur); err != nil {
		return err
	}
	if !bytes.Equal(cur[:offST], buf[:offST]) || !bytes.Equal(cur[offOrigRAX:offYMMH], buf[offOrigRAX:offYMMH]) {
		gp := th.regs.gp
		getGP(buf, &gp)
		// An execute breakpoint is a fault: the kernel set RF so that the
		// instruction runs once on resume. A client that writes the flags
		// back unchanged but for RF (gdb rewrites what it read, from
		// before the kernel's view) must not clear it while the PC stays,
		// or the thread traps again for ever (docs/x86-debug-registers.md).
		if gp.Rip == th.regs.gp.Rip && th.regs.gp.Eflags&hwbp.FlagRF != 0 {
			gp.Eflags |= hwbp.FlagRF
		}
		if gp != th.regs.gp {
			th.regs.gp = gp
			th.regs.gpDirty = true
		}
	}
	fpChanged := !bytes.Equal(cur[offST:offOrigRAX], buf[offST:offOrigRAX])
	var comps uint64
	if p.regs.xsave {
		comps = p.regs.changedXState(cur, buf)
	}
	if fpChanged {
		getFP(buf, th.regs.fx)
		if p.regs.xsave {
			bv := le.Uint64(th.regs.fx[xsaveHdrBV:])
			le.PutUint64(th.regs.fx[xsaveHdrBV:], bv|xfeatureFP)
		}
		th.regs.fxDirty = true
	}
	if comps != 0 {
		p.regs.getXState(buf, th.regs.fx, comps)
		th.regs.fxDirty = true
	}
	return nil
}

// flushRegs writes the dirty register groups of a thread.
func (p *Process) flushRegs(th *thread) error {
	if th.regs.gpDirty {
		if err := p.c.setRegs(th.tid, &th.regs.gp); err != nil {
			return fmt.Errorf("write registers of thread %d: %w", th.tid, err)
		}
		th.regs.gpDirty = false
	}
	if th.regs.fxDirty {
		var err error
		if p.regs.xsave {
			err = p.c.setRegset(th.tid, unix.NT_X86_XSTATE, th.regs.fx)
		} else {
			err = p.c.ptracePtr(ptraceSetFPRegs, th.tid, 0, ptrTo(th.regs.fx))
		}
		if err != nil {
			return fmt.Errorf("write floating-point registers of thread %d: %w", th.tid, err)
		}
		th.regs.fxDirty = false
	}
	return nil
}

// applyDR brings a stopped thread's debug registers to the wanted image
// with the fewest writes (none when it already holds it).
func (p *Process) applyDR(th *thread) error {
	p.planBuf = target.PlanDebugWrites(th.dr, p.want, p.planBuf[:0])
	for _, w := range p.planBuf {
		err := p.pokeDR(th.tid, w.Reg, w.Value)
		if err != nil {
			if isGone(err) {
				return err
			}
			if err == errNoSpace {
				err = fmt.Errorf("%w (%w)", target.ErrNoSpace, err)
			}
			return &target.DebugRegisterError{Tid: target.Tid(th.tid), Reg: w.Reg, Err: err}
		}
		th.dr = th.dr.Apply(w)
	}
	return nil
}

// pokeDR writes one debug register, through the test hook if one is set.
func (p *Process) pokeDR(tid, reg int, v uint64) error {
	if p.drFault != nil {
		if err := p.drFault(tid, reg, v); err != nil {
			p.c.drWrites++
			return err
		}
	}
	return p.c.pokeDebugReg(tid, reg, v)
}
