package server

import (
	"errors"
	"fmt"
	"time"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// Non-stop mode (GDB manual, "Remote Non-Stop"; DESIGN.md, "Several
// clients, one target"). A client that sends QNonStop:1 is in state
// clientNonStop: it is served at once, whatever runs, and it is told
// stops as %Stop notifications that it drains with vStopped. While such a
// client is connected the target is in non-stop mode too (target.NonStop):
// an event stops its own thread, and each thread runs or not by itself.
//
// The all-stop rule, "the program runs only while no client holds it",
// becomes a rule per thread: a thread runs only while no client holds
// it. A non-stop client holds the threads it was told stopped (by a
// notification, or by '?') until it resumes them; an all-stop client
// that is told a stop holds every thread, as before, until it resumes.
// Its stop is told only once every thread has stopped: the server stops
// them (StopThreads), as gdbserver stops every lwp for an all-stop gdb
// on a non-stop target. A thread nobody holds runs as it was last
// resumed: the running all-stop clients' actions combined (as in
// all-stop), else how a non-stop client last resumed it. Holds are
// invisible to the other clients: a thread another client holds is, to
// a non-stop gdb that resumed it, simply slow; `monitor clients` shows
// who holds what.
//
// With no non-stop client left, the target goes back to all-stop mode at
// the next moment every thread is stopped (all-stop's path is the
// faster: one stop of the world per event, no stop per thread).

// threadRun is one thread's run state in non-stop mode.
type threadRun struct {
	running bool
	// holders are the non-stop clients that were told the thread stopped
	// and have not resumed it.
	holders map[*client]bool
	// want is how a non-stop client last resumed it (hasWant: one did);
	// stepper is the non-stop client whose step it runs, if any.
	want    target.Action
	hasWant bool
	stepper *client
	// rangeStart and rangeEnd bound the stepper's range step (vCont;r),
	// zero for a plain step (rangestep.go).
	rangeStart, rangeEnd uint64
	// askers are the clients that asked it to stop (vCont;t, signal 0;
	// vCtrlC or Ctrl-C, SIGINT): each is told when it has.
	askers map[*client]target.Signal
	// sigSent: the all-stop clients' signal for it went with a resume
	// already; until they resume again it is not sent twice.
	sigSent bool
}

func newThreadRun(running bool) *threadRun {
	return &threadRun{running: running, holders: map[*client]bool{}, askers: map[*client]target.Signal{}}
}

// nonStop is the core loop's machinery of non-stop mode; its state is the
// Server's (nonStop, the processes' ns tables) and the clients'.
type nonStop struct{ s *Server }

// wanted says whether a non-stop client is connected: the target is in
// non-stop mode while one is.
func (ns nonStop) wanted() bool {
	return ns.s.clients.anyIn(clientNonStop)
}

// setMode puts every process's target in non-stop mode or takes it out.
// Only while every thread is stopped.
func (ns nonStop) setMode(on bool) {
	s := ns.s
	if s.nonStop == on {
		return
	}
	for _, p := range s.procs {
		if err := ns.setProcessMode(p, on); err != nil {
			s.log.printf("non-stop mode: process %d: %v", p.pid, err)
		}
	}
	s.nonStop = on
	s.log.debugf("target in non-stop mode: %v", on)
}

// setProcessMode puts one process's target in the server's mode, every
// thread stopped.
func (ns nonStop) setProcessMode(p *process, on bool) error {
	nst, ok := p.t.(target.NonStop)
	if !ok {
		return errNoNonStop
	}
	if err := nst.SetNonStop(on); err != nil {
		return err
	}
	p.interrupted = false
	p.ns = nil
	if on {
		p.ns = make(map[target.Tid]*threadRun, len(p.threads))
		for _, tid := range p.threads {
			p.ns[tid] = newThreadRun(false)
		}
	}
	return nil
}

// threadsStopped brings the thread table up to date with an event of p in
// non-stop mode: threads that appeared since run (a new thread starts
// running), threads that are gone are forgotten, and the threads of the
// event's stops are stopped.
func threadsStopped(p *process, ev *target.Event) {
	present := make(map[target.Tid]bool, len(ev.Threads))
	for _, tid := range ev.Threads {
		present[tid] = true
		if p.ns[tid] == nil {
			p.ns[tid] = newThreadRun(true)
		}
	}
	for _, ts := range ev.Stops {
		if p.ns[ts.Tid] == nil {
			p.ns[ts.Tid] = newThreadRun(false)
		}
		p.ns[ts.Tid].running = false
	}
	for tid := range p.ns {
		if !present[tid] {
			delete(p.ns, tid)
		}
	}
	p.running = anyThreadRunning(p)
}

// asked makes the stops of the clients that asked a thread to stop and
// are told nothing else of it by this stop.
func (ns nonStop) asked(p *process, tid target.Tid) {
	th := p.ns[tid]
	if th == nil || len(th.askers) == 0 {
		return
	}
	for c, sig := range th.askers {
		if !p.pending.addressedTo(tid, c) {
			p.pending = append(p.pending, &stop{kind: stopInterrupt, tid: tid, signal: sig, to: map[*client]stopNote{c: {}}})
		}
	}
	clear(th.askers)
}

// anyThreadRunning says whether a thread of p runs (non-stop mode).
func anyThreadRunning(p *process) bool {
	for _, th := range p.ns {
		if th.running {
			return true
		}
	}
	return false
}

// settle is Server.settle in non-stop mode: non-stop clients are told
// their stops at once and hold those threads; an all-stop client owed a
// stop has every thread stopped and is then told; threads nobody holds
// run.
func (ns nonStop) settle() {
	s := ns.s
	defer ns.flushAll()
	for _, p := range s.procs {
		ns.notifyStops(p)
	}
	for _, p := range s.procs {
		p.pending.dropDelivered()
	}
	if !ns.wanted() || s.clients.live() == 0 {
		// Back to all-stop mode once every thread is stopped.
		if s.procs.anyRunning() {
			ns.stopWorld()
			return
		}
		ns.setMode(false)
		s.settle()
		return
	}
	if ns.worldHeld() {
		if s.procs.anyRunning() {
			ns.stopWorld()
			return
		}
		for _, c := range s.clients.inState(clientRunning) {
			p, st := s.nextStopFor(c)
			if st == nil && c.interrupted {
				p = c.cur()
				st = &stop{kind: stopInterrupt, tid: p.lastTid, signal: target.SIGINT, to: map[*client]stopNote{c: {}}}
				if !p.has(st.tid) && len(p.threads) > 0 {
					st.tid = p.threads[0]
				}
				p.pending = append(p.pending, st)
			}
			if st != nil {
				s.tellStop(c, p, st)
				c.serveQueued()
			}
		}
		for _, p := range s.procs {
			p.pending.dropDelivered()
		}
		for _, c := range s.clients.inState(clientWaiting) {
			c.hold()
		}
		if ns.worldHeld() {
			return
		}
	}
	for _, p := range s.procs {
		ns.runThreads(p)
	}
}

// worldHeld says whether an all-stop client holds every thread, or is to
// be told a stop (or waits to hold them) once they have all stopped.
func (ns nonStop) worldHeld() bool {
	s := ns.s
	if s.clients.anyIn(clientStopped) || s.clients.anyIn(clientWaiting) {
		return true
	}
	for _, c := range s.clients.inState(clientRunning) {
		if c.interrupted {
			return true
		}
		if _, st := s.nextStopFor(c); st != nil {
			return true
		}
	}
	return false
}

// stopWorld asks every running thread to stop.
func (ns nonStop) stopWorld() {
	for _, p := range ns.s.procs {
		if p.running {
			if nst, ok := p.t.(target.NonStop); ok {
				if err := nst.StopThreads(nil); err != nil {
					ns.s.log.debugf("stop threads of %d: %v", p.pid, err)
				}
			}
		}
	}
}

// notifyStops gives the non-stop clients their pending stops of p: each
// is queued for the client, which holds the thread from now on.
func (ns nonStop) notifyStops(p *process) {
	for _, st := range p.pending {
		for c, note := range st.to {
			if c.state != clientNonStop {
				continue
			}
			delete(st.to, c)
			if !stillTrue(c, p, st) {
				continue
			}
			if th := p.ns[st.tid]; th != nil {
				th.holders[c] = true
				if th.stepper == c && st.kind == stopStep {
					th.stepper = nil
				}
			}
			p.lastTid = st.tid
			p.lastStop = st
			ns.queueStop(c, stopPayload(c, p, st, note))
		}
	}
}

// runThreads resumes the stopped threads of p that nobody holds and
// somebody resumed.
func (ns nonStop) runThreads(p *process) {
	s := ns.s
	var actions []target.Action
	allStop := p.combinedActions(p.fk.knowing(s.clients.inState(clientRunning)))
	for _, tid := range p.threads {
		th := p.ns[tid]
		if th == nil || th.running || len(th.holders) > 0 || p.pending.addressed(tid) {
			continue
		}
		a, ok := actionOf(allStop, tid)
		if ok && th.sigSent {
			a.Signal = 0
		}
		if th.hasWant && (!ok || th.want.Kind == target.Step) {
			a, ok = th.want, true
		}
		if !ok {
			continue
		}
		a.Tid = tid
		actions = append(actions, a)
	}
	if len(actions) == 0 {
		return
	}
	if err := ns.resume(p, actions); err != nil {
		s.log.printf("resume: %v", err)
		return
	}
	for _, a := range actions {
		th := p.ns[a.Tid]
		th.running = true
		th.sigSent = true
		th.want.Signal = 0
	}
	p.running = true
}

// actionOf finds the action for tid in a list.
func actionOf(actions []target.Action, tid target.Tid) (target.Action, bool) {
	for _, a := range actions {
		if a.Tid == tid {
			return a, true
		}
	}
	return target.Action{}, false
}

// stopThread serves a client's request that a thread stop (vCont;t, with
// signal 0; vCtrlC and Ctrl-C, SIGINT): a running thread is asked to, and
// the client told when it has; a stopped one is told at once.
func (ns nonStop) stopThread(c *client, p *process, tid target.Tid, sig target.Signal) {
	th := p.ns[tid]
	if th == nil {
		return
	}
	if th.running {
		th.askers[c] = sig
		if nst, ok := p.t.(target.NonStop); ok {
			if err := nst.StopThreads([]target.Tid{tid}); err != nil {
				ns.s.log.debugf("stop thread %d: %v", tid, err)
			}
		}
		return
	}
	if !th.holders[c] {
		p.pending = append(p.pending, &stop{kind: stopInterrupt, tid: tid, signal: sig, to: map[*client]stopNote{c: {}}})
	}
}

// forget drops a client that leaves, or goes back to all-stop, from the
// threads it held, stepped or asked to stop.
func (ns nonStop) forget(c *client) {
	for _, p := range ns.s.procs {
		for _, th := range p.ns {
			delete(th.holders, c)
			delete(th.askers, c)
			if th.stepper == c {
				th.stepper = nil
			}
		}
	}
}

// flushAll sends each non-stop client the first of its queued stops, as a
// %Stop notification, unless one is out already.
func (ns nonStop) flushAll() {
	for _, c := range ns.s.clients.inState(clientNonStop) {
		ns.notifyNext(c)
	}
}

// holds says which threads a client holds (monitor clients): "all" for
// an all-stop client that holds the processes, a count for a non-stop
// client, "-" for none.
func (ns nonStop) holds(c *client) string {
	if c.state == clientStopped && len(ns.s.procs) > 0 {
		return "all"
	}
	n := 0
	for _, p := range ns.s.procs {
		for _, th := range p.ns {
			if th.holders[c] {
				n++
			}
		}
	}
	switch n {
	case 0:
		return "-"
	case 1:
		return "1 thread"
	}
	return fmt.Sprintf("%d threads", n)
}

// The non-stop client's side: its stop replies wait in a queue; the first
// goes out as a %Stop notification, and each vStopped acknowledges the
// one sent last and asks for the next (GDB manual, "Remote Non-Stop").

// queueStop queues a stop reply for c (its payload is copied).
func (nonStop) queueStop(c *client, payload []byte) {
	c.stops = append(c.stops, append([]byte(nil), payload...))
}

// notifyNext sends the first queued stop as a notification, unless the
// client is still draining an earlier one.
func (nonStop) notifyNext(c *client) {
	if c.notifying || len(c.stops) == 0 || c.state == clientGone {
		return
	}
	c.notifying = true
	b := append(c.scratch(), "Stop:"...)
	b = append(b, c.stops[0]...)
	c.buf = b[:0]
	if c.io.debug != nil {
		c.io.debug("client #%d: putpkt (\"%%%s\"); [notif]", c.id, printable(b))
	}
	c.io.ep.SendNotification(b)
	c.io.flush()
}

// vStopped answers vStopped: the stop sent last is acknowledged; the next
// one is the reply, or OK when none is left.
func (nonStop) vStopped(c *client) {
	if c.notifying && len(c.stops) > 0 {
		c.stops[0] = nil
		c.stops = c.stops[1:]
	}
	if len(c.stops) == 0 {
		c.notifying = false
		c.replyOK()
		return
	}
	c.reply(append(c.scratch(), c.stops[0]...))
}

// setNonStop serves QNonStop. Entering non-stop mode changes no thread's
// state (GDB manual): the client holds nothing until it is told a stop,
// or asks with '?'. Leaving it, the client holds every thread again, as
// an all-stop client that was just told a stop.
func (ns nonStop) setNonStop(c *client, on bool) {
	s := c.s
	if on == (c.state == clientNonStop) {
		c.replyOK()
		return
	}
	if on && !s.offer.nonStop {
		c.replyError(rsp.CodeNotImplemented)
		return
	}
	if on {
		c.resume = nil
		c.setState(clientNonStop)
		if !s.nonStop {
			if s.procs.anyRunning() {
				s.procs.interruptAll() // the mode changes once they stop (settle)
			} else {
				ns.setMode(true)
			}
		}
	} else {
		ns.forget(c)
		c.stops, c.notifying = nil, false
		c.setState(clientStopped)
	}
	c.replyOK()
}

// haltReasonNonStop answers '?' in non-stop mode: every stopped thread,
// the first as the reply and the others by vStopped; the client holds
// them all. OK when every thread runs.
func (ns nonStop) haltReason(c *client) {
	s := c.s
	c.stops, c.notifying = nil, false
	for _, p := range c.visible() {
		if p.ns == nil {
			continue // the mode changes once it stops
		}
		for _, tid := range p.threads {
			th := p.ns[tid]
			if th == nil || th.running {
				continue
			}
			st := p.lastStop
			if st == nil || st.tid != tid {
				st = &stop{kind: stopInterrupt, tid: tid}
			}
			th.holders[c] = true
			ns.queueStop(c, stopPayload(c, p, st, stopNote{}))
		}
	}
	if len(c.stops) == 0 {
		if len(s.procs) == 0 && s.lastExit != nil {
			c.reply(s.lastExit.AppendPayload(c.scratch()))
			return
		}
		c.replyOK()
		return
	}
	c.notifying = true
	c.reply(append(c.scratch(), c.stops[0]...))
}

// resumeNonStop serves vCont (and c, s, C, S) of a non-stop client: each
// thread takes the first action that names it; stopped threads the
// client resumes are released and run as asked (once nobody else holds
// them), running threads asked to stop are stopped. The reply is OK at
// once; stops come as notifications.
func (ns nonStop) resumeRequest(c *client, r *rsp.Resume) {
	r.Resolve(c.cThread)
	for _, p := range c.visible() {
		for _, tid := range p.threads {
			a := actionIn(r, p, tid)
			th := p.ns[tid]
			if a == nil || th == nil {
				continue
			}
			if a.Kind == rsp.ResumeStop {
				ns.stopThread(c, p, tid, 0)
				continue
			}
			if th.running {
				continue
			}
			delete(th.holders, c)
			kind := target.Continue
			if a.Kind == rsp.ResumeStep || a.Kind == rsp.ResumeRangeStep {
				kind = target.Step
			}
			sig, _ := linuxSignal(a.Signal)
			th.want, th.hasWant = target.Action{Tid: tid, Kind: kind, Signal: sig}, true
			th.rangeStart, th.rangeEnd = 0, 0
			if a.Kind == rsp.ResumeRangeStep && a.RangeEnd > a.RangeStart {
				th.rangeStart, th.rangeEnd = a.RangeStart, a.RangeEnd
			}
			switch {
			case kind == target.Step:
				th.stepper = c
			case th.stepper == c:
				th.stepper = nil
			}
		}
	}
	c.replyOK()
}

// interruptNonStop serves vCtrlC and Ctrl-C of a non-stop client: a
// running thread of its current process stops with SIGINT, as gdbserver
// interrupts the program.
func (ns nonStop) interrupt(c *client) {
	p := c.cur()
	if p == nil || p.ns == nil {
		return
	}
	for _, tid := range p.threads {
		if th := p.ns[tid]; th != nil && th.running {
			ns.stopThread(c, p, tid, target.SIGINT)
			return
		}
	}
}

// actionIn is the first action of r that names thread tid of p, or nil.
func actionIn(r *rsp.Resume, p *process, tid target.Tid) *rsp.ResumeAction {
	for i := range r.Actions {
		a := &r.Actions[i]
		if !a.HasThread {
			return a
		}
		t := a.Thread
		if t.Multiprocess && t.Pid > 0 && t.Pid != int64(p.pid) {
			continue
		}
		if t.Tid == rsp.IDAll || t.Tid == int64(tid) {
			return a
		}
	}
	return nil
}

// applyNow brings a process whose threads run (non-stop mode) to what its
// clients inserted and removed: at once, not at the next resume, since
// another thread may run into the point meanwhile (gdb keeps its
// breakpoints inserted in non-stop mode, so there is no churn to save).
func (ns nonStop) applyNow(p *process) {
	if !ns.s.nonStop || !p.running {
		return
	}
	if err := p.applyBreakpoints(); err != nil {
		ns.s.log.printf("%v", err)
	}
	if err := ns.s.prepareDebugRegisters(p); err != nil {
		ns.s.log.printf("debug registers of process %d: %v", p.pid, err)
	}
}

// resume resumes some stopped threads of p (non-stop mode), with the
// breakpoints and debug registers brought up to date first; when the
// kernel refuses a slot, the plan is made with one slot less and tried
// again, as in all-stop (resumeProcess).
func (ns nonStop) resume(p *process, actions []target.Action) error {
	s := ns.s
	applyPassSignals(s, p)
	err := p.applyBreakpoints()
	if err == nil {
		err = p.fk.follow(s.clients)
	}
	if err == nil {
		err = p.catching.apply(p, s.clients)
	}
	for err == nil {
		if err = s.prepareDebugRegisters(p); err != nil {
			break
		}
		s.log.debugf("resume %d %v (non-stop)", p.pid, actions)
		if err = p.t.Resume(actions); err == nil {
			return nil
		}
		if errors.Is(err, target.ErrNoSpace) {
			if n, ok := p.dp.NoSpace(time.Now()); ok {
				s.log.printf("the kernel refused a debug-register slot (another perf user holds it); planning with %d", n)
				err = nil
			}
		}
	}
	return err
}

// errNoNonStop: the target cannot run threads independently.
var errNoNonStop = errors.New("the target has no non-stop mode")

// refreshThreads brings p's thread list up to date between events
// (non-stop mode): threads start and end while others run, with no event
// of theirs, and gdb lists them (qfThreadInfo, qXfer:threads, T). A new
// thread runs.
func refreshThreads(p *process) {
	if p.ns == nil || !p.running {
		return
	}
	ths, err := p.t.Threads()
	if err != nil {
		return
	}
	p.threads = p.threads[:0]
	present := make(map[target.Tid]bool, len(ths))
	for _, th := range ths {
		p.threads = append(p.threads, th.Tid)
		present[th.Tid] = true
		if p.ns[th.Tid] == nil {
			p.ns[th.Tid] = newThreadRun(true)
		}
	}
	for tid := range p.ns {
		if !present[tid] {
			delete(p.ns, tid)
		}
	}
}
