package swwatch

import (
	"errors"
	"fmt"
	"slices"

	"gdbserverx/hwbp"
	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// Register names of the insn package the engine uses directly.
const (
	raxReg    = insn.RAX
	ripReg    = insn.RIP
	fsBaseReg = insn.FSBase
)

// syscallArgRegs hold a system call's arguments, in order.
var syscallArgRegs = [6]insn.Reg{insn.RDI, insn.RSI, insn.RDX, insn.R10, insn.R8, insn.R9}

// syscallInsnLen is the length of SYSCALL (0f 05), and of the other ways
// into the kernel (SYSENTER, INT 0x80): the kernel itself restarts a
// call by moving RIP back this much.
const syscallInsnLen = 2

// Linux siginfo facts (include/uapi/asm-generic/siginfo.h).
const (
	segvAccErr   = 2  // si_code SEGV_ACCERR: the page's protection refused the access
	siAddrOffset = 16 // si_addr in the x86-64 siginfo_t
)

// engine is the state of the emulation. See Process for its owner.
type engine struct {
	p *Process

	watches watchSet         // sorted by address
	pages   map[uint64]*page // pages holding watched bytes
	dec     insn.Decoder
	accBuf  []insn.Access
	// emuBuf holds the emulator's memory operand: a field, so that
	// handing it to an emuIO allocates nothing.
	emuBuf [8]byte
	// partialPCs: instructions already noted for touching watched
	// bytes only within a bound (NotePartial); cleared when full.
	partialPCs map[uint64]bool

	// The run: the caller's actions; the actions of the next resume
	// (the caller's, with the engine's changes: step mode); and the
	// caller's without signals: a signal is delivered once, with the
	// run's first resume, and runActions becomes rerunActions then.
	clientActions []target.Action
	runActions    []target.Action
	rerunActions  []target.Action

	caller  callerSyscalls // the syscall stops the caller asked for (syscall.go)
	tracing [2]bool        // exits, entries: as set in the target

	// atEntry: threads left at a syscall-entry stop whose call may run.
	atEntry map[target.Tid]bool
	// open: threads in a system call that needed pages open (syscall.go).
	open map[target.Tid]*openCall
	// restarts: threads whose call is to come back as restart_syscall.
	restarts map[target.Tid]restartCall

	// The process's memory map as far as the engine needs it.
	vdso [2]uint64 // [lo, hi) of the vDSO, 0 when unknown
	brk  uint64    // the program break as last seen, 0 when unknown

	step stepMode // stepmode.go

	// dr is the caller's debug-register image (SetDebugRegisters).
	dr target.DebugRegisters

	// shadowStack: the program runs with a CET shadow stack
	// (/proc/PID/status x86_Thread_features), which emulated CALL and
	// RET would not update.
	shadowStack bool

	// noEmulate (tests and benchmarks) makes every fault take the
	// stepped path.
	noEmulate bool

	// undecodable, when set (by tests), makes the instruction at pc
	// undecodable: the decoder knows every instruction the tests can
	// make fault, and the fallback must be tested all the same.
	undecodable func(pc uint64) bool
}

func (e *engine) init(p *Process) {
	e.p = p
	e.pages = map[uint64]*page{}
	e.atEntry = map[target.Tid]bool{}
	e.open = map[target.Tid]*openCall{}
	e.restarts = map[target.Tid]restartCall{}
}

// active says whether the engine has anything to serve.
func (e *engine) active() bool { return len(e.watches) > 0 || len(e.open) > 0 }

// setWatches replaces the set (Process.SetWatches).
func (e *engine) setWatches(in []Watch) error {
	for _, w := range in {
		if err := w.check(); err != nil {
			return err
		}
	}
	ws := slices.Clone(in)
	sortWatches(ws)
	if sameWatches(e.watches, ws) {
		return nil
	}
	old := map[Watch][]byte{}
	for _, w := range e.watches {
		old[w.Watch] = w.last
	}
	e.watches = e.watches[:0]
	for _, w := range ws {
		last, ok := old[w]
		if !ok {
			last = e.read(w.Addr, w.Len)
		}
		e.watches = append(e.watches, watch{Watch: w, last: last})
	}
	if err := e.rebuildPages(); err != nil {
		return err
	}
	if err := e.applyPages(); err != nil {
		return err
	}
	return e.syncTracing()
}

// syncTracing turns syscall stops on in the target while the engine or
// the caller needs them, and off otherwise.
func (e *engine) syncTracing() error {
	want := [2]bool{e.caller.exits || e.active(), e.caller.entries || e.active()}
	if want[0] != e.tracing[0] {
		if err := e.p.sys.TraceSyscalls(want[0]); err != nil {
			return err
		}
		e.tracing[0] = want[0]
	}
	if want[1] != e.tracing[1] {
		if err := e.p.entries.TraceSyscallEntries(want[1]); err != nil {
			return err
		}
		e.tracing[1] = want[1]
	}
	return nil
}

// ended forgets everything: the process is gone.
func (e *engine) ended() {
	e.watches = nil
	clear(e.pages)
	clear(e.atEntry)
	clear(e.open)
	clear(e.restarts)
	e.step = stepMode{}
}

// execed follows an exec: the address space is new, every watch and
// protection is gone with the old one (the caller sets its watches
// again if it wants them).
func (e *engine) execed() {
	e.ended()
	e.vdso = [2]uint64{}
	e.brk = 0
	e.syncTracing()
	// The breakpoints went with the old image (target.StopExec).
	clear(e.p.callerBPs)
	clear(e.p.retBPs)
}

// read returns n bytes at addr, or nil if they cannot be read.
func (e *engine) read(addr, n uint64) []byte {
	b := make([]byte, n)
	if _, err := e.p.inner.ReadMemory(addr, b); err != nil {
		return nil
	}
	return b
}

// regs reads a thread's registers.
func (e *engine) regs(tid target.Tid) (*regs, error) {
	r := &regs{l: e.p.layout, buf: make([]byte, e.p.layout.size)}
	if err := e.p.inner.ReadRegisters(tid, r.buf); err != nil {
		return nil, err
	}
	return r, nil
}

// beforeResume prepares a run for the caller's actions. It returns an
// event when the run is over before it starts.
func (e *engine) beforeResume(actions []target.Action) (*target.Event, error) {
	e.clientActions = slices.Clone(actions)
	e.runActions = e.clientActions
	e.rerunActions = make([]target.Action, len(actions))
	for i, a := range actions {
		a.Signal = 0
		e.rerunActions[i] = a
	}
	if err := e.syncTracing(); err != nil {
		return nil, err
	}
	if !e.active() {
		return nil, nil
	}
	// Threads that resume leave their syscall-entry stops.
	for tid := range e.atEntry {
		if _, ok := findAction(actions, tid); ok {
			delete(e.atEntry, tid)
		}
	}
	if ev, err := e.prepareThreads(actions); ev != nil || err != nil {
		return ev, err
	}
	return nil, e.step.prepare(e)
}

// findAction is the action thread tid gets (target.Process.Resume).
func findAction(actions []target.Action, tid target.Tid) (target.Action, bool) {
	def, hasDef := target.Action{}, false
	for _, a := range actions {
		if a.Tid == tid {
			return a, true
		}
		if a.Tid == 0 && !hasDef {
			def, hasDef = a, true
		}
	}
	return def, hasDef
}

// stepping says whether the caller asked thread tid to single-step in
// this run.
func (e *engine) stepping(tid target.Tid) bool {
	a, ok := findAction(e.clientActions, tid)
	return ok && a.Kind == target.Step
}

// onEvent serves a stop of the wrapped process. It returns the event to
// send to the caller, or false when the engine resumed the process (or
// the process is ending and its last event is coming).
func (e *engine) onEvent(ev target.Event) (target.Event, bool) {
	if !e.active() && !e.step.on {
		for _, st := range ev.Stops {
			if st.Reason == target.StopExec {
				e.execed()
			}
		}
		return ev, true
	}
	if len(e.open) > 0 {
		if err := e.dropGone(ev.Threads); err != nil && errors.Is(err, target.ErrExited) {
			return ev, false
		}
	}
	var out []target.ThreadStop
	for _, st := range ev.Stops {
		rep, err := e.serve(st)
		if err != nil {
			if errors.Is(err, target.ErrExited) {
				return ev, false // the process's end comes next
			}
			if !errors.Is(err, target.ErrNoThread) {
				e.note(NoteError, st.Tid, st.PC, err.Error())
				out = append(out, st)
			}
			continue
		}
		out = append(out, rep...)
	}
	if len(out) > 0 || ev.Interrupted || len(ev.Stops) == 0 || e.p.intr {
		ev.Stops = out
		return ev, true
	}
	// Nothing for the caller: run on.
	e.p.stats.silent++
	if err := e.resumeRun(); err != nil {
		if errors.Is(err, target.ErrExited) {
			return ev, false
		}
		e.note(NoteError, 0, 0, fmt.Sprintf("resume: %v", err))
		return ev, true
	}
	return ev, false
}

// dropGone closes the calls of threads that are gone (killed in their
// call, or exited from it): their pages close when no other call needs
// them.
func (e *engine) dropGone(live []target.Tid) error {
	for tid, oc := range e.open {
		if slices.Contains(live, tid) {
			continue
		}
		delete(e.open, tid)
		for _, pa := range oc.pages {
			if pg := e.pages[pa]; pg != nil && pg.open > 0 {
				pg.open--
			}
		}
		if err := e.applyPages(); err != nil {
			return err
		}
	}
	return nil
}

// resumeRun resumes the process after a stop the engine served itself.
func (e *engine) resumeRun() error {
	e.runActions = e.rerunActions
	if err := e.step.prepare(e); err != nil {
		return err
	}
	for tid := range e.atEntry {
		if _, ok := findAction(e.rerunActions, tid); ok {
			delete(e.atEntry, tid)
		}
	}
	if err := e.p.inner.Resume(e.runActions); err != nil {
		return err
	}
	if e.p.intr {
		e.p.inner.Interrupt()
	}
	return nil
}

// serve handles one thread's stop and returns what the caller must see
// of it.
func (e *engine) serve(st target.ThreadStop) ([]target.ThreadStop, error) {
	switch st.Reason {
	case target.StopSignal:
		if st.Signal == target.SIGSEGV && st.SigCode == segvAccErr && len(st.SigInfo) >= siAddrOffset+8 {
			addr := le.Uint64(st.SigInfo[siAddrOffset:])
			if pg := e.pages[pageOf(addr)]; pg != nil && pg.ours() {
				return e.fault(st, addr)
			}
		}
	case target.StopSyscallEntry:
		e.p.stats.syscallStops++
		return e.entry(st)
	case target.StopSyscallExit:
		e.p.stats.syscallStops++
		return e.exit(st)
	case target.StopDebug:
		return e.debugStop(st)
	case target.StopBreakpoint:
		rep, mine, err := e.step.onBreakpoint(e, st)
		if err != nil || !mine {
			return []target.ThreadStop{st}, err
		}
		if e.p.callerBP(st.PC) {
			rep = append(rep, st)
		}
		return rep, nil
	case target.StopExec:
		e.execed()
	}
	return []target.ThreadStop{st}, nil
}

// debugStop handles a single step that completed or a hardware trap.
func (e *engine) debugStop(st target.ThreadStop) ([]target.ThreadStop, error) {
	if oc := e.open[st.Tid]; oc != nil && st.DR6&hwbp.DR6SingleStep != 0 {
		// The caller stepped a system call that ran with pages open.
		hits, err := e.closeCall(st.Tid, oc)
		if err != nil {
			return nil, err
		}
		st.Watches = hits
		return []target.ThreadStop{st}, nil
	}
	if e.step.on {
		return e.step.onDebug(e, st)
	}
	return []target.ThreadStop{st}, nil
}

// noteMaps records what the engine needs of a fresh memory map.
func (e *engine) noteMaps(maps []mapping) {
	for _, m := range maps {
		switch m.name {
		case "[vdso]":
			e.vdso = [2]uint64{m.lo, m.hi}
		case "[heap]":
			e.brk = m.hi
		}
	}
}

func (e *engine) inVDSO(a uint64) bool { return a >= e.vdso[0] && a < e.vdso[1] }

// watchStop is the stop reporting hits of a thread that the caller did
// not step: StopWatch, or the debug stop of a hardware trap of the
// caller's that came with them (without the step bit of the engine's
// own step).
func watchStop(st target.ThreadStop, hits []target.WatchHit) target.ThreadStop {
	if st.Reason == target.StopDebug && st.DR6&hwbp.DR6Hits != 0 {
		st.DR6 &^= hwbp.DR6SingleStep
	} else {
		st.Reason = target.StopWatch
		st.DR6 = 0
	}
	st.Signal = target.SIGTRAP
	st.SigInfo, st.SigCode = nil, 0
	st.Watches = hits
	return st
}
