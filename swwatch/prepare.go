package swwatch

import (
	"fmt"

	"gdbserverx/hwbp"
	"gdbserverx/internal/procfs"
	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// What must happen before threads resume, because no stop would come in
// time to do it later:
//
//   - a thread the caller single-steps over a syscall instruction makes
//     its call with no syscall-entry stop (a single step replaces
//     PTRACE_SYSCALL): a call that needs protected pages is served here,
//     as at an entry stop (syscall.go), and a call run in place ends the
//     run at once, with the step's stop;
//   - a signal delivered to a handler makes the kernel write a frame on
//     the thread's stack: if protected pages are there, the write would
//     fail and the kernel would kill the program with SIGSEGV. The signal
//     is delivered here, with those pages open, by a step that stops at
//     the handler's first instruction; the watched bytes the frame
//     overwrote are reported as written.

// sigFrameMax bounds a signal frame on x86-64: struct rt_sigframe, the
// xsave area (AVX-512 included), alignment, and the red zone below RSP
// (128 bytes) that the kernel skips.
const sigFrameMax = 16 << 10

// prepareThreads serves the threads of actions as above. It returns an
// event when the run ends before it starts.
func (e *engine) prepareThreads(actions []target.Action) (*target.Event, error) {
	tids, err := e.resumedThreads(actions)
	if err != nil {
		return nil, err
	}
	var stops []target.ThreadStop
	for _, tid := range tids {
		a, _ := findAction(actions, tid)
		if a.Signal != 0 {
			st, delivered, err := e.deliverOpen(tid, a)
			if err != nil {
				return nil, err
			}
			if delivered {
				e.overrideAction(tid, target.Action{Tid: tid, Kind: a.Kind})
				if st != nil {
					stops = append(stops, *st)
				}
				continue
			}
		}
		if a.Kind == target.Step {
			st, err := e.stepSyscall(tid)
			if err != nil {
				return nil, err
			}
			if st != nil {
				stops = append(stops, *st)
			}
		}
	}
	if len(stops) == 0 {
		return nil, nil
	}
	th, err := e.p.inner.Threads()
	if err != nil {
		return nil, err
	}
	ev := &target.Event{Kind: target.EventStopped, Stops: stops}
	for _, t := range th {
		ev.Threads = append(ev.Threads, t.Tid)
	}
	return ev, nil
}

// resumedThreads lists the threads actions resume.
func (e *engine) resumedThreads(actions []target.Action) ([]target.Tid, error) {
	def := false
	var out []target.Tid
	for _, a := range actions {
		if a.Tid == 0 {
			def = true
		} else {
			out = append(out, a.Tid)
		}
	}
	if !def {
		return out, nil
	}
	th, err := e.p.inner.Threads()
	if err != nil {
		return nil, err
	}
	out = out[:0]
	for _, t := range th {
		out = append(out, t.Tid)
	}
	return out, nil
}

// overrideAction gives thread tid action a for this run (the caller's
// signal delivered already).
func (e *engine) overrideAction(tid target.Tid, a target.Action) {
	set := func(list []target.Action) []target.Action {
		for i := range list {
			if list[i].Tid == tid {
				list[i] = a
				return list
			}
		}
		return append([]target.Action{a}, list...)
	}
	e.runActions = set(e.runActions)
	e.rerunActions = set(e.rerunActions)
	e.clientActions = set(e.clientActions)
}

// stepSyscall serves a thread the caller steps, if its instruction is a
// system call that needs protected pages. It returns the step's stop
// when the call was run in place.
func (e *engine) stepSyscall(tid target.Tid) (*target.ThreadStop, error) {
	r, err := e.regs(tid)
	if err != nil {
		return nil, err
	}
	var code [insn.MaxLen]byte
	n, _ := e.p.inner.ReadMemory(r.pc(), code[:])
	in, err := e.dec.Decode(code[:n])
	if err != nil || in.Effects&insn.EffSyscall == 0 {
		return nil, nil
	}
	nr := int(r.Reg(raxReg))
	args := r.syscallArgs()
	if skip, errno := e.mustSkip(nr, args, r); skip {
		// The call returns at once, as at its entry stop.
		r.set(raxReg, uint64(-int64(errno)))
		r.set(ripReg, r.pc()+uint64(in.Len))
		if err := e.p.inner.WriteRegisters(tid, r.buf); err != nil {
			return nil, err
		}
		e.p.stats.skipped++
		return &target.ThreadStop{Tid: tid, Reason: target.StopDebug, Signal: target.SIGTRAP, DR6: hwbp.DR6SingleStep, PC: r.pc()}, nil
	}
	info, known := sysTable[nr]
	if !known {
		info = sysInfo{class: clBlock}
	}
	pages := e.forkPages(nr, args)
	switch {
	case len(pages) > 0:
		info.class = clPlain
	case info.class == clPure:
		return nil, nil
	case info.class == clMM:
		if !e.mmConcerns(nr, args) {
			return nil, nil
		}
		e.p.stats.inPlace++
		return e.stepCall(tid, nr, args, true)
	}
	if len(pages) == 0 {
		pages = e.deniedPages(e.sysRanges(r, nr, args, info))
	}
	if len(pages) == 0 {
		return nil, nil
	}
	if info.class == clPlain || info.class == clBlockFD && !e.fdBlocks(args[0]) {
		e.p.stats.inPlace++
		return e.stepInPlace(tid, nr, args, pages)
	}
	// It may block: the pages stay open until the step ends
	// (debugStop).
	e.note(NoteOpenSyscall, tid, r.pc(), fmt.Sprintf("stepped system call %d may block: pages %#x open while it runs", nr, pages))
	return nil, e.openFor(tid, nr, pages)
}

// stepInPlace steps thread tid over system call nr with pages open, the
// other threads stopped, and protects them again.
func (e *engine) stepInPlace(tid target.Tid, nr int, args [6]uint64, pages []uint64) (*target.ThreadStop, error) {
	for _, pa := range pages {
		e.pages[pa].open++
	}
	err := e.protectRuns(pages, (*page).want)
	var st *target.ThreadStop
	if err == nil {
		st, err = e.stepCall(tid, nr, args, false)
	}
	for _, pa := range pages {
		e.pages[pa].open--
	}
	if cerr := e.protectRuns(pages, (*page).want); err == nil {
		err = cerr
	}
	return st, err
}

// stepCall single-steps thread tid over system call nr, the other
// threads stopped, and reports what the kernel wrote into watches as the
// step's hits; mm: the call changes the memory map, which the engine
// follows (afterMM).
func (e *engine) stepCall(tid target.Tid, nr int, args [6]uint64, mm bool) (*target.ThreadStop, error) {
	e.p.stats.steps++
	s, err := e.p.runner.StepThread(tid, 0)
	if err != nil {
		return nil, err
	}
	if s.Reason == target.StopDebug {
		r, err := e.regs(tid)
		if err != nil {
			return nil, err
		}
		if mm {
			if err := e.afterMM(nr, args, r.Reg(raxReg)); err != nil {
				return nil, err
			}
		}
		s.Watches = e.kernelHits(nr, args, r.Reg(raxReg), nil)
	}
	return &s, nil
}

// deliverOpen delivers a signal to a handler whose frame would land on
// protected pages, with those pages open. It reports whether it did,
// and the stop to report: the caller's step (which ends at the handler's
// first instruction), or the hits of the frame's writes.
func (e *engine) deliverOpen(tid target.Tid, a target.Action) (*target.ThreadStop, bool, error) {
	if !e.caught(a.Signal) {
		return nil, false, nil
	}
	r, err := e.regs(tid)
	if err != nil {
		return nil, false, err
	}
	sp := r.sp()
	frame := insn.Access{Addr: sp - 128 - sigFrameMax, Size: sigFrameMax, Write: true}
	pages := e.deniedPages([]insn.Access{frame})
	if len(pages) == 0 {
		return nil, false, nil
	}
	for _, pa := range pages {
		e.pages[pa].open++
	}
	err = e.protectRuns(pages, (*page).want)
	var s target.ThreadStop
	if err == nil {
		e.p.stats.steps++
		s, err = e.p.runner.StepThread(tid, a.Signal)
	}
	for _, pa := range pages {
		e.pages[pa].open--
	}
	if cerr := e.protectRuns(pages, (*page).want); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, err
	}
	hits := e.watches.changed(processIO{p: e.p}, overlapping([]insn.Access{frame}), nil)
	if len(hits) > 0 {
		e.p.stats.hits += uint64(len(hits))
		e.p.stats.kernelWrites += uint64(len(hits))
	}
	switch {
	case s.Reason != target.StopDebug:
		return &s, true, nil // a signal raised by the delivery itself
	case a.Kind == target.Step:
		s.Watches = hits
		return &s, true, nil
	case len(hits) > 0:
		st := watchStop(s, hits)
		return &st, true, nil
	}
	return nil, true, nil
}

// caught says whether the program has a handler for sig
// (/proc/PID/status SigCgt).
func (e *engine) caught(sig target.Signal) bool {
	st, err := procfs.ReadStatus(e.p.pid)
	if err != nil {
		return true // cannot tell: open the pages
	}
	mask, ok := st.Mask("SigCgt")
	return !ok || mask&(1<<(uint(sig)-1)) != 0
}
