package swwatch

import (
	"gdbserverx/hwbp"
	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// The fast path: the stop filter (target.StopFilter).
//
// During a run the target offers each stop to the engine as it collects
// it (target/linux: inside Tracer.Pump, on the owner's thread), before
// the stop would stop every thread and become an event. The engine serves there what needs nothing but the thread's
// registers and the memory:
//
//   - a fault on a protected page by an instruction it emulates: a false
//     fault resumes the thread at once; a hit becomes the reported stop
//     (StopWatch, PC after the instruction);
//   - a syscall entry that needs nothing done (no protected page in its
//     arguments), and a syscall exit with no kernel write found.
//
// Everything else (an instruction to step with its page open, a call to
// run in place, pages to protect again) is reported and served on the
// event path.
//
// The filter reads and writes the engine's state from within the owner's
// own call, like everything else of the engine. A multi-threaded program's other threads may run
// meanwhile, but none can touch a protected page without stopping on
// its own fault, which the target serves after this one; so an emulated
// read-modify-write is as atomic as the CPU's.

// filterIO is the filter's emuIO.
type filterIO struct{ t target.FilterThread }

func (o filterIO) ReadMemory(addr uint64, buf []byte) (int, error) { return o.t.ReadMemory(addr, buf) }
func (o filterIO) WriteMemory(addr uint64, data []byte) (int, error) {
	return o.t.WriteMemory(addr, data)
}
func (o filterIO) setRegs(r *regs) error { return o.t.SetGeneralRegisters(r.buf) }

// gpRegs are registers with only the general part filled: they hide
// VectorRegisters, so that insn bounds a gather's accesses (Partial)
// instead of reading index registers that are not there. The emulator
// takes no Partial access.
type gpRegs struct{ r *regs }

func (g gpRegs) Reg(n insn.Reg) uint64 { return g.r.Reg(n) }

// filter is the engine's target.StopFilterFunc.
func (e *engine) filter(t target.FilterThread, st *target.ThreadStop) target.FilterVerdict {
	if !e.active() {
		return target.FilterReport
	}
	switch st.Reason {
	case target.StopDebug:
		if e.step.on {
			return e.filterStep(t, st)
		}
	case target.StopSignal:
		if st.Signal == target.SIGSEGV && st.SigCode == segvAccErr && len(st.SigInfo) >= siAddrOffset+8 {
			if pg := e.pages[pageOf(le.Uint64(st.SigInfo[siAddrOffset:]))]; pg != nil && pg.ours() {
				return e.filterFault(t, st)
			}
		}
	case target.StopSyscallEntry:
		return e.filterEntry(t, st)
	case target.StopSyscallExit:
		return e.filterExit(t, st)
	}
	return target.FilterReport
}

// filterFault emulates the faulting instruction, if it can.
func (e *engine) filterFault(t target.FilterThread, st *target.ThreadStop) target.FilterVerdict {
	if e.stepping(st.Tid) || e.undecodable != nil || e.noEmulate {
		return target.FilterReport
	}
	r := &regs{l: e.p.layout, buf: make([]byte, e.p.layout.size)}
	if t.GeneralRegisters(r.buf) != nil {
		return target.FilterReport
	}
	var code [insn.MaxLen]byte
	n, _ := t.ReadMemory(r.pc(), code[:])
	in, err := e.dec.Decode(code[:n])
	if err != nil {
		return target.FilterReport
	}
	acc, err := insn.StepAccesses(in, gpRegs{r}, e.accBuf[:0])
	e.accBuf = acc[:0]
	if err != nil {
		return target.FilterReport
	}
	io := filterIO{t}
	ok, err := e.emulateInsn(io, r, in, acc)
	if !ok {
		return target.FilterReport
	}
	if err != nil {
		// The registers could not be set: the instruction is half done
		// (memory written). Report the fault; the event path's error
		// note says what happened.
		return target.FilterReport
	}
	e.p.stats.faults++
	hits := e.emulated(io, acc)
	_, stepped := e.step.pre[st.Tid]
	if len(hits) == 0 {
		e.p.stats.falseFaults++
		if stepped {
			// In step mode the thread steps on from the next instruction.
			return e.stepNext(t, r, st)
		}
		return target.FilterResume
	}
	if stepped {
		delete(e.step.pre, st.Tid)
	}
	e.p.stats.hits += uint64(len(hits))
	*st = target.ThreadStop{Tid: st.Tid, Reason: target.StopWatch, Signal: target.SIGTRAP, PC: r.pc(), Watches: hits}
	return target.FilterReport
}

// filterEntry lets a call go on that needs nothing done.
func (e *engine) filterEntry(t target.FilterThread, st *target.ThreadStop) target.FilterVerdict {
	if e.caller.entry(st.Syscall) {
		return target.FilterReport
	}
	e.p.stats.syscallStops++
	tid, nr := st.Tid, st.Syscall
	if e.open[tid] != nil {
		return target.FilterResume // the call its pages were opened for, entering again
	}
	info, known := sysTable[nr]
	if !known || nr == sysRestartSyscall {
		return target.FilterReport
	}
	if info.class == clPure {
		return target.FilterResume
	}
	r := &regs{l: e.p.layout, buf: make([]byte, e.p.layout.size)}
	if t.GeneralRegisters(r.buf) != nil {
		return target.FilterReport
	}
	args := r.syscallArgs()
	if skip, _ := e.mustSkip(nr, args, r); skip {
		return target.FilterReport
	}
	if len(e.forkPages(nr, args)) > 0 {
		return target.FilterReport
	}
	if info.class == clMM {
		if e.mmConcerns(nr, args) {
			return target.FilterReport
		}
		return target.FilterResume
	}
	if len(e.deniedPages(e.sysRangesWith(filterIO{t}, r, nr, args, info))) > 0 {
		return target.FilterReport
	}
	return target.FilterResume
}

// filterExit lets a call's exit go by when the kernel wrote no watched
// byte.
func (e *engine) filterExit(t target.FilterThread, st *target.ThreadStop) target.FilterVerdict {
	if e.caller.exit(st.Syscall) || e.step.on {
		// In step mode the thread made its call running, and must step
		// again from here: the event path resumes it.
		return target.FilterReport
	}
	tid := st.Tid
	if e.open[tid] != nil {
		return target.FilterReport // pages to close
	}
	e.p.stats.syscallStops++
	if info, ok := sysTable[st.Syscall]; ok && info.class == clPure {
		return target.FilterResume
	}
	r := &regs{l: e.p.layout, buf: make([]byte, e.p.layout.size)}
	if t.GeneralRegisters(r.buf) != nil {
		return target.FilterReport
	}
	if isRestartBlockExit(*st) {
		e.noteRestart(tid, r)
	}
	hits := e.kernelHitsWith(filterIO{t}, st.Syscall, r.syscallArgs(), r.Reg(raxReg), []uint64{})
	if len(hits) == 0 {
		return target.FilterResume
	}
	e.p.stats.hits += uint64(len(hits))
	e.p.stats.kernelWrites += uint64(len(hits))
	*st = target.ThreadStop{Tid: tid, Reason: target.StopWatch, Signal: target.SIGTRAP, PC: st.PC, Watches: hits}
	return target.FilterReport
}

// filterStep serves a completed single step of step mode: the decoded
// instruction's accesses are its hits; with none, the next instruction
// is decoded and the thread steps again, with no event. A hit, a step
// the caller asked for, or a next instruction that is not to be stepped
// (a system call, a call into the vDSO) is reported, and served on the
// event path.
func (e *engine) filterStep(t target.FilterThread, st *target.ThreadStop) target.FilterVerdict {
	s := &e.step
	p, ok := s.pre[st.Tid]
	if !ok || st.DR6&hwbp.DR6SingleStep == 0 || p.bad || e.stepping(st.Tid) {
		return target.FilterReport
	}
	io := filterIO{t}
	e.p.stats.steps++
	hits := e.watches.hits(p.acc, nil)
	var cmp []insn.Access
	for _, a := range p.acc {
		if a.Write && a.Partial {
			cmp = append(cmp, a)
		} else if a.Write {
			e.watches.refresh(io, a.Addr, uint64(a.Size))
		}
	}
	if len(cmp) > 0 {
		hits = e.watches.changed(io, overlapping(cmp), hits)
	}
	if len(hits) > 0 || st.DR6&hwbp.DR6Hits != 0 {
		delete(s.pre, st.Tid)
		e.p.stats.hits += uint64(len(hits))
		*st = watchStop(*st, hits)
		return target.FilterReport
	}
	r := &regs{l: e.p.layout, buf: make([]byte, e.p.layout.size)}
	if t.GeneralRegisters(r.buf) != nil {
		s.pre[st.Tid] = preStep{pc: p.pc} // accounted for: the event path resumes
		return target.FilterReport
	}
	return e.stepNext(t, r, st)
}

// stepNext decodes the next instruction of a thread in step mode, whose
// last instruction is accounted for, and lets it step again; or leaves
// the next instruction to the event path.
func (e *engine) stepNext(t target.FilterThread, r *regs, st *target.ThreadStop) target.FilterVerdict {
	s := &e.step
	io := filterIO{t}
	var code [insn.MaxLen]byte
	n, _ := t.ReadMemory(r.pc(), code[:])
	in, err := e.dec.Decode(code[:n])
	if err == nil && in.Effects&insn.EffSyscall == 0 && (in.Flow != insn.FlowCall && in.Flow != insn.FlowJump || !e.mayEnterVDSO(io, r, in)) {
		if acc, err := insn.StepAccesses(in, gpRegs{r}, nil); err == nil {
			s.pre[st.Tid] = preStep{pc: r.pc(), acc: acc}
			return target.FilterResume
		}
	}
	// Not for a plain step: the event path decides, the step done being
	// accounted for.
	s.pre[st.Tid] = preStep{pc: r.pc()}
	return target.FilterReport
}

// mayEnterVDSO says whether a call or jump may go into the vDSO (an
// indirect one through memory is assumed to).
func (e *engine) mayEnterVDSO(io emuIO, r *regs, in insn.Inst) bool {
	if e.vdso[1] == 0 {
		return false
	}
	to, ok := in.BranchTarget(gpRegs{r})
	return !ok || e.inVDSO(to)
}
