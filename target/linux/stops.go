package linux

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"gdbserverx/hwbp"
	"gdbserverx/target"
)

// This file classifies what wait4 reports: events to report, stops that
// are not events (clone, exit, interrupt traps, group-stops),
// and the end of the process. All of it runs on the Tracer's thread.

// report records a thread's reason to stop; during a run it starts the
// stop of the world.
func (p *Process) report(st target.ThreadStop) {
	if p.nonStop && !p.stopping { // stepThread and Attach collect in p.stops
		if th := p.threads[int(st.Tid)]; th != nil {
			// Its own event ends a pause (pauseOthers): it stays
			// stopped for the client, and a stop it was asked for is
			// answered by this one.
			th.pausing, th.paused, th.stopWanted = false, false, false
		}
		pauser{p}.reportThread(st)
		return
	}
	p.stops = append(p.stops, st)
	p.stopWorld()
}

// dispatch handles one wait status of one of the process's threads (the
// Tracer routes statuses by tid, and keeps those of threads it does not
// know yet).
func (p *Process) dispatch(wpid int, ws unix.WaitStatus) {
	if ws.Exited() || ws.Signaled() {
		if wpid == p.pid {
			// The main thread's status comes after every other thread
			// has been reaped: the process is gone.
			p.processEnded(ws)
			return
		}
		if th := p.threads[wpid]; th != nil {
			p.removeThread(th)
		}
		return
	}
	if !ws.Stopped() {
		return
	}
	ev := stopEvent(ws)
	if ev == unix.PTRACE_EVENT_EXEC {
		p.onExec(wpid)
		return
	}
	th := p.threads[wpid]
	if th == nil {
		// A thread already taken out of the table: a ptrace call found
		// it dying (ESRCH: SIGKILL pending, from exit_group or an exec in
		// another thread) and it now reports its PTRACE_EVENT_EXIT. Let
		// it go, or the exec or exit waiting for it would wait for ever.
		p.c.ptrace(unix.PTRACE_CONT, wpid, 0, 0)
		return
	}
	p.leaveState(th)
	switch ev {
	case unix.PTRACE_EVENT_CLONE, unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK:
		th.stop = stopInSyscall
		p.onNewChild(th, ev)
	case unix.PTRACE_EVENT_VFORK_DONE:
		th.stop = stopInSyscall
		// The vfork child has exec'd or exited: memory is ours again.
		forker{p}.vforkDone(th)
	case unix.PTRACE_EVENT_EXIT:
		// The thread is exiting: let it, and forget it now, so that no
		// stop of the world waits for it.
		p.c.ptrace(unix.PTRACE_CONT, th.tid, 0, 0)
		p.removeThread(th)
	case unix.PTRACE_EVENT_STOP:
		p.onEventStop(th, int(ws>>8)&0xff)
	case 0:
		if sig := int(ws.StopSignal()); sig == int(unix.SIGTRAP)|0x80 {
			p.onSyscallStop(th)
		} else {
			p.onSignal(th, sig)
		}
	default:
		p.quiet(th) // PTRACE_EVENT_SECCOMP and others we did not ask for
	}
}

func isStopSignal(sig int) bool {
	switch unix.Signal(sig) {
	case unix.SIGSTOP, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU:
		return true
	}
	return false
}

// onEventStop handles PTRACE_EVENT_STOP: a group-stop (its signal is a
// stop signal), or a trap from PTRACE_INTERRUPT or from SIGCONT waking a
// listening thread (SIGTRAP).
func (p *Process) onEventStop(th *thread, sig int) {
	th.groupStop = isStopSignal(sig)
	if (pauser{p}).pausedStop(th) {
		return
	}
	if p.nonStop && !p.stopping {
		pauser{p}.onNonStopEventStop(th)
		return
	}
	if !p.stopping {
		if !p.interrupted {
			// During a run this is not an event: a group-stop goes on
			// with PTRACE_LISTEN; a trap is the leftover of an interrupt
			// sent while the thread was reporting something else, or
			// SIGCONT ending a group-stop.
			p.restart(th)
			return
		}
		// Interrupt's trap (or a group-stop, which stops as well): the
		// world stops now.
		p.stopWorld()
	}
	p.collectTrap(th)
}

// collectTrap looks, after a thread stopped for our PTRACE_INTERRUPT, for
// a synchronous signal already queued for it: the kernel reports the
// interrupt before a pending signal (kernel/signal.c get_signal: job
// control traps first), so that
//   - an int3, a watchpoint or a single step that completed just as the
//     interrupt came would be reported one run late, after the client may
//     have removed the breakpoint (and a moved PC would go unexplained);
//   - a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL raised by the kernel for an
//     instruction) would wait in the queue, to be taken by the next step
//     or system call the software-watchpoint engine runs in that thread,
//     as the outcome of its own instruction: the fault on a page the
//     engine protects would reach the program (seen in TestSoak: the
//     program killed by SIGSEGV).
//
// The thread is resumed to collect it: a synchronous signal is dequeued
// before anything runs, and its stop joins this one. Only done when such
// a signal can matter: breakpoints, debug registers, a step, or a stop
// filter (the engine's protected pages).
func (p *Process) collectTrap(th *thread) {
	if !p.mem.hasBreakpoints() && p.want.Control == 0 && th.kind != target.Step && p.filter == nil {
		return
	}
	var q [4][siginfoSize]byte
	n, err := p.c.pendingSignals(th.tid, false, q[:])
	if err != nil {
		return
	}
	for i := 0; i < n; i++ {
		if synchronous(q[i][:]) {
			if p.c.ptrace(unix.PTRACE_CONT, th.tid, 0, 0) == nil {
				th.state = running
				p.nRunning++
			}
			return
		}
	}
}

// synchronous says whether a siginfo is a signal the kernel raised for
// the instruction the thread executed: a debug trap (int3, single step,
// watchpoint), or a fault (si_code > 0 from the kernel: SEGV_MAPERR,
// BUS_ADRERR, FPE_INTDIV, ILL_ILLOPN, SI_KERNEL for a general protection
// fault...), which the same instruction raises again when it runs again
// (a trap it does not: it is reported after the instruction).
func synchronous(info []byte) bool {
	switch unix.Signal(siSigno(info)) {
	case unix.SIGTRAP:
		switch siCode(info) {
		case siKernel, trapBrkpt, trapTrace, trapHwbkpt:
			return true
		}
	case unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL:
		return siCode(info) > 0 // SI_KERNEL (0x80) too: a general protection fault
	}
	return false
}

// onSyscallStop handles a syscall stop (SIGTRAP|0x80): an exit is an
// event while exit stops are on, an entry while entry stops are on, and
// both for a caught call (catch.go); any other only goes on (or stays
// stopped there while the world stops).
func (p *Process) onSyscallStop(th *thread) {
	op, err := p.c.syscallOp(th.tid)
	if isGone(err) {
		p.removeThread(th)
		return
	}
	reason := target.StopSyscallExit
	if th.launchExec {
		th.launchExec = false
		if err == nil && op == unix.PTRACE_SYSCALL_INFO_EXIT {
			th.stop = stopSyscallExit
			p.quiet(th)
			return
		}
	}
	switch {
	case err == nil && op == unix.PTRACE_SYSCALL_INFO_EXIT && syscallEvent(p, p.syscalls, th):
		th.stop = stopSyscallExit
	case err == nil && op == unix.PTRACE_SYSCALL_INFO_ENTRY && syscallEvent(p, p.entries, th):
		// The call has not run: its number and arguments may still be
		// changed (see target.StopSyscallEntry).
		reason = target.StopSyscallEntry
		th.stop = stopSyscallEntry
	default:
		// Not an event; it matters if the world is being stopped and the
		// thread stays here.
		switch {
		case err == nil && op == unix.PTRACE_SYSCALL_INFO_ENTRY:
			th.stop = stopSyscallEntry
		case err == nil && op == unix.PTRACE_SYSCALL_INFO_EXIT:
			th.stop = stopSyscallExit
		}
		p.quiet(th)
		return
	}
	if err := p.loadGP(th); err != nil {
		p.removeThread(th)
		return
	}
	st := target.ThreadStop{
		Tid:     target.Tid(th.tid),
		Reason:  reason,
		Signal:  target.SIGTRAP,
		Syscall: int(th.regs.gp.Orig_rax),
	}
	st.PC = th.regs.gp.Rip
	if p.filtered(th, &st) {
		return
	}
	p.report(st)
}

// onSignal handles a signal-delivery-stop.
func (p *Process) onSignal(th *thread, sig int) {
	var info [siginfoSize]byte
	if err := p.c.getSiginfo(th.tid, &info); err != nil {
		if isGone(err) {
			p.removeThread(th)
		} else {
			p.quiet(th)
		}
		return
	}
	code := siCode(info[:])
	st := target.ThreadStop{
		Tid:     target.Tid(th.tid),
		Reason:  target.StopSignal,
		Signal:  target.Signal(sig),
		SigInfo: append([]byte(nil), info[:]...),
		SigCode: code,
	}
	if sig == int(unix.SIGTRAP) && !p.classifyTrap(th, &st) {
		return
	}
	if p.filter != nil && !p.stopping {
		if p.loadGP(th) == nil {
			st.PC = th.regs.gp.Rip
		}
		if p.filtered(th, &st) {
			return
		}
	}
	if st.Reason == target.StopSignal && p.pass.passes(sig, th.kind, p.stopping || p.worldStopped) {
		p.c.passed++
		p.resumeThread(th, th.kind, sig)
		return
	}
	p.report(st)
}

// onNewChild handles a clone, fork or vfork event of parent: the new
// thread joins the table; a new process is detached, without our
// breakpoints.
func (p *Process) onNewChild(parent *thread, ev int) {
	msg, err := p.c.eventMsg(parent.tid)
	if err != nil {
		if isGone(err) {
			p.removeThread(parent)
		}
		return
	}
	child := int(msg)
	isThread := ev == unix.PTRACE_EVENT_CLONE && isTaskOf(p.pid, child)
	if isThread && p.threads[child] != nil {
		// Already known (Attach seized it from /proc before this event).
		p.quiet(parent)
		return
	}
	// The child starts in a PTRACE_EVENT_STOP; wait for it unless it came
	// first.
	ws, ok := p.owner.takeOrphan(child)
	if !ok {
		var err error
		if _, ws, err = p.c.wait4(child, true); err != nil {
			p.quiet(parent)
			return
		}
	}
	if ws.Exited() || ws.Signaled() {
		p.quiet(parent)
		return
	}
	if !isThread && p.followForks {
		forker{p}.adoptChild(parent, child, ev)
		return
	}
	if !isThread {
		if ev == unix.PTRACE_EVENT_VFORK {
			// The child shares our memory and runs untraced: take the
			// int3s out until the vfork ends (PTRACE_EVENT_VFORK_DONE in
			// the parent), even when there are none yet (one inserted
			// meanwhile would wait too).
			p.mem.lift()
			p.vforks[parent.tid] = vforkLifted
		} else {
			p.mem.restoreIn(child)
		}
		p.c.ptrace(unix.PTRACE_DETACH, child, 0, 0)
		p.quiet(parent)
		return
	}
	th := p.addThread(child, stopped, unknownDR)
	th.groupStop = stopEvent(ws) == unix.PTRACE_EVENT_STOP && isStopSignal(int(ws>>8)&0xff)
	if p.stopping {
		return // stays stopped with the rest of the world
	}
	// Program the new thread before its first instruction.
	if err := p.applyDR(th); err != nil {
		if isGone(err) {
			p.removeThread(th)
		} else {
			// It cannot hold the image: keep it stopped and say so; the
			// next Resume returns the error before anything runs.
			p.report(target.ThreadStop{Tid: target.Tid(th.tid), Reason: target.StopSignal})
		}
		p.quiet(parent)
		return
	}
	p.resumeThread(th, target.Continue, 0)
	p.quiet(parent)
}

// isTaskOf says whether tid is a thread of process pid (a clone without
// CLONE_THREAD makes a new process and is handled as a fork).
func isTaskOf(pid, tid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", pid, tid))
	return err == nil
}

// onExec handles PTRACE_EVENT_EXEC: the process has a new image and one
// thread, whose tid is the pid (whichever thread called execve). Every
// other thread is gone, breakpoints are gone, and the kernel has flushed
// the debug registers.
func (p *Process) onExec(wpid int) {
	for _, th := range p.order {
		if !th.gone {
			p.removeThread(th)
		}
	}
	p.order = p.order[:0]
	p.nGone = 0
	th := p.addThread(wpid, stopped, unknownDR)
	th.dr.Control = 0 // exec flushed them: nothing is armed
	th.stop = stopInSyscall
	p.sysInsn = 0      // a new vDSO
	p.facts.syms = nil // a new program
	p.facts.tls = nil
	p.mem.reset()
	// The stops collected so far belong to the old image.
	p.stops = p.stops[:0]
	p.report(target.ThreadStop{Tid: target.Tid(wpid), Reason: target.StopExec, Signal: target.SIGTRAP})
}

// processEnded queues the final event.
func (p *Process) processEnded(ws unix.WaitStatus) {
	ev := target.Event{Kind: target.EventExited, ExitCode: ws.ExitStatus()}
	if ws.Signaled() {
		ev = target.Event{Kind: target.EventSignaled, Signal: target.Signal(ws.Signal())}
	}
	p.end(target.ErrExited)
	p.queue = append(p.queue, ev)
	p.release()
}

// classifyTrap gives a SIGTRAP its reason: an int3 of ours (the PC
// moved back onto it), a debug exception (DR6), or a step reported at a
// syscall's exit or a handler's entry. It reports false when the stop
// has been dealt with (the thread is gone, or the int3 was one removed
// while the thread ran: it goes on).
func (p *Process) classifyTrap(th *thread, st *target.ThreadStop) bool {
	switch st.SigCode {
	case siKernel:
		// An int3. If it is one of ours, the PC is moved back onto it.
		if err := p.loadGP(th); err != nil {
			p.removeThread(th)
			return false
		}
		if pc := th.regs.gp.Rip - 1; p.mem.isBreakpoint(pc) {
			st.Reason = target.StopBreakpoint
			th.regs.gp.Rip = pc
			th.regs.gpDirty = true
		} else if p.mem.removedSince(pc, th.since) {
			// Ours, removed while the thread ran (non-stop): it
			// goes back onto the instruction, which is there again,
			// and on.
			th.regs.gp.Rip = pc
			th.regs.gpDirty = true
			p.quiet(th)
			return false
		}
	case trapHwbkpt, trapTrace:
		// A debug exception: DR6 says which slots fired and whether a
		// single step completed. Only here is DR6 meaningful. A step
		// in a thread with no slot enabled can only have completed
		// (the kernel says TRAP_TRACE exactly when DR6.BS is set), so
		// DR6 is not read for it: one ptrace call less per stepi.
		st.Reason = target.StopDebug
		if st.SigCode == trapTrace && th.dr.Control&hwbp.DR7Enable == 0 {
			st.DR6 = hwbp.DR6SingleStep
			break
		}
		dr6, err := p.c.peekDebugReg(th.tid, 6)
		if isGone(err) {
			p.removeThread(th)
			return false
		}
		st.DR6 = dr6
	case trapBrkpt, siPtraceNotify:
		// A step that ends at the return of a system call (the thread
		// stepped a syscall instruction, or was stopped inside one)
		// is reported by the kernel at the syscall exit with
		// TRAP_BRKPT and no debug exception, so DR6 is not updated
		// (arch/x86/kernel/step.c user_single_step_report). A step
		// that delivered a signal to a handler stops at the handler's
		// first instruction through ptrace_notify(SIGTRAP), whose
		// si_code is the exit code, SIGTRAP (kernel/signal.c
		// signal_delivered). Both are completed steps.
		if th.kind == target.Step {
			st.Reason = target.StopDebug
			st.DR6 = hwbp.DR6SingleStep
		}
	}
	return true
}
