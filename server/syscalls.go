package server

import (
	"gdbserverx/rsp"
	"gdbserverx/target"
)

// Catching system calls (gdb's `catch syscall`, GDB manual "General
// Query Packets", QCatchSyscalls, and "Stop Reply Packets",
// syscall_entry and syscall_return). Each client has its own set of
// caught calls (catchSet); the target of each process catches the union
// of the sets of the clients that debug it (target.SyscallCatcher),
// given at each resume as the breakpoints are: gdb clears its set at
// every stop (QCatchSyscalls:0) and sends it again before it resumes,
// which then costs nothing. A syscall stop is told to the running
// clients whose set holds the call; the others, and the stops the
// software-watchpoint engine and the debugpoints make for themselves
// (swwatch sees every call while watches are emulated; kernel writes
// into hardware-watched memory are looked for at every exit), are told
// to nobody for it.

// catchSet is the system calls a client catches.
type catchSet struct {
	set target.SyscallSet
}

// serve serves QCatchSyscalls: the client's set, in numbers of the
// program's ABI (gdb's syscalls/amd64-linux.xml), replaces the one it
// had.
func (cs *catchSet) serve(c *client, r *rsp.SetCatchSyscalls) {
	if !c.s.offer.catchSyscalls {
		c.replyEmpty()
		return
	}
	switch {
	case !r.Enabled:
		cs.set = target.SyscallSet{}
	case len(r.Syscalls) == 0:
		cs.set = target.AllSyscalls()
	default:
		nums := make([]int, 0, len(r.Syscalls))
		for _, n := range r.Syscalls {
			if n <= maxSyscall {
				nums = append(nums, int(n))
			}
		}
		cs.set = target.SyscallsOf(nums...)
	}
	c.replyOK()
}

// maxSyscall bounds the numbers a client's set keeps: a number above
// names no system call of any ABI Linux has (x86-64's highest is under
// 500; x32's flag bit 0x40000000 is not this target's ABI), so it could
// never stop anything, and a set of them would only cost memory.
const maxSyscall = 1 << 16

// syscallCatching is a process's part in catching system calls.
type syscallCatching struct {
	catcher target.SyscallCatcher // nil when the target cannot
	caught  target.SyscallSet     // the set the target was last given
}

// apply gives the target of p the union of the sets of the clients that
// debug p, when it changed, before p runs.
func (sc *syscallCatching) apply(p *process, clients clientList) error {
	if sc.catcher == nil {
		return nil
	}
	var want target.SyscallSet
	for _, c := range clients.connected() {
		switch c.state {
		case clientStopped, clientRunning, clientWaiting, clientNonStop:
			if p.fk.knows(c) {
				want = want.Union(c.catch.set)
			}
		}
	}
	if want.Equal(sc.caught) {
		return nil
	}
	if err := sc.catcher.CatchSyscalls(want); err != nil {
		return err
	}
	sc.caught = want
	return nil
}

// syscallStop makes the pending stop of a thread's syscall entry or
// exit, addressed to the running clients that catch the call; nil when
// none does.
func syscallStop(ts *target.ThreadStop, running []*client) *stop {
	if ts.Syscall < 0 {
		return nil // orig_rax -1: a call skipped at its entry, no system call
	}
	kind := stopSyscallReturn
	if ts.Reason == target.StopSyscallEntry {
		kind = stopSyscallEntry
	}
	var st *stop
	for _, c := range running {
		if !c.catch.set.Has(ts.Syscall) {
			continue
		}
		if st == nil {
			st = &stop{kind: kind, tid: ts.Tid, signal: target.SIGTRAP, syscall: ts.Syscall, to: map[*client]stopNote{}}
		}
		st.to[c] = stopNote{}
	}
	return st
}

// syscallReason is the stop reply's reason for a syscall stop: gdb
// tells "call to" from "returned from" by it.
func (st *stop) syscallReason() (rsp.StopReason, uint64) {
	if st.kind == stopSyscallEntry {
		return rsp.ReasonSyscallEntry, uint64(st.syscall)
	}
	return rsp.ReasonSyscallReturn, uint64(st.syscall)
}
