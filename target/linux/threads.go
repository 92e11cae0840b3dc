package linux

import (
	"bytes"
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

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

// thread is one traced thread. Owned by the tracer goroutine.
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

	regs regCache
	// dr is what the thread holds in its debug registers, by the tracer's
	// own record: readbacks are never trusted (a new thread reads back its
	// parent's DR7 with nothing armed).
	dr target.DebugRegisters
}

// addThread enters a new thread in the table, last in creation order.
func (tr *tracer) addThread(tid int, st threadState, dr target.DebugRegisters) *thread {
	th := &thread{tid: tid, state: st, dr: dr}
	tr.threads[tid] = th
	tr.order = append(tr.order, th)
	switch st {
	case running:
		tr.nRunning++
	case listening:
		tr.nListening++
	}
	return th
}

// removeThread takes a thread that exited (or is exiting) out of the
// table. Its exit status, if it still comes, is ignored.
func (tr *tracer) removeThread(th *thread) {
	if th.gone {
		return
	}
	tr.leaveState(th)
	th.gone = true
	delete(tr.threads, th.tid)
	tr.nGone++
	if int64(th.tid) == tr.p.doorbellTid.Load() {
		tr.pickDoorbell()
	}
	if tr.nGone > 16 && tr.nGone > len(tr.order)/2 {
		tr.order = slices.DeleteFunc(tr.order, func(t *thread) bool { return t.gone })
		tr.nGone = 0
	}
}

// leaveState marks th stopped and keeps the counts.
func (tr *tracer) leaveState(th *thread) {
	switch th.state {
	case running:
		tr.nRunning--
	case listening:
		tr.nListening--
	}
	th.state = stopped
}

// liveTids lists the threads, main thread first, then by creation.
func (tr *tracer) liveTids() []target.Tid {
	tids := make([]target.Tid, 0, len(tr.threads))
	for _, th := range tr.order {
		if !th.gone {
			tids = append(tids, target.Tid(th.tid))
		}
	}
	return tids
}

// pickDoorbell records a running thread (not a listening one: a
// group-stopped thread takes no signal), the oldest first, or 0 when none
// runs: then Interrupt leaves a token for listenWait instead of ringing.
func (tr *tracer) pickDoorbell() {
	var tid int64
	for _, th := range tr.order {
		if !th.gone && th.state == running {
			tid = int64(th.tid)
			break
		}
	}
	tr.p.doorbellTid.Store(tid)
}

// stoppedThread finds a stopped thread for a request.
func (tr *tracer) stoppedThread(tid target.Tid) (*thread, error) {
	th := tr.threads[int(tid)]
	if th == nil {
		return nil, fmt.Errorf("thread %d: %w", tid, target.ErrNoThread)
	}
	if th.state != stopped {
		return nil, fmt.Errorf("thread %d: %w", tid, target.ErrRunning)
	}
	return th, nil
}

// loadGP fetches the general registers of a stopped thread, once per stop.
func (tr *tracer) loadGP(th *thread) error {
	if th.regs.gpValid {
		return nil
	}
	if err := tr.c.getRegs(th.tid, &th.regs.gp); err != nil {
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
func (tr *tracer) probeRegisters() {
	for _, th := range tr.order {
		if th.gone || th.state != stopped {
			continue
		}
		buf := make([]byte, xstateMax)
		n, err := tr.c.getRegset(th.tid, unix.NT_X86_XSTATE, buf)
		if err == nil && n >= x86cpu.ExtendedStart {
			tr.regs = newRegLayout(true, le.Uint64(buf[x86cpu.XFeaturesOffset:]), n, x86cpu.Host())
		}
		break
	}
	tr.p.desc = tr.regs.desc
}

// loadFX fetches the x87, SSE, AVX, AVX-512 and PKU state: one
// PTRACE_GETREGSET of NT_X86_XSTATE (its first 512 bytes are the fxsave
// image), or PTRACE_GETFPREGS where the kernel gives no XSAVE image.
func (tr *tracer) loadFX(th *thread) error {
	if th.regs.fxValid {
		return nil
	}
	var n int
	var err error
	if tr.regs.xsave {
		if tr.xsBuf == nil {
			tr.xsBuf = make([]byte, tr.regs.size)
		}
		n, err = tr.c.getRegset(th.tid, unix.NT_X86_XSTATE, tr.xsBuf)
		if err == nil && n < tr.regs.size {
			err = fmt.Errorf("short xstate of %d bytes, want %d", n, tr.regs.size)
		}
	} else {
		if tr.xsBuf == nil {
			tr.xsBuf = make([]byte, fxsaveSize)
		}
		n, err = fxsaveSize, tr.c.ptracePtr(ptraceGetFPRegs, th.tid, 0, ptrTo(tr.xsBuf))
	}
	if err != nil {
		return fmt.Errorf("read floating-point registers of thread %d: %w", th.tid, err)
	}
	th.regs.fx = append(th.regs.fx[:0], tr.xsBuf[:n]...)
	th.regs.fxValid = true
	return nil
}

// readRegisters fills buf with the register file of a stopped thread.
func (tr *tracer) readRegisters(th *thread, buf []byte) error {
	if len(buf) < tr.p.desc.Size() {
		return fmt.Errorf("register buffer of %d bytes, want %d", len(buf), tr.p.desc.Size())
	}
	if err := tr.loadGP(th); err != nil {
		return err
	}
	if err := tr.loadFX(th); err != nil {
		return err
	}
	putGP(buf, &th.regs.gp)
	putFP(buf, th.regs.fx)
	if tr.regs.xsave {
		tr.regs.putXState(buf, th.regs.fx)
	}
	return nil
}

// writeRegisters takes a whole register file and marks dirty only the
// groups whose registers changed; they are written when the thread
// resumes (or detaches).
func (tr *tracer) writeRegisters(th *thread, buf []byte) error {
	size := tr.p.desc.Size()
	if len(buf) < size {
		return fmt.Errorf("register buffer of %d bytes, want %d", len(buf), size)
	}
	cur := make([]byte, size)
	if err := tr.readRegisters(th, cur); err != nil {
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
		if gp.Rip == th.regs.gp.Rip && th.regs.gp.Eflags&rfFlag != 0 {
			gp.Eflags |= rfFlag
		}
		if gp != th.regs.gp {
			th.regs.gp = gp
			th.regs.gpDirty = true
		}
	}
	fpChanged := !bytes.Equal(cur[offST:offOrigRAX], buf[offST:offOrigRAX])
	var comps uint64
	if tr.regs.xsave {
		comps = tr.regs.changedXState(cur, buf)
	}
	if fpChanged {
		getFP(buf, th.regs.fx)
		if tr.regs.xsave {
			bv := le.Uint64(th.regs.fx[xsaveHdrBV:])
			le.PutUint64(th.regs.fx[xsaveHdrBV:], bv|xfeatureFP)
		}
		th.regs.fxDirty = true
	}
	if comps != 0 {
		tr.regs.getXState(buf, th.regs.fx, comps)
		th.regs.fxDirty = true
	}
	return nil
}

// flushRegs writes the dirty register groups of a thread.
func (tr *tracer) flushRegs(th *thread) error {
	if th.regs.gpDirty {
		if err := tr.c.setRegs(th.tid, &th.regs.gp); err != nil {
			return fmt.Errorf("write registers of thread %d: %w", th.tid, err)
		}
		th.regs.gpDirty = false
	}
	if th.regs.fxDirty {
		var err error
		if tr.regs.xsave {
			err = tr.c.setRegset(th.tid, unix.NT_X86_XSTATE, th.regs.fx)
		} else {
			err = tr.c.ptracePtr(ptraceSetFPRegs, th.tid, 0, ptrTo(th.regs.fx))
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
func (tr *tracer) applyDR(th *thread) error {
	tr.planBuf = target.PlanDebugWrites(th.dr, tr.want, tr.planBuf[:0])
	for _, w := range tr.planBuf {
		err := tr.pokeDR(th.tid, w.Reg, w.Value)
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
func (tr *tracer) pokeDR(tid, reg int, v uint64) error {
	if tr.drFault != nil {
		if err := tr.drFault(tid, reg, v); err != nil {
			tr.c.drWrites.Add(1)
			return err
		}
	}
	return tr.c.pokeDebugReg(tid, reg, v)
}
