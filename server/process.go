package server

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/rsp"
	"gdbserverx/swwatch"

	"gdbserverx/target"
)

// process is the server's view of the one target process: the target,
// its optional capabilities (checked once, at wiring), its run state and
// what the clients have inserted into it. Owned by the core loop.
type process struct {
	t        target.Process
	pid      int
	attached bool // attached to (detach at the end), not started (kill)
	path     string

	// Capabilities; nil when the target lacks one.
	hw    target.HardwareDebug
	bps   target.Breakpoints
	sys   target.SyscallTracer
	auxvR target.AuxvReader
	exe   target.ExecFile
	count target.Counter
	gpr   target.GeneralRegisterReader
	// What the system says about the process (target/facts.go).
	libs   target.LibraryLister
	syms   target.Symbolizer
	info   target.ProcessInfoReader
	thInfo target.ThreadInfo
	root   target.FileRoot

	desc *target.Description
	xml  []byte // target.xml

	running     bool
	interrupted bool // Interrupt was called during this run
	// orphaned: the last client left while the program ran; it runs on
	// without breakpoints or watchpoints until a client connects.
	orphaned bool
	threads  []target.Tid // at the last stop
	lastTid  target.Tid   // the thread of the last reported stop

	// Stops not yet told to every client they concern, and the last one
	// told (for '?' and qXfer:siginfo).
	pending  []*stop
	lastStop *stop

	expedited []int  // register numbers sent with every stop
	regBuf    []byte // register file scratch
	memBuf    []byte // memory read scratch
	stopRegs  []byte // register file of a stop reply's thread
	expRegs   []rsp.ExpeditedRegister

	// names caches thread names (a read of the system each): gdb asks
	// for the thread list at every stop. Entries of threads that are
	// gone are dropped; names are read again after namesMaxAge, so a
	// thread renaming itself shows within that time.
	names     map[target.Tid]string
	namesTime time.Time

	// Software breakpoints: owners per address. An address is inserted
	// in the target while it has an owner; removals wait for the next
	// resume (gdb removes every breakpoint at each stop and inserts them
	// again before it resumes: the pair then costs nothing).
	breaks map[uint64]*swBreak
	// dp holds the hardware breakpoints and watchpoints.
	dp *debugpoints
	// sw emulates the watchpoints that hold no slot (nil when the target
	// cannot be wrapped); t is then sw.
	sw *swwatch.Process
	// notes are sw's notes for --event-log, queued by its goroutine.
	notes engineNotes

	// Caches valid while stopped: the library list and thread list
	// documents (gdb reads them in chunks), cleared at resume.
	libsDoc    []byte
	threadsDoc []byte
}

// swBreak is one software breakpoint address.
type swBreak struct {
	owners   map[*client]bool
	inserted bool // in the target's memory
}

// newProcess wires a target: it wraps it with the software-watchpoint
// engine when it can, and checks its optional capabilities once.
func newProcess(t target.Process, attached bool, path string) *process {
	p := &process{pid: t.Pid(), attached: attached, path: path, breaks: map[uint64]*swBreak{}, dp: newDebugpoints()}
	if sw, err := swwatch.New(t); err == nil {
		p.sw = sw
		t = sw
	}
	p.t = t
	p.hw, _ = t.(target.HardwareDebug)
	p.bps, _ = t.(target.Breakpoints)
	p.sys, _ = t.(target.SyscallTracer)
	p.auxvR, _ = t.(target.AuxvReader)
	p.exe, _ = t.(target.ExecFile)
	p.count, _ = t.(target.Counter)
	p.gpr, _ = t.(target.GeneralRegisterReader)
	p.libs, _ = t.(target.LibraryLister)
	p.syms, _ = t.(target.Symbolizer)
	p.info, _ = t.(target.ProcessInfoReader)
	p.thInfo, _ = t.(target.ThreadInfo)
	p.root, _ = t.(target.FileRoot)
	p.desc = t.Description()
	p.xml = targetXML(p.desc)
	return p
}

// launch starts a program, as gdbserver's command line or vRun asks.
func (s *Server) launch(spec LaunchSpec) error {
	if spec.Path == "" {
		return errors.New("no program to run")
	}
	if len(spec.Args) == 0 {
		spec.Args = []string{spec.Path}
	}
	t, err := s.cfg.Backend.Launch(spec)
	if err != nil {
		return err
	}
	s.proc = newProcess(t, false, spec.Path)
	if s.proc.sw != nil {
		s.proc.sw.SetNotes(s.proc.notes.add)
	}
	s.logf("Process %s created; pid = %d", spec.Path, s.proc.pid)
	return s.proc.afterStart()
}

// attach attaches to a running process.
func (s *Server) attach(pid int) error {
	t, err := s.cfg.Backend.Attach(pid)
	if err != nil {
		return err
	}
	s.proc = newProcess(t, true, "") // its path is the target's (execName)
	if s.proc.sw != nil {
		s.proc.sw.SetNotes(s.proc.notes.add)
	}
	s.logf("Attached; pid = %d", pid)
	return s.proc.afterStart()
}

// afterStart records the thread list of the first stop.
func (p *process) afterStart() error {
	th, err := p.t.Threads()
	if err != nil {
		return err
	}
	p.threads = p.threads[:0]
	for _, t := range th {
		p.threads = append(p.threads, t.Tid)
	}
	if len(p.threads) > 0 {
		p.lastTid = p.threads[0]
	}
	return nil
}

// interrupt asks a running process to stop.
func (p *process) interrupt() {
	if p.running && !p.interrupted {
		p.interrupted = true
		if err := p.t.Interrupt(); err != nil && !errors.Is(err, target.ErrExited) {
			// The process is going away; its last event comes anyway.
			p.interrupted = false
		}
	}
}

// endWait bounds how long the core loop waits for a process's events
// when it must (endOf, abandon): a killed process ends in microseconds,
// unless a thread sleeps uninterruptibly in the kernel.
const endWait = 10 * time.Second

// nextEvent waits for the process's next event, up to endWait. It is
// for the moments the core loop has nothing else to do but wait for the
// process (a kill, the server's end); ok is false at the deadline.
func (s *Server) nextEvent(p *process) (ev target.Event, ok bool) {
	deadline := time.Now().Add(endWait)
	fds := []unix.PollFd{{Fd: int32(s.cfg.Backend.EventFd()), Events: unix.POLLIN}}
	for {
		if ev, ok := p.t.NextEvent(); ok {
			return ev, true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return target.Event{}, false
		}
		if n, _ := unix.Poll(fds, int(left/time.Millisecond)+1); n > 0 {
			s.cfg.Backend.Pump()
		}
	}
}

// endOf kills the process and waits for its final event, which it
// returns (a SIGKILL death when the process did not end in time).
func (s *Server) endOf(p *process) target.Event {
	final := target.Event{Kind: target.EventSignaled, Signal: target.SIGKILL}
	if err := p.t.Kill(); err != nil && errors.Is(err, target.ErrExited) {
		return final
	}
	for {
		ev, ok := s.nextEvent(p)
		if !ok {
			s.logf("process %d did not end %v after SIGKILL", p.pid, endWait)
			return final
		}
		if ev.Kind != target.EventStopped {
			return ev
		}
	}
}

// abandon ends the server's relation with the process as gdbserver does
// when it exits: kill what it started; detach from what it attached to,
// leaving nothing of the server's in it (breakpoint instructions, debug
// registers, page protections of emulated watchpoints: Detach removes
// them), so that it runs on. It says which on the log.
func (s *Server) abandon(p *process) {
	if p.running {
		p.interrupt()
		ev, ok := s.nextEvent(p)
		if ok && ev.Kind != target.EventStopped {
			s.logf("Process %d ended (%s)", p.pid, describeExit(ev))
			return
		}
		p.running = false
	}
	if p.attached {
		p.removeAllBreakpoints()
		err := p.t.Detach()
		if err == nil {
			s.logf("Detached from process %d; it runs on", p.pid)
			return
		}
		s.logf("Detaching from process %d failed (%v); killing it", p.pid, err)
	}
	s.endOf(p)
	s.logf("Killed process %d", p.pid)
}

// dropOwner releases everything a client owned in the process.
func (p *process) dropOwner(c *client) {
	for addr, b := range p.breaks {
		if b.owners[c] {
			delete(b.owners, c)
			if len(b.owners) == 0 && !b.inserted {
				delete(p.breaks, addr)
			}
		}
	}
	p.dp.dropOwner(c.id)
	// Stops pending for it are for nobody now.
	for _, st := range p.pending {
		delete(st.to, c)
	}
}

// breaksChanged says whether memory differs from what the owners want.
func (p *process) breaksChanged() bool {
	for _, b := range p.breaks {
		if (len(b.owners) > 0) != b.inserted {
			return true
		}
	}
	return false
}

// removeAllBreakpoints takes every int3 out of memory (before a detach).
func (p *process) removeAllBreakpoints() {
	for addr, b := range p.breaks {
		if b.inserted && p.bps != nil {
			p.bps.RemoveBreakpoint(addr)
		}
		delete(p.breaks, addr)
	}
}

// applyBreakpoints brings memory to what the owners want, just before a
// resume: insertions first, then removals of addresses nobody owns.
func (p *process) applyBreakpoints() error {
	if p.bps == nil {
		return nil
	}
	for addr, b := range p.breaks {
		switch {
		case len(b.owners) > 0 && !b.inserted:
			if err := p.bps.InsertBreakpoint(addr); err != nil {
				return fmt.Errorf("insert breakpoint at %#x: %w", addr, err)
			}
			b.inserted = true
		case len(b.owners) == 0:
			if b.inserted {
				if err := p.bps.RemoveBreakpoint(addr); err != nil && !errors.Is(err, target.ErrExited) {
					return fmt.Errorf("remove breakpoint at %#x: %w", addr, err)
				}
			}
			delete(p.breaks, addr)
		}
	}
	return nil
}

// execName is the program's path for qXfer:exec-file and messages.
func (p *process) execName() string {
	if p.exe != nil {
		if path, err := p.exe.ExecPath(); err == nil {
			return path
		}
	}
	if p.path != "" {
		if abs, err := filepath.Abs(p.path); err == nil {
			return abs
		}
	}
	return p.path
}

// describeExit is gdbserver's line for the end of a process.
func describeExit(ev target.Event) string {
	switch ev.Kind {
	case target.EventExited:
		return fmt.Sprintf("Child exited with status %d", ev.ExitCode)
	case target.EventSignaled:
		return fmt.Sprintf("Child terminated with signal = %d (%s)", ev.Signal, strings.ToUpper(signalName(ev.Signal)))
	}
	return ev.Kind.String()
}

// signalName names a Linux signal for messages.
func signalName(s target.Signal) string {
	names := map[target.Signal]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"}
	if n, ok := names[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}
