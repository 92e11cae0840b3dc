package server

import (
	"slices"

	"gdbserverx/rsp"
)

// The processes of the server: the program it started or attached to,
// and the children of forks that are followed (fork.go). All-stop holds
// for every process together: while a client holds (it was told a stop
// and has not resumed), no process runs.

// procTable is the table of processes, in the order they came.
type procTable []*process

// main is the first process, or nil: the one a client that did not
// negotiate multiprocess ids debugs.
func (ps procTable) main() *process {
	if len(ps) == 0 {
		return nil
	}
	return ps[0]
}

// byPid finds a process by its pid.
func (ps procTable) byPid(pid int) *process {
	for _, p := range ps {
		if p.pid == pid {
			return p
		}
	}
	return nil
}

// anyRunning says whether a process runs.
func (ps procTable) anyRunning() bool {
	for _, p := range ps {
		if p.running {
			return true
		}
	}
	return false
}

// anyPending says whether a process has stops not told yet.
func (ps procTable) anyPending() bool {
	for _, p := range ps {
		if len(p.pending) > 0 {
			return true
		}
	}
	return false
}

// anyOrphaned says whether a process runs on for nobody.
func (ps procTable) anyOrphaned() bool {
	for _, p := range ps {
		if p.orphaned {
			return true
		}
	}
	return false
}

// interruptAll asks every running process to stop.
func (ps procTable) interruptAll() {
	for _, p := range ps {
		p.interrupt()
	}
}

// addProc enters a process in the table.
func (s *Server) addProc(p *process) {
	if s.nonStop {
		if err := (nonStop{s}).setProcessMode(p, true); err != nil {
			s.log.printf("non-stop mode: process %d: %v", p.pid, err)
		}
	}
	s.procs = append(s.procs, p)
	s.offer.targetFeatures = p.serves
	if s.cfg.AgentOutput != nil {
		p.agent.out = s.cfg.AgentOutput
	}
}

// dropProc takes a process out of the table.
func (s *Server) dropProc(p *process) {
	if i := slices.Index(s.procs, p); i >= 0 {
		s.procs = slices.Delete(s.procs, i, i+1)
	}
}

// procOf is the process a wire thread id names: its pid when it has one
// (pPID.TID, PID > 0), else the client's current process (cur).
func (c *client) procOf(id rsp.ThreadID) *process {
	if id.Multiprocess && id.Pid > 0 {
		return c.s.procs.byPid(int(id.Pid))
	}
	return c.cur()
}

// cur is the client's current process: the one its general thread (Hg)
// names, else the first.
func (c *client) cur() *process {
	if g := c.gThread; g.Multiprocess && g.Pid > 0 {
		if p := c.s.procs.byPid(int(g.Pid)); p != nil {
			return p
		}
	}
	return c.s.procs.main()
}
