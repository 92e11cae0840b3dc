package server

import (
	"errors"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// A client's session: its packets, served one by one on the core loop.
// handle is the one type switch over rsp's packet types; each case goes
// to the owner of what the packet reads or changes: the session itself
// (negotiation, thread selection, its resume request, its settings for
// vRun: here), its debugpoints (points.go), its host files (vfile.go),
// the process adapter (registers and memory: data.go; qXfer objects:
// xfer.go; lldb's queries: reginfo.go and lldb.go), the Server (the
// process's start and end: run.go), the monitor (monitor.go).

// handle serves one request of the client. A client that does not hold
// the process (it runs, or waits for the process to stop) gets its
// packets served once it does, as gdbserver reads nothing but Ctrl-C
// while the program runs.
func (c *client) handle(req rsp.Request) {
	if c.state == clientWaiting || c.state == clientRunning {
		c.queued = append(c.queued, req)
		return
	}
	if gate(c, req) {
		return // refused, or served otherwise, by the client's role (roles.go)
	}
	if c.state == clientNonStop {
		switch r := req.(type) {
		case *rsp.QueryHaltReason:
			nonStop{c.s}.haltReason(c)
			return
		case *rsp.Resume:
			nonStop{c.s}.resumeRequest(c, r)
			return
		case *rsp.Interrupt:
			nonStop{c.s}.interrupt(c)
			c.replyOK()
			return
		}
	}
	s := c.s
	selectSuffixThread(c, req)
	switch r := req.(type) {
	case *rsp.QuerySupported:
		c.supported(r)
	case *rsp.StartNoAckMode:
		c.noAck = true
		c.replyOK()
	case *rsp.MustReplyEmpty:
		c.replyEmpty()
	case *rsp.EnableExtendedMode:
		c.extended = true
		c.replyOK()
	case *rsp.QueryHaltReason:
		c.haltReason()
	case *rsp.SelectThread:
		c.selectThread(r)
	case *rsp.QueryCurrentThread:
		c.currentThread()
	case *rsp.ListThreads:
		c.listThreads(r)
	case *rsp.QueryThreadAlive:
		c.threadAlive(r)
	case *rsp.QueryThreadExtraInfo:
		c.threadExtraInfo(r)
	case *rsp.QueryAttached:
		c.attached(r)
	case *rsp.ReadXfer:
		if r.Object == rsp.XferOSData {
			c.osdata.serve(c, r) // with or without a process
			return
		}
		if p := c.process(); p != nil {
			p.readXfer(c, r)
		}
	case *rsp.WriteXfer:
		if p := c.process(); p != nil {
			writeSiginfo(c, p, r)
		}
	case *rsp.PassSignals:
		c.pass = signalSet(r.Signals)
		c.replyOK()
	case *rsp.ProgramSignals:
		c.program = signalSet(r.Signals)
		c.replyOK()
	case *rsp.ReadRegisters:
		if p := c.process(); p != nil {
			p.readRegisters(c)
		}
	case *rsp.WriteRegisters:
		if p := c.process(); p != nil {
			p.writeRegisters(c, r)
		}
	case *rsp.ReadRegister:
		if p := c.process(); p != nil {
			p.readRegister(c, r)
		}
	case *rsp.QueryRegisterInfo:
		if p := c.process(); p != nil {
			p.registerInfo(c, r)
		}
	case *rsp.QueryProcessInfo:
		if p := c.process(); p != nil {
			p.processInfo(c)
		}
	case *rsp.ListThreadsInStopReply, *rsp.EnableThreadSuffix, *rsp.QueryHostInfo, *rsp.QueryShlibInfoAddr, *rsp.QueryWatchpointSupport,
		*rsp.QueryMemoryRegion, *rsp.QueryThreadStopInfo, *rsp.QueryThreadsInfo:
		lldbQuery(c, r)
	case *rsp.WriteRegister:
		if p := c.process(); p != nil {
			p.writeRegister(c, r)
		}
	case *rsp.ReadMemory:
		if p := c.process(); p != nil {
			p.readMemory(c, r)
		}
	case *rsp.WriteMemory:
		if p := c.process(); p != nil {
			p.writeMemory(c, r)
		}
	case *rsp.InsertBreakpoint:
		c.insertPoint(r)
	case *rsp.RemoveBreakpoint:
		c.removePoint(r)
	case *rsp.Resume:
		c.resumeRequest(r)
	case *rsp.QueryResumeActions:
		acts := s.offer.resumeActions()
		if acts == nil {
			c.replyEmpty()
			return
		}
		c.reply(rsp.AppendResumeActions(c.scratch(), acts...))
	case *rsp.Interrupt:
		// vCtrlC is non-stop's interrupt; in all-stop the process is
		// stopped while we are served.
		c.replyOK()
	case *rsp.Kill:
		s.kill(c, 0, false)
	case *rsp.KillProcess:
		s.kill(c, int(r.Pid), true)
	case *rsp.Detach:
		s.detach(c, r)
	case *rsp.Attach:
		s.vAttach(c, r)
	case *rsp.Run:
		s.vRun(c, r)
	case *rsp.MonitorCommand:
		c.monitor(r)
	case *rsp.FileSetFS, *rsp.FileOpen, *rsp.FileRead, *rsp.FileWrite, *rsp.FileClose, *rsp.FileStat, *rsp.FileReadlink, *rsp.FileUnlink:
		c.files.serve(c, r)
	case *rsp.SymbolsReady, *rsp.SymbolValue:
		// No symbol is looked up: libthread_db is not needed, the
		// kernel tells us about threads.
		c.replyOK()
	case *rsp.SetNonStop:
		nonStop{s}.setNonStop(c, r.Enabled)
	case *rsp.Stopped:
		nonStop{s}.vStopped(c)
	case *rsp.SetDisableRandomization:
		c.launch.DisableRandomization = r.Disable
		c.replyOK()
	case *rsp.SetStartupWithShell:
		c.launch.StartupWithShell = r.Enabled
		c.replyOK()
	case *rsp.SetEnvironment:
		c.setEnv(r.Name, r.Value)
		c.replyOK()
	case *rsp.UnsetEnvironment:
		c.unsetEnv(r.Name)
		c.replyOK()
	case *rsp.ResetEnvironment:
		c.launch.Env = nil
		c.replyOK()
	case *rsp.SetWorkingDir:
		c.launch.Dir = r.Dir
		c.replyOK()
	case *rsp.SetCatchSyscalls:
		c.catch.serve(c, r)
	case *rsp.QueryTLSAddr:
		tlsAddress(c, r)
	default:
		// Unknown packets, and known ones this server does not serve
		// (tracepoints, qOffsets, ...):
		// the empty reply says "not supported".
		c.replyEmpty()
	}
}

// malformed answers a packet the parser refused; the connection lives on.
func (c *client) malformed(err error) {
	var pe *rsp.ParseError
	var fe interface{ Code() rsp.ErrorCode } // *rsp.OversizeError, *rsp.EscapeError
	switch {
	case errors.As(err, &pe):
		c.s.log.debugf("client #%d: %v", c.id, err)
		c.reply(rsp.AppendError(c.scratch(), pe.Code))
	case errors.As(err, &fe):
		c.s.log.debugf("client #%d: %v", c.id, err)
		c.reply(rsp.AppendError(c.scratch(), fe.Code()))
	default:
		c.reply(rsp.AppendError(c.scratch(), rsp.CodeInvalid))
	}
}

// hold lets a client that waited for the process to stop take it, and
// serves the packets it sent meanwhile.
func (c *client) hold() {
	c.setState(clientStopped)
	c.serveQueued()
}

// serveQueued serves the packets a client sent while it did not hold the
// process, in order, until one of them resumes it again.
func (c *client) serveQueued() {
	q := c.queued
	c.queued = nil
	for i, req := range q {
		if c.state != clientStopped {
			c.queued = append(c.queued, q[i:]...)
			return
		}
		c.handle(req)
	}
}

// supported answers qSupported with what this server and its target
// implement (features.go), and records what the client takes up.
func (c *client) supported(q *rsp.QuerySupported) {
	f := c.s.offer
	c.clientFeatures = f.negotiate(q)
	c.reply(rsp.AppendSupported(c.scratch(), f.supportedFeatures(c.clientFeatures)))
}

// haltReason answers '?': the last stop, W00 when there is no process (as
// gdbserver in --multi does), or how the last process ended.
func (c *client) haltReason() {
	s := c.s
	p := c.cur()
	if p == nil {
		r := rsp.StopReply{Kind: rsp.StopExited}
		if s.lastExit != nil && !s.cfg.Multi {
			r = *s.lastExit
		}
		c.reply(r.AppendPayload(c.scratch()))
		return
	}
	sig := target.SIGTRAP
	if p.attached {
		sig = 0 // gdbserver reports an attached process with signal 0
	}
	tid := p.lastTid
	if st := p.lastStop; st != nil {
		sig, tid = st.signal, st.tid
	}
	if !p.has(tid) && len(p.threads) > 0 {
		tid = p.threads[0]
	}
	reply := rsp.StopReply{Kind: rsp.StopSignal, Signal: gdbSignal(sig)}
	p.appendThreadAndRegisters(c, &reply, tid)
	lldbStopKeys(c, p, &reply, tid, p.lastStop)
	c.gThread = reply.Thread
	c.reply(reply.AppendPayload(c.scratch()))
}

// replyFirstStop tells the client the new process's first stop (vRun,
// vAttach).
func (c *client) replyFirstStop(sig target.Signal) {
	p := c.s.procs.main()
	p.lastStop = &stop{kind: stopSignal, tid: p.lastTid, signal: sig}
	reply := rsp.StopReply{Kind: rsp.StopSignal, Signal: gdbSignal(sig)}
	p.appendThreadAndRegisters(c, &reply, p.lastTid)
	lldbStopKeys(c, p, &reply, p.lastTid, p.lastStop)
	c.gThread = reply.Thread
	c.reply(reply.AppendPayload(c.scratch()))
}

// selectThread serves Hg and Hc.
func (c *client) selectThread(r *rsp.SelectThread) {
	if r.Thread.Tid > 0 {
		if _, ok := c.tid(r.Thread); !ok {
			c.replyError(rsp.CodeNoProcess)
			return
		}
	}
	if r.For == rsp.PurposeResume {
		c.cThread = r.Thread
	} else {
		c.gThread = r.Thread
	}
	c.replyOK()
}

// currentThread answers qC.
func (c *client) currentThread() {
	tid, ok := c.tid(c.gThread)
	if !ok || !c.s.offer.currentThread {
		c.replyEmpty()
		return
	}
	c.reply(rsp.AppendCurrentThread(c.scratch(), c.threadID(c.procOf(c.gThread), tid)))
}

// listThreads answers qfThreadInfo with every thread and qsThreadInfo with
// the end of the list.
func (c *client) listThreads(r *rsp.ListThreads) {
	if !c.s.offer.threadList {
		c.replyEmpty()
		return
	}
	if r.Subsequent {
		c.reply(rsp.AppendThreadList(c.scratch(), nil))
		return
	}
	var ids []rsp.ThreadID
	for _, p := range listed(c) {
		refreshThreads(p)
		for _, t := range p.threads {
			ids = append(ids, c.threadID(p, t))
		}
	}
	c.reply(rsp.AppendThreadList(c.scratch(), ids))
}

// visible are the processes the client sees: with multiprocess ids,
// every one it debugs (fork.go), else the first.
func (c *client) visible() []*process {
	if !c.multiprocess {
		return c.s.procs[:min(1, len(c.s.procs))]
	}
	var out []*process
	for _, p := range c.s.procs {
		if p.fk.knows(c) {
			out = append(out, p)
		}
	}
	return out
}

// threadAlive answers T thread-id.
func (c *client) threadAlive(r *rsp.QueryThreadAlive) {
	if p := c.procOf(r.Thread); p != nil {
		refreshThreads(p)
	}
	if _, ok := c.tid(r.Thread); ok && r.Thread.Tid > 0 {
		c.replyOK()
		return
	}
	c.replyError(rsp.CodeNoProcess)
}

// threadExtraInfo gives the thread's name, which gdb shows in `info
// threads`.
func (c *client) threadExtraInfo(r *rsp.QueryThreadExtraInfo) {
	tid, ok := c.tid(r.Thread)
	if !ok {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	name := c.procOf(r.Thread).threadName(tid)
	c.reply(rsp.AppendHex(c.scratch(), []byte(name)))
}

// attached answers qAttached: 1 when the server attached to the process
// (gdb then detaches on quit), 0 when it started it (gdb kills it).
func (c *client) attached(r *rsp.QueryAttached) {
	p := c.cur()
	if r.HasPid {
		p = c.s.procs.byPid(int(r.Pid))
	}
	if p == nil {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	c.reply(rsp.AppendAttached(c.scratch(), p.attached || c.joined))
}

// resumeRequest serves c, C, s, S and vCont: the client now waits for a
// stop reply. settle tells it a pending stop, or runs the process once no
// client holds it.
func (c *client) resumeRequest(r *rsp.Resume) {
	s := c.s
	if !r.Legacy && !s.offer.vCont {
		c.replyEmpty()
		return
	}
	p := c.procOf(c.cThread)
	if p == nil {
		// Nothing to run: tell how the last process ended.
		reply := rsp.StopReply{Kind: rsp.StopExited}
		if s.lastExit != nil {
			reply = *s.lastExit
		}
		c.reply(reply.AppendPayload(c.scratch()))
		return
	}
	r.Resolve(c.cThread)
	if r.HasAddr {
		tid, ok := p.tidOf(c.cThread)
		if !ok {
			tid, ok = p.tidOf(c.gThread)
		}
		if !ok || p.setPC(tid, r.Addr) != nil {
			c.replyError(rsp.CodeNoProcess)
			return
		}
	}
	c.resume = r
	for _, p := range s.procs {
		for _, th := range p.ns {
			th.sigSent = false // this resume's signals are new
		}
	}
	c.setState(clientRunning)
	c.flushNotices()
	if c.ctrlC {
		c.ctrlC = false
		s.interruptFrom(c)
	}
}

// signalSet makes a lookup set of GDB signal numbers.
func signalSet(sigs []rsp.GDBSignal) map[rsp.GDBSignal]bool {
	m := make(map[rsp.GDBSignal]bool, len(sigs))
	for _, g := range sigs {
		m[g] = true
	}
	return m
}
