package server

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/swwatch"
	"gdbserverx/target"
)

// process is the process adapter: the server's view of the one target
// process, the target with its optional capabilities (checked once, at
// wiring), its run state, what the clients have inserted into it and the
// stops not yet told. Its methods are the target calls the server makes
// (here), and the packets that read or write the target (data.go,
// xfer.go, reginfo.go). Owned by the core loop.
type process struct {
	t        target.Process
	b        Backend // its events' descriptor, for the waits of endOf and abandon
	log      *logger
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
	files  target.ProcessFiles
	// regions tells what is mapped where, for lldb (lldb.go).
	regions target.MemoryRegionReader

	tls target.TLSResolver
	// sigInfo writes a stop's siginfo (siginfo.go).
	sigInfo target.SigInfoWriter

	// fk is its part in following forks (fork.go).
	fk forkState
	// pass holds the signals passed without a stop (passsig.go).
	pass passState
	// catching is its part in catching system calls (syscalls.go).
	catching syscallCatching

	// serves is what the target implements (features.go).
	serves targetFeatures

	desc *target.Description
	xml  []byte // target.xml

	running     bool
	interrupted bool // Interrupt was called during this run
	// ns is the run state of each thread in non-stop mode (nonstop.go);
	// nil in all-stop mode.
	ns map[target.Tid]*threadRun
	// orphaned: the last client left while the program ran; it runs on
	// without breakpoints or watchpoints until a client connects.
	orphaned bool
	threads  []target.Tid // at the last stop
	lastTid  target.Tid   // the thread of the last reported stop

	// Stops not yet told to every client they concern (routing.go), and
	// the last one told (for '?' and qXfer:siginfo).
	pending  pendingStops
	lastStop *stop

	expedited []int  // register numbers sent with every stop
	regBuf    []byte // register file scratch
	memBuf    []byte // memory read scratch
	stopRegs  []byte // register file of a stop reply's thread
	// rangeSteps counts the steps of range steps told to nobody
	// (rangestep.go; monitor stats).
	rangeSteps int
	expRegs    []rsp.ExpeditedRegister

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
	dp *debugpoints.Set
	// agent evaluates the breakpoints' conditions and commands, and
	// steps threads over the breakpoints whose hits it told nobody of
	// (conditions.go).
	agent pointAgent
	// sw emulates the watchpoints that hold no slot (nil when the target
	// cannot be wrapped); t is then sw.
	sw *swwatch.Process
	// notes are sw's notes for --event-log, queued while it serves the
	// process's stops (events.go).
	notes engineNotes

	// The library list document (gdb reads it in chunks), valid while
	// stopped, cleared at resume.
	libsDoc []byte
}

// swBreak is one software breakpoint address.
type swBreak struct {
	owners   map[*client]bool
	inserted bool // in the target's memory
	// code is each owner's conditions and commands, for the owners
	// that sent some (conditions.go).
	code map[*client]*pointCode
}

// newProcess wires a target of backend b: it wraps it with the
// software-watchpoint engine when it can, and checks its optional
// capabilities once.
func newProcess(t target.Process, b Backend, log *logger, attached bool, path string) *process {
	p := &process{b: b, log: log, pid: t.Pid(), attached: attached, path: path, breaks: map[uint64]*swBreak{}}
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
	p.files, _ = t.(target.ProcessFiles)
	p.regions, _ = t.(target.MemoryRegionReader)
	p.pass.passer, _ = t.(target.SignalPasser)
	p.tls, _ = t.(target.TLSResolver)
	p.sigInfo, _ = t.(target.SigInfoWriter)
	p.fk.follower, _ = t.(target.ForkFollower)
	p.catching.catcher, _ = t.(target.SyscallCatcher)
	p.serves = targetFeaturesOf(t)
	p.desc = t.Description()
	p.xml = targetXML(p.desc)
	p.dp = debugpoints.New(p.debugpointOptions())
	p.agent = newPointAgent(nil, log)
	if p.sw != nil {
		p.sw.SetNotes(p.notes.add)
	}
	return p
}

// debugpointOptions says what the target can do for its debugpoints.
func (p *process) debugpointOptions() debugpoints.Options {
	return debugpoints.Options{Emulation: p.sw != nil, SyscallExits: p.sys != nil}
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
func (p *process) nextEvent() (ev target.Event, ok bool) {
	deadline := time.Now().Add(endWait)
	fds := []unix.PollFd{{Fd: int32(p.b.EventFd()), Events: unix.POLLIN}}
	for {
		if ev, ok := p.t.NextEvent(); ok {
			return ev, true
		}
		left := time.Until(deadline)
		if left <= 0 {
			return target.Event{}, false
		}
		if n, _ := unix.Poll(fds, int(left/time.Millisecond)+1); n > 0 {
			p.b.Pump()
		}
	}
}

// endOf kills the process and waits for its final event, which it
// returns (a SIGKILL death when the process did not end in time).
func (p *process) endOf() target.Event {
	final := target.Event{Kind: target.EventSignaled, Signal: target.SIGKILL}
	if err := p.t.Kill(); err != nil && errors.Is(err, target.ErrExited) {
		return final
	}
	for {
		ev, ok := p.nextEvent()
		if !ok {
			p.log.printf("process %d did not end %v after SIGKILL", p.pid, endWait)
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
func (p *process) abandon() {
	if !p.stopForGood() {
		return
	}
	if p.attached {
		p.removeAllBreakpoints()
		err := p.t.Detach()
		if err == nil {
			p.log.printf("Detached from process %d; it runs on", p.pid)
			return
		}
		p.log.printf("Detaching from process %d failed (%v); killing it", p.pid, err)
	}
	p.endOf()
	p.log.printf("Killed process %d", p.pid)
}

// letGo detaches from a process that nobody debugs any more (a fork
// child whose clients left, or were never told): it runs on, with none
// of the server's breakpoints in it.
func (p *process) letGo() {
	if !p.stopForGood() {
		return
	}
	p.removeAllBreakpoints()
	if err := p.t.Detach(); err != nil {
		p.log.printf("Detaching from process %d: %v", p.pid, err)
	}
}

// stopForGood stops a running process for its end (abandon, letGo),
// waiting for the stop; false when it ended instead.
func (p *process) stopForGood() bool {
	if !p.running {
		return true
	}
	p.interrupt()
	for {
		ev, ok := p.nextEvent()
		if ok && ev.Kind != target.EventStopped {
			p.log.printf("Process %d ended (%s)", p.pid, describeExit(ev))
			return false
		}
		if ok && p.ns != nil {
			// Non-stop mode: each thread's stop is an event.
			threadsStopped(p, &ev)
			if p.running {
				continue
			}
		}
		p.running = false
		p.interrupted = false
		return true
	}
}

// dropOwner releases everything a client owned in the process; its
// debugpoints' slots go to others' points, with the changes returned.
func (p *process) dropOwner(c *client) []debugpoints.Change {
	for addr, b := range p.breaks {
		if b.owners[c] {
			delete(b.owners, c)
			delete(b.code, c)
			if len(b.owners) == 0 && !b.inserted {
				delete(p.breaks, addr)
			}
		}
	}
	p.agent.leave(c)
	p.pending.forget(c)
	return p.dp.Leave(c.id)
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

// apply gives the target a plan of the debugpoints: the debug-register
// image (when it changed), the emulated watchpoints, syscall-exit stops.
func (p *process) apply(plan debugpoints.Plan) error {
	if plan.ImageChanged {
		if err := p.hw.SetDebugRegisters(target.DebugRegisters(plan.Image)); err != nil {
			return err
		}
	}
	if p.sw != nil {
		if err := p.sw.SetWatches(plan.Watches); err != nil {
			return err
		}
	}
	if p.sys != nil && plan.SyscallsChanged {
		return p.sys.TraceSyscalls(plan.SyscallExits)
	}
	return nil
}

// tidOf resolves a wire thread id to a live thread: "any" and "all" mean
// the thread of the last stop (gdbserver's choice), or the first thread.
func (p *process) tidOf(id rsp.ThreadID) (target.Tid, bool) {
	if id.Multiprocess && id.Pid > 0 && id.Pid != int64(p.pid) {
		return 0, false
	}
	if id.Tid <= 0 {
		if p.has(p.lastTid) {
			return p.lastTid, true
		}
		if len(p.threads) > 0 {
			return p.threads[0], true
		}
		return 0, false
	}
	tid := target.Tid(id.Tid)
	return tid, p.has(tid)
}

// has says whether tid is a thread at the last stop.
func (p *process) has(tid target.Tid) bool {
	for _, t := range p.threads {
		if t == tid {
			return true
		}
	}
	return false
}

// setPC moves a thread's program counter (c addr, s addr).
func (p *process) setPC(tid target.Tid, pc uint64) error {
	reg, ok := p.desc.Lookup("rip")
	if !ok {
		return errors.New("no rip register")
	}
	buf := make([]byte, p.desc.Size())
	if err := p.t.ReadRegisters(tid, buf); err != nil {
		return err
	}
	for i := 0; i < reg.Bits/8; i++ {
		buf[reg.Offset+i] = byte(pc >> (8 * i))
	}
	return p.t.WriteRegisters(tid, buf)
}

// combinedActions merges the running clients' resume requests into one
// action per thread: a thread is stepped when any client steps it,
// continued when any continues it, given the signal a client passes.
func (p *process) combinedActions(running []*client) []target.Action {
	type merged struct {
		kind   target.ResumeKind
		sig    target.Signal
		chosen bool
	}
	per := make(map[target.Tid]*merged, len(p.threads))
	for _, c := range running {
		if c.resume == nil {
			continue
		}
		for _, tid := range p.threads {
			a := c.actionFor(p, tid)
			if a == nil || a.Kind == rsp.ResumeStop || !mayStart(running, c, p, tid) {
				continue
			}
			m := per[tid]
			if m == nil {
				m = &merged{}
				per[tid] = m
			}
			if !m.chosen || a.Kind == rsp.ResumeStep || a.Kind == rsp.ResumeRangeStep {
				m.kind = target.Continue
				if a.Kind == rsp.ResumeStep || a.Kind == rsp.ResumeRangeStep {
					m.kind = target.Step
				}
			}
			m.chosen = true
			if a.Signal != rsp.SignalNone {
				if sig, ok := linuxSignal(a.Signal); ok {
					m.sig = sig
				}
			}
		}
	}
	actions := make([]target.Action, 0, len(per))
	for _, tid := range p.threads {
		if m := per[tid]; m != nil {
			actions = append(actions, target.Action{Tid: tid, Kind: m.kind, Signal: p.pass.withHeld(tid, m.kind, m.sig)})
		}
	}
	return actions
}

// appendThreadAndRegisters adds the thread, its core and the expedited
// registers to a T reply: every general register, so that gdb needs no
// g packet after an ordinary stop. The core (core:N, which gdb/MI gives
// in its *stopped record) is the target's (target.ThreadInfo), as GNU
// gdbserver sends it in every T reply.
func (p *process) appendThreadAndRegisters(c *client, reply *rsp.StopReply, tid target.Tid) {
	reply.Thread, reply.HasThread = c.threadID(p, tid), true
	if p.thInfo != nil {
		// The CPU it last ran on, as gdbserver tells it (gdb/MI's
		// core="N" in *stopped).
		reply.Core, reply.HasCore = p.thInfo.ThreadCore(tid)
	}
	if len(p.stopRegs) != p.desc.Size() {
		p.stopRegs = make([]byte, p.desc.Size())
	}
	buf := p.stopRegs
	read := p.t.ReadRegisters
	if p.gpr != nil && p.expeditedGeneral() {
		read = p.gpr.ReadGeneralRegisters
	}
	if err := read(tid, buf); err != nil {
		return
	}
	reply.Registers = p.expRegs[:0]
	defer func() { p.expRegs = reply.Registers[:0] }()
	regs := p.desc.Registers()
	for _, n := range p.expedite() {
		r := regs[n]
		reply.Registers = append(reply.Registers, rsp.ExpeditedRegister{Reg: rsp.RegNum(r.Number), Value: buf[r.Offset : r.Offset+r.Bits/8]})
	}
}

// expeditedNames are the registers sent with every stop reply. gdb needs
// the pc, the stack and frame pointers to place a stop, and at a
// breakpoint in optimised code also rbx (callee-saved, to identify the
// caller's frame) and rdi (the first argument, for entry values); without
// them it sends a g packet (seen with `set debug remote 1` on the
// benchmarks' stops). Each register more costs gdb CPU to parse at every
// stop (bench/RESULTS.md, "server"), so the list is no longer than that.
var expeditedNames = []string{"rbx", "rdi", "rbp", "rsp", "rip"}

// expeditedGeneral says the expedited registers are all general ones
// (before st0 in the description): read without the floating-point and
// vector state, which costs a system call more per stop.
func (p *process) expeditedGeneral() bool {
	st0, ok := p.desc.Lookup("st0")
	if !ok {
		return false
	}
	for _, n := range p.expedite() {
		if n >= st0.Number {
			return false
		}
	}
	return true
}

// expedite lists the register numbers of expeditedNames in this target's
// description.
func (p *process) expedite() []int {
	if p.expedited == nil {
		p.expedited = []int{}
		for _, name := range expeditedNames {
			if r, ok := p.desc.Lookup(name); ok {
				p.expedited = append(p.expedited, r.Number)
			}
		}
	}
	return p.expedited
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
