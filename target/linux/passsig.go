package linux

import (
	"fmt"

	"gdbserverx/target"
)

// Signals passed during a run (target.SignalPasser): a thread that stops
// to receive one of them (a signal-delivery-stop, proc ptrace(2)) is
// restarted with it at once, on the Tracer's thread, with no other
// thread stopped and no event: one wait and one restart per signal
// instead of a stop of the world and its round trip through the
// debugger. A Go program's runtime sends SIGURG to preempt its
// goroutines, faster than a debugger can answer each one (README,
// "Delve").

var _ target.SignalPasser = (*Process)(nil)

// PassSignals sets the signals passed during the following runs.
func (p *Process) PassSignals(sigs []target.Signal) error {
	if err := p.usable(); err != nil {
		return err
	}
	var set passSet
	for _, s := range sigs {
		if s < 1 || s > 64 {
			return fmt.Errorf("pass signal %d: no such signal", s)
		}
		switch s {
		case target.SIGTRAP, target.SIGSTOP, target.SIGKILL:
			continue // the debugger's own
		}
		set |= 1 << (s - 1)
	}
	p.pass = set
	return nil
}

// passSet holds the signals passed at once: bit n-1 for signal n.
type passSet uint64

// passes says whether a thread's stop for sig is passed at once: sig is
// in the set, the thread continues (a stepped thread's step would end in
// the handler) and the world is not being stopped (the stop must then
// hold, and the caller delivers the signal at the next resume).
func (s passSet) passes(sig int, kind target.ResumeKind, stopping bool) bool {
	return sig >= 1 && sig <= 64 && s&(1<<(sig-1)) != 0 && kind == target.Continue && !stopping
}
