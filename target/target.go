package target

import (
	"errors"
	"fmt"
)

// Tid is a kernel thread id. For the main thread of a process it equals
// the process id. It is not a wire thread id: the server translates.
type Tid int

// Signal is a Linux signal number (SIGTRAP is 5, SIGSEGV 11, SIGUSR1 10).
// It is not a GDB signal number: the server translates.
type Signal int

// Common Linux signals the server and the target name explicitly.
const (
	SIGINT  Signal = 2
	SIGTRAP Signal = 5
	SIGKILL Signal = 9
	SIGSEGV Signal = 11
	SIGSTOP Signal = 19
)

// Process is the debuggee: one traced process and its threads.
//
// Its methods must all be called from one goroutine, the owner (for
// target/linux, the goroutine locked to the tracer's thread): an
// implementation has no goroutine and no lock of its own, and its events
// are made by the owner's own calls (target/linux: Tracer.Pump) and taken
// with NextEvent.
//
// The process is either stopped (every thread is stopped; registers and
// debug registers may be read and written) or running (between Resume and
// the next Event). Memory may be read and written in both states.
type Process interface {
	// Pid is the process id.
	Pid() int

	// Description is the register layout, fixed for the life of the process.
	Description() *Description

	// Threads lists the live threads, main thread first, then by creation.
	// Only valid while stopped.
	Threads() ([]Thread, error)

	// ReadRegisters fills buf (Description().Size() bytes) with every
	// register of the thread, in description order, little-endian. Only
	// while stopped. Values are cached until the next resume.
	ReadRegisters(tid Tid, buf []byte) error

	// WriteRegisters stores the register file given in description order.
	// Only while stopped.
	WriteRegisters(tid Tid, buf []byte) error

	// ReadMemory reads len(buf) bytes at addr. It returns the number of
	// bytes read; n < len(buf) comes with an error saying why (an unmapped
	// page, say). Software breakpoints inserted with InsertBreakpoint are
	// shown with the original bytes.
	ReadMemory(addr uint64, buf []byte) (n int, err error)

	// WriteMemory writes data at addr, read-only (code) pages included.
	// Writes over an inserted breakpoint update the saved original byte.
	WriteMemory(addr uint64, data []byte) (n int, err error)

	// Resume lets the stopped process run. Every thread gets the action
	// its tid names in actions, or else the action with Tid 0, or else
	// stays stopped. Resume returns as soon as the threads run; what
	// follows is taken with NextEvent. Debug registers set with
	// SetDebugRegisters are written into each thread before it runs.
	Resume(actions []Action) error

	// NextEvent returns the next event, if one is ready: one per stop
	// (all threads stopped when it is taken) and one for the end of the
	// process (EventExited or EventSignaled), after which there is none.
	// It never blocks; the owner learns when to look from its event
	// source (target/linux: Tracer.EventFd).
	NextEvent() (Event, bool)

	// Interrupt asks a running process to stop. The stop comes as an
	// event with Interrupted set, unless another event stopped the process
	// first (then that event comes, and Interrupted is set as well). Calling
	// it while stopped or twice is harmless.
	Interrupt() error

	// Kill ends the process with SIGKILL. Its final event still comes.
	Kill() error

	// Detach lets the process go on untraced, with breakpoints and debug
	// registers removed. Only while stopped. No event follows.
	Detach() error
}

// Thread is one thread of the process.
type Thread struct {
	Tid  Tid
	Name string // from /proc/PID/task/TID/comm, "" if unknown
}

// ResumeKind says how one thread resumes.
type ResumeKind int

// Resume kinds.
const (
	Continue ResumeKind = iota // run until an event
	Step                       // execute one instruction, then stop
)

func (k ResumeKind) String() string {
	switch k {
	case Continue:
		return "continue"
	case Step:
		return "step"
	}
	return fmt.Sprintf("ResumeKind(%d)", int(k))
}

// Action is what one thread (or, with Tid 0, every thread not named by
// another action) does when the process resumes.
type Action struct {
	Tid    Tid // 0: the default for threads no other action names
	Kind   ResumeKind
	Signal Signal // 0, or a signal delivered as the thread resumes
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	EventStopped  EventKind = iota // every thread is stopped; Stops says why
	EventExited                    // the process exited; ExitCode holds the status
	EventSignaled                  // the process was killed by Signal
)

func (k EventKind) String() string {
	switch k {
	case EventStopped:
		return "stopped"
	case EventExited:
		return "exited"
	case EventSignaled:
		return "signaled"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is one stop of the whole process (all-stop), or its end.
type Event struct {
	Kind EventKind

	// Stops lists the threads that stopped for a reason of their own,
	// in the order the kernel reported them. Threads the target stopped
	// only to stop the world are not listed. Empty for an Interrupt that
	// stopped nothing else.
	Stops []ThreadStop

	// Interrupted is set when Interrupt was called during this run.
	Interrupted bool

	// Threads lists the live threads at this stop, main thread first, then
	// by creation (Threads adds their names).
	Threads []Tid

	ExitCode int    // EventExited
	Signal   Signal // EventSignaled: the fatal signal
}

// StopReason classifies why a thread stopped.
type StopReason int

// Stop reasons.
const (
	// StopSignal: the thread is about to receive Signal. Resuming it with
	// that signal delivers it; resuming with 0 discards it.
	StopSignal StopReason = iota
	// StopBreakpoint: the thread executed an int3 inserted with
	// InsertBreakpoint. The PC has been moved back to the breakpoint's
	// address.
	StopBreakpoint
	// StopDebug: a debug exception (SIGTRAP with si_code TRAP_HWBKPT or
	// TRAP_TRACE): a hardware breakpoint or watchpoint fired, or a single
	// step finished, or both. DR6 holds the debug status; only this
	// reason makes DR6 meaningful (see docs/x86-debug-registers.md).
	StopDebug
	// StopSyscallExit: the thread returned from system call Syscall
	// (only while syscall stops are enabled with TraceSyscalls).
	StopSyscallExit
	// StopExec: the thread called execve successfully; the process image
	// is new. Breakpoints are gone; debug registers are rewritten on
	// resume.
	StopExec
	// StopSyscallEntry: the thread is entering system call Syscall (only
	// while entry stops are enabled with SyscallEntryTracer). The
	// arguments are in rdi, rsi, rdx, r10, r8, r9 and the number in
	// orig_rax; writing orig_rax before the resume changes the call that
	// runs, and -1 skips it (the call then returns rax as written).
	StopSyscallEntry
	// StopWatch: the thread accessed memory of emulated watchpoints
	// (package swwatch); Watches lists them. PC is after the instruction,
	// as a hardware watchpoint's trap reports it; for a write by the
	// kernel during a system call, PC is after the syscall instruction.
	StopWatch
	// StopFork and StopVFork: the thread forked (vforked) a process that
	// is followed (ForkFollower): Child is the new process, stopped.
	StopFork
	StopVFork
	// StopVForkDone: the child of a followed vfork has exec'd or exited:
	// the parent, which waited in the kernel, runs again (the memory the
	// two shared is the parent's alone).
	StopVForkDone
	// StopInterrupt: the thread stopped because it was asked to
	// (NonStop.StopThreads, or Interrupt in non-stop mode), for no reason
	// of its own.
	StopInterrupt
)

func (r StopReason) String() string {
	switch r {
	case StopSignal:
		return "signal"
	case StopBreakpoint:
		return "breakpoint"
	case StopDebug:
		return "debug"
	case StopSyscallExit:
		return "syscall-exit"
	case StopExec:
		return "exec"
	case StopSyscallEntry:
		return "syscall-entry"
	case StopWatch:
		return "watch"
	case StopInterrupt:
		return "interrupt"
	case StopFork:
		return "fork"
	case StopVFork:
		return "vfork"
	case StopVForkDone:
		return "vfork-done"
	}
	return fmt.Sprintf("StopReason(%d)", int(r))
}

// ThreadStop is one thread's reason to stop.
type ThreadStop struct {
	Tid    Tid
	Reason StopReason
	Signal Signal // the pending signal (StopSignal), SIGTRAP for the traps

	// SigInfo is the raw 128-byte siginfo_t of the stop, when there is
	// one (qXfer:siginfo:read serves it).
	SigInfo []byte
	// SigCode is si_code from SigInfo, for convenience.
	SigCode int32
	// DR6 is the debug status register at a StopDebug stop; 0 otherwise.
	DR6 uint64
	// PC is the program counter after any adjustment (see StopBreakpoint).
	PC uint64
	// Syscall is the system call number at StopSyscallExit and
	// StopSyscallEntry.
	Syscall int
	// Child is the new process at StopFork and StopVFork.
	Child Process
	// Watches lists the emulated watchpoints the thread's last
	// instruction (or system call) accessed: at StopWatch, at a
	// StopDebug when that instruction also completed a single step or hit
	// a hardware debug register, and at a StopSyscallExit (the caller
	// asked for exits) when the kernel wrote them during the call.
	Watches []WatchHit
}

// WatchKind is what a watchpoint watches, or what an access did: a read,
// a write, or both (an access watchpoint; a read-modify-write
// instruction).
type WatchKind uint8

// Watch kinds. WatchAccess is WatchRead|WatchWrite.
const (
	WatchRead   WatchKind = 1
	WatchWrite  WatchKind = 2
	WatchAccess WatchKind = WatchRead | WatchWrite
)

func (k WatchKind) String() string {
	switch k {
	case WatchRead:
		return "read"
	case WatchWrite:
		return "write"
	case WatchAccess:
		return "access"
	}
	return fmt.Sprintf("WatchKind(%d)", int(k))
}

// WatchHit is one emulated watchpoint that an instruction accessed.
type WatchHit struct {
	ID   uint64    // the watch's key, as its owner gave it
	Kind WatchKind // what the access did, as far as the watch asks: a Read watch hit by a read-modify-write says WatchRead
	Addr uint64    // the first watched byte the access touched
}

// DebugRegisters is the debug-register image every thread should hold:
// addresses for DR0-DR3 and the DR7 control word. The meaning of the bits
// is the hwbp package's business; the target writes them as given.
type DebugRegisters struct {
	Addr    [4]uint64
	Control uint64 // DR7
}

// HardwareDebug is the optional capability of targets with debug registers.
type HardwareDebug interface {
	// SetDebugRegisters sets the image every thread must hold when it next
	// runs. Nothing is written at once: each thread is brought to the image
	// just before it resumes, and only the registers that differ from what
	// that thread holds are written (none on an ordinary stop and resume).
	// New threads are programmed before their first instruction.
	//
	// Only while stopped. A kernel refusal surfaces from Resume as a
	// *DebugRegisterError, before any thread runs.
	SetDebugRegisters(img DebugRegisters) error
}

// NonStop is the optional capability of running the threads of the
// process independently (gdb's non-stop mode, GDB manual "Remote Non-Stop").
// In non-stop mode an event stops the thread it comes from and no other:
// the event's Stops name that thread alone, and the others go on. Resume
// resumes stopped threads while others run; a thread's registers can be
// read and written while it is stopped, whatever the others do; debug
// registers set while threads run reach them at once (each is stopped
// for a moment, invisibly, to write them); the ThreadRunner calls stop
// the other threads around themselves, as all-stop has them stopped.
type NonStop interface {
	// SetNonStop turns non-stop mode on or off. Only while every thread
	// is stopped.
	SetNonStop(on bool) error
	// StopThreads asks running threads to stop (none named: every
	// thread). Each stops with an event of its own, StopInterrupt, unless
	// an event of its own comes first. A thread already stopped, or
	// already asked, is left as it is.
	StopThreads(tids []Tid) error
}

// ForkFollower is the optional capability of keeping the processes a
// process forks and vforks under the debugger (gdb's fork-events and
// vfork-events, for `set follow-fork-mode child` and `set
// detach-on-fork off`).
type ForkFollower interface {
	// FollowForks, on, makes a fork or vfork stop the thread that made it
	// with StopFork or StopVFork, whose Child is the new process: traced
	// by the same owner, stopped at its first instruction after the call,
	// with the parent's software breakpoints in its memory (a copy: the
	// int3s are in it) and none of its debug registers (the kernel does
	// not copy them). The child's events come from its own NextEvent. Off
	// (the default), children run on untraced, without the breakpoints.
	// Only while stopped.
	FollowForks(on bool) error
}

// GeneralRegisterReader is the optional capability of reading the general
// registers of a thread without the rest of its register file: a stop
// reply needs only the pc, the stack and frame pointers and a few more,
// and the rest (x87, SSE, AVX, AVX-512: XSAVE, 2.7 KiB with AVX-512) costs
// a system call per stop to fetch.
type GeneralRegisterReader interface {
	// ReadGeneralRegisters fills the general registers of buf (a register
	// file in description order: the registers before st0, and orig_rax,
	// fs_base and gs_base) and leaves the rest of buf as it is. Only
	// while stopped.
	ReadGeneralRegisters(tid Tid, buf []byte) error
}

// Breakpoints is the optional capability of inserting software breakpoints
// (int3). One insertion per address: the server counts owners.
type Breakpoints interface {
	// InsertBreakpoint patches an int3 at addr, saving the original byte.
	InsertBreakpoint(addr uint64) error
	// RemoveBreakpoint restores the original byte at addr.
	RemoveBreakpoint(addr uint64) error
}

// SyscallTracer is the optional capability of stopping at system call exits.
type SyscallTracer interface {
	// TraceSyscalls turns syscall-exit stops (StopSyscallExit) on or off
	// for the following resumes. Only while stopped.
	TraceSyscalls(on bool) error
}

// SyscallEntryTracer is the optional capability of stopping at system
// call entries as well.
type SyscallEntryTracer interface {
	// TraceSyscallEntries turns syscall-entry stops (StopSyscallEntry) on
	// or off for the following resumes. It is independent of
	// SyscallTracer's exit stops. Only while stopped.
	TraceSyscallEntries(on bool) error
}

// ThreadRunner is the optional capability of running one thread for a
// moment while the rest of the process stays stopped, with no event:
// the software-watchpoint engine (package swwatch) steps a faulting
// instruction with its page open, and runs mprotect in the process,
// this way. Both methods only while stopped; the thread's registers and
// the other threads are left as they were, but for what the instruction
// or the system call did.
//
// Asynchronous signals that arrive meanwhile stay pending: they are
// delivered at the next Resume. A synchronous signal the stepped
// instruction raises (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) is its
// stop; so is a signal delivered before a stepped system call (which
// runs with the program's own signal mask, since it may change it). If
// the process ends meanwhile, the error wraps ErrExited and the final
// event is taken with NextEvent.
type ThreadRunner interface {
	// StepThread executes one instruction of thread tid, delivering sig
	// first when it is not 0 (the thread then stops at the handler's
	// first instruction), and returns the thread's stop: StopDebug with
	// DR6 for a completed step (or a hardware watchpoint that fired), or
	// StopSignal for a fault. Stops that are not events (an interrupt's
	// leftover trap) are passed over. The debug registers hold the image
	// of SetDebugRegisters during the step.
	StepThread(tid Tid, sig Signal) (ThreadStop, error)

	// InjectSyscall runs system call nr with up to six arguments in
	// thread tid (0: any thread that can run it) and returns the
	// kernel's raw return value (a negative errno as a two's complement
	// word). The thread's registers are restored afterwards; memory is
	// not touched but by the call itself. A thread stopped at a
	// syscall-entry stop cannot run one (use another thread, or tid 0).
	InjectSyscall(tid Tid, nr int, args ...uint64) (uint64, error)
}

// StopFilter is the optional capability of serving some of a thread's
// stops as they are collected, during a run, before they stop
// the world: the software-watchpoint engine (package swwatch) emulates
// an instruction that faulted on one of its protected pages this way,
// and lets uneventful system calls go on, without stopping every thread
// and without the round trips of an event.
type StopFilter interface {
	// SetStopFilter installs f for the following runs (nil removes it).
	// Only while stopped.
	SetStopFilter(f StopFilterFunc) error
}

// StopFilterFunc is called, during a run, for each stop that would start
// a stop of the world (a signal, a trap, a syscall stop), while that
// thread is stopped and the other threads may still run. It runs on the
// owner's goroutine, from within the call that collects the stop: it
// must not call the process's methods, only t's. It may change st. It returns FilterResume when it
// has served the stop (the thread goes on as it was running, and a
// signal of the stop is discarded), or FilterReport to report st as
// usual.
type StopFilterFunc func(t FilterThread, st *ThreadStop) FilterVerdict

// FilterVerdict is what a StopFilterFunc decided.
type FilterVerdict int

// Filter verdicts.
const (
	FilterReport FilterVerdict = iota // report the stop: the world stops
	FilterResume                      // the stop is served: the thread goes on
)

// FilterThread is the thread a StopFilterFunc is called for, and the
// process's memory.
type FilterThread interface {
	// GeneralRegisters fills the general registers of buf (a register
	// file in description order: the registers before st0, and orig_rax,
	// fs_base and gs_base) and leaves the rest of buf as it is.
	GeneralRegisters(buf []byte) error
	// SetGeneralRegisters sets the general registers from buf, for the
	// thread's resume.
	SetGeneralRegisters(buf []byte) error
	// ReadMemory and WriteMemory are the process's (see Process).
	ReadMemory(addr uint64, buf []byte) (int, error)
	WriteMemory(addr uint64, data []byte) (int, error)
}

// SignalPasser is the optional capability of delivering some signals
// during a run without stopping the world: a thread about to receive one
// of them is restarted with it at once and no event is queued, as
// gdbserver does for the signals of QPassSignals. A thread being stepped,
// and every thread while the world is being stopped, reports such a
// signal as usual (StopSignal): the caller delivers it at that thread's
// next resume.
type SignalPasser interface {
	// PassSignals sets the signals passed during the following runs (nil:
	// none). SIGTRAP, SIGSTOP and SIGKILL are never passed: they are the
	// debugger's. Only while stopped.
	PassSignals(sigs []Signal) error
}

// DebugRegisterError reports that the kernel refused a debug-register write
// for a thread. Errors.Is(err, ErrNoSpace) says the kernel had no capacity
// (ENOSPC: another perf user holds a slot); the caller should plan with one
// slot less and try again.
type DebugRegisterError struct {
	Tid Tid
	Reg int // 0-3 address registers, 7 control
	Err error
}

func (e *DebugRegisterError) Error() string {
	return fmt.Sprintf("write debug register %d of thread %d: %v", e.Reg, e.Tid, e.Err)
}

func (e *DebugRegisterError) Unwrap() error { return e.Err }

// Sentinel errors the server acts on.
var (
	// ErrNoSpace: the kernel has no debug-register capacity left (ENOSPC).
	ErrNoSpace = errors.New("no debug-register capacity")
	// ErrRunning: the call needs a stopped process.
	ErrRunning = errors.New("process is running")
	// ErrExited: the process is gone.
	ErrExited = errors.New("process has exited")
	// ErrNoThread: no such thread (it may have just exited).
	ErrNoThread = errors.New("no such thread")
)

// Counter is the optional capability of reporting the target's own work,
// for `monitor stats`, benchmarks and tests that check no work is wasted.
type Counter interface {
	Counts() Counts
}

// Counts are running totals since the process was started or attached.
type Counts struct {
	PtraceCalls         uint64 // every ptrace(2) request made
	DebugRegisterWrites uint64 // PTRACE_POKEUSER writes of DR0-DR3 and DR7
	Waits               uint64 // wait4 calls that returned a status
	Stops               uint64 // events of kind EventStopped delivered
	Filtered            uint64 // stops a StopFilter served (no event)
	Passed              uint64 // signals a SignalPasser delivered at once (no event)
}
