package linux

import (
	"golang.org/x/sys/unix"
)

// detach removes breakpoints and debug registers and detaches every
// thread.
func (p *Process) detach() error {
	var first error
	note := func(err error) {
		if first == nil && err != nil && !isGone(err) {
			first = err
		}
	}
	for _, th := range p.order {
		if !th.gone {
			note(p.flushRegs(th))
		}
	}
	note(p.mem.removeAll())
	for _, th := range p.order {
		if !th.gone && th.dr.Control != 0 && th.dr.Control != ^uint64(0) {
			note(p.pokeDR(th.tid, 7, 0))
		}
	}
	for _, th := range p.order {
		if !th.gone {
			p.c.ptrace(unix.PTRACE_DETACH, th.tid, 0, 0)
		}
	}
	p.queue = nil // stops of a process no longer ours
	p.end(errDetached)
	p.release()
	return first
}
