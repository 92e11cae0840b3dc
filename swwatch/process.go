package swwatch

import (
	"errors"
	"fmt"
	"slices"

	"gdbserverx/target"
)

// Process is a target.Process with software watchpoints: it forwards
// every call to the process it wraps, and serves the watches set with
// SetWatches by itself, reporting their hits as target.StopWatch stops
// (or as Watches on a target.StopDebug) through NextEvent. With no watch
// set it adds a function call per event. Like the process it wraps, it
// belongs to its owner's goroutine: it has none of its own.
//
// It implements the capabilities target.GeneralRegisterReader,
// target.HardwareDebug, target.Breakpoints, target.SyscallTracer,
// target.SyscallEntryTracer, target.SyscallCatcher, target.SigInfoWriter,
// target.ThreadRunner, target.StopFilter,
// target.Counter, target.NonStop and target.ForkFollower by forwarding
// them, and those of facts (what the
// system says about the process) by embedding the target's; New accepts
// only a process that has them all, so that the wrapper never claims one
// its target lacks.
type Process struct {
	// Immutable after New.
	inner   target.Process
	pid     int
	hw      target.HardwareDebug
	bps     target.Breakpoints
	sys     target.SyscallTracer
	entries target.SyscallEntryTracer
	runner  target.ThreadRunner
	catcher target.SyscallCatcher
	sigInfo target.SigInfoWriter
	counter target.Counter
	gpr     target.GeneralRegisterReader
	nonStop target.NonStop
	forks   target.ForkFollower
	// threadwise: the target is in non-stop mode, where threads run and
	// stop one by one and a resume may come while others run: running
	// (a run of the whole process) stays false then.
	threadwise bool
	passer     target.SignalPasser
	// filterer is the target's StopFilter, which holds the engine's fast
	// path (filter.go) and, after it, the caller's filter.
	filterer target.StopFilter
	layout   *layout
	// facts are the target's: their methods are the wrapper's.
	facts

	running bool           // from Resume until its event is taken
	intr    bool           // Interrupt was called while running
	queue   []target.Event // events for the caller: one made by Resume itself (see there)
	notes   func(Note)
	stats   counters

	// The caller's breakpoints and the engine's own return breakpoints
	// (step mode), which share int3s: neither removes the other's. The
	// caller may insert and remove breakpoints while the process runs.
	callerBPs map[uint64]bool
	retBPs    map[uint64]int // engine's, by address: threads running to it

	// callerFilter is the caller's stop filter: set while stopped, called
	// by the target as it collects stops during runs.
	callerFilter target.StopFilterFunc

	e engine
}

// facts are the capabilities that tell what the system and the
// program's files say about the process (target/facts.go). Watches
// change none of it: the wrapper forwards them as the target has them,
// through the embedded field.
type facts interface {
	target.AuxvReader
	target.ExecFile
	target.LibraryLister
	target.Symbolizer
	target.ProcessInfoReader
	target.ThreadInfo
	target.ProcessFiles
	target.FileRoot
	target.MemoryRegionReader
	target.TLSResolver
}

// ErrMissingCapability: New was given a target without a capability
// the wrapper needs or forwards.
var ErrMissingCapability = errors.New("target lacks a capability")

// New wraps p.
func New(p target.Process) (*Process, error) {
	w := &Process{inner: p, pid: p.Pid(), callerBPs: map[uint64]bool{}, retBPs: map[uint64]int{}}
	var missing []string
	has := func(ok bool, name string) {
		if !ok {
			missing = append(missing, name)
		}
	}
	var ok bool
	w.hw, ok = p.(target.HardwareDebug)
	has(ok, "HardwareDebug")
	w.bps, ok = p.(target.Breakpoints)
	has(ok, "Breakpoints")
	w.sys, ok = p.(target.SyscallTracer)
	has(ok, "SyscallTracer")
	w.entries, ok = p.(target.SyscallEntryTracer)
	has(ok, "SyscallEntryTracer")
	w.runner, ok = p.(target.ThreadRunner)
	has(ok, "ThreadRunner")
	w.catcher, ok = p.(target.SyscallCatcher)
	has(ok, "SyscallCatcher")
	w.sigInfo, ok = p.(target.SigInfoWriter)
	has(ok, "SigInfoWriter")
	for name, c := range map[string]bool{
		"AuxvReader":         is[target.AuxvReader](p),
		"ExecFile":           is[target.ExecFile](p),
		"LibraryLister":      is[target.LibraryLister](p),
		"Symbolizer":         is[target.Symbolizer](p),
		"ProcessInfoReader":  is[target.ProcessInfoReader](p),
		"ThreadInfo":         is[target.ThreadInfo](p),
		"FileRoot":           is[target.FileRoot](p),
		"ProcessFiles":       is[target.ProcessFiles](p),
		"MemoryRegionReader": is[target.MemoryRegionReader](p),
		"TLSResolver":        is[target.TLSResolver](p),
	} {
		has(c, name)
	}
	w.facts, _ = p.(facts)
	w.counter, ok = p.(target.Counter)
	has(ok, "Counter")
	w.gpr, ok = p.(target.GeneralRegisterReader)
	has(ok, "GeneralRegisterReader")
	w.nonStop, ok = p.(target.NonStop)
	has(ok, "NonStop")
	w.forks, ok = p.(target.ForkFollower)
	has(ok, "ForkFollower")
	w.passer, ok = p.(target.SignalPasser)
	has(ok, "SignalPasser")
	w.filterer, ok = p.(target.StopFilter)
	has(ok, "StopFilter")
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("software watchpoints: %w: %v", ErrMissingCapability, missing)
	}
	l, err := newLayout(p.Description())
	if err != nil {
		return nil, fmt.Errorf("software watchpoints: %w", err)
	}
	w.layout = l
	w.e.init(w)
	// The fast path (filter.go).
	if err := w.filterer.SetStopFilter(w.filter); err != nil {
		return nil, fmt.Errorf("software watchpoints: %w", err)
	}
	return w, nil
}

// is says whether p has capability C.
func is[C any](p target.Process) bool {
	_, ok := p.(C)
	return ok
}

// filter is the stop filter installed in the target: the engine's, then
// the caller's.
func (p *Process) filter(t target.FilterThread, st *target.ThreadStop) target.FilterVerdict {
	if p.e.filter(t, st) == target.FilterResume {
		return target.FilterResume
	}
	if f := p.callerFilter; f != nil {
		return f(t, st)
	}
	return target.FilterReport
}

// SetStopFilter installs the caller's stop filter, which sees the stops
// the engine's own filter does not serve (see target.StopFilter). Only
// while stopped.
func (p *Process) SetStopFilter(f target.StopFilterFunc) error {
	if p.running {
		return target.ErrRunning
	}
	p.callerFilter = f
	return nil
}

var (
	_ target.Process               = (*Process)(nil)
	_ target.HardwareDebug         = (*Process)(nil)
	_ target.Breakpoints           = (*Process)(nil)
	_ target.SyscallTracer         = (*Process)(nil)
	_ target.SyscallEntryTracer    = (*Process)(nil)
	_ target.ThreadRunner          = (*Process)(nil)
	_ target.SyscallCatcher        = (*Process)(nil)
	_ target.SigInfoWriter         = (*Process)(nil)
	_ target.StopFilter            = (*Process)(nil)
	_ target.Counter               = (*Process)(nil)
	_ target.GeneralRegisterReader = (*Process)(nil)
	_ target.NonStop               = (*Process)(nil)
	_ target.ForkFollower          = (*Process)(nil)
	_ facts                        = (*Process)(nil)
)

// Target returns the wrapped process.
func (p *Process) Target() target.Process { return p.inner }

// SetWatches replaces the whole set of emulated watches. Only while
// stopped. An unchanged set (in any order) costs nothing; otherwise the
// pages that hold watched bytes are protected or given back with
// mprotect run in the process, and syscall stops are turned on while
// any watch is set. A watch whose pages are not mapped yet is served
// once they are.
func (p *Process) SetWatches(ws []Watch) error {
	if p.running {
		return target.ErrRunning
	}
	return p.e.setWatches(ws)
}

// Watches returns the current set, sorted by address. Only while
// stopped.
func (p *Process) Watches() []Watch {
	out := make([]Watch, len(p.e.watches))
	for i, w := range p.e.watches {
		out[i] = w.Watch
	}
	return out
}

// SetNotes sets the function that receives the engine's notes (a
// fallback it took, a limit it hit), for the server's event log. It is
// called from within the calls that serve the process's stops
// (NextEvent, and the target's collection of stops).
func (p *Process) SetNotes(f func(Note)) { p.notes = f }

// Pid is the process id.
func (p *Process) Pid() int { return p.pid }

// Description is the wrapped process's register layout.
func (p *Process) Description() *target.Description { return p.inner.Description() }

// Threads lists the live threads.
func (p *Process) Threads() ([]target.Thread, error) { return p.inner.Threads() }

// ReadRegisters reads a thread's register file.
func (p *Process) ReadRegisters(tid target.Tid, buf []byte) error {
	return p.inner.ReadRegisters(tid, buf)
}

// SetNonStop forwards to the target (see target.NonStop).
func (p *Process) SetNonStop(on bool) error {
	if err := p.nonStop.SetNonStop(on); err != nil {
		return err
	}
	p.threadwise = on
	return nil
}

// StopThreads forwards to the target (see target.NonStop).
func (p *Process) StopThreads(tids []target.Tid) error { return p.nonStop.StopThreads(tids) }

// FollowForks forwards to the target (see target.ForkFollower). A
// followed child comes unwrapped in the event: it holds no watch (fork
// runs with every page open, syscall.go).
func (p *Process) FollowForks(on bool) error { return p.forks.FollowForks(on) }

// ReadGeneralRegisters reads a thread's general registers (forwarded:
// New requires the capability).
func (p *Process) ReadGeneralRegisters(tid target.Tid, buf []byte) error {
	return p.gpr.ReadGeneralRegisters(tid, buf)
}

// WriteRegisters writes a thread's register file.
func (p *Process) WriteRegisters(tid target.Tid, buf []byte) error {
	return p.inner.WriteRegisters(tid, buf)
}

// ReadMemory reads memory; protected pages read as usual (the target
// reads through /proc/PID/mem where process_vm_readv cannot).
func (p *Process) ReadMemory(addr uint64, buf []byte) (int, error) {
	return p.inner.ReadMemory(addr, buf)
}

// WriteMemory writes memory. A write by the server over watched bytes is
// not a hit: while stopped, the engine takes the new value as its copy,
// so that no system call exit reports it as a write by the kernel.
func (p *Process) WriteMemory(addr uint64, data []byte) (int, error) {
	n, err := p.inner.WriteMemory(addr, data)
	if !p.running {
		p.e.watches.refresh(processIO{p: p}, addr, uint64(len(data)))
	}
	return n, err
}

// Resume lets the process run (see target.Process). While watches are
// set, the engine serves their faults and system calls during the run,
// and the run ends only for what the caller must see.
func (p *Process) Resume(actions []target.Action) error {
	if p.running {
		return target.ErrRunning
	}
	p.intr = false
	ev, err := p.e.beforeResume(actions)
	if err != nil {
		return err
	}
	if ev != nil {
		// The run ended before it began (a step of a system call that
		// the engine ran in place): its event is the next.
		p.queue = append(p.queue, *ev)
		return nil
	}
	// The caller's signals go with this first resume only; the engine's
	// own resumes of the run deliver none.
	first := p.e.runActions
	p.e.runActions = p.e.rerunActions
	if err := p.inner.Resume(first); err != nil {
		return err
	}
	p.running = !p.threadwise
	return nil
}

// NextEvent returns the next event for the caller, if one is ready. The
// stops the engine serves itself (its faults, system calls, steps) are
// taken from the wrapped process here and never returned: the engine
// resumes the process after them, and the run ends only for what the
// caller must see.
func (p *Process) NextEvent() (target.Event, bool) {
	if len(p.queue) > 0 {
		ev := p.queue[0]
		p.queue = p.queue[1:]
		return ev, true
	}
	for {
		ev, ok := p.inner.NextEvent()
		if !ok {
			return target.Event{}, false
		}
		if ev.Kind != target.EventStopped {
			p.e.ended()
			p.running = false
			return ev, true
		}
		out, ok := p.e.onEvent(ev)
		if !ok {
			continue // resumed, or the end is coming
		}
		if p.intr {
			out.Interrupted = true
		}
		p.running = false
		return out, true
	}
}

// Interrupt stops a running process. An Interrupt that comes while the
// engine has the process stopped for its own work is kept and ends the
// run there.
func (p *Process) Interrupt() error {
	if p.running {
		p.intr = true
	}
	return p.inner.Interrupt()
}

// Kill ends the process with SIGKILL.
func (p *Process) Kill() error { return p.inner.Kill() }

// Detach gives back the pages' protections, stops tracing system calls
// and detaches. Only while stopped.
func (p *Process) Detach() error {
	if p.running {
		return target.ErrRunning
	}
	if err := p.e.setWatches(nil); err != nil && !errors.Is(err, target.ErrExited) {
		return fmt.Errorf("detach: give back page protections: %w", err)
	}
	return p.inner.Detach()
}

// SetDebugRegisters forwards to the target.
func (p *Process) SetDebugRegisters(img target.DebugRegisters) error {
	if err := p.hw.SetDebugRegisters(img); err != nil {
		return err
	}
	p.e.dr = img
	return nil
}

// InsertBreakpoint forwards to the target.
func (p *Process) InsertBreakpoint(addr uint64) error {
	if err := p.bps.InsertBreakpoint(addr); err != nil {
		return err
	}
	p.callerBPs[addr] = true
	return nil
}

// RemoveBreakpoint forwards to the target. While the engine has a return
// breakpoint of its own at addr (step mode), the int3 stays until the
// engine lifts it.
func (p *Process) RemoveBreakpoint(addr uint64) error {
	delete(p.callerBPs, addr)
	if p.retBPs[addr] > 0 {
		return nil
	}
	return p.bps.RemoveBreakpoint(addr)
}

// callerBP says whether the caller has a breakpoint at addr.
func (p *Process) callerBP(addr uint64) bool {
	return p.callerBPs[addr]
}

// addRetBP adds a thread running to the engine's return breakpoint at
// addr, inserting it for the first.
func (p *Process) addRetBP(addr uint64) error {
	if p.retBPs[addr] == 0 && !p.callerBPs[addr] {
		if err := p.bps.InsertBreakpoint(addr); err != nil {
			return err
		}
	}
	p.retBPs[addr]++
	return nil
}

// dropRetBP removes a thread from the return breakpoint at addr, and
// the int3 with the last (unless the caller has one there).
func (p *Process) dropRetBP(addr uint64) {
	if p.retBPs[addr] == 0 {
		return
	}
	p.retBPs[addr]--
	if p.retBPs[addr] == 0 {
		delete(p.retBPs, addr)
		if !p.callerBPs[addr] {
			p.bps.RemoveBreakpoint(addr)
		}
	}
}

// retBP says whether the engine has a return breakpoint at addr.
func (p *Process) retBP(addr uint64) bool {
	return p.retBPs[addr] > 0
}

// TraceSyscalls turns on syscall-exit stops for the caller. They are
// also on, for the engine, while watches are set; the caller sees only
// those it asked for.
func (p *Process) TraceSyscalls(on bool) error {
	p.e.caller.exits = on
	return p.e.syncTracing()
}

// TraceSyscallEntries turns on syscall-entry stops for the caller (as
// TraceSyscalls).
func (p *Process) TraceSyscallEntries(on bool) error {
	p.e.caller.entries = on
	return p.e.syncTracing()
}

// CatchSyscalls makes the entries and exits of the system calls of set
// stop for the caller (see target.SyscallCatcher). The target catches
// them itself while no watch is set; while one is, the engine sees
// every call and passes the caller those it catches.
func (p *Process) CatchSyscalls(set target.SyscallSet) error {
	if err := p.catcher.CatchSyscalls(set); err != nil {
		return err
	}
	p.e.caller.caught = set
	return nil
}

// SetSigInfo forwards to the target.
func (p *Process) SetSigInfo(tid target.Tid, info []byte) error {
	return p.sigInfo.SetSigInfo(tid, info)
}

// StepThread forwards to the target.
func (p *Process) StepThread(tid target.Tid, sig target.Signal) (target.ThreadStop, error) {
	return p.runner.StepThread(tid, sig)
}

// InjectSyscall forwards to the target.
func (p *Process) InjectSyscall(tid target.Tid, nr int, args ...uint64) (uint64, error) {
	return p.runner.InjectSyscall(tid, nr, args...)
}

// Counts forwards to the target.
func (p *Process) Counts() target.Counts { return p.counter.Counts() }

// PassSignals forwards to the target: signals are passed only to threads
// that continue, never to one the engine steps.
func (p *Process) PassSignals(sigs []target.Signal) error { return p.passer.PassSignals(sigs) }
