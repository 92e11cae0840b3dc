package linux

import (
	"fmt"

	"gdbserverx/target"
)

// The stop filter (target.StopFilter): during a run, a stop that would
// start a stop of the world is first offered to the filter, on the
// Tracer's thread. A stop the filter serves costs the wait, the
// siginfo, the registers it reads and writes, and one restart; no other
// thread is stopped, no event is queued, nothing crosses a channel.

var _ target.StopFilter = (*Process)(nil)

// SetStopFilter installs the stop filter for the following runs.
func (p *Process) SetStopFilter(f target.StopFilterFunc) error {
	if err := p.usable(); err != nil {
		return err
	}
	p.filter = f
	return nil
}

// filterThread is what the filter may touch: one stopped thread and
// the process's memory.
type filterThread struct {
	p  *Process
	th *thread
}

func (t filterThread) GeneralRegisters(buf []byte) error {
	if len(buf) < t.p.desc.Size() {
		return fmt.Errorf("register buffer of %d bytes, want %d", len(buf), t.p.desc.Size())
	}
	if err := t.p.loadGP(t.th); err != nil {
		return err
	}
	putGP(buf, &t.th.regs.gp)
	return nil
}

func (t filterThread) SetGeneralRegisters(buf []byte) error {
	if len(buf) < t.p.desc.Size() {
		return fmt.Errorf("register buffer of %d bytes, want %d", len(buf), t.p.desc.Size())
	}
	if err := t.p.loadGP(t.th); err != nil {
		return err
	}
	gp := t.th.regs.gp
	getGP(buf, &gp)
	if gp != t.th.regs.gp {
		t.th.regs.gp = gp
		t.th.regs.gpDirty = true
	}
	return nil
}

func (t filterThread) ReadMemory(addr uint64, buf []byte) (int, error) {
	return t.p.mem.read(addr, buf)
}

func (t filterThread) WriteMemory(addr uint64, data []byte) (int, error) {
	return t.p.mem.write(addr, data)
}

// filtered offers a stop to the filter. It reports true when the filter
// served it (the thread has been restarted as it was running: a
// stepping thread steps again). Only during a run, before the world is
// being stopped: stops collected for an event, and those of StepThread
// and InjectSyscall, are never offered.
func (p *Process) filtered(th *thread, st *target.ThreadStop) bool {
	if p.filter == nil || p.stopping || p.worldStopped {
		return false
	}
	if p.filter(filterThread{p, th}, st) != target.FilterResume {
		return false
	}
	p.c.filtered++
	p.restart(th)
	return true
}
