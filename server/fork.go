package server

import (
	"maps"
	"slices"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// Following forks (gdb's fork-events and vfork-events). While a client
// that negotiated them debugs a process, the target follows its forks
// (target.ForkFollower): a fork stops the forking thread with the child
// traced and stopped at its first instruction. The clients told of the
// fork (fork.go's forkStop) are the child's: they debug it as a process
// of its own (pPID.TID ids, D;PID, vKill;PID, W...;process:PID), and
// nobody else sees it. gdb then either detaches the child (its default,
// `set detach-on-fork on`, after taking its breakpoints out of the
// child's memory with z packets in the child's context) or keeps it
// (`set detach-on-fork off`, `set follow-fork-mode child`). A child
// whose clients have all left is let go, with none of the server's
// breakpoints in it. When nobody wants fork events the target does not
// follow forks: children run on untraced and without the breakpoints,
// as gdbserver leaves them.

// forkState is a process's part in following forks.
type forkState struct {
	follower target.ForkFollower // nil when the target cannot
	// following: the target follows the process's forks.
	following bool
	// knownBy is nil for the first process (every client debugs it);
	// for a fork child, the clients told of the fork.
	knownBy map[*client]bool
}

// wanted says whether a client that debugs the process is told of its
// forks or vforks: the target follows them then.
func (fs *forkState) wanted(clients clientList) bool {
	for _, c := range clients.connected() {
		if c.state != clientIdle && fs.knows(c) && (c.forkEvents || c.vforkEvents) {
			return true
		}
	}
	return false
}

// follow turns following forks on or off, as the process's clients
// want, before it runs.
func (fs *forkState) follow(clients clientList) error {
	if fs.follower == nil {
		return nil
	}
	want := fs.wanted(clients)
	if want == fs.following {
		return nil
	}
	if err := fs.follower.FollowForks(want); err != nil {
		return err
	}
	fs.following = want
	return nil
}

// forkStop makes the pending stop of a fork or vfork of p, and returns
// the child, a process for the server's table, known to the running
// clients that asked for the event; the other clients never hear of it.
// With none to tell (they left, or asked only for the other kind of
// fork), the child is let go at once, and nil returned.
func (p *process) forkStop(ts *target.ThreadStop, running []*client) *process {
	if ts.Child == nil {
		return nil
	}
	reason, verb := rsp.ReasonFork, "forked"
	if ts.Reason == target.StopVFork {
		reason, verb = rsp.ReasonVFork, "vforked"
	}
	st := &stop{kind: stopFork, reason: reason, tid: ts.Tid, signal: target.SIGTRAP, info: ts.SigInfo, to: map[*client]stopNote{}}
	for _, c := range running {
		if (reason == rsp.ReasonFork && c.forkEvents) || (reason == rsp.ReasonVFork && c.vforkEvents) {
			st.to[c] = stopNote{}
		}
	}
	child := newProcess(ts.Child, p.b, p.log, p.attached, p.path)
	child.threads = []target.Tid{target.Tid(child.pid)}
	child.lastTid = target.Tid(child.pid)
	child.fk.following = p.fk.following // the target's child inherits it
	child.fk.knownBy = map[*client]bool{}
	for c := range st.to {
		child.fk.knownBy[c] = true
	}
	// The child's memory is a copy of the parent's: the inserted int3s
	// are in it, owned by the clients that know the child (gdb takes
	// them out with z packets in the child's context before it detaches
	// it); the others' go at its first resume.
	for addr, b := range p.breaks {
		if !b.inserted {
			continue
		}
		owners := maps.Clone(b.owners)
		maps.DeleteFunc(owners, func(c *client, _ bool) bool { return !child.fk.knownBy[c] })
		child.breaks[addr] = &swBreak{owners: owners, inserted: true}
	}
	if len(st.to) == 0 {
		p.log.printf("Process %d %s process %d, which nobody debugs: it runs on", p.pid, verb, child.pid)
		child.letGo()
		return nil
	}
	p.log.printf("Process %d %s process %d", p.pid, verb, child.pid)
	st.child = child.pid
	p.pending = append(p.pending, st)
	return child
}

// vforkDoneStop makes the pending stop of the end of a vfork's sharing:
// the clients told of vforks hear it (gdb inserts its breakpoints in the
// parent again then).
func (p *process) vforkDoneStop(ts *target.ThreadStop, running []*client) {
	st := &stop{kind: stopFork, reason: rsp.ReasonVForkDone, tid: ts.Tid, signal: target.SIGTRAP, info: ts.SigInfo, to: map[*client]stopNote{}}
	for _, c := range running {
		if c.vforkEvents {
			st.to[c] = stopNote{}
		}
	}
	if len(st.to) > 0 {
		p.pending = append(p.pending, st)
	}
}

// forgetClient takes a client that leaves out of the children it knows;
// a child nobody knows any more is let go.
func (s *Server) forgetClient(c *client) {
	for _, p := range append([]*process(nil), s.procs...) {
		if p.fk.knownBy == nil || !p.fk.knownBy[c] {
			continue
		}
		delete(p.fk.knownBy, c)
		if len(p.fk.knownBy) == 0 {
			s.log.printf("Nobody debugs process %d any more: it runs on", p.pid)
			p.letGo()
			s.dropProc(p)
		}
	}
}

// knows says whether a client debugs the process: the first process is
// everyone's; a fork child is known to the clients told of the fork.
func (fs *forkState) knows(c *client) bool {
	return fs.knownBy == nil || fs.knownBy[c]
}

// knowing filters clients to those that debug the process.
func (fs *forkState) knowing(cs []*client) []*client {
	if fs.knownBy == nil {
		return cs
	}
	out := make([]*client, 0, len(cs))
	for _, c := range cs {
		if fs.knownBy[c] {
			out = append(out, c)
		}
	}
	return out
}

// debugging lists the clients other than c that debug p.
func (cs clientList) debugging(p *process, except *client) []*client {
	var out []*client
	for _, o := range cs.connected() {
		if o != except && o.state != clientIdle && p.fk.knows(o) {
			out = append(out, o)
		}
	}
	return out
}

// listed is what c's thread lists show: the processes it sees but fork
// children whose fork it is still to be told of (forkUntold).
func listed(c *client) []*process {
	out := c.visible()
	return slices.DeleteFunc(slices.Clone(out), func(p *process) bool { return forkUntold(c, p) })
}

// forkUntold says whether p is a fork child whose fork c is still to be
// told: until then c does not see it (its thread lists leave it out, as
// gdbserver's do), or gdb would take its threads for a new inferior it
// knows nothing of, without a target description ("Remote 'g' packet
// reply is too long"), while another thread's fork waits to be told.
func forkUntold(c *client, child *process) bool {
	if child.fk.knownBy == nil {
		return false
	}
	for _, p := range c.s.procs {
		for _, st := range p.pending {
			if st.kind == stopFork && st.child == child.pid {
				if _, ok := st.to[c]; ok {
					return true
				}
			}
		}
	}
	return false
}
