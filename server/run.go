package server

import (
	"errors"
	"os"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// resume serves c, C, s, S and vCont: the client now waits for a stop
// reply. settle tells it a pending stop, or runs the process once no
// client holds it.
func (s *Server) resume(c *client, r *rsp.Resume) {
	if !r.Legacy && !s.serves.vCont {
		c.replyEmpty()
		return
	}
	p := s.proc
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
		tid, ok := s.tidOf(c.cThread)
		if !ok {
			tid, ok = s.gtid(c)
		}
		if !ok || s.setPC(tid, r.Addr) != nil {
			c.replyError(rsp.CodeNoProcess)
			return
		}
	}
	c.resume = r
	c.setState(clientRunning)
	c.flushNotices()
	if c.ctrlC {
		c.ctrlC = false
		s.interruptFrom(c)
	}
}

// setPC moves a thread's program counter (c addr, s addr).
func (s *Server) setPC(tid target.Tid, pc uint64) error {
	p := s.proc
	reg, ok := p.desc.Lookup("rip")
	if !ok {
		return errors.New("no rip register")
	}
	buf := make([]byte, p.desc.Size())
	if err := p.t.ReadRegisters(tid, buf); err != nil {
		return err
	}
	for i := 0; i < reg.Bits/8; i++ {
		buf[reg.Offset+i] = byte(pc >> (8 * i))
	}
	return p.t.WriteRegisters(tid, buf)
}

// actionFor returns the client's resume action for a thread: the first
// action naming it, or one without a thread; nil when none applies.
func (c *client) actionFor(p *process, tid target.Tid) *rsp.ResumeAction {
	if c.resume == nil {
		return nil
	}
	for i := range c.resume.Actions {
		a := &c.resume.Actions[i]
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

// steps says whether the client asked to single-step the thread.
func (c *client) steps(p *process, tid target.Tid) bool {
	a := c.actionFor(p, tid)
	return a != nil && (a.Kind == rsp.ResumeStep || a.Kind == rsp.ResumeRangeStep)
}

// interruptFrom serves Ctrl-C (0x03) from a running client: the process
// stops and this client, only, is told (T02, as gdbserver reports it).
func (s *Server) interruptFrom(c *client) {
	p := s.proc
	if p == nil {
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
	s.debugf("client #%d: Ctrl-C (process running: %v)", c.id, p.running)
	if p.running {
		p.interrupt()
		return
	}
	// The process is held by another client: answer at once.
	tid := p.lastTid
	p.pending = append(p.pending, &stop{kind: stopInterrupt, tid: tid, signal: target.SIGINT, to: map[*client]stopNote{c: {}}})
}

// kill serves k and vKill: the process is killed, every other client told
// (X09), and the server leaves if nothing else keeps it.
func (s *Server) kill(c *client, pid int, reply bool) {
	p := s.proc
	if p == nil || (pid != 0 && pid != p.pid) {
		if reply {
			c.replyError(rsp.CodeNoProcess)
		}
		return
	}
	// With others debugging it, a client's kill only makes it leave,
	// unless none of them has a higher priority.
	for _, o := range s.sortedClients() {
		if o != c && o.state != clientIdle && o.priority > c.priority {
			s.logf("Client #%d asked to kill process %d; client #%d (priority %d) still debugs it: the client leaves it instead", c.id, p.pid, o.id, o.priority)
			s.tell(p.dropOwner(c))
			c.setState(clientIdle)
			if reply {
				c.replyOK()
			}
			return
		}
	}
	s.logf("Killing process %d", p.pid)
	final := s.endOf(p)
	// The killer gets OK; everyone else the end of the process.
	c.setState(clientIdle)
	s.processGone(final)
	c.setState(clientStopped)
	if reply {
		c.replyOK()
		return
	}
	if !c.extended {
		// The legacy k has no reply; gdbserver ends then, and clients
		// (Delve) wait for the connection to close.
		s.release(c)
	}
}

// detach serves D: the process goes on untraced (gdb's `detach`), once no
// other client debugs it; otherwise only this client leaves it.
func (s *Server) detach(c *client, r *rsp.Detach) {
	p := s.proc
	if p == nil || (r.HasPid && r.Pid != int64(p.pid)) {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	others := false
	for _, o := range s.sortedClients() {
		if o != c && o.state != clientIdle {
			others = true
		}
	}
	if others {
		s.tell(p.dropOwner(c))
		c.setState(clientIdle)
		c.replyOK()
		return
	}
	s.logf("Detaching from process %d", p.pid)
	p.removeAllBreakpoints()
	if err := p.t.Detach(); err != nil {
		s.logf("detach: %v", err)
		c.replyError(errorCode(err))
		return
	}
	s.proc = nil
	c.replyOK()
}

// vAttach serves vAttach;PID (extended mode).
func (s *Server) vAttach(c *client, r *rsp.Attach) {
	if s.proc != nil {
		c.replyError(rsp.CodeBusy)
		return
	}
	if err := s.attach(int(r.Pid)); err != nil {
		s.logf("Cannot attach to process %d: %v", r.Pid, err)
		c.replyError(launchErrorCode(err))
		return
	}
	s.replyFirstStop(c, 0)
}

// vRun serves vRun;PROGRAM;ARGS (gdb's `run` in extended mode): any
// process is killed and the program started anew.
func (s *Server) vRun(c *client, r *rsp.Run) {
	if p := s.proc; p != nil {
		// The old process ends for everyone; running clients hear it.
		final := s.endOf(p)
		exit := s.exit
		s.processGone(final)
		s.exit = exit
	}
	spec := c.launch
	spec.Path = r.Program
	if spec.Path == "" {
		spec.Path = s.lastProgram()
	}
	spec.Args = append([]string{spec.Path}, r.Args...)
	if err := s.launch(spec); err != nil {
		s.logf("%v", err)
		c.replyError(launchErrorCode(err))
		return
	}
	s.replyFirstStop(c, target.SIGTRAP)
}

// lastProgram is the program a vRun without a name starts again.
func (s *Server) lastProgram() string {
	if s.cfg.Program != nil {
		return s.cfg.Program.Path
	}
	return ""
}

// replyFirstStop tells a client the new process's first stop.
func (s *Server) replyFirstStop(c *client, sig target.Signal) {
	p := s.proc
	p.lastStop = &stop{kind: stopSignal, tid: p.lastTid, signal: sig}
	reply := rsp.StopReply{Kind: rsp.StopSignal, Signal: gdbSignal(sig)}
	s.appendThreadAndRegisters(c, &reply, p.lastTid)
	c.gThread = reply.Thread
	c.reply(reply.AppendPayload(c.scratch()))
}

// launchErrorCode picks the E reply for a failed start or attach.
func launchErrorCode(err error) rsp.ErrorCode {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return rsp.CodeNoEntry
	case errors.Is(err, os.ErrPermission):
		return rsp.CodeNotPermitted
	}
	return rsp.CodeNoProcess
}
