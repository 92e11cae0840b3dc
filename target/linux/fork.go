package linux

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// Following forks (target.ForkFollower). A fork or vfork child of a
// traced thread is traced from its first instruction (PTRACE_O_TRACEFORK,
// PTRACE_O_TRACEVFORK). Not followed, it is detached at once, without our
// breakpoints (stops.go, onNewChild). Followed, it becomes a Process of
// the same Tracer, stopped, and the forking thread reports StopFork or
// StopVFork with it. A vfork child shares its parent's memory until it
// execs or exits; then the parent reports StopVForkDone, and its int3s
// are written again (the child's side may have taken some out of the
// shared memory).

var _ target.ForkFollower = (*Process)(nil)

// forker is the machinery of following forks; its state is the
// Process's.
type forker struct{ p *Process }

// FollowForks turns following forks and vforks on or off (see
// target.ForkFollower).
func (p *Process) FollowForks(on bool) error {
	if err := p.usable(); err != nil {
		return err
	}
	p.followForks = on
	return nil
}

// adoptChild makes the stopped fork or vfork child pid a Process of the
// Tracer and reports it in the parent's thread.
func (fk forker) adoptChild(parent *thread, pid int, ev int) {
	p := fk.p
	c, err := fk.forkedProcess(pid)
	if err != nil {
		// It cannot be followed: let it go as an unfollowed child does.
		p.mem.restoreIn(pid)
		p.c.ptrace(unix.PTRACE_DETACH, pid, 0, 0)
		p.quiet(parent)
		return
	}
	p.owner.adopt(c)
	reason := target.StopFork
	if ev == unix.PTRACE_EVENT_VFORK {
		reason = target.StopVFork
		p.vforks[parent.tid] = vforkFollowed
	}
	parent.stop = stopInSyscall
	p.report(target.ThreadStop{Tid: target.Tid(parent.tid), Reason: reason, Signal: target.SIGTRAP, Child: c})
}

// forkedProcess makes the Process of a fork or vfork child, stopped at
// its first stop.
func (fk forker) forkedProcess(pid int) (*Process, error) {
	p := fk.p
	c := newProcess(p.owner)
	c.pid = pid
	c.regs, c.desc = p.regs, p.desc // the same CPU and kernel
	mem, err := openMemory(pid)
	if err != nil {
		return nil, fmt.Errorf("follow child %d: %w", pid, err)
	}
	// Its memory is a copy of the parent's (or the same, for a vfork):
	// the int3s are in it.
	mem.bps = maps.Clone(p.mem.bps)
	mem.addrs = slices.Clone(p.mem.addrs)
	h, err := os.FindProcess(pid)
	if err != nil {
		mem.close()
		return nil, fmt.Errorf("follow child %d: %w", pid, err)
	}
	c.mem, c.handle = mem, h
	th := c.addThread(pid, stopped, unknownDR)
	th.dr.Control = 0 // the kernel copies no debug register to a fork child
	c.nonStop, c.worldStopped = p.nonStop, !p.nonStop
	c.followForks = p.followForks
	c.want = target.DebugRegisters{}
	return c, nil
}

// vforkDone handles PTRACE_EVENT_VFORK_DONE in the parent: a lifted
// vfork (not followed) gets its int3s back; a followed one is reported,
// with the int3s written again over what the child's side may have
// removed from the memory both shared.
func (fk forker) vforkDone(th *thread) {
	p := fk.p
	kind, ok := p.vforks[th.tid]
	if !ok {
		p.quiet(th)
		return
	}
	delete(p.vforks, th.tid)
	if kind == vforkLifted {
		if !fk.anyLifted() {
			p.mem.unlift()
		}
		p.quiet(th)
		return
	}
	p.mem.rewrite()
	p.report(target.ThreadStop{Tid: target.Tid(th.tid), Reason: target.StopVForkDone, Signal: target.SIGTRAP})
}

// anyLifted says whether a vfork that lifted the int3s is still on.
func (fk forker) anyLifted() bool {
	p := fk.p
	for _, k := range p.vforks {
		if k == vforkLifted {
			return true
		}
	}
	return false
}

// The kinds of vfork a thread can be in.
const (
	vforkLifted   = 1 // not followed: the int3s are out of the shared memory
	vforkFollowed = 2 // followed: reported at its end
)
