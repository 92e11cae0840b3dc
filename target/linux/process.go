package linux

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"gdbserverx/internal/x86cpu"
	"gdbserverx/target"
)

// Process is a process traced with ptrace. It implements target.Process
// and the capabilities target.GeneralRegisterReader,
// target.HardwareDebug, target.Breakpoints, target.SyscallTracer,
// target.SyscallEntryTracer, target.SyscallCatcher,
// target.ThreadRunner, target.StopFilter and target.Counter, and, through
// its facts (facts.go), the capabilities
// that read /proc and the program's files: target.AuxvReader,
// target.ExecFile, target.LibraryLister, target.Symbolizer,
// target.ProcessInfoReader, target.ThreadInfo, target.ProcessFiles,
// target.FileRoot and target.MemoryRegionReader.
//
// Every method must be called on the thread of the Tracer that launched
// or attached it (see Tracer); the Process has no goroutine and no lock
// of its own. While it runs, its events are made by Tracer.Pump and
// taken with NextEvent.
type Process struct {
	// Immutable once Launch or Attach has returned.
	owner  *Tracer
	pid    int
	desc   *target.Description
	mem    *memory
	handle *os.Process // a pidfd: signals cannot reach a recycled pid
	c      counters

	// facts reads /proc and the program's files (facts.go); its
	// methods are the Process's.
	facts

	threads    map[int]*thread
	order      []*thread  // creation order, main thread first; may hold gone threads
	nGone      int        // gone threads still in order
	nRunning   int        // threads in state running
	nListening int        // threads in state listening
	regs       *regLayout // the register file and where it comes from; set at the first stop

	want     target.DebugRegisters // the image every thread must hold when it runs
	syscalls bool                  // resume with PTRACE_SYSCALL, report syscall exits
	entries  bool                  // resume with PTRACE_SYSCALL, report syscall entries
	catch    target.SyscallSet     // resume with PTRACE_SYSCALL, report these calls' entries and exits (catch.go)

	// filter is offered the stops of a run (filter.go).
	filter target.StopFilterFunc
	// pass holds the signals passed at once during a run (passsig.go).
	pass passSet

	// sysInsn is the address of a syscall instruction (0f 05) in the
	// vDSO, for InjectSyscall; 0 until looked for, ^0 when there is none.
	// Reset at exec.
	sysInsn uint64

	worldStopped bool // all-stop: every thread is stopped and requests are served
	nonStop      bool // non-stop mode: events stop their own thread only (nonstop.go)
	stopping     bool // a thread reported an event (or Interrupt): the world is being stopped
	interrupted  bool // Interrupt was called during this run
	killing      bool // SIGKILL sent: reap until the main thread's status
	over         bool // the process ended or was detached
	ended        error

	stops       []target.ThreadStop // the reasons of the stop being collected
	queue       []target.Event      // events not yet taken with NextEvent
	vforks      map[int]int         // threads in a vfork whose child shares the memory: vforkLifted or vforkFollowed
	followForks bool                // fork and vfork children become Processes (fork.go)

	xsBuf   []byte
	planBuf []target.DebugWrite
	term    *terminal // foreground process group to give back at the end

	// drFault, when set, is called before each debug-register write and
	// may refuse it (tests inject ENOSPC with it).
	drFault func(tid, reg int, v uint64) error
}

var (
	_ target.Process               = (*Process)(nil)
	_ target.GeneralRegisterReader = (*Process)(nil)
	_ target.HardwareDebug         = (*Process)(nil)
	_ target.Breakpoints           = (*Process)(nil)
	_ target.SyscallTracer         = (*Process)(nil)
	_ target.Counter               = (*Process)(nil)
	_ target.AuxvReader            = (*Process)(nil)
	_ target.ExecFile              = (*Process)(nil)
	_ target.LibraryLister         = (*Process)(nil)
	_ target.Symbolizer            = (*Process)(nil)
	_ target.ProcessInfoReader     = (*Process)(nil)
	_ target.ThreadInfo            = (*Process)(nil)
	_ target.FileRoot              = (*Process)(nil)
	_ target.ProcessFiles          = (*Process)(nil)
	_ target.MemoryRegionReader    = (*Process)(nil)
	_ target.TLSResolver           = (*Process)(nil)
)

// errDetached ends a process after Detach.
var errDetached = fmt.Errorf("detached: %w", target.ErrExited)

func newProcess(owner *Tracer) *Process {
	p := &Process{
		owner:   owner,
		threads: map[int]*thread{},
		vforks:  map[int]int{},
		// x87 and SSE until the first stop shows what the process has
		// (probeRegisters).
		regs: newRegLayout(false, 0, 0, x86cpu.Host()),
	}
	p.desc = p.regs.desc
	p.facts.p = p
	return p
}

// alive says why the process cannot serve a request, or nil.
func (p *Process) alive() error {
	p.owner.check()
	switch {
	case p.over:
		return p.ended
	case p.killing:
		return fmt.Errorf("process %d is being killed: %w", p.pid, target.ErrExited)
	}
	return nil
}

// usable says why the process cannot serve a request that needs it
// stopped, or nil: in all-stop mode the world must be stopped; in
// non-stop mode a request that needs a thread stopped checks that thread.
func (p *Process) usable() error {
	if err := p.alive(); err != nil {
		return err
	}
	if !p.nonStop && !p.worldStopped {
		return target.ErrRunning
	}
	return nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.pid }

// Description is the x86-64 register layout: x87, SSE, the Linux and
// segment-base registers, and AVX, AVX-512 and PKU where the CPU has them
// and the kernel's XSAVE mask for the process enables them (regs.go).
func (p *Process) Description() *target.Description { return p.desc }

// Threads lists the live threads, main thread first, then by creation,
// with their names from /proc/PID/task/TID/comm. Only while stopped.
func (p *Process) Threads() ([]target.Thread, error) {
	if err := p.usable(); err != nil {
		return nil, err
	}
	tids := p.liveTids()
	out := make([]target.Thread, len(tids))
	for i, tid := range tids {
		out[i] = target.Thread{Tid: tid, Name: threadName(p.pid, int(tid))}
	}
	return out, nil
}

// ReadRegisters fills buf with the thread's register file in description
// order. Values are cached until the thread resumes; the threads of an
// event's Stops are read before the event is queued.
func (p *Process) ReadRegisters(tid target.Tid, buf []byte) error {
	if err := p.usable(); err != nil {
		return err
	}
	th, err := p.stoppedThread(tid)
	if err != nil {
		return err
	}
	return p.readRegisters(th, buf)
}

// ReadGeneralRegisters fills the general registers of buf (see
// target.GeneralRegisterReader): one PTRACE_GETREGS per stop at most.
func (p *Process) ReadGeneralRegisters(tid target.Tid, buf []byte) error {
	if err := p.usable(); err != nil {
		return err
	}
	th, err := p.stoppedThread(tid)
	if err != nil {
		return err
	}
	if len(buf) < p.desc.Size() {
		return fmt.Errorf("register buffer of %d bytes, want %d", len(buf), p.desc.Size())
	}
	if err := p.loadGP(th); err != nil {
		return err
	}
	putGP(buf, &th.regs.gp)
	return nil
}

// WriteRegisters stores a whole register file. Only the register groups
// that changed are written, when the thread resumes. RF stays set when the
// PC does not change (see docs/x86-debug-registers.md).
func (p *Process) WriteRegisters(tid target.Tid, buf []byte) error {
	if err := p.usable(); err != nil {
		return err
	}
	th, err := p.stoppedThread(tid)
	if err != nil {
		return err
	}
	return p.writeRegisters(th, buf)
}

// ReadMemory reads memory with process_vm_readv, falling back to
// /proc/PID/mem for pages it cannot read. Inserted breakpoints read as
// their original bytes. It works while the process runs.
func (p *Process) ReadMemory(addr uint64, buf []byte) (int, error) {
	return p.mem.read(addr, buf)
}

// WriteMemory writes memory through /proc/PID/mem (code pages included).
// Bytes under an inserted breakpoint update its saved byte. It works while
// the process runs.
func (p *Process) WriteMemory(addr uint64, data []byte) (int, error) {
	return p.mem.write(addr, data)
}

// InsertBreakpoint patches an int3 at addr. It works while the process
// runs.
func (p *Process) InsertBreakpoint(addr uint64) error { return p.mem.insert(addr) }

// RemoveBreakpoint restores the byte under the int3 at addr.
func (p *Process) RemoveBreakpoint(addr uint64) error { return p.mem.remove(addr) }

// Resume lets the stopped process run (see target.Process). Debug
// registers are brought to the image of SetDebugRegisters in every thread
// to be resumed before any of them runs; a refusal comes back as a
// *target.DebugRegisterError and nothing runs.
func (p *Process) Resume(actions []target.Action) error {
	if err := p.usable(); err != nil {
		return err
	}
	return p.resume(actions)
}

// NextEvent returns the next event that Tracer.Pump has made, if any.
// The process is stopped when Launch or Attach returns, without an event
// for that first stop. An EventStopped with no Stops and Interrupted
// false means that every resumed thread exited (the others are still
// stopped). After the final event (EventExited, EventSignaled) there is
// none; after Detach neither.
func (p *Process) NextEvent() (target.Event, bool) {
	p.owner.check()
	if len(p.queue) == 0 {
		return target.Event{}, false
	}
	ev := p.queue[0]
	p.queue[0] = target.Event{}
	p.queue = p.queue[1:]
	if ev.Kind == target.EventStopped {
		p.c.stops++
	}
	return ev, true
}

// Interrupt stops a running process (see target.Process): every running
// thread gets a PTRACE_INTERRUPT, and the event comes once they have all
// stopped. Harmless while stopped or when the process ends.
//
// The world is not counted as stopping until a thread reports the
// interrupt's own trap (onEventStop): a thread that passes a syscall stop
// or another stop that is no event on its way to that trap goes on as in
// any run, so that the stop finds it where a signal would have (out of
// the kernel, not at a syscall-entry stop, where no system call can be
// injected), as the SIGSTOP a debugger sends to interrupt would.
func (p *Process) Interrupt() error {
	p.owner.check()
	if p.nonStop && !p.over && !p.killing {
		return p.StopThreads(nil)
	}
	if p.over || p.killing || p.worldStopped || p.interrupted {
		return nil
	}
	p.interrupted = true
	if !p.stopping {
		p.interruptAll()
	}
	p.settle()
	return nil
}

// Kill sends SIGKILL. The final event (EventSignaled) still arrives.
func (p *Process) Kill() error {
	p.owner.check()
	if p.over {
		return p.ended
	}
	err := p.handle.Signal(syscall.SIGKILL)
	p.killing = true
	p.worldStopped = false
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill process %d: %w", p.pid, err)
	}
	return nil
}

// Detach removes breakpoints and debug registers and lets every thread
// go on untraced (a launched process is not killed). No event follows.
func (p *Process) Detach() error {
	if err := p.usable(); err != nil {
		return err
	}
	if !p.allStopped() {
		return fmt.Errorf("detach: %w", target.ErrRunning)
	}
	return p.detach()
}

// SetDebugRegisters sets the image every thread must hold when it next
// runs (see target.HardwareDebug). Only while stopped.
func (p *Process) SetDebugRegisters(img target.DebugRegisters) error {
	if err := p.usable(); err != nil {
		return err
	}
	p.want = img
	if p.nonStop {
		pauser{p}.refreshRunning()
	}
	return nil
}

// TraceSyscalls turns syscall-exit stops on or off for the next resumes.
func (p *Process) TraceSyscalls(on bool) error {
	if err := p.usable(); err != nil {
		return err
	}
	p.syscalls = on
	return nil
}

// Counts returns the running totals of ptrace calls, debug-register
// writes, waits and delivered stop events.
func (p *Process) Counts() target.Counts {
	return target.Counts{
		PtraceCalls:         p.c.calls,
		DebugRegisterWrites: p.c.drWrites,
		Waits:               p.c.waits,
		Stops:               p.c.stops,
		Filtered:            p.c.filtered,
		Passed:              p.c.passed,
	}
}
