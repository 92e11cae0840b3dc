package linux

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/x86cpu"
	"gdbserverx/target"
)

// tracer is the goroutine that owns a traced process: every ptrace call
// and every wait4 come from it, on one OS thread locked for its whole life
// (ptrace binds a tracee to the tracer's thread, and wait4 with
// __WNOTHREAD sees only that thread's tracees, so several processes can be
// traced by one server without stealing each other's events).
//
// While the process runs it blocks in wait4; while it is stopped it serves
// requests from its channel. All fields are owned by it.
type tracer struct {
	p *Process // immutable fields only, and the atomics documented there
	c *counters

	threads    map[int]*thread
	order      []*thread  // creation order, main thread first; may hold gone threads
	nGone      int        // gone threads still in order
	nRunning   int        // threads in state running
	nListening int        // threads in state listening
	regs       *regLayout // the register file and where it comes from; set at the first stop

	want     target.DebugRegisters // the image every thread must hold when it runs
	syscalls bool                  // resume with PTRACE_SYSCALL, report syscall exits
	entries  bool                  // resume with PTRACE_SYSCALL, report syscall entries
	gen      uint64                // run number, as in Process.run

	// filter is offered the stops of a run (filter.go).
	filter target.StopFilterFunc

	// sysInsn is the address of a syscall instruction (0f 05) in the
	// vDSO, for InjectSyscall; 0 until looked for, ^0 when there is none.
	// Reset at exec.
	sysInsn uint64

	worldStopped bool // every thread is stopped and requests are served
	stopping     bool // a thread reported an event: stop the others
	killing      bool // SIGKILL sent: reap until the main thread's status
	over         bool // the process ended or was detached

	stops   []target.ThreadStop     // the reasons of the stop being collected
	queue   []target.Event          // events not yet taken from Process.events
	orphans map[int]unix.WaitStatus // first stops of children whose parent has not reported them yet
	vforks  map[int]bool            // threads in a vfork whose child shares the memory

	xsBuf   []byte
	planBuf []target.DebugWrite
	sigchld chan os.Signal // only while every resumed thread is group-stopped
	term    *terminal      // foreground process group to give back at the end

	// drFault, when set, is called before each debug-register write and
	// may refuse it (tests inject ENOSPC with it).
	drFault func(tid, reg int, v uint64) error
}

func newTracer(p *Process) *tracer {
	quietStops()
	return &tracer{
		p:       p,
		c:       &p.c,
		threads: map[int]*thread{},
		orphans: map[int]unix.WaitStatus{},
		vforks:  map[int]bool{},
		// x87 and SSE until the first stop shows what the process has
		// (probeRegisters).
		regs: newRegLayout(false, 0, 0, x86cpu.Host()),
	}
}

// start runs the tracer goroutine: it locks its OS thread, runs begin
// (which forks or seizes the process, so that this thread is its tracer)
// and reports begin's result on started; then it serves the process until
// the end. The thread is never unlocked: it exits with the goroutine.
func (tr *tracer) start(begin func() error) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := begin(); err != nil {
			started <- err
			return
		}
		tr.probeRegisters()
		tr.worldStopped = true
		tr.openGate()
		started <- nil
		for !tr.over {
			if tr.worldStopped {
				tr.serve()
			} else {
				tr.runPhase()
			}
		}
		tr.finish()
	}()
	return <-started
}

// openGate lets requests in: the world is stopped.
func (tr *tracer) openGate() {
	g := make(chan struct{})
	tr.p.gate.Store(&g)
}

// closeGate turns requests away (ErrRunning or ErrExited) and releases
// callers waiting to send one.
func (tr *tracer) closeGate() {
	if g := tr.p.gate.Swap(nil); g != nil {
		close(*g)
	}
}

// serve answers requests while the world is stopped, and hands queued
// events to the reader.
func (tr *tracer) serve() {
	for tr.worldStopped && !tr.over {
		var out chan<- target.Event
		var head target.Event
		if len(tr.queue) > 0 {
			out, head = tr.p.events, tr.queue[0]
		}
		select {
		case r := <-tr.p.reqs:
			tr.handle(r)
		case <-tr.p.killed:
			// Kill has sent SIGKILL: the threads die in their stops;
			// reap them.
			tr.killing = true
			tr.worldStopped = false
			tr.closeGate()
		case out <- head:
			tr.queue = tr.queue[1:]
			if head.Kind == target.EventStopped {
				tr.c.stops.Add(1)
			}
			tr.notifyEvents()
		}
	}
}

func (tr *tracer) handle(r request) {
	switch r.(type) {
	case readRegsReq, threadsReq:
	default:
		// Anything else may change a register (a write, a resume, a
		// step or an injected call): the snapshot goes first.
		tr.p.regs.Store(nil)
	}
	switch r := r.(type) {
	case threadsReq:
		r.reply <- tr.liveTids()
	case readRegsReq:
		th, err := tr.stoppedThread(r.tid)
		if err == nil {
			err = tr.readRegisters(th, r.buf)
		}
		r.reply <- err
	case writeRegsReq:
		th, err := tr.stoppedThread(r.tid)
		if err == nil {
			err = tr.writeRegisters(th, r.buf)
		}
		r.reply <- err
	case resumeReq:
		r.reply <- tr.resume(r.actions)
	case setDRReq:
		tr.want = r.img
		r.reply <- nil
	case syscallsReq:
		tr.syscalls = r.on
		r.reply <- nil
	case entriesReq:
		tr.entries = r.on
		r.reply <- nil
	case filterReq:
		tr.filter = r.f
		r.reply <- nil
	case stepThreadReq:
		st, err := tr.stepThreadReq(r.tid, r.sig)
		r.reply <- stepThreadReply{st, err}
	case injectReq:
		v, err := tr.injectReq(r.tid, r.nr, r.args)
		r.reply <- injectReply{v, err}
	case detachReq:
		r.reply <- tr.detach()
	case funcReq:
		r.f(tr)
		r.reply <- nil
	default:
		r.fail(fmt.Errorf("unknown request %T", r))
	}
}

// finish delivers the last events, closes Events and releases what the
// process held.
func (tr *tracer) finish() {
	for _, ev := range tr.queue {
		tr.notifyEvents() // the reader may be waiting for word to drain
		tr.p.events <- ev
		if ev.Kind == target.EventStopped {
			tr.c.stops.Add(1)
		}
	}
	tr.queue = nil
	close(tr.p.events)
	tr.notifyEvents()
	if tr.sigchld != nil {
		signal.Stop(tr.sigchld)
	}
	tr.term.restore()
	tr.p.handle.Release()
	close(tr.p.done)
}

// notifyEvents calls the function of NotifyEvents, if any.
func (tr *tracer) notifyEvents() {
	if f := tr.p.notify.Load(); f != nil {
		(*f)()
	}
}

// end marks the process unusable for why (ErrExited, detached).
func (tr *tracer) end(why error) {
	tr.over = true
	tr.p.ended.Store(&why)
	tr.closeGate()
	tr.p.run.Store(0)
	tr.p.doorbellTid.Store(0)
	tr.p.mem.close()
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
func (tr *tracer) resume(actions []target.Action) error {
	tr.p.regs.Store(nil)
	for _, a := range actions {
		if a.Tid != 0 && tr.threads[int(a.Tid)] == nil {
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
	for _, th := range tr.order {
		if th.gone || th.state != stopped {
			continue
		}
		if a, ok := findAction(actions, th.tid); ok {
			plan = append(plan, item{th, a})
		}
	}
	if len(plan) == 0 {
		return errors.New("resume: the actions name no live thread")
	}
	for _, it := range plan {
		err := tr.applyDR(it.th)
		if err == nil {
			err = tr.flushRegs(it.th)
		}
		if err != nil {
			if isGone(err) {
				tr.removeThread(it.th) // killed from outside; its status comes
				continue
			}
			return err
		}
	}
	// Interrupt must find a thread to signal as soon as the run starts.
	var bell int64
	for _, it := range plan {
		if !it.th.gone && (it.a.Kind == target.Step || !it.th.groupStop || it.a.Signal != 0) {
			bell = int64(it.th.tid)
			break
		}
	}
	select {
	case <-tr.p.wake:
	default:
	}
	tr.p.doorbellTid.Store(bell)
	tr.gen++
	tr.p.run.Store(tr.gen<<runGenShift | runRunning)
	tr.worldStopped = false
	tr.closeGate()
	for _, it := range plan {
		if it.th.gone {
			continue
		}
		sig := int(it.a.Signal)
		if sig == 0 {
			sig = it.th.requeue
		}
		it.th.requeue = 0
		tr.resumeThread(it.th, it.a.Kind, sig)
	}
	tr.pickDoorbell()
	return nil
}

// resumeThread restarts one stopped thread. A group-stopped thread that is
// to continue without a signal goes back to its group-stop with
// PTRACE_LISTEN: the job-control stop of the program is kept (it runs at
// SIGCONT), and the tracer still hears of it.
func (tr *tracer) resumeThread(th *thread, kind target.ResumeKind, sig int) {
	if err := tr.flushRegs(th); err != nil && isGone(err) {
		tr.removeThread(th)
		return
	}
	th.kind = kind
	th.regs.invalidate()
	th.stop = stopPlain
	req, next := unix.PTRACE_CONT, running
	switch {
	case kind == target.Step:
		req = unix.PTRACE_SINGLESTEP
	case th.groupStop && sig == 0:
		req, next = unix.PTRACE_LISTEN, listening
	case tr.syscalls || tr.entries:
		req = unix.PTRACE_SYSCALL
	}
	if err := tr.c.ptrace(req, th.tid, 0, uintptr(sig)); err != nil {
		// ESRCH: killed from outside while stopped; its status comes.
		tr.removeThread(th)
		return
	}
	th.state = next
	if next == running {
		tr.nRunning++
		if tr.p.doorbellTid.Load() == 0 && !tr.stopping {
			tr.p.doorbellTid.Store(int64(th.tid))
		}
	} else {
		tr.nListening++
		if int64(th.tid) == tr.p.doorbellTid.Load() {
			tr.pickDoorbell()
		}
	}
}

// restart resumes a thread after a stop that is not an event, the way it
// was running.
func (tr *tracer) restart(th *thread) { tr.resumeThread(th, th.kind, 0) }

// quiet handles a stop that is not an event: during a run the thread goes
// on; while the world is being stopped it stays stopped.
func (tr *tracer) quiet(th *thread) {
	if !tr.stopping {
		tr.restart(th)
	}
}

// runPhase waits for events while the process runs, until one of them
// stops the world (or the process ends).
func (tr *tracer) runPhase() {
	for !tr.over {
		select {
		case <-tr.p.killed:
			tr.killing = true
		default:
		}
		select {
		case <-tr.p.wake:
			// Interrupt found no thread to ring (all were listening) and
			// left this token instead of a doorbell; a thread may run
			// again now: stop the world directly rather than wait.
			if tr.p.run.Load()&runInterrupted != 0 {
				tr.stopping = true
			}
		default:
		}
		if !tr.killing && !tr.stopping && tr.nRunning == 0 {
			switch {
			case tr.nListening > 0:
				// Every resumed thread is group-stopped: no thread takes a
				// doorbell, so wait in a way Interrupt can wake.
				tr.listenWait()
				continue
			case len(tr.threads) > 0 && tr.anyAlive():
				// Every resumed thread exited; the others are stopped.
				tr.stopping = true
			}
			// Else no thread is left: the main thread's status is coming.
		}
		if tr.stopping {
			tr.stopWorld()
			if !tr.over {
				tr.finishStop()
			}
			return
		}
		wpid, ws, err := tr.c.wait4(-1, true)
		if err != nil {
			tr.lost(err)
			return
		}
		tr.dispatch(wpid, ws)
	}
}

// anyAlive says whether a stopped thread is still in its stop. Threads
// that a SIGKILL (exit_group of another thread, Kill) woke from their
// stops answer ESRCH: they are dying, and are taken out.
func (tr *tracer) anyAlive() bool {
	alive := false
	for _, th := range tr.order {
		if th.gone {
			continue
		}
		if _, err := tr.c.peekDebugReg(th.tid, 7); isGone(err) {
			tr.removeThread(th)
			continue
		}
		alive = true
	}
	return alive
}

// listenWait waits while every running thread is in PTRACE_LISTEN. A
// group-stopped thread takes no signal, so Interrupt cannot ring a
// doorbell; instead it leaves a token on Process.wake, and this loop
// watches that, Kill, and SIGCHLD (which every tracee state change sends)
// around non-blocking wait4 calls.
func (tr *tracer) listenWait() {
	if tr.sigchld == nil {
		tr.sigchld = make(chan os.Signal, 1)
		signal.Notify(tr.sigchld, syscall.SIGCHLD)
	}
	defer listenSIGCHLD()()
	for {
		select {
		case <-tr.sigchld:
		default:
		}
		wpid, ws, err := tr.c.wait4(-1, false)
		if err != nil {
			tr.lost(err)
			return
		}
		if wpid > 0 {
			tr.dispatch(wpid, ws)
			return
		}
		// Interrupt sets the flag, then reads the doorbell thread, which
		// pickDoorbell cleared before this loop began: either it sees no
		// thread and leaves the token, or the flag is seen here.
		if tr.p.run.Load()&runInterrupted != 0 {
			tr.stopping = true
			return
		}
		select {
		case <-tr.sigchld:
		case <-tr.p.wake:
			if tr.p.run.Load()&runInterrupted != 0 {
				tr.stopping = true
				return
			}
		case <-tr.p.killed:
			tr.killing = true
			return
		}
	}
}

// lost ends the process when wait4 fails (ECHILD: no tracee is left,
// though the main thread's status was never seen).
func (tr *tracer) lost(err error) {
	tr.end(fmt.Errorf("process %d lost: %v: %w", tr.p.pid, err, target.ErrExited))
	tr.queue = append(tr.queue, target.Event{Kind: target.EventSignaled, Signal: target.SIGKILL})
}

// stopWorld stops every thread still running after an event: each gets a
// PTRACE_INTERRUPT and is waited for. A thread may report a real event
// instead; it is kept as another entry of the stop. (Such a thread may
// also report the interrupt's PTRACE_EVENT_STOP when next resumed: that
// one is recognised and swallowed in onEventStop.)
func (tr *tracer) stopWorld() {
	tr.stopping = true
	for _, th := range tr.order {
		if th.gone || th.state == stopped {
			continue
		}
		if err := tr.c.ptrace(unix.PTRACE_INTERRUPT, th.tid, 0, 0); err != nil {
			tr.removeThread(th) // dead already
		}
	}
	for tr.nRunning+tr.nListening > 0 && !tr.over {
		wpid, ws, err := tr.c.wait4(-1, true)
		if err != nil {
			tr.lost(err)
			return
		}
		tr.dispatch(wpid, ws)
	}
}

// finishStop completes an all-stop: registers of the reporting threads
// are fetched (the server reads PC, SP and FP at once), the run state is
// cleared, requests are let in and the event is queued.
func (tr *tracer) finishStop() {
	stops := make([]target.ThreadStop, 0, len(tr.stops))
	snap := &regSnapshot{files: make(map[target.Tid][]byte, len(tr.stops))}
	for _, st := range tr.stops {
		th := tr.threads[int(st.Tid)]
		if th == nil {
			continue
		}
		if tr.loadGP(th) != nil || tr.loadFX(th) != nil {
			continue
		}
		st.PC = th.regs.gp.Rip
		stops = append(stops, st)
		if _, ok := snap.files[st.Tid]; !ok {
			f := make([]byte, tr.p.desc.Size())
			if tr.readRegisters(th, f) == nil {
				snap.files[st.Tid] = f
			}
		}
	}
	tr.p.regs.Store(snap)
	tr.stops = nil
	tr.stopping = false
	v := tr.p.run.Swap(tr.gen << runGenShift)
	tr.p.doorbellTid.Store(0)
	tr.worldStopped = true
	tr.openGate()
	tr.queue = append(tr.queue, target.Event{
		Kind:        target.EventStopped,
		Stops:       stops,
		Interrupted: v&runInterrupted != 0,
		Threads:     tr.liveTids(),
	})
}
