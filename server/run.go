package server

import (
	"errors"
	"os"
	"slices"

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
	p := newProcess(t, s.cfg.Backend, s.log, false, spec.Path)
	s.addProc(p)
	s.log.printf("Process %s created; pid = %d", spec.Path, p.pid)
	return p.afterStart()
}

// attach attaches to a running process.
func (s *Server) attach(pid int) error {
	t, err := s.cfg.Backend.Attach(pid)
	if err != nil {
		return err
	}
	p := newProcess(t, s.cfg.Backend, s.log, true, "") // its path is the target's (execName)
	s.addProc(p)
	s.log.printf("Attached; pid = %d", pid)
	return p.afterStart()
}

// kill serves k and vKill: a process (vKill;PID), or every process (k),
// is killed, every other client told (X09), and the server leaves if
// nothing else keeps it.
func (s *Server) kill(c *client, pid int, reply bool) {
	victims := c.visible()
	if pid != 0 {
		p := s.procs.byPid(pid)
		if p == nil || !p.fk.knows(c) {
			if reply {
				c.replyError(rsp.CodeNoProcess)
			}
			return
		}
		victims = []*process{p}
	} else if len(victims) == 0 {
		if reply {
			c.replyError(rsp.CodeNoProcess)
		} else if !c.extended {
			s.release(c) // the legacy k ends the session, as below
		}
		return
	}
	// With others debugging it, a client's kill only makes it leave,
	// unless none of them has a higher priority.
	for _, p := range victims {
		for _, o := range s.clients.debugging(p, c) {
			if o.priority > c.priority {
				for _, p := range victims {
					s.log.printf("Client #%d asked to kill process %d; client #%d (priority %d) still debugs it: the client leaves it instead", c.id, p.pid, o.id, o.priority)
					s.tell(p, p.dropOwner(c))
				}
				c.setState(clientIdle)
				if reply {
					c.replyOK()
				}
				return
			}
		}
	}
	for _, p := range slices.Clone(victims) {
		s.log.printf("Killing process %d", p.pid)
		final := p.endOf()
		// The killer gets OK; everyone else the end of the process.
		c.setState(clientIdle)
		s.processGone(p, final)
	}
	c.setState(clientStopped)
	if reply {
		c.replyOK()
		return
	}
	if !c.extended {
		// The legacy k has no reply; gdbserver ends then, and clients
		// (Delve) wait for the connection to close. lldb-server answers
		// with the end of the process, which lldb waits for.
		lldbKilled(c)
		s.release(c)
	}
}

// detach serves D: a process (D;PID), or every process the client
// debugs, goes on untraced (gdb's `detach`, and the fork children gdb
// does not keep), once no other client debugs it; otherwise only this
// client leaves it.
func (s *Server) detach(c *client, r *rsp.Detach) {
	targets := c.visible()
	if r.HasPid {
		p := s.procs.byPid(int(r.Pid))
		if p == nil || !p.fk.knows(c) {
			c.replyError(rsp.CodeNoProcess)
			return
		}
		targets = []*process{p}
	}
	if len(targets) == 0 {
		c.replyError(rsp.CodeNoProcess)
		return
	}
	left := map[*process]bool{}
	for _, p := range slices.Clone(targets) {
		if len(s.clients.debugging(p, c)) > 0 {
			s.tell(p, p.dropOwner(c))
			if p.fk.knownBy != nil {
				delete(p.fk.knownBy, c)
			}
			left[p] = true
			continue
		}
		s.log.printf("Detaching from process %d", p.pid)
		if !p.stopForGood() {
			s.dropProc(p)
			continue
		}
		p.removeAllBreakpoints()
		if err := p.t.Detach(); err != nil {
			s.log.printf("detach: %v", err)
			c.replyError(errorCode(err))
			return
		}
		s.dropProc(p)
	}
	if len(left) > 0 {
		// It debugs nothing now, unless it left one process of several.
		remaining := 0
		for _, p := range c.visible() {
			if !left[p] {
				remaining++
			}
		}
		if !r.HasPid || remaining == 0 {
			c.setState(clientIdle)
		}
	}
	c.replyOK()
}

// vAttach serves vAttach;PID (extended mode).
func (s *Server) vAttach(c *client, r *rsp.Attach) {
	if len(s.procs) > 0 {
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
	for _, p := range slices.Clone(s.procs) {
		// The old processes end for everyone; running clients hear it.
		final := p.endOf()
		exit := s.exit
		s.processGone(p, final)
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
