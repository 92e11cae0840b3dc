package server

import "gdbserverx/rsp"

// The processes of the server: the program it started or attached to,
// and the children of forks that are followed (fork.go). All-stop holds
// for every process together: while a client holds (it was told a stop
// and has not resumed), no process runs.

// mainProc is the first process, or nil: the one a client that did not
// negotiate multiprocess ids debugs.
func (s *Server) mainProc() *process {
	if len(s.procs) == 0 {
		return nil
	}
	return s.procs[0]
}

// procByPid finds a process by its pid.
func (s *Server) procByPid(pid int) *process {
	for _, p := range s.procs {
		if p.pid == pid {
			return p
		}
	}
	return nil
}

// anyRunning says whether a process runs.
func (s *Server) anyRunning() bool {
	for _, p := range s.procs {
		if p.running {
			return true
		}
	}
	return false
}

// interruptAll asks every running process to stop.
func (s *Server) interruptAll() {
	for _, p := range s.procs {
		p.interrupt()
	}
}

// addProc enters a process in the table.
func (s *Server) addProc(p *process) {
	s.procs = append(s.procs, p)
	s.offer.targetFeatures = p.serves
}

// dropProc takes a process out of the table.
func (s *Server) dropProc(p *process) {
	for i, q := range s.procs {
		if q == p {
			s.procs = append(s.procs[:i], s.procs[i+1:]...)
			return
		}
	}
}

// procOf is the process a wire thread id names: its pid when it has one
// (pPID.TID, PID > 0), else the client's current process (cur).
func (c *client) procOf(id rsp.ThreadID) *process {
	if id.Multiprocess && id.Pid > 0 {
		return c.s.procByPid(int(id.Pid))
	}
	return c.cur()
}

// cur is the client's current process: the one its general thread (Hg)
// names, else the first.
func (c *client) cur() *process {
	if g := c.gThread; g.Multiprocess && g.Pid > 0 {
		if p := c.s.procByPid(int(g.Pid)); p != nil {
			return p
		}
	}
	return c.s.mainProc()
}
