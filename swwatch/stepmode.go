package swwatch

import (
	"gdbserverx/hwbp"
	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// Step mode: watches on pages the engine cannot protect.
//
// Some pages must not be protected: those the kernel writes behind the
// program's back (a thread's rseq area and thread descriptor, see
// tcbWindow), and those mprotect refuses (hugetlb pages). A watch there
// is served as gdb serves its own software watchpoints, but without a
// round trip to the client: every thread the run resumes is
// single-stepped, and before each step the instruction is decoded and
// its accesses computed; after the step they are the hits. Three kinds
// of instruction are not stepped:
//
//   - a system call: the thread continues with syscall stops, so that
//     its entry and exit are served as usual (a blocking call does not
//     hold up the others), and is stepped again from its exit;
//   - a call (or jump) into the vDSO: single-stepping clock_gettime's
//     seqlock loop can livelock (docs: DESIGN.md), so the thread runs to
//     a breakpoint at the return address, and the watched values are
//     compared there;
//   - an instruction at one of those return breakpoints (another thread
//     on the same path): it is stepped with the breakpoint lifted.
//
// Pages the engine protects keep being served by faults meanwhile.
type stepMode struct {
	on  bool
	pre map[target.Tid]preStep // the decoded instruction of each stepped thread
	// calls are the threads running a vDSO function to a return
	// breakpoint (Process.retBPs).
	calls map[target.Tid]vdsoCall
}

// preStep is an instruction decoded before its step.
type preStep struct {
	pc  uint64
	acc []insn.Access
	bad bool // undecodable: compare values after it
}

// vdsoCall is a thread running a vDSO function to its return address.
type vdsoCall struct {
	ret, sp uint64
}

// updateStepMode turns step mode on while a watch covers a stepped page.
func (e *engine) updateStepMode() {
	on := false
	for i := range e.watches {
		w := &e.watches[i]
		for a := pageOf(w.Addr); a < w.End() && !on; a += pageSize {
			if pg := e.pages[a]; pg != nil && pg.stepped && pg.orig != unmapped {
				on = true
			}
		}
	}
	s := &e.step
	if on && !s.on {
		s.pre = map[target.Tid]preStep{}
		s.calls = map[target.Tid]vdsoCall{}
	}
	if !on && s.on {
		for _, c := range s.calls {
			e.p.dropRetBP(c.ret)
		}
		s.pre, s.calls = nil, nil
	}
	s.on = on
}

// prepare turns the actions of the next resume into single steps, and
// decodes each stepped thread's instruction.
func (s *stepMode) prepare(e *engine) error {
	if !s.on {
		return nil
	}
	clear(s.pre)
	tids, err := e.resumedThreads(e.runActions)
	if err != nil {
		return err
	}
	out := make([]target.Action, 0, len(tids))
	for _, tid := range tids {
		a, _ := findAction(e.runActions, tid)
		a.Tid = tid
		if c, ok := s.calls[tid]; ok {
			// A vDSO call that ended elsewhere than at its return (a
			// signal handler that jumped out of it): step again.
			if r, err := e.regs(tid); err == nil && !e.inVDSO(r.pc()) && r.pc() != c.ret {
				delete(s.calls, tid)
				e.p.dropRetBP(c.ret)
			}
		}
		if _, running := s.calls[tid]; running || e.atEntry[tid] || e.open[tid] != nil {
			// In a vDSO function, or in a system call: let it finish.
			out = append(out, a)
			continue
		}
		kind, err := s.decode(e, tid)
		if err != nil {
			return err
		}
		if a.Kind == target.Continue {
			a.Kind = kind
		}
		out = append(out, a)
	}
	e.runActions = out
	return nil
}

// decode decodes thread tid's next instruction and says how it resumes.
func (s *stepMode) decode(e *engine, tid target.Tid) (target.ResumeKind, error) {
	r, err := e.regs(tid)
	if err != nil {
		return target.Step, err
	}
	pc := r.pc()
	var code [insn.MaxLen]byte
	n, _ := e.p.inner.ReadMemory(pc, code[:])
	in, derr := e.dec.Decode(code[:n])
	if derr != nil {
		s.pre[tid] = preStep{pc: pc, bad: true}
		return target.Step, nil
	}
	if in.Effects&insn.EffSyscall != 0 {
		return target.Continue, nil
	}
	if ret, ok := s.vdsoTarget(e, r, in); ok {
		if err := e.p.addRetBP(ret); err != nil {
			return target.Step, err
		}
		s.calls[tid] = vdsoCall{ret: ret, sp: r.sp()}
		return target.Continue, nil
	}
	acc, aerr := insn.StepAccesses(in, r, nil)
	s.pre[tid] = preStep{pc: pc, acc: acc, bad: aerr != nil}
	return target.Step, nil
}

// vdsoTarget says whether in calls or jumps into the vDSO, and where the
// vDSO function returns to.
func (s *stepMode) vdsoTarget(e *engine, r *regs, in insn.Inst) (uint64, bool) {
	if e.vdso[1] == 0 || in.Flow != insn.FlowCall && in.Flow != insn.FlowJump {
		return 0, false
	}
	to, ok := in.BranchTarget(r)
	if !ok {
		// Through memory: the pointer is the instruction's read.
		acc, err := insn.Accesses(in, r, nil)
		if err != nil {
			return 0, false
		}
		for _, a := range acc {
			if a.Read && a.Size == 8 {
				var b [8]byte
				if _, err := e.p.inner.ReadMemory(a.Addr, b[:]); err == nil {
					to, ok = le.Uint64(b[:]), true
				}
				break
			}
		}
	}
	if !ok || !e.inVDSO(to) {
		return 0, false
	}
	if in.Flow == insn.FlowCall {
		return r.pc() + uint64(in.Len), true
	}
	// A tail jump: the function returns to our caller's return address.
	var b [8]byte
	if _, err := e.p.inner.ReadMemory(r.sp(), b[:]); err != nil {
		return 0, false
	}
	return le.Uint64(b[:]), true
}

// onDebug handles a completed step of a stepped thread.
func (s *stepMode) onDebug(e *engine, st target.ThreadStop) ([]target.ThreadStop, error) {
	p, ok := s.pre[st.Tid]
	if !ok || st.DR6&hwbp.DR6SingleStep == 0 {
		return []target.ThreadStop{st}, nil
	}
	delete(s.pre, st.Tid)
	if p.acc == nil && !p.bad {
		// Accounted for by the stop filter, which left the next
		// instruction to this path.
		return e.afterStep(st, st, nil), nil
	}
	e.p.stats.steps++
	var hits []target.WatchHit
	if p.bad {
		hits = e.watches.changed(processIO{p: e.p}, e.onStepped, nil)
	} else {
		hits = e.watches.hits(p.acc, nil)
		for _, a := range p.acc {
			if a.Write {
				e.watches.refresh(processIO{p: e.p}, a.Addr, uint64(a.Size))
			}
		}
	}
	return e.afterStep(st, st, hits), nil
}

// onBreakpoint handles a stop at one of the engine's return breakpoints.
// It reports whether the stop was the engine's alone.
func (s *stepMode) onBreakpoint(e *engine, st target.ThreadStop) (rep []target.ThreadStop, mine bool, err error) {
	if !s.on || !e.p.retBP(st.PC) {
		return nil, false, nil
	}
	c, ok := s.calls[st.Tid]
	if ok && c.ret == st.PC {
		r, err := e.regs(st.Tid)
		if err != nil {
			return nil, true, err
		}
		if r.sp() < c.sp {
			// A deeper frame on its way to the same address (recursion):
			// not the return yet. Step over the breakpoint.
			return s.stepOver(e, st)
		}
		delete(s.calls, st.Tid)
		e.p.dropRetBP(st.PC)
		// What the vDSO wrote is found by comparing.
		hits := e.watches.changed(processIO{p: e.p}, e.onStepped, nil)
		if len(hits) > 0 {
			e.p.stats.hits += uint64(len(hits))
			st = watchStop(st, hits)
			return []target.ThreadStop{st}, true, nil
		}
		return nil, true, nil
	}
	return s.stepOver(e, st)
}

// stepOver executes the instruction under a return breakpoint for a
// thread that is not returning there, with the breakpoint lifted.
func (s *stepMode) stepOver(e *engine, st target.ThreadStop) ([]target.ThreadStop, bool, error) {
	if _, err := s.decode(e, st.Tid); err != nil {
		return nil, true, err
	}
	// The int3 is lifted for the step; the world is stopped, so no other
	// thread misses it meanwhile.
	if err := e.p.bps.RemoveBreakpoint(st.PC); err != nil {
		return nil, true, err
	}
	s2, err := e.p.runner.StepThread(st.Tid, 0)
	if ierr := e.p.bps.InsertBreakpoint(st.PC); err == nil {
		err = ierr
	}
	if err != nil {
		return nil, true, err
	}
	if s2.Reason != target.StopDebug {
		delete(s.pre, st.Tid)
		return []target.ThreadStop{s2}, true, nil
	}
	rep, err := s.onDebug(e, s2)
	return rep, true, err
}

// onStepped picks the watches with bytes on a stepped page.
func (e *engine) onStepped(w *watch) bool {
	for a := pageOf(w.Addr); a < w.End(); a += pageSize {
		if pg := e.pages[a]; pg != nil && pg.stepped {
			return true
		}
	}
	return false
}
