package linux

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// detach removes breakpoints and debug registers and detaches every
// thread.
func (tr *tracer) detach() error {
	var first error
	note := func(err error) {
		if first == nil && err != nil && !isGone(err) {
			first = err
		}
	}
	for _, th := range tr.order {
		if !th.gone {
			note(tr.flushRegs(th))
		}
	}
	note(tr.p.mem.removeAll())
	for _, th := range tr.order {
		if !th.gone && th.dr.Control != 0 && th.dr.Control != ^uint64(0) {
			note(tr.pokeDR(th.tid, 7, 0))
		}
	}
	if tr.p.doorbells.Load() > 0 && tr.doorbellPending() {
		// A stale doorbell SIGSTOP is still queued: once untraced it
		// would stop the program. SIGCONT removes pending stop signals
		// when it is sent (kernel/signal.c prepare_signal); the program
		// then receives a SIGCONT, which does nothing by default.
		tr.p.handle.Signal(syscall.SIGCONT)
	}
	for _, th := range tr.order {
		if !th.gone {
			tr.c.ptrace(unix.PTRACE_DETACH, th.tid, 0, 0)
		}
	}
	tr.queue = nil // stops of a process no longer ours
	tr.end(errDetached)
	return first
}

// doorbellPending says whether a SIGSTOP of ours is queued in a thread or
// in the process.
func (tr *tracer) doorbellPending() bool {
	var q [8][siginfoSize]byte
	isBell := func(b []byte) bool {
		return siSigno(b) == int(unix.SIGSTOP) && int(siPid(b)) == os.Getpid()
	}
	sharedSeen := false
	for _, th := range tr.order {
		if th.gone {
			continue
		}
		n, _ := tr.c.pendingSignals(th.tid, false, q[:])
		for j := 0; j < n; j++ {
			if isBell(q[j][:]) {
				return true
			}
		}
		if !sharedSeen {
			sharedSeen = true
			n, _ = tr.c.pendingSignals(th.tid, true, q[:])
			for j := 0; j < n; j++ {
				if isBell(q[j][:]) {
					return true
				}
			}
		}
	}
	return false
}
