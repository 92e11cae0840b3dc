package linux

import "gdbserverx/target"

// Catching system calls (target.SyscallCatcher).
//
// A caught call stops its thread at its syscall-entry-stop and its
// syscall-exit-stop, which ptrace makes at every call of a thread
// resumed with PTRACE_SYSCALL: the calls the set does not hold are let
// go on at once (onSyscallStop), as gdbserver does, without stopping
// the other threads.

var _ target.SyscallCatcher = (*Process)(nil)

// CatchSyscalls sets the system calls whose entries and exits are
// events (see target.SyscallCatcher).
func (p *Process) CatchSyscalls(set target.SyscallSet) error {
	if err := p.usable(); err != nil {
		return err
	}
	p.catch = set
	return nil
}

// syscallEvent says whether a syscall stop of thread th of p is an
// event: its kind (exits, entries) is traced, or the call is caught. (A
// function, not a method: Process is at its size limit, TestSizes.)
func syscallEvent(p *Process, traced bool, th *thread) bool {
	if traced || p.catch.All() {
		return true
	}
	if p.catch.Empty() || p.loadGP(th) != nil {
		return false
	}
	return p.catch.Has(int(th.regs.gp.Orig_rax))
}
