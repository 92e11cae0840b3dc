package server

import (
	"encoding/binary"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

// Range stepping (vCont;rSTART,END, GDB manual "Packets"): gdb's `next`
// and `step` ask the server to step a thread while its pc stays within
// the line's range [START,END), and to report only the step that leaves
// it, so that a line of twenty instructions costs gdb one round trip
// instead of twenty. The server steps the thread again itself: a
// completed step that stays in the range is told to nobody, and the
// thread's resume (its client's action, still a step) runs again, in
// all-stop (settle resumes the process with the same actions) and in
// non-stop mode (runThreads steps the thread again: its want is a step).
// The step is told, as an ordinary step, when the pc leaves the range,
// lands on a software breakpoint, or comes with a watchpoint hit or
// another client's stop; gdb takes any such stop as the end of the range
// (as it must: a server may always stop early).

// stepRange is the range a client's step of a thread may stay within,
// and whether it asked for one.
func stepRange(c *client, p *process, tid target.Tid) (start, end uint64, ok bool) {
	if c.state == clientNonStop {
		th := p.ns[tid]
		if th == nil || th.stepper != c || th.rangeEnd == 0 {
			return 0, 0, false
		}
		return th.rangeStart, th.rangeEnd, true
	}
	a := c.actionFor(p, tid)
	if a == nil || a.Kind != rsp.ResumeRangeStep || a.RangeEnd <= a.RangeStart {
		return 0, 0, false
	}
	// A signal went with the first step; stepping again would send it
	// twice. gdb does not range-step with a signal, but its vCont may
	// carry one for another thread.
	for _, o := range c.resume.Actions {
		if o.Signal != rsp.SignalNone {
			return 0, 0, false
		}
	}
	return a.RangeStart, a.RangeEnd, true
}

// stepsOn says whether c's range step of thread ts.Tid goes on after this
// completed step: the pc is still in the range and no breakpoint is there.
func stepsOn(c *client, p *process, ts *target.ThreadStop) bool {
	start, end, ok := stepRange(c, p, ts.Tid)
	if !ok {
		return false
	}
	pc, ok := threadPC(p, ts)
	if !ok || pc < start || pc >= end {
		return false
	}
	if _, bp := p.breaks[pc]; bp {
		return false
	}
	p.rangeSteps++
	return true
}

// threadPC is the pc of a stopped thread: the stop's own, or read.
func threadPC(p *process, ts *target.ThreadStop) (uint64, bool) {
	if ts.PC != 0 {
		return ts.PC, true
	}
	reg, ok := p.desc.Lookup("rip")
	if !ok || reg.Bits != 64 {
		return 0, false
	}
	if len(p.stopRegs) != p.desc.Size() {
		p.stopRegs = make([]byte, p.desc.Size())
	}
	read := p.t.ReadRegisters
	if p.gpr != nil {
		read = p.gpr.ReadGeneralRegisters
	}
	if err := read(ts.Tid, p.stopRegs); err != nil {
		return 0, false
	}
	return binary.LittleEndian.Uint64(p.stopRegs[reg.Offset:]), true
}
