package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"gdbserverx/agentexpr"
	"gdbserverx/hwbp"
	"gdbserverx/rsp"
	"gdbserverx/server/internal/debugpoints"
	"gdbserverx/target"
)

// Breakpoint conditions and commands evaluated by the server (GDB
// manual, "Packets", Z0 and Z1 with cond_list and cmd_list;
// "ConditionalBreakpoints" and "BreakpointCommands" in qSupported). gdb
// sends them with `set breakpoint condition-evaluation target` (its
// default, "auto", when the server offers them) and, for dprintf, with
// `set dprintf-style agent`: agent expressions (package agentexpr),
// evaluated here at each hit, so that a `break f if i == 100000` costs
// an evaluation per hit instead of a round trip to gdb, as with GNU
// gdbserver.
//
// The code is its owner's: each client's Z0 or Z1 at an address replaces
// that client's conditions and commands there, and its z drops them. At
// a hit each owner is judged by its own code:
//
//   - no condition, or one of them true (several are ORed: gdb sends
//     one per breakpoint of its own at the address), or one that fails
//     to evaluate (a read of unmapped memory, say: the stop is reported
//     and gdb evaluates the condition itself, as gdbserver does): the
//     condition holds;
//   - the condition holds and there are commands (only dprintf has
//     them: gdb sends commands only when every breakpoint of its at the
//     address is an agent dprintf): they run (printf prints to the
//     server's AgentOutput, where gdbserver prints to its standard
//     output) and the owner is not told; otherwise it is told.
//
// Unlike gdbserver, which runs a breakpoint's commands at every hit, a
// conditional dprintf prints only where its condition holds, as gdb's
// own dprintf does (gdb evaluating the condition, or `dprintf-style
// gdb`): `dprintf f,"%d\n",i if i == 3` prints one line, not one per
// call. (Where two conditional dprintfs of one gdb share an address,
// both print when either condition holds: gdb sends their conditions
// and commands as two lists, without saying which goes with which.)
//
// A hit that no owner is told of must not be hit again: the thread sits
// at the breakpoint's address, before the int3, and would execute it
// again at the next resume. Such threads step over it (stepOver), as
// gdbserver's do: at the next resume that continues them, they first
// execute their instruction alone, with the int3 taken out, then the
// world resumes. A hardware breakpoint (Z1) needs none: its trap is a
// fault the thread resumes from with RFLAGS.RF set.
//
// In non-stop mode the server does not judge software breakpoints (see
// breakOwners).
//
// Commands that persist after their gdb disconnects (`set
// disconnected-dprintf`, cmds:1) are not kept: a client that goes
// releases its breakpoints and their code, as it does the rest.

// pointCode is one owner's conditions and commands at a breakpoint.
type pointCode struct {
	conds [][]byte
	cmds  [][]byte
}

// codeOf is a Z packet's code, or nil when it has none.
func codeOf(r *rsp.InsertBreakpoint) *pointCode {
	if len(r.Conditions) == 0 && len(r.Commands) == 0 {
		return nil
	}
	pc := &pointCode{}
	for _, e := range r.Conditions {
		pc.conds = append(pc.conds, e)
	}
	for _, e := range r.Commands {
		pc.cmds = append(pc.cmds, e)
	}
	return pc
}

// hwCodeKey names one client's hardware breakpoint.
type hwCodeKey struct {
	client int
	addr   uint64
}

// pointAgent is a process's part in evaluating breakpoint code: the
// code of the hardware breakpoints (a software breakpoint's is in its
// swBreak), the threads to step over their breakpoints, and the
// evaluator: one Machine, reused (it allocates nothing per evaluation),
// with the stopped thread as its Context. Owned by the core loop.
type pointAgent struct {
	hwCode map[hwCodeKey]*pointCode
	// stepOver: threads whose breakpoint hit nobody was told, by the
	// breakpoint's address; steppingOver: the step-over run under way.
	stepOver     map[target.Tid]uint64
	steppingOver []target.Action

	m   agentexpr.Machine
	th  agentThread
	out io.Writer
	log *logger
}

func newPointAgent(out io.Writer, log *logger) pointAgent {
	if out == nil {
		out = io.Discard
	}
	return pointAgent{hwCode: map[hwCodeKey]*pointCode{}, stepOver: map[target.Tid]uint64{}, out: out, log: log}
}

// set records (or, for a Z without code, drops) a client's code at a
// breakpoint it inserted.
func (a *pointAgent) set(p *process, c *client, r *rsp.InsertBreakpoint) {
	pc := codeOf(r)
	switch r.Type {
	case rsp.SoftwareBreakpoint:
		b := p.breaks[r.Addr]
		if pc == nil {
			delete(b.code, c)
			return
		}
		if b.code == nil {
			b.code = map[*client]*pointCode{}
		}
		b.code[c] = pc
	case rsp.HardwareBreakpoint:
		k := hwCodeKey{c.id, r.Addr}
		if pc == nil {
			delete(a.hwCode, k)
			return
		}
		a.hwCode[k] = pc
	}
}

// dropHardware forgets a client's code at a hardware breakpoint it
// removed.
func (a *pointAgent) dropHardware(c *client, addr uint64) {
	delete(a.hwCode, hwCodeKey{c.id, addr})
}

// leave forgets the code of a client that has gone.
func (a *pointAgent) leave(c *client) {
	for k := range a.hwCode {
		if k.client == c.id {
			delete(a.hwCode, k)
		}
	}
}

// reset forgets the step-overs, at an exec (the breakpoints are gone
// with the old image).
func (a *pointAgent) reset() {
	clear(a.stepOver)
	a.steppingOver = nil
}

// holds judges one owner's code at a hit of thread tid: whether the
// owner is told (the condition holds and there are no commands).
// Commands run here.
func (a *pointAgent) holds(p *process, pc *pointCode, tid target.Tid, addr uint64) (told bool) {
	if pc == nil {
		return true
	}
	a.th = agentThread{p: p, tid: tid, regs: a.th.regs[:0], out: a.out}
	cond := len(pc.conds) == 0
	for _, code := range pc.conds {
		v, err := a.m.Eval(code, &a.th)
		if err != nil {
			a.log.debugf("condition at %#x, thread %d: %v: the stop is reported", addr, tid, err)
			cond = true
			break
		}
		if v != 0 {
			cond = true
			break
		}
	}
	if !cond {
		return false
	}
	if len(pc.cmds) == 0 {
		return true
	}
	for _, code := range pc.cmds {
		if err := a.m.Run(code, &a.th); err != nil {
			a.log.printf("breakpoint commands at %#x, thread %d: %v", addr, tid, err)
		}
	}
	return false
}

// breakOwners addresses a software breakpoint's hit to the owners whose
// code says so; a hit no owner is told of makes the thread step over
// the breakpoint at its next resume. In non-stop mode (p.ns) every owner
// is told, and gdb evaluates the condition itself: a thread there runs
// again as soon as nobody holds it, with no resume of the world to step
// it over its breakpoint first.
func (a *pointAgent) breakOwners(p *process, st *stop, b *swBreak) {
	for c := range b.owners {
		if p.ns != nil {
			st.to[c] = stopNote{reason: rsp.ReasonSoftwareBreak}
			continue
		}
		if a.holds(p, b.code[c], st.tid, st.addr) {
			st.to[c] = stopNote{reason: rsp.ReasonSoftwareBreak}
		}
	}
	if len(st.to) == 0 && len(b.owners) > 0 {
		a.stepOver[st.tid] = st.addr
	}
}

// hardwareHits drops the hits of hardware breakpoints whose owner's
// code says not to tell it (their commands have run).
func (a *pointAgent) hardwareHits(p *process, tid target.Tid, hits []debugpoints.Hit) []debugpoints.Hit {
	if len(a.hwCode) == 0 {
		return hits
	}
	out := hits[:0]
	for _, h := range hits {
		if h.Kind == hwbp.KindExecute && !a.holds(p, a.hwCode[hwCodeKey{h.Client, h.Addr}], tid, h.Addr) {
			continue
		}
		out = append(out, h)
	}
	return out
}

// stepOverRun is the run that takes the threads whose hit nobody was
// told past their breakpoints, before the world resumes: each that the
// clients' actions resume executes one instruction (its action's
// signal, if any, delivered), the others stay stopped, and the int3s at
// their addresses are out of memory for the run. nil when no thread
// needs it: the breakpoint is gone, the thread moved (gdb wrote its pc),
// or no client resumes it.
func (a *pointAgent) stepOverRun(p *process, actions []target.Action) []target.Action {
	var run []target.Action
	for tid, addr := range a.stepOver {
		b := p.breaks[addr]
		pc, err := pcOf(p, tid)
		if b == nil || len(b.owners) == 0 || err != nil || pc != addr {
			delete(a.stepOver, tid)
			continue
		}
		for _, act := range actions {
			if act.Tid == tid {
				run = append(run, target.Action{Tid: tid, Kind: target.Step, Signal: act.Signal})
			}
		}
	}
	return run
}

// lift takes the int3s of a step-over run out of memory; the next
// resume puts them back (process.applyBreakpoints).
func (a *pointAgent) lift(p *process, run []target.Action) error {
	for _, act := range run {
		addr := a.stepOver[act.Tid]
		if b := p.breaks[addr]; b != nil && b.inserted {
			if err := p.bps.RemoveBreakpoint(addr); err != nil {
				return fmt.Errorf("step over the breakpoint at %#x: %w", addr, err)
			}
			b.inserted = false
		}
	}
	a.steppingOver = run
	return nil
}

// steppedOver ends a step-over run at its event: a thread that stopped
// for a reason of its own has executed its instruction (or faulted in
// it: its signal is told as any other); one that the stop of the world
// interrupted before its step (the first to finish stops the others)
// still has to step over its breakpoint.
func (a *pointAgent) steppedOver(stops []target.ThreadStop) {
	for _, act := range a.steppingOver {
		for _, st := range stops {
			if st.Tid == act.Tid {
				delete(a.stepOver, act.Tid)
			}
		}
	}
	a.steppingOver = nil
}

// pcOf reads a stopped thread's program counter.
func pcOf(p *process, tid target.Tid) (uint64, error) {
	reg, ok := p.desc.Lookup("rip")
	if !ok {
		return 0, errors.New("no rip register")
	}
	buf := make([]byte, p.desc.Size())
	read := p.t.ReadRegisters
	if p.gpr != nil {
		read = p.gpr.ReadGeneralRegisters
	}
	if err := read(tid, buf); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(buf[reg.Offset:]), nil
}

// agentThread is the stopped thread an agent expression reads
// (agentexpr.Context), and where its printf prints (agentexpr.Printer).
// Its registers are read at the first Register of an evaluation: the
// general ones alone when the register is one of them.
type agentThread struct {
	p    *process
	tid  target.Tid
	regs []byte
	full bool // regs holds the whole register file, not the general registers alone
	out  io.Writer
}

// ReadMemory reads the process's memory.
func (t *agentThread) ReadMemory(addr uint64, buf []byte) (int, error) {
	return t.p.t.ReadMemory(addr, buf)
}

// Register is register n of the thread, by its number in the target
// description (gdb's numbering, which the bytecode uses).
func (t *agentThread) Register(n int) (uint64, error) {
	regs := t.p.desc.Registers()
	if n < 0 || n >= len(regs) {
		return 0, fmt.Errorf("no register %d", n)
	}
	r := regs[n]
	if r.Bits > 64 {
		return 0, fmt.Errorf("register %s has %d bits", r.Name, r.Bits)
	}
	general := t.p.gpr != nil && isGeneral(t.p.desc, r)
	if len(t.regs) == 0 || !general && !t.full {
		t.regs = append(t.regs[:0], make([]byte, t.p.desc.Size())...)
		read := t.p.t.ReadRegisters
		if general {
			read = t.p.gpr.ReadGeneralRegisters
		}
		if err := read(t.tid, t.regs); err != nil {
			t.regs = t.regs[:0]
			return 0, err
		}
		t.full = !general
	}
	var b [8]byte
	copy(b[:], t.regs[r.Offset:r.Offset+r.Bits/8])
	return binary.LittleEndian.Uint64(b[:]), nil
}

// isGeneral says whether target.GeneralRegisterReader reads r: the
// registers before st0, and orig_rax, fs_base, gs_base.
func isGeneral(d *target.Description, r target.Register) bool {
	switch r.Name {
	case "orig_rax", "fs_base", "gs_base":
		return true
	}
	st0, ok := d.Lookup("st0")
	return ok && r.Number < st0.Number
}

// Print writes the text of a printf bytecode to the agent's output.
func (t *agentThread) Print(text []byte) error {
	_, err := t.out.Write(text)
	return err
}
