package swwatch

import (
	"errors"
	"fmt"
	"slices"

	"gdbserverx/hwbp"
	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// fault serves a SIGSEGV (SEGV_ACCERR) at addr, in a page the engine
// protects: the instruction at the thread's PC is decoded and its
// accesses computed with the thread's registers; it is then emulated
// (emulate.go) or single-stepped with its pages open, the others staying
// stopped; and its accesses of watched bytes are reported, after the
// instruction, as a hardware watchpoint's trap would be.
//
// The SIGSEGV itself never reaches the program. If the instruction
// faults again with its pages open to the program's own protection, that
// fault is the program's, and is reported instead.
func (e *engine) fault(st target.ThreadStop, addr uint64) ([]target.ThreadStop, error) {
	e.p.stats.faults++
	r, err := e.regs(st.Tid)
	if err != nil {
		return nil, err
	}
	in, acc, decoded := e.faultAccesses(st.Tid, r)
	if decoded && !e.stepping(st.Tid) && !e.noEmulate {
		if rep, ok, err := e.emulate(st, r, in, acc); ok || err != nil {
			return rep, err
		}
	}
	return e.stepFault(st, addr, acc, !decoded)
}

// faultAccesses decodes the instruction at the thread's PC and computes
// what it touches from the registers r. It reports false, and notes it,
// when the instruction cannot be decoded: its writes are then found by
// comparing values.
func (e *engine) faultAccesses(tid target.Tid, r *regs) (insn.Inst, []insn.Access, bool) {
	pc := r.pc()
	var code [insn.MaxLen]byte
	n, _ := e.p.inner.ReadMemory(pc, code[:])
	in, derr := e.dec.Decode(code[:n])
	if derr == nil && e.undecodable != nil && e.undecodable(pc) {
		derr = &insn.DecodeError{Code: code[:n], Reason: "made undecodable by a test", Err: insn.ErrUndecodable}
	}
	var acc []insn.Access
	if derr == nil {
		acc, derr = insn.StepAccesses(in, r, e.accBuf[:0])
		e.accBuf = acc[:0]
	}
	if derr != nil {
		e.p.stats.undecodable++
		e.note(NoteUndecodable, tid, pc, fmt.Sprintf("%v: writes found by comparing values, reads not seen", derr))
		return in, nil, false
	}
	e.notePartial(tid, pc, in, acc)
	return in, acc, true
}

// stepFault single-steps the faulting instruction with its pages open to
// the program's own protection, every other thread stopped, and reports
// its hits (acc, or a compare of the open pages when undecodable).
func (e *engine) stepFault(st target.ThreadStop, addr uint64, acc []insn.Access, undecodable bool) ([]target.ThreadStop, error) {
	tid := st.Tid
	// The pages to open: the faulting one, and every protected page the
	// instruction touches (an access may straddle two).
	open := []uint64{pageOf(addr)}
	for _, a := range acc {
		for pa := pageOf(a.Addr); pa < a.End(); pa += pageSize {
			if pg := e.pages[pa]; pg != nil && pg.ours() && !slices.Contains(open, pa) {
				open = append(open, pa)
			}
		}
	}
	// Writes that only a value compare can confirm.
	var cmp []insn.Access
	for _, a := range acc {
		if a.Write && a.Partial {
			cmp = append(cmp, a)
		}
	}

	var s target.ThreadStop
	for try := 0; ; try++ {
		if undecodable {
			cmp = cmp[:0]
			for _, pa := range open {
				cmp = append(cmp, insn.Access{Addr: pa, Size: pageSize, Write: true})
			}
		}
		var err error
		if s, err = e.stepOpen(tid, open); err != nil {
			return nil, err
		}
		if try < 4 && s.Reason == target.StopSignal && s.Signal == target.SIGSEGV && s.SigCode == segvAccErr &&
			len(s.SigInfo) >= siAddrOffset+8 {
			// Another protected page the decoder did not name (or an
			// undecodable instruction): open it as well, and again.
			pa := pageOf(le.Uint64(s.SigInfo[siAddrOffset:]))
			if pg := e.pages[pa]; pg != nil && pg.protected() && !slices.Contains(open, pa) {
				open = append(open, pa)
				continue
			}
		}
		break
	}
	if s.Reason != target.StopDebug {
		// The instruction did not complete: a fault of the program's own
		// (its protection, an unmapped page, a division by zero...).
		return []target.ThreadStop{s}, nil
	}
	var hits []target.WatchHit
	if !undecodable {
		hits = e.watches.hits(acc, nil)
		for _, a := range acc {
			if a.Write && !a.Partial {
				e.watches.refresh(processIO{p: e.p}, a.Addr, uint64(a.Size))
			}
		}
	}
	if len(cmp) > 0 {
		hits = e.watches.changed(processIO{p: e.p}, overlapping(cmp), hits)
	}
	return e.afterStep(st, s, hits), nil
}

// stepOpen single-steps thread tid, the others stopped, with pages open
// for the step.
func (e *engine) stepOpen(tid target.Tid, pages []uint64) (target.ThreadStop, error) {
	if err := e.openPages(pages); err != nil {
		return target.ThreadStop{}, err
	}
	e.p.stats.steps++
	s, serr := e.p.runner.StepThread(tid, 0)
	if err := e.closePages(pages); err != nil && serr == nil {
		serr = err
	}
	return s, serr
}

// afterStep is the report of an instruction that the engine executed
// for thread st.Tid (stopped at st), which ended in step stop s with
// the given hits.
func (e *engine) afterStep(st, s target.ThreadStop, hits []target.WatchHit) []target.ThreadStop {
	if len(hits) > 0 {
		e.p.stats.hits += uint64(len(hits))
	}
	if e.stepping(st.Tid) {
		// The caller's own single step, done by the engine.
		s.Watches = hits
		return []target.ThreadStop{s}
	}
	if len(hits) == 0 && s.DR6&hwbp.DR6Hits == 0 {
		if st.Reason == target.StopSignal {
			e.p.stats.falseFaults++
		}
		return nil
	}
	return []target.ThreadStop{watchStop(s, hits)}
}

// openPages gives pages their own protection back for a moment.
func (e *engine) openPages(pages []uint64) error {
	return e.protectRuns(pages, func(pg *page) int { return pg.orig })
}

// closePages protects pages again.
func (e *engine) closePages(pages []uint64) error {
	return e.protectRuns(pages, func(pg *page) int { return pg.want() })
}

// protectRuns sets each page's protection to prot(page), one mprotect
// per run of adjacent pages.
func (e *engine) protectRuns(pages []uint64, prot func(*page) int) error {
	if len(pages) > 1 {
		pages = slices.Clone(pages)
		slices.Sort(pages)
	}
	for i := 0; i < len(pages); {
		pg := e.pages[pages[i]]
		want := prot(pg)
		j := i + 1
		for j < len(pages) && pages[j] == pages[j-1]+pageSize && prot(e.pages[pages[j]]) == want &&
			e.pages[pages[j]].cur != want {
			j++
		}
		if pg.cur != want && pg.orig != unmapped {
			if err := e.mprotect(pages[i], uint64(j-i)*pageSize, want); err != nil {
				if errors.Is(err, errRefused) {
					return fmt.Errorf("pages %#x+%d: %w", pages[i], (j-i)*pageSize, err)
				}
				return err
			}
			for _, a := range pages[i:j] {
				e.pages[a].cur = want
			}
		}
		i = j
	}
	return nil
}

// maxPartialPCs bounds the instructions remembered as noted
// (NotePartial).
const maxPartialPCs = 1024

// notePartial notes, once per instruction address, an instruction whose
// accesses hold watched bytes only within a bound.
func (e *engine) notePartial(tid target.Tid, pc uint64, in insn.Inst, acc []insn.Access) {
	for _, a := range acc {
		if !a.Partial || !e.watches.overlaps(a) {
			continue
		}
		if e.partialPCs[pc] {
			return
		}
		if e.partialPCs == nil || len(e.partialPCs) >= maxPartialPCs {
			e.partialPCs = map[uint64]bool{}
		}
		e.partialPCs[pc] = true
		e.note(NotePartial, tid, pc, fmt.Sprintf("%s touches watched bytes within %v, a bound, not the exact bytes: "+
			"writes there are found by comparing values (a store of the same value is not seen), reads reported as possible", in.Mnemonic(), a))
		return
	}
}
