package server

import (
	"errors"
	"fmt"

	"gdbserverx/hwbp"
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// stopKind classifies a stop for routing (DESIGN.md, "Several clients,
// one target"): who is told depends on the kind.
type stopKind int

const (
	stopSignal    stopKind = iota // a signal for the program: every client
	stopBreak                     // a software breakpoint: its owners
	stopStep                      // a single step finished: the steppers
	stopInterrupt                 // Ctrl-C or a new client: who asked
	stopExec                      // the program called exec: every client
	stopWatch                     // hardware points fired, or a kernel write: their owners
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
	}
	return fmt.Sprintf("stopKind(%d)", int(k))
}

// stop is one reason to stop, waiting to be told to the clients it
// concerns. A client gets one stop reply per resume; the rest wait for its
// next resume, as gdbserver keeps a pending status per thread.
type stop struct {
	kind   stopKind
	tid    target.Tid
	signal target.Signal // Linux signal reported (SIGTRAP for traps)
	addr   uint64        // breakpoint address
	info   []byte        // siginfo, for qXfer:siginfo:read
	exec   string        // new program (stopExec)
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

// onEvent takes a target event: the end of the process, or a stop of all
// its threads whose reasons become pending stops.
func (s *Server) onEvent(ev target.Event) {
	p := s.proc
	s.logEngineNotes(p)
	if ev.Kind != target.EventStopped {
		s.processGone(ev)
		return
	}
	s.debugf("event: %d stops, interrupted %v", len(ev.Stops), ev.Interrupted)
	p.running = false
	p.threads = append(p.threads[:0], ev.Threads...)
	p.libsDoc, p.threadsDoc = nil, nil
	interrupted := p.interrupted || ev.Interrupted
	p.interrupted = false
	running := s.clientsIn(clientRunning)

	// Hardware hits first: a watched byte that changed because a thread
	// stored to it trapped (a hit in this very stop) is no kernel write.
	var syscallExits []*target.ThreadStop
	for i := range ev.Stops {
		ts := &ev.Stops[i]
		st := &stop{tid: ts.Tid, signal: ts.Signal, info: ts.SigInfo, to: map[*client]stopNote{}}
		switch ts.Reason {
		case target.StopBreakpoint:
			st.kind, st.addr = stopBreak, ts.PC
			if b := p.breaks[ts.PC]; b != nil {
				for c := range b.owners {
					st.to[c] = stopNote{reason: rsp.ReasonSoftwareBreak}
				}
			}
		case target.StopWatch:
			p.addWatchStops(ts, s.softwareHits(ts.Watches))
			continue
		case target.StopDebug:
			status := hwbp.DecodeStatus(ts.DR6, p.dp.image.Enabled())
			hits := s.watchHits(ts, status.Fired)
			for c, notes := range s.softwareHits(ts.Watches) {
				if hits == nil {
					hits = map[*client][]stopNote{}
				}
				hits[c] = append(hits[c], notes...)
			}
			if status.SingleStep {
				st.kind = stopStep
				for _, c := range running {
					if c.steps(p, ts.Tid) && len(hits[c]) == 0 {
						st.to[c] = stopNote{}
					}
				}
				if len(st.to) > 0 {
					p.pending = append(p.pending, st)
				}
			}
			p.addWatchStops(ts, hits)
			continue
		case target.StopSyscallExit:
			syscallExits = append(syscallExits, ts)
			// While the server traces system call exits for its own
			// slots, the engine's kernel writes into emulated
			// watchpoints come on the exit stop itself, not as a
			// StopWatch of their own.
			p.addWatchStops(ts, s.softwareHits(ts.Watches))
			continue
		case target.StopExec:
			st.kind = stopExec
			if p.exe != nil {
				st.exec, _ = p.exe.ExecPath()
			}
			st.tellAll(running)
			p.breaks = map[uint64]*swBreak{}
			p.dp = newDebugpoints()
		case target.StopSignal:
			st.kind = stopSignal
			st.tellAll(running)
		default:
			continue
		}
		p.pending = append(p.pending, st)
	}
	if len(syscallExits) > 0 {
		if hits := s.kernelWrites(); len(hits) > 0 {
			p.addWatchStops(kernelWriter(syscallExits), hits)
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

// addWatchStops makes pending stops of watchpoint hits: one per hit, so
// that a client with two hits in one stop is told both, one per resume.
func (p *process) addWatchStops(ts *target.ThreadStop, hits map[*client][]stopNote) {
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
		p.pending = append(p.pending, st)
	}
}

// clientsIn lists the live clients in a state, by id (s.clients is kept
// in id order).
func (s *Server) clientsIn(st clientState) []*client {
	var out []*client
	for _, c := range s.clients {
		if c.state == st {
			out = append(out, c)
		}
	}
	return out
}

// anyIn says whether some client is in a state, without allocating.
func (s *Server) anyIn(st clientState) bool {
	for _, c := range s.clients {
		if c.state == st {
			return true
		}
	}
	return false
}

// settle is called after every message and event: it tells pending stops
// to the running clients they concern, lets clients that waited for the
// process to stop take it, and resumes the process when every client is
// running.
func (s *Server) settle() {
	p := s.proc
	if p == nil || p.running || s.exit {
		// Clients waiting for a stop of a process that has gone are
		// served now.
		for _, c := range s.clientsIn(clientWaiting) {
			if p == nil {
				s.hold(c)
			}
		}
		return
	}
	if len(p.pending) == 0 && !p.orphaned && !s.anyIn(clientWaiting) && s.anyIn(clientStopped) {
		return // a client holds the process and nothing waits: the common case
	}
	if p.orphaned && !s.anyDebugging() {
		s.resumeOrphan()
		return
	}
	p.orphaned = false
	for _, c := range s.clientsIn(clientRunning) {
		if st := s.nextStopFor(c); st != nil {
			s.tellStop(c, st)
			// Packets it sent while it waited are served now.
			s.serveQueued(c)
		}
	}
	p.dropDelivered()
	for _, c := range s.clientsIn(clientWaiting) {
		s.hold(c)
	}
	if len(s.clientsIn(clientStopped)) > 0 || len(s.clientsIn(clientRunning)) == 0 {
		return
	}
	s.resumeProcess()
}

// hold lets a client that waited for the process to stop take it, and
// serves the packets it sent meanwhile.
func (s *Server) hold(c *client) {
	c.setState(clientStopped)
	s.serveQueued(c)
}

// serveQueued serves the packets a client sent while it did not hold the
// process, in order, until one of them resumes it again.
func (s *Server) serveQueued(c *client) {
	q := c.queued
	c.queued = nil
	for i, req := range q {
		if c.state != clientStopped {
			c.queued = append(c.queued, q[i:]...)
			return
		}
		s.receive(c, req)
	}
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
func (s *Server) nextStopFor(c *client) *stop {
	p := s.proc
	for _, st := range p.pending {
		if _, ok := st.to[c]; !ok {
			continue
		}
		switch st.kind {
		case stopBreak:
			if b := p.breaks[st.addr]; b == nil || !b.owners[c] {
				delete(st.to, c)
				continue
			}
		case stopStep:
			if !c.steps(p, st.tid) {
				delete(st.to, c)
				continue
			}
		}
		return st
	}
	return nil
}

// dropDelivered forgets pending stops nobody is left to tell.
func (p *process) dropDelivered() {
	out := p.pending[:0]
	for _, st := range p.pending {
		if len(st.to) > 0 {
			out = append(out, st)
		}
	}
	p.pending = out
}

// tellStop sends a running client its stop reply; it now holds the
// process.
func (s *Server) tellStop(c *client, st *stop) {
	p := s.proc
	note := st.to[c]
	delete(st.to, c)
	c.flushNotices()
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
	}
	s.appendThreadAndRegisters(c, &reply, st.tid)
	c.reply(reply.AppendPayload(c.scratch()))
	p.lastTid = st.tid
	p.lastStop = st
	c.resume = nil
	c.interrupted = false
	c.gThread = c.threadID(p, st.tid)
	c.setState(clientStopped)
}

// appendThreadAndRegisters adds the thread and the expedited registers to
// a T reply: every general register, so that gdb needs no g packet after
// an ordinary stop.
func (s *Server) appendThreadAndRegisters(c *client, reply *rsp.StopReply, tid target.Tid) {
	p := s.proc
	reply.Thread, reply.HasThread = c.threadID(p, tid), true
	if len(p.stopRegs) != p.desc.Size() {
		p.stopRegs = make([]byte, p.desc.Size())
	}
	buf := p.stopRegs
	read := p.t.ReadRegisters
	if p.gpr != nil && p.expeditedGeneral() {
		read = p.gpr.ReadGeneralRegisters
	}
	if err := read(tid, buf); err != nil {
		return
	}
	reply.Registers = p.expRegs[:0]
	defer func() { p.expRegs = reply.Registers[:0] }()
	regs := p.desc.Registers()
	for _, n := range p.expedite() {
		r := regs[n]
		reply.Registers = append(reply.Registers, rsp.ExpeditedRegister{Reg: rsp.RegNum(r.Number), Value: buf[r.Offset : r.Offset+r.Bits/8]})
	}
}

// expeditedNames are the registers sent with every stop reply. gdb needs
// the pc, the stack and frame pointers to place a stop, and at a
// breakpoint in optimised code also rbx (callee-saved, to identify the
// caller's frame) and rdi (the first argument, for entry values); without
// them it sends a g packet (measured with `set debug remote 1` on the
// benchmarks' stops). Each register more costs gdb about 1.5 us to parse
// at every stop (all 27 integer registers: 40 us more gdb CPU per stop),
// so the list is no longer than that.
var expeditedNames = []string{"rbx", "rdi", "rbp", "rsp", "rip"}

// expeditedGeneral says the expedited registers are all general ones
// (before st0 in the description): read without the floating-point and
// vector state, which costs a system call more per stop.
func (p *process) expeditedGeneral() bool {
	st0, ok := p.desc.Lookup("st0")
	if !ok {
		return false
	}
	for _, n := range p.expedite() {
		if n >= st0.Number {
			return false
		}
	}
	return true
}

// expedite lists the register numbers of expeditedNames in this target's
// description.
func (p *process) expedite() []int {
	if p.expedited == nil {
		p.expedited = []int{}
		for _, name := range expeditedNames {
			if r, ok := p.desc.Lookup(name); ok {
				p.expedited = append(p.expedited, r.Number)
			}
		}
	}
	return p.expedited
}

// processGone tells every client the process ended and forgets it.
func (s *Server) processGone(ev target.Event) {
	p := s.proc
	s.logEngineNotes(p)
	s.logf("%s", describeExit(ev))
	reply := rsp.StopReply{Kind: rsp.StopExited, ExitCode: uint8(ev.ExitCode)}
	if ev.Kind == target.EventSignaled {
		reply = rsp.StopReply{Kind: rsp.StopTerminated, Signal: gdbSignal(ev.Signal)}
	}
	s.lastExit = &reply
	s.lastExitPid = p.pid
	for _, c := range s.sortedClients() {
		if c.state == clientRunning {
			c.flushNotices()
			r := reply
			if c.multiprocess {
				r.Pid, r.HasPid = int64(p.pid), true
			}
			c.reply(r.AppendPayload(c.scratch()))
			c.resume = nil
			c.setState(clientStopped)
		}
	}
	s.proc = nil
	if s.live() == 0 && !s.cfg.Multi {
		s.exit = true
	}
}

// resumeProcess runs the process with the actions of every client
// combined: a thread is stepped when any client steps it, continued when
// any continues it, given the signal a client passes.
func (s *Server) resumeProcess() {
	p := s.proc
	actions, err := s.combinedActions()
	if err == nil {
		err = p.applyBreakpoints()
	}
	if err == nil && len(actions) == 0 {
		err = errors.New("no thread to resume")
	}
	for err == nil {
		if err = s.prepareDebugRegisters(); err != nil {
			break
		}
		p.running = true
		s.debugf("resume %v", actions)
		err = p.t.Resume(actions)
		if err == nil {
			p.pending = nil
			break
		}
		p.running = false
		// The kernel refused a slot: plan with one less and try again.
		if errors.Is(err, target.ErrNoSpace) && s.noSpace() {
			err = nil
		}
	}
	if err != nil {
		s.logf("resume failed: %v", err)
		failed := s.clientsIn(clientRunning)
		for _, c := range failed {
			c.resume = nil
			c.setState(clientStopped)
			c.replyError(rsp.CodeIO)
		}
		// They hold the process again: the packets they sent after
		// the resume are theirs to be served now, in order.
		for _, c := range failed {
			s.serveQueued(c)
		}
	}
}

// resumeOrphan lets a program nobody debugs run on: every breakpoint and
// debug register removed, signals delivered as they come.
func (s *Server) resumeOrphan() {
	p := s.proc
	actions := []target.Action{{Kind: target.Continue}}
	for _, st := range p.pending {
		if st.kind == stopSignal {
			actions = append(actions, target.Action{Tid: st.tid, Kind: target.Continue, Signal: st.signal})
		}
	}
	p.pending = nil
	if err := p.applyBreakpoints(); err != nil {
		s.logf("%v", err)
	}
	if err := s.prepareDebugRegisters(); err != nil {
		s.logf("%v", err)
	}
	p.running = true
	if err := p.t.Resume(actions); err != nil {
		p.running = false
		s.logf("resume: %v", err)
	}
}

// combinedActions merges the running clients' resume requests into one
// action per thread.
func (s *Server) combinedActions() ([]target.Action, error) {
	p := s.proc
	type merged struct {
		kind   target.ResumeKind
		sig    target.Signal
		chosen bool
	}
	per := make(map[target.Tid]*merged, len(p.threads))
	for _, c := range s.clientsIn(clientRunning) {
		if c.resume == nil {
			continue
		}
		for _, tid := range p.threads {
			a := c.actionFor(p, tid)
			if a == nil || a.Kind == rsp.ResumeStop || !s.mayStart(c, tid) {
				continue
			}
			m := per[tid]
			if m == nil {
				m = &merged{}
				per[tid] = m
			}
			if !m.chosen || a.Kind == rsp.ResumeStep || a.Kind == rsp.ResumeRangeStep {
				m.kind = target.Continue
				if a.Kind == rsp.ResumeStep || a.Kind == rsp.ResumeRangeStep {
					m.kind = target.Step
				}
			}
			m.chosen = true
			if a.Signal != rsp.SignalNone {
				if sig, ok := linuxSignal(a.Signal); ok {
					m.sig = sig
				}
			}
		}
	}
	actions := make([]target.Action, 0, len(per))
	for _, tid := range p.threads {
		if m := per[tid]; m != nil {
			actions = append(actions, target.Action{Tid: tid, Kind: m.kind, Signal: m.sig})
		}
	}
	return actions, nil
}
