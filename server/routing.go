package server

import (
	"errors"
	"fmt"
	"time"

	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/target"
)

// Routing: who is told what, and when the process runs (DESIGN.md,
// "Several clients, one target"). A target event becomes pending stops
// (onEvent), each addressed to the running clients it concerns; settle,
// after every message and event, tells each running client its next
// pending stop (tellStop), lets waiting clients take the process, and
// resumes the process once every client runs (resumeProcess), with their
// requests combined (process.combinedActions).

// stopKind classifies a stop for routing (DESIGN.md, "Several clients,
// one target"): who is told depends on the kind.
type stopKind int

const (
	stopSignal        stopKind = iota // a signal for the program: every client
	stopBreak                         // a software breakpoint: its owners
	stopStep                          // a single step finished: the steppers
	stopInterrupt                     // Ctrl-C or a new client: who asked
	stopExec                          // the program called exec: every client
	stopWatch                         // hardware points fired, or a kernel write: their owners
	stopFork                          // fork, vfork, vforkdone: who asked for fork events (fork.go)
	stopSyscallEntry                  // a caught system call entered: the clients that catch it (syscalls.go)
	stopSyscallReturn                 // a caught system call returned: the same
)

func (k stopKind) String() string {
	switch k {
	case stopSignal:
		return "signal"
	case stopBreak:
		return "breakpoint"
	case stopStep:
		return "step"
	case stopInterrupt:
		return "interrupt"
	case stopExec:
		return "exec"
	case stopWatch:
		return "watch"
	case stopFork:
		return "fork"
	case stopSyscallEntry:
		return "syscall-entry"
	case stopSyscallReturn:
		return "syscall-return"
	}
	return fmt.Sprintf("stopKind(%d)", int(k))
}

// stop is one reason to stop, waiting to be told to the clients it
// concerns. A client gets one stop reply per resume; the rest wait for its
// next resume, as gdbserver keeps a pending status per thread.
type stop struct {
	kind   stopKind
	tid    target.Tid
	signal target.Signal  // Linux signal reported (SIGTRAP for traps)
	addr   uint64         // breakpoint address
	info   []byte         // siginfo, for qXfer:siginfo:read
	exec   string         // new program (stopExec)
	reason rsp.StopReason // fork, vfork or vforkdone (stopFork)
	child  int            // the child's pid (stopFork of a fork or vfork)
	// syscall is the system call number of stopSyscallEntry and
	// stopSyscallReturn.
	syscall int
	// to holds the clients still to tell, each with what it is told
	// beyond the signal (a watchpoint's address, say).
	to map[*client]stopNote
}

// stopNote is the client-specific part of a stop reply.
type stopNote struct {
	reason rsp.StopReason
	addr   uint64
}

// tellAll addresses a stop to every client in cs.
func (st *stop) tellAll(cs []*client) {
	for _, c := range cs {
		st.to[c] = stopNote{}
	}
}

// pendingStops are the stops of the process not yet told to every client
// they concern, in the order they happened.
type pendingStops []*stop

// addWatches makes pending stops of watchpoint hits: one per hit, so
// that a client with two hits in one stop is told both, one per resume.
func (ps *pendingStops) addWatches(ts *target.ThreadStop, hits map[*client][]stopNote) {
	for round := 0; ; round++ {
		var st *stop
		for c, notes := range hits {
			if round < len(notes) {
				if st == nil {
					st = &stop{kind: stopWatch, tid: ts.Tid, signal: target.SIGTRAP, info: ts.SigInfo, to: map[*client]stopNote{}}
				}
				st.to[c] = notes[round]
			}
		}
		if st == nil {
			return
		}
		*ps = append(*ps, st)
	}
}

// dropDelivered forgets pending stops nobody is left to tell.
func (ps *pendingStops) dropDelivered() {
	out := (*ps)[:0]
	for _, st := range *ps {
		if len(st.to) > 0 {
			out = append(out, st)
		}
	}
	*ps = out
}

// forget drops a client from every pending stop: they are for nobody now.
func (ps pendingStops) forget(c *client) {
	for _, st := range ps {
		delete(st.to, c)
	}
}

// addressed says whether a stop of a thread is still to be told to
// someone: the thread does not run until it is (non-stop mode).
func (ps pendingStops) addressed(tid target.Tid) bool {
	for _, st := range ps {
		if st.tid == tid && len(st.to) > 0 {
			return true
		}
	}
	return false
}

// addressedTo says whether a stop of a thread is still to be told to c.
func (ps pendingStops) addressedTo(tid target.Tid, c *client) bool {
	for _, st := range ps {
		if _, ok := st.to[c]; ok && st.tid == tid {
			return true
		}
	}
	return false
}

// siginfo is the siginfo of a thread's pending stop, if it has one.
func (ps pendingStops) siginfo(tid target.Tid) []byte {
	for _, st := range ps {
		if st.tid == tid && len(st.info) > 0 {
			return st.info
		}
	}
	return nil
}

// onEvent takes a target event of process p: its end, or a stop of all
// its threads whose reasons become pending stops.
func (s *Server) onEvent(p *process, ev target.Event) {
	s.events.engineNotes(&p.notes)
	if ev.Kind != target.EventStopped {
		s.processGone(p, ev)
		return
	}
	s.log.debugf("event: %d stops, interrupted %v", len(ev.Stops), ev.Interrupted)
	p.agent.steppedOver(ev.Stops)
	p.threads = append(p.threads[:0], ev.Threads...)
	p.libsDoc = nil
	p.pass.noteStorm(ev, s.log)
	interrupted := false
	running := p.fk.knowing(s.clients.inState(clientRunning))
	if s.nonStop {
		// Each thread stops by itself; the non-stop clients run every
		// thread they do not hold.
		threadsStopped(p, &ev)
		running = append(running, p.fk.knowing(s.clients.inState(clientNonStop))...)
	} else {
		p.running = false
		interrupted = p.interrupted || ev.Interrupted
		p.interrupted = false
	}

	// Hardware hits first: a watched byte that changed because a thread
	// stored to it trapped (a hit in this very stop) is no kernel write.
	var syscallExits []*target.ThreadStop
	for i := range ev.Stops {
		ts := &ev.Stops[i]
		if ts.Reason == target.StopSyscallExit {
			syscallExits = append(syscallExits, ts)
		}
		s.threadStop(p, ts, running)
		if s.nonStop {
			nonStop{s}.asked(p, ts.Tid)
		}
	}
	if len(syscallExits) > 0 {
		if hits := s.clients.hitNotes(p.dp.KernelWrites(p.t)); len(hits) > 0 {
			p.pending.addWatches(kernelWriter(syscallExits), hits)
		}
	}
	if interrupted {
		st := &stop{kind: stopInterrupt, tid: p.lastTid, signal: target.SIGINT, to: map[*client]stopNote{}}
		if len(ev.Stops) > 0 {
			st.tid = ev.Stops[0].Tid
		}
		for _, c := range running {
			if c.interrupted {
				st.to[c] = stopNote{}
			}
		}
		if len(st.to) > 0 {
			p.pending = append(p.pending, st)
		}
	}
}

// threadStop makes the pending stops of one thread's reason to stop,
// each addressed to the running clients it concerns.
func (s *Server) threadStop(p *process, ts *target.ThreadStop, running []*client) {
	st := &stop{tid: ts.Tid, signal: ts.Signal, info: ts.SigInfo, to: map[*client]stopNote{}}
	switch ts.Reason {
	case target.StopBreakpoint:
		st.kind, st.addr = stopBreak, ts.PC
		if b := p.breaks[ts.PC]; b != nil {
			// Each owner by its conditions and commands (conditions.go).
			p.agent.breakOwners(p, st, b)
		}
	case target.StopWatch, target.StopSyscallExit:
		if sc := syscallStop(ts, running); sc != nil && ts.Reason == target.StopSyscallExit {
			p.pending = append(p.pending, sc)
		}
		// While the server traces system call exits for its own slots,
		// the engine's kernel writes into emulated watchpoints come on
		// the exit stop itself, not as a StopWatch of their own.
		p.pending.addWatches(ts, s.clients.hitNotes(p.dp.EmulatedHits(ts.Watches)))
		return
	case target.StopSyscallEntry:
		if sc := syscallStop(ts, running); sc != nil {
			p.pending = append(p.pending, sc)
		}
		return
	case target.StopDebug:
		step, dh := p.dp.DebugStop(ts.DR6, ts.Watches, p.t)
		hits := s.clients.hitNotes(p.agent.hardwareHits(p, ts.Tid, dh))
		if step {
			st.kind = stopStep
			for _, c := range running {
				if c.steps(p, ts.Tid) && len(hits[c]) == 0 && !stepsOn(c, p, ts) {
					st.to[c] = stopNote{}
				}
			}
			if len(st.to) > 0 {
				p.pending = append(p.pending, st)
			}
		}
		p.pending.addWatches(ts, hits)
		return
	case target.StopExec:
		st.kind = stopExec
		if p.exe != nil {
			st.exec, _ = p.exe.ExecPath()
		}
		st.tellAll(running)
		p.breaks = map[uint64]*swBreak{}
		p.dp = debugpoints.New(p.debugpointOptions())
		p.agent.reset()
	case target.StopSignal:
		if !s.nonStop && p.pass.hold(ts) {
			return // a passed signal, for the thread's next continue
		}
		st.kind = stopSignal
		st.tellAll(running)
	case target.StopFork, target.StopVFork:
		if child := p.forkStop(ts, running); child != nil {
			s.addProc(child)
		}
		return
	case target.StopVForkDone:
		p.vforkDoneStop(ts, running)
		return
	default:
		return
	}
	p.pending = append(p.pending, st)
}

// kernelWriter picks, among the threads stopped at a syscall exit, the one
// whose system call most likely wrote the watched memory: one that writes
// into user buffers (read(2) and its kin) rather than one that waited
// (futex, the sleeps). Writes by the kernel carry no trap to say which.
func kernelWriter(exits []*target.ThreadStop) *target.ThreadStop {
	for _, ts := range exits {
		if !waitingSyscall[ts.Syscall] {
			return ts
		}
	}
	return exits[0]
}

// waitingSyscall lists x86-64 system calls that wait and write no user
// buffer a watchpoint would cover (futex 202, nanosleep 35,
// clock_nanosleep 230, sched_yield 24, pause 34).
var waitingSyscall = map[int]bool{202: true, 35: true, 230: true, 24: true, 34: true}

// settle is called after every message and event: it tells pending stops
// to the running clients they concern, lets clients that waited for the
// processes to stop take them, keeps every process stopped while a
// client holds them (all-stop), and resumes them when every client is
// running.
func (s *Server) settle() {
	if s.exit {
		return
	}
	if s.nonStop {
		nonStop{s}.settle()
		return
	}
	if len(s.procs) == 0 {
		// Clients waiting for a stop of a process that has gone are
		// served now.
		for _, c := range s.clients.inState(clientWaiting) {
			c.hold()
		}
		return
	}
	if !s.procs.anyPending() && !s.procs.anyOrphaned() && !s.clients.anyIn(clientWaiting) && s.clients.anyIn(clientStopped) && !s.procs.anyRunning() {
		return // a client holds the processes and nothing waits: the common case
	}
	if !s.clients.anyDebugging() {
		// Nobody debugs them (every client left, or has detached: idle).
		for _, p := range s.procs {
			if p.orphaned && !p.running {
				s.resumeOrphan(p)
			}
		}
		return
	}
	for _, p := range s.procs {
		p.orphaned = false
	}
	for _, c := range s.clients.inState(clientRunning) {
		if p, st := s.nextStopFor(c); st != nil {
			s.tellStop(c, p, st)
			// Packets it sent while it waited are served now.
			c.serveQueued()
		}
	}
	for _, p := range s.procs {
		p.pending.dropDelivered()
	}
	if s.clients.anyIn(clientStopped) || s.clients.anyIn(clientWaiting) {
		// All-stop: no process runs while a client holds them.
		s.procs.interruptAll()
	}
	if s.procs.anyRunning() {
		return // their stops come
	}
	for _, c := range s.clients.inState(clientWaiting) {
		c.hold()
	}
	if ns := (nonStop{s}); ns.wanted() && s.offer.nonStop {
		// Every process is stopped: the target goes to non-stop mode
		// for the non-stop clients, and runs in it.
		ns.setMode(true)
		ns.settle()
		return
	}
	if s.clients.anyIn(clientStopped) || !s.clients.anyIn(clientRunning) {
		return
	}
	s.resumeAll()
}

// nextStopFor finds the first pending stop that concerns c and is still
// true for it: a breakpoint it removed since is no reason to stop, and a
// single step that completed beside the stop c was told is news only if
// c steps that thread again. c has seen the thread where the step left
// it; when it now continues the thread (gdb stepping another thread after
// a watchpoint hit in it, say), the old completion is consumed, or it
// would come back as a bare SIGTRAP of a thread gdb did not step (issue
// 13). gdbserver does the same (linux-low.cc, "a single-step event but
// the thread should be continuing"). When c steps it again (it passed a
// signal told before the step), the completion answers that step, which
// must not run a second instruction.
func (s *Server) nextStopFor(c *client) (*process, *stop) {
	for _, p := range s.procs {
		for _, st := range p.pending {
			if _, ok := st.to[c]; !ok {
				continue
			}
			if !stillTrue(c, p, st) {
				delete(st.to, c)
				continue
			}
			return p, st
		}
	}
	return nil, nil
}

// stillTrue says whether a pending stop is still news for c (nextStopFor).
func stillTrue(c *client, p *process, st *stop) bool {
	if !c.s.nonStop && goneStop(p, st) {
		return false
	}
	switch st.kind {
	case stopBreak:
		b := p.breaks[st.addr]
		return b != nil && b.owners[c]
	case stopStep:
		return c.steps(p, st.tid)
	case stopSyscallEntry, stopSyscallReturn:
		// A call the client no longer catches is no reason to stop.
		return c.catch.set.Has(st.syscall)
	}
	return true
}

// tellStop sends a running client its stop reply; it now holds the
// process.
func (s *Server) tellStop(c *client, p *process, st *stop) {
	note := st.to[c]
	delete(st.to, c)
	c.flushNotices()
	c.reply(stopPayload(c, p, st, note))
	p.lastTid = st.tid
	p.lastStop = st
	c.resume = nil
	c.interrupted = false
	c.gThread = c.threadID(p, st.tid)
	c.setState(clientStopped)
}

// stopPayload is the stop reply of st for c, in c's reply scratch.
func stopPayload(c *client, p *process, st *stop, note stopNote) []byte {
	reply := rsp.StopReply{Kind: rsp.StopSignal, Signal: gdbSignal(st.signal)}
	switch st.kind {
	case stopBreak:
		if c.swbreak {
			reply.Reason = rsp.ReasonSoftwareBreak
		}
	case stopWatch:
		reply.Reason, reply.Addr = note.reason, note.addr
		if note.reason == rsp.ReasonHardwareBreak && !c.hwbreak {
			reply.Reason = rsp.ReasonNone
		}
	case stopExec:
		if c.execEvents && st.exec != "" {
			reply.Reason, reply.ExecPath = rsp.ReasonExec, st.exec
		}
	case stopFork:
		reply.Reason = st.reason
		if st.child != 0 {
			reply.Child = rsp.ProcessThread(int64(st.child), int64(st.child))
		}
	case stopSyscallEntry, stopSyscallReturn:
		reply.Reason, reply.Syscall = st.syscallReason()
	}
	p.appendThreadAndRegisters(c, &reply, st.tid)
	lldbStopKeys(c, p, &reply, st.tid, st)
	return reply.AppendPayload(c.scratch())
}

// processGone tells every client a process ended and forgets it.
func (s *Server) processGone(p *process, ev target.Event) {
	s.events.engineNotes(&p.notes)
	s.log.printf("%s", describeExit(ev))
	reply := rsp.StopReply{Kind: rsp.StopExited, ExitCode: uint8(ev.ExitCode)}
	if ev.Kind == target.EventSignaled {
		reply = rsp.StopReply{Kind: rsp.StopTerminated, Signal: gdbSignal(ev.Signal)}
	}
	s.lastExit = &reply
	s.lastExitPid = p.pid
	var told []*client
	for _, c := range s.clients.connected() {
		if !p.fk.knows(c) || (c.state != clientRunning && c.state != clientNonStop) {
			continue
		}
		r := reply
		if c.multiprocess {
			r.Pid, r.HasPid = int64(p.pid), true
		}
		if c.state == clientNonStop {
			nonStop{s}.queueStop(c, r.AppendPayload(c.scratch()))
			continue
		}
		c.flushNotices()
		c.reply(r.AppendPayload(c.scratch()))
		c.resume = nil
		c.setState(clientStopped)
		told = append(told, c)
	}
	s.dropProc(p)
	// The packets they sent while it ran are served now, without it.
	for _, c := range told {
		if c.state == clientStopped {
			c.serveQueued()
		}
	}
	if len(s.procs) == 0 && s.clients.live() == 0 && !s.cfg.Multi {
		s.exit = true
	}
}

// resumeAll runs the processes with the actions of every client
// combined (process.combinedActions); a process no action names stays
// stopped. The debugpoints are planned and given to the target first;
// when the kernel refuses a slot (ENOSPC: another perf user holds it),
// the plan is made with one slot less and the resume tried again.
func (s *Server) resumeAll() {
	running := s.clients.inState(clientRunning)
	resumed := 0
	var err error
	for _, p := range s.procs {
		actions := p.combinedActions(p.fk.knowing(running))
		if len(actions) == 0 {
			continue
		}
		if err = s.resumeProcess(p, actions); err != nil {
			break
		}
		resumed++
	}
	if err == nil && resumed == 0 {
		noneResumed(s)
		return
	}
	if err != nil {
		s.log.printf("resume failed: %v", err)
		// What did resume stops again for the clients to be told.
		s.procs.interruptAll()
		failed := s.clients.inState(clientRunning)
		for _, c := range failed {
			c.resume = nil
			c.setState(clientStopped)
			c.replyError(rsp.CodeIO)
		}
		// They hold the process again: the packets they sent after
		// the resume are theirs to be served now, in order.
		for _, c := range failed {
			c.serveQueued()
		}
	}
}

// resumeProcess runs one process with the actions given.
func (s *Server) resumeProcess(p *process, actions []target.Action) error {
	applyPassSignals(s, p)
	err := p.applyBreakpoints()
	if err == nil {
		err = p.fk.follow(s.clients)
	}
	if err == nil {
		err = p.catching.apply(p, s.clients)
	}
	if run := p.agent.stepOverRun(p, actions); err == nil && run != nil {
		// Threads past the breakpoints nobody was told of first
		// (conditions.go); settle resumes the rest at its event.
		actions, err = run, p.agent.lift(p, run)
	}
	for err == nil {
		if err = s.prepareDebugRegisters(p); err != nil {
			break
		}
		p.running = true
		s.log.debugf("resume %d %v", p.pid, actions)
		err = p.t.Resume(actions)
		if err == nil {
			p.pending = nil
			return nil
		}
		p.running = false
		if errors.Is(err, target.ErrNoSpace) {
			if n, ok := p.dp.NoSpace(time.Now()); ok {
				s.log.printf("the kernel refused a debug-register slot (another perf user holds it); planning with %d", n)
				err = nil
			}
		}
	}
	return err
}

// resumeOrphan lets a program nobody debugs run on: every breakpoint and
// debug register removed, signals delivered as they come.
func (s *Server) resumeOrphan(p *process) {
	applyPassSignals(s, p)
	actions := []target.Action{{Kind: target.Continue}}
	for _, st := range p.pending {
		if st.kind == stopSignal {
			actions = append(actions, target.Action{Tid: st.tid, Kind: target.Continue, Signal: st.signal})
		}
	}
	actions = append(actions, p.pass.heldActions()...)
	p.pending = nil
	p.agent.reset()
	if err := p.applyBreakpoints(); err != nil {
		s.log.printf("%v", err)
	}
	if err := p.fk.follow(s.clients); err != nil {
		s.log.printf("%v", err)
	}
	if err := p.catching.apply(p, s.clients); err != nil {
		s.log.printf("%v", err)
	}
	if err := s.prepareDebugRegisters(p); err != nil {
		s.log.printf("%v", err)
	}
	p.running = true
	if err := p.t.Resume(actions); err != nil {
		p.running = false
		s.log.printf("resume: %v", err)
	}
}

// interruptFrom serves Ctrl-C (0x03) from a running client: the process
// stops and this client, only, is told (T02, as gdbserver reports it).
func (s *Server) interruptFrom(c *client) {
	p := c.cur()
	if p == nil {
		return
	}
	if c.state == clientNonStop {
		nonStop{s}.interrupt(c)
		return
	}
	if c.state != clientRunning {
		// gdb may send Ctrl-C while it is itself between two packets of
		// one `continue` (stepping over a breakpoint first): the next
		// resume then stops at once. Deferred, not lost.
		c.ctrlC = true
		return
	}
	c.interrupted = true
	s.log.debugf("client #%d: Ctrl-C (process running: %v)", c.id, s.procs.anyRunning())
	if s.procs.anyRunning() {
		s.procs.interruptAll()
		return
	}
	// The process is held by another client: answer at once.
	tid := p.lastTid
	p.pending = append(p.pending, &stop{kind: stopInterrupt, tid: tid, signal: target.SIGINT, to: map[*client]stopNote{c: {}}})
}
