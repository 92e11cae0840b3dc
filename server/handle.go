package server

import (
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// receive serves one request of a client: the one type switch over rsp's
// packet types. A client that does not hold the process (it runs, or waits
// for the process to stop) gets its packets served once it does, as
// gdbserver reads nothing but Ctrl-C while the program runs.
func (s *Server) receive(c *client, req rsp.Request) {
	if c.state == clientWaiting || c.state == clientRunning {
		c.queued = append(c.queued, req)
		return
	}
	if s.gate(c, req) {
		return // refused, or served otherwise, by the client's role (roles.go)
	}
	switch r := req.(type) {
	case *rsp.QuerySupported:
		s.supported(c, r)
	case *rsp.StartNoAckMode:
		c.noAck = true
		c.replyOK()
	case *rsp.MustReplyEmpty:
		c.replyEmpty()
	case *rsp.EnableExtendedMode:
		c.extended = true
		c.replyOK()
	case *rsp.QueryHaltReason:
		s.haltReason(c)
	case *rsp.SelectThread:
		s.selectThread(c, r)
	case *rsp.QueryCurrentThread:
		s.currentThread(c)
	case *rsp.ListThreads:
		s.listThreads(c, r)
	case *rsp.QueryThreadAlive:
		s.threadAlive(c, r)
	case *rsp.QueryThreadExtraInfo:
		s.threadExtraInfo(c, r)
	case *rsp.QueryAttached:
		s.attached(c, r)
	case *rsp.ReadXfer:
		s.readXfer(c, r)
	case *rsp.PassSignals:
		c.pass = signalSet(r.Signals)
		c.replyOK()
	case *rsp.ProgramSignals:
		c.program = signalSet(r.Signals)
		c.replyOK()
	case *rsp.ReadRegisters:
		s.readRegisters(c)
	case *rsp.WriteRegisters:
		s.writeRegisters(c, r)
	case *rsp.ReadRegister:
		s.readRegister(c, r)
	case *rsp.QueryRegisterInfo:
		s.registerInfo(c, r)
	case *rsp.QueryProcessInfo:
		s.processInfo(c)
	case *rsp.WriteRegister:
		s.writeRegister(c, r)
	case *rsp.ReadMemory:
		s.readMemory(c, r)
	case *rsp.WriteMemory:
		s.writeMemory(c, r)
	case *rsp.InsertBreakpoint:
		s.insertPoint(c, r)
	case *rsp.RemoveBreakpoint:
		s.removePoint(c, r)
	case *rsp.Resume:
		s.resume(c, r)
	case *rsp.QueryResumeActions:
		if s.cfg.DisabledPackets["vCont"] {
			c.replyEmpty()
			return
		}
		c.reply(rsp.AppendResumeActions(c.scratch(), rsp.ResumeContinue, rsp.ResumeStep, rsp.ResumeStop))
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
		s.monitor(c, r)
	case *rsp.FileSetFS, *rsp.FileOpen, *rsp.FileRead, *rsp.FileWrite, *rsp.FileClose, *rsp.FileStat, *rsp.FileReadlink, *rsp.FileUnlink:
		s.hostIO(c, r)
	case *rsp.SymbolsReady, *rsp.SymbolValue:
		// No symbol is looked up: libthread_db is not needed, the
		// kernel tells us about threads.
		c.replyOK()
	case *rsp.SetNonStop:
		if r.Enabled {
			c.replyError(rsp.CodeNotImplemented)
			return
		}
		c.replyOK()
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
	default:
		// Unknown packets, and known ones this server does not serve
		// (tracepoints, qOffsets, QCatchSyscalls, qGetTLSAddr, ...):
		// the empty reply says "not supported".
		c.replyEmpty()
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

// threadID is the wire id of a thread, in the form the client negotiated.
func (c *client) threadID(p *process, tid target.Tid) rsp.ThreadID {
	if c.multiprocess {
		return rsp.ProcessThread(int64(p.pid), int64(tid))
	}
	return rsp.SingleThread(int64(tid))
}

// tidOf resolves a wire thread id to a live thread: "any" and "all" mean
// the thread of the last stop (gdbserver's choice), or the first thread.
func (s *Server) tidOf(id rsp.ThreadID) (target.Tid, bool) {
	p := s.proc
	if p == nil {
		return 0, false
	}
	if id.Multiprocess && id.Pid > 0 && id.Pid != int64(p.pid) {
		return 0, false
	}
	if id.Tid <= 0 {
		if p.has(p.lastTid) {
			return p.lastTid, true
		}
		if len(p.threads) > 0 {
			return p.threads[0], true
		}
		return 0, false
	}
	tid := target.Tid(id.Tid)
	return tid, p.has(tid)
}

// has says whether tid is a thread at the last stop.
func (p *process) has(tid target.Tid) bool {
	for _, t := range p.threads {
		if t == tid {
			return true
		}
	}
	return false
}

// gtid is the thread register and thread-specific requests apply to (Hg).
func (s *Server) gtid(c *client) (target.Tid, bool) { return s.tidOf(c.gThread) }
