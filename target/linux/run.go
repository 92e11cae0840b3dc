package linux

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// This file is the run state of a process: resuming threads, stopping the
// world after an event, and queuing the event once every thread has
// stopped. Nothing here blocks: the statuses the kernel reports arrive
// through Tracer.Pump, which calls dispatch (stops.go) and then settle.

// end marks the process unusable for why (ErrExited, detached).
func (p *Process) end(why error) {
	p.over = true
	p.ended = why
	p.worldStopped = false
	p.mem.close()
	p.facts.stats.close()
}

func findAction(actions []target.Action, tid int) (target.Action, bool) {
	def, hasDef := target.Action{}, false
	for _, a := range actions {
		if int(a.Tid) == tid {
			return a, true
		}
		if a.Tid == 0 && !hasDef {
			def, hasDef = a, true
		}
	}
	return def, hasDef
}

// resume starts a run: debug registers and dirty registers of every
// thread to be resumed are written first, so that a refusal returns
// before anything runs; then the threads are resumed.
func (p *Process) resume(actions []target.Action) error {
	for _, a := range actions {
		if a.Tid != 0 && p.threads[int(a.Tid)] == nil {
			return fmt.Errorf("resume thread %d: %w", a.Tid, target.ErrNoThread)
		}
		if a.Kind != target.Continue && a.Kind != target.Step {
			return fmt.Errorf("resume thread %d: bad action %v", a.Tid, a.Kind)
		}
	}
	type item struct {
		th *thread
		a  target.Action
	}
	var plan []item
	for _, th := range p.order {
		if th.gone || th.state != stopped {
			continue
		}
		if a, ok := findAction(actions, th.tid); ok {
			plan = append(plan, item{th, a})
		}
	}
	if len(plan) == 0 {
		return fmt.Errorf("resume: the actions name no live thread: %w", target.ErrNoThread)
	}
	for _, it := range plan {
		err := p.applyDR(it.th)
		if err == nil {
			err = p.flushRegs(it.th)
		}
		if err != nil {
			if isGone(err) {
				p.removeThread(it.th) // killed from outside; its status comes
				continue
			}
			return err
		}
	}
	if !p.nonStop {
		p.worldStopped = false
	}
	p.interrupted = false
	for _, it := range plan {
		if it.th.gone {
			continue
		}
		sig := int(it.a.Signal)
		if sig == 0 {
			sig = it.th.requeue
		}
		it.th.requeue = 0
		p.resumeThread(it.th, it.a.Kind, sig)
	}
	// Every thread of the plan may have gone meanwhile.
	p.settle()
	return nil
}

// resumeThread restarts one stopped thread. A group-stopped thread that is
// to continue without a signal goes back to its group-stop with
// PTRACE_LISTEN: the job-control stop of the program is kept (it runs at
// SIGCONT), and the tracer still hears of it.
func (p *Process) resumeThread(th *thread, kind target.ResumeKind, sig int) {
	if err := p.flushRegs(th); err != nil && isGone(err) {
		p.removeThread(th)
		return
	}
	th.kind = kind
	th.since = p.mem.removals
	th.regs.invalidate()
	inExec := th.launchExec && th.stop == stopInSyscall
	th.stop = stopPlain
	req, next := unix.PTRACE_CONT, running
	switch {
	case kind == target.Step:
		req = unix.PTRACE_SINGLESTEP
	case th.groupStop && sig == 0:
		req, next = unix.PTRACE_LISTEN, listening
	case p.syscalls || p.entries || !p.catch.Empty():
		req = unix.PTRACE_SYSCALL
	}
	th.launchExec = inExec && req == unix.PTRACE_SYSCALL
	if err := p.c.ptrace(req, th.tid, 0, uintptr(sig)); err != nil {
		// ESRCH: killed from outside while stopped; its status comes.
		p.removeThread(th)
		return
	}
	th.state = next
	if next == running {
		p.nRunning++
	} else {
		p.nListening++
	}
}

// restart resumes a thread after a stop that is not an event, the way it
// was running.
func (p *Process) restart(th *thread) { p.resumeThread(th, th.kind, 0) }

// quiet handles a stop that is not an event: during a run the thread goes
// on; while the world is being stopped it stays stopped.
func (p *Process) quiet(th *thread) {
	if !p.stopping {
		p.restart(th)
	}
}

// settle is called after the statuses of a pump (and after Resume and
// Interrupt): it decides whether the run is over, and once every thread
// has stopped, completes the stop and queues its event.
func (p *Process) settle() {
	if p.over || p.worldStopped || p.nonStop {
		return // non-stop: each stop queued its event
	}
	if !p.killing && !p.stopping && p.nRunning == 0 && p.nListening == 0 &&
		len(p.threads) > 0 && p.anyAlive() {
		// Every resumed thread exited; the others are stopped. (With
		// none alive, the main thread's status is coming.)
		p.stopping = true
	}
	if p.stopping && !p.killing && p.nRunning+p.nListening == 0 {
		p.finishStop()
	}
}

// anyAlive says whether a stopped thread is still in its stop. Threads
// that a SIGKILL (exit_group of another thread, Kill) woke from their
// stops answer ESRCH: they are dying, and are taken out.
func (p *Process) anyAlive() bool {
	alive := false
	for _, th := range p.order {
		if th.gone {
			continue
		}
		if _, err := p.c.peekDebugReg(th.tid, 7); isGone(err) {
			p.removeThread(th)
			continue
		}
		alive = true
	}
	return alive
}

// stopWorld starts the stop of every thread still running after an event,
// once per stop: each gets a PTRACE_INTERRUPT; their stops arrive
// through the pump. A thread may report a real event instead; it is kept
// as another entry of the stop. (Such a thread may also report the
// interrupt's PTRACE_EVENT_STOP when next resumed: that one is recognised
// and swallowed in onEventStop.) A group-stopped (listening) thread
// reports PTRACE_EVENT_STOP for it too.
func (p *Process) stopWorld() {
	if p.stopping {
		return
	}
	p.stopping = true
	p.interruptAll()
}

// interruptAll sends PTRACE_INTERRUPT to every thread that runs or
// listens.
func (p *Process) interruptAll() {
	for _, th := range p.order {
		if th.gone || th.state == stopped {
			continue
		}
		if err := p.c.ptrace(unix.PTRACE_INTERRUPT, th.tid, 0, 0); err != nil {
			p.removeThread(th) // dead already
		}
	}
}

// finishStop completes an all-stop: the general registers of the
// reporting threads are fetched (the server reads PC, SP and FP at once;
// the rest of the register file only if it is asked for), the run state
// is cleared and the event is queued.
func (p *Process) finishStop() {
	stops := make([]target.ThreadStop, 0, len(p.stops))
	for _, st := range p.stops {
		th := p.threads[int(st.Tid)]
		if th == nil {
			continue
		}
		if p.loadGP(th) != nil {
			continue
		}
		st.PC = th.regs.gp.Rip
		stops = append(stops, st)
	}
	p.stops = nil
	p.stopping = false
	p.worldStopped = true
	p.queue = append(p.queue, target.Event{
		Kind:        target.EventStopped,
		Stops:       stops,
		Interrupted: p.interrupted,
		Threads:     p.liveTids(),
	})
	p.interrupted = false
}

// lost ends the process when wait4 fails (ECHILD: no tracee is left,
// though the main thread's status was never seen).
func (p *Process) lost(err error) {
	p.end(fmt.Errorf("process %d lost: %v: %w", p.pid, err, target.ErrExited))
	p.queue = append(p.queue, target.Event{Kind: target.EventSignaled, Signal: target.SIGKILL})
	p.release()
}

// release lets go of what the process held once it is over: the
// terminal, the pidfd, and its place in the Tracer's tables.
func (p *Process) release() {
	p.term.restore()
	p.term = nil
	if p.handle != nil {
		p.handle.Release()
	}
	p.owner.forget(p)
}

// errNotStopped names why a thread cannot be ptraced now.
var errNotStopped = errors.New("thread is not stopped")
