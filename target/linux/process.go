package linux

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"gdbserverx/target"
)

// Process is a process traced with ptrace. It implements target.Process
// and the capabilities target.HardwareDebug, target.Breakpoints,
// target.SyscallTracer, target.AuxvReader, target.ExecFile and
// target.Counter. Its methods may be called from any goroutine.
type Process struct {
	// Immutable once Launch or Attach has returned.
	pid    int
	desc   *target.Description
	mem    *memory
	handle *os.Process // a pidfd: signals cannot reach a recycled pid

	// Channels to and from the tracer goroutine.
	reqs     chan request      // requests, served only while stopped
	events   chan target.Event // written and closed by the tracer
	killed   chan struct{}     // closed by Kill
	killOnce sync.Once
	wake     chan struct{} // Interrupt's token for a tracer not in wait4 (see listenWait)
	done     chan struct{} // closed when the tracer goroutine returns

	// Written by the tracer, read by any goroutine.
	// gate is non-nil while the process is stopped; the tracer closes the
	// channel when it leaves the stopped state, so that a caller that saw
	// "stopped" is never left waiting for a running tracer.
	gate atomic.Pointer[chan struct{}]
	// run is runGen<<2 | runInterrupted | runRunning. Interrupt sets
	// runInterrupted with a compare-and-swap while runRunning is set; the
	// tracer clears both when the world is stopped, and so learns whether
	// this run was interrupted without a lock.
	run         atomic.Uint64
	ended       atomic.Pointer[error] // why the process can no longer be used
	doorbellTid atomic.Int64          // a running thread (one that can take a doorbell), 0 for none
	doorbells   atomic.Int64          // doorbell signals sent and not yet seen by the tracer
	// regs holds, while the world is stopped after an event, the register
	// files of the threads in its Stops, read-only: ReadRegisters serves
	// them without a trip to the tracer's thread (two OS context switches
	// per stop otherwise). The tracer replaces it with nil before any
	// request that could change a register, and at every resume.
	regs atomic.Pointer[regSnapshot]
	c    counters
	// notify is called after each event is sent and after Events closes
	// (NotifyEvents).
	notify atomic.Pointer[func()]
}

// regSnapshot is an immutable set of register files by thread.
type regSnapshot struct {
	files map[target.Tid][]byte
}

const (
	runRunning     = 1
	runInterrupted = 2
	runGenShift    = 2
)

var (
	_ target.Process       = (*Process)(nil)
	_ target.HardwareDebug = (*Process)(nil)
	_ target.Breakpoints   = (*Process)(nil)
	_ target.SyscallTracer = (*Process)(nil)
	_ target.AuxvReader    = (*Process)(nil)
	_ target.ExecFile      = (*Process)(nil)
	_ target.Counter       = (*Process)(nil)
	_ target.EventNotifier = (*Process)(nil)
)

// errDetached ends a process after Detach.
var errDetached = fmt.Errorf("detached: %w", target.ErrExited)

func newProcess() *Process {
	return &Process{
		reqs: make(chan request),
		// A little room, so that the final event does not wait for a
		// reader that has stopped reading (at most a stop and the end
		// are ever queued).
		events: make(chan target.Event, 2),
		killed: make(chan struct{}),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
}

// request is a typed message to the tracer goroutine; each kind carries
// its own reply channel (buffered, so the tracer never blocks on it).
type request interface{ fail(error) }

type (
	threadsReq struct {
		reply chan []target.Tid
	}
	readRegsReq struct {
		tid   target.Tid
		buf   []byte
		reply chan error
	}
	writeRegsReq struct {
		tid   target.Tid
		buf   []byte
		reply chan error
	}
	resumeReq struct {
		actions []target.Action
		reply   chan error
	}
	setDRReq struct {
		img   target.DebugRegisters
		reply chan error
	}
	syscallsReq struct {
		on    bool
		reply chan error
	}
	detachReq struct {
		reply chan error
	}
	// funcReq runs f on the tracer goroutine (tests and benchmarks).
	funcReq struct {
		f     func(*tracer)
		reply chan error
	}
)

func (r threadsReq) fail(error)       { r.reply <- nil }
func (r readRegsReq) fail(err error)  { r.reply <- err }
func (r writeRegsReq) fail(err error) { r.reply <- err }
func (r resumeReq) fail(err error)    { r.reply <- err }
func (r setDRReq) fail(err error)     { r.reply <- err }
func (r syscallsReq) fail(err error)  { r.reply <- err }
func (r detachReq) fail(err error)    { r.reply <- err }
func (r funcReq) fail(err error)      { r.reply <- err }

// send hands r to the tracer if the process is stopped. It returns
// ErrRunning or ErrExited instead when it is not.
func (p *Process) send(r request) error {
	g := p.gate.Load()
	if g == nil {
		return p.notStopped()
	}
	select {
	case p.reqs <- r:
		return nil
	case <-*g:
		return p.notStopped()
	case <-p.done:
		return p.notStopped()
	}
}

func (p *Process) notStopped() error {
	if e := p.ended.Load(); e != nil {
		return *e
	}
	return target.ErrRunning
}

// sendErr sends a request whose answer is an error and waits for it.
func sendErr[R request](p *Process, mk func(chan error) R) error {
	reply := make(chan error, 1)
	if err := p.send(mk(reply)); err != nil {
		return err
	}
	return <-reply
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
	reply := make(chan []target.Tid, 1)
	if err := p.send(threadsReq{reply}); err != nil {
		return nil, err
	}
	tids := <-reply
	out := make([]target.Thread, len(tids))
	for i, tid := range tids {
		out[i] = target.Thread{Tid: tid, Name: threadName(p.pid, int(tid))}
	}
	return out, nil
}

func threadName(pid, tid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", pid, tid))
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(b), "\n")
}

// ReadRegisters fills buf with the thread's register file in description
// order. Values are cached until the thread resumes; the threads of the
// last event's Stops are already cached when the event is sent.
func (p *Process) ReadRegisters(tid target.Tid, buf []byte) error {
	if s := p.regs.Load(); s != nil {
		if f, ok := s.files[tid]; ok && len(buf) >= len(f) {
			copy(buf, f)
			return nil
		}
	}
	return sendErr(p, func(r chan error) readRegsReq { return readRegsReq{tid, buf, r} })
}

// WriteRegisters stores a whole register file. Only the register groups
// that changed are written, when the thread resumes. RF stays set when the
// PC does not change (see docs/x86-debug-registers.md).
func (p *Process) WriteRegisters(tid target.Tid, buf []byte) error {
	return sendErr(p, func(r chan error) writeRegsReq { return writeRegsReq{tid, buf, r} })
}

// ReadMemory reads memory with process_vm_readv from the calling
// goroutine, falling back to /proc/PID/mem for pages it cannot read.
// Inserted breakpoints read as their original bytes. It works while the
// process runs.
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
	return sendErr(p, func(r chan error) resumeReq { return resumeReq{actions, r} })
}

// NotifyEvents makes the tracer call f after it sends each event and
// after it closes Events (see target.EventNotifier). f is called once at
// once, in case an event is already waiting.
func (p *Process) NotifyEvents(f func()) {
	p.notify.Store(&f)
	f()
}

// Events delivers the stops and the end of the process. The process is
// stopped when Launch or Attach returns, without an event for that first
// stop. An EventStopped with no Stops and Interrupted false means that
// every resumed thread exited (the others are still stopped).
func (p *Process) Events() <-chan target.Event { return p.events }

// Interrupt stops a running process (see target.Process). While running
// it rings a doorbell: a SIGSTOP, which cannot be blocked, sent to the
// process; the tracer recognises the signal as its own, does not deliver
// it, and stops the other threads with PTRACE_INTERRUPT.
//
// The doorbell is process-directed (through the pidfd), not sent with
// tgkill to one chosen thread: tgkill to a thread that is exiting, or to
// an exited main thread whose process lives on, succeeds and the signal
// is lost with it (seen here as a lost Interrupt about once in 60 runs of
// TestZombieLeader); the kernel gives a process-directed signal to a
// thread that can take it (not exiting, not in a ptrace-stop).
func (p *Process) Interrupt() error {
	for {
		v := p.run.Load()
		if v&runRunning == 0 || v&runInterrupted != 0 {
			return nil
		}
		if p.run.CompareAndSwap(v, v|runInterrupted) {
			break
		}
	}
	if p.doorbellTid.Load() == 0 {
		// No thread runs that could take a signal (every resumed thread
		// is group-stopped): the tracer is not in a blocking wait4 and
		// takes this token instead.
		p.ringTracer()
		return nil
	}
	p.doorbells.Add(1)
	if err := p.handle.Signal(syscall.SIGSTOP); err != nil {
		p.doorbells.Add(-1)
		if errors.Is(err, os.ErrProcessDone) {
			return nil // the process is ending: its last event is coming
		}
		return fmt.Errorf("interrupt process %d: %w", p.pid, err)
	}
	return nil
}

func (p *Process) ringTracer() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Kill sends SIGKILL. The final event (EventSignaled) still arrives.
func (p *Process) Kill() error {
	if e := p.ended.Load(); e != nil {
		return *e
	}
	err := p.handle.Signal(syscall.SIGKILL)
	p.killOnce.Do(func() { close(p.killed) })
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill process %d: %w", p.pid, err)
	}
	return nil
}

// Detach removes breakpoints and debug registers and lets every thread
// go on untraced (a launched process is not killed). Events is closed.
func (p *Process) Detach() error {
	return sendErr(p, func(r chan error) detachReq { return detachReq{r} })
}

// SetDebugRegisters sets the image every thread must hold when it next
// runs (see target.HardwareDebug). Only while stopped.
func (p *Process) SetDebugRegisters(img target.DebugRegisters) error {
	return sendErr(p, func(r chan error) setDRReq { return setDRReq{img, r} })
}

// TraceSyscalls turns syscall-exit stops on or off for the next resumes.
func (p *Process) TraceSyscalls(on bool) error {
	return sendErr(p, func(r chan error) syscallsReq { return syscallsReq{on, r} })
}

// Auxv returns /proc/PID/auxv.
func (p *Process) Auxv() ([]byte, error) {
	if e := p.ended.Load(); e != nil {
		return nil, *e
	}
	return os.ReadFile(fmt.Sprintf("/proc/%d/auxv", p.pid))
}

// ExecPath returns the target of /proc/PID/exe.
func (p *Process) ExecPath() (string, error) {
	if e := p.ended.Load(); e != nil {
		return "", *e
	}
	return os.Readlink(fmt.Sprintf("/proc/%d/exe", p.pid))
}

// Counts returns the running totals of ptrace calls, debug-register
// writes, waits and delivered stop events.
func (p *Process) Counts() target.Counts {
	return target.Counts{
		PtraceCalls:         p.c.calls.Load(),
		DebugRegisterWrites: p.c.drWrites.Load(),
		Waits:               p.c.waits.Load(),
		Stops:               p.c.stops.Load(),
		Filtered:            p.c.filtered.Load(),
	}
}

// onTracer runs f on the tracer goroutine while the process is stopped.
func (p *Process) onTracer(f func(*tracer)) error {
	return sendErr(p, func(r chan error) funcReq { return funcReq{f, r} })
}
