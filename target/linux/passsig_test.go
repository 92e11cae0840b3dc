package linux

import (
	"testing"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// TestPassSignals: a passed signal is delivered during the run, with no
// event (testdata/signals.c raises SIGUSR1, whose default action ends the
// program): the next event is the program's death by SIGUSR1, and the
// count of passed signals says one went through. Without the pass, the
// same run stops at the signal. SIGTRAP and SIGSTOP are never passed.
func TestPassSignals(t *testing.T) {
	usr1 := target.Signal(unix.SIGUSR1)

	p, _ := launch(t, "signals")
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopSignal || st.Signal != usr1 {
		t.Fatalf("without a pass: %+v, want the stop at SIGUSR1", st)
	}

	p, _ = launch(t, "signals")
	if err := p.PassSignals([]target.Signal{usr1, target.SIGTRAP, target.SIGSTOP}); err != nil {
		t.Fatal(err)
	}
	if p.pass.passes(int(target.SIGTRAP), target.Continue, false) || p.pass.passes(int(target.SIGSTOP), target.Continue, false) {
		t.Errorf("SIGTRAP or SIGSTOP passed: set %#x", p.pass)
	}
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventSignaled || ev.Signal != usr1 {
		t.Fatalf("with SIGUSR1 passed: %+v, want the death by SIGUSR1 and no stop", ev)
	}
	if n := p.Counts().Passed; n != 1 {
		t.Errorf("%d signals passed, want 1", n)
	}
	if err := p.PassSignals([]target.Signal{65}); err == nil {
		t.Errorf("PassSignals(65) after the end: no error")
	}
}

// TestPassSetRules: a signal in the set is passed only to a thread that
// continues, and not while the world stops.
func TestPassSetRules(t *testing.T) {
	s := passSet(1 << (unix.SIGURG - 1))
	for _, c := range []struct {
		sig      int
		kind     target.ResumeKind
		stopping bool
		want     bool
	}{
		{int(unix.SIGURG), target.Continue, false, true},
		{int(unix.SIGURG), target.Step, false, false},
		{int(unix.SIGURG), target.Continue, true, false},
		{int(unix.SIGUSR1), target.Continue, false, false},
		{0, target.Continue, false, false},
		{65, target.Continue, false, false},
	} {
		if got := s.passes(c.sig, c.kind, c.stopping); got != c.want {
			t.Errorf("passes(%d, %v, stopping %v) = %v", c.sig, c.kind, c.stopping, got)
		}
	}
}
