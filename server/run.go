package server

import (
	"errors"
	"os"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// The process's start and end, which the Server owns: whether there is a
// process, and how it ends for every client. A client asks with vRun,
// vAttach, k, vKill and D; the command line with Config.Program and
// AttachPID.

// launch starts a program, as gdbserver's command line or vRun asks.
func (s *Server) launch(spec LaunchSpec) error {
	if spec.Path == "" {
		return errors.New("no program to run")
	}
	if len(spec.Args) == 0 {
		spec.Args = []string{spec.Path}
	}
	t, err := s.cfg.Backend.Launch(spec)
	if err != nil {
		return err
	}
	s.wire(newProcess(t, s.cfg.Backend, s.log, false, spec.Path))
	s.log.printf("Process %s created; pid = %d", spec.Path, s.proc.pid)
	return s.proc.afterStart()
}

// attach attaches to a running process.
func (s *Server) attach(pid int) error {
	t, err := s.cfg.Backend.Attach(pid)
	if err != nil {
		return err
	}
	s.wire(newProcess(t, s.cfg.Backend, s.log, true, "")) // its path is the target's (execName)
	s.log.printf("Attached; pid = %d", pid)
	return s.proc.afterStart()
}

// wire makes p the process, and its target's features the offer
// (features.go).
func (s *Server) wire(p *process) {
	s.proc = p
	s.offer.targetFeatures = p.serves
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
	for _, o := range s.clients.connected() {
		if o != c && o.state != clientIdle && o.priority > c.priority {
			s.log.printf("Client #%d asked to kill process %d; client #%d (priority %d) still debugs it: the client leaves it instead", c.id, p.pid, o.id, o.priority)
			s.tell(p.dropOwner(c))
			c.setState(clientIdle)
			if reply {
				c.replyOK()
			}
			return
		}
	}
	s.log.printf("Killing process %d", p.pid)
	final := p.endOf()
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
	for _, o := range s.clients.connected() {
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
	s.log.printf("Detaching from process %d", p.pid)
	p.removeAllBreakpoints()
	if err := p.t.Detach(); err != nil {
		s.log.printf("detach: %v", err)
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
		s.log.printf("Cannot attach to process %d: %v", r.Pid, err)
		c.replyError(launchErrorCode(err))
		return
	}
	c.replyFirstStop(0)
}

// vRun serves vRun;PROGRAM;ARGS (gdb's `run` in extended mode): any
// process is killed and the program started anew.
func (s *Server) vRun(c *client, r *rsp.Run) {
	if p := s.proc; p != nil {
		// The old process ends for everyone; running clients hear it.
		final := p.endOf()
		exit := s.exit
		s.processGone(final)
		s.exit = exit
	}
	spec := c.launch
	spec.Path = r.Program
	if spec.Path == "" && s.cfg.Program != nil {
		// The program a vRun without a name starts again.
		spec.Path = s.cfg.Program.Path
	}
	spec.Args = append([]string{spec.Path}, r.Args...)
	if err := s.launch(spec); err != nil {
		s.log.printf("%v", err)
		c.replyError(launchErrorCode(err))
		return
	}
	c.replyFirstStop(target.SIGTRAP)
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
