package insn

import (
	"errors"
	"fmt"
	"strings"
)

// Mode64 is the processor mode Decode accepts: 64-bit long mode. 32-bit
// (compat-mode) processes are not supported yet.
const Mode64 = 64

// MaxLen is the architectural limit on the length of one instruction
// (SDM vol. 2 "Instruction Format"). Callers read this many bytes at RIP
// (fewer at the end of a mapping).
const MaxLen = 15

// ErrUndecodable means the package cannot tell which bytes an instruction
// touches: x86asm does not know it, it is truncated or invalid, or what it
// does with memory is not known. The caller must fall back to comparing
// the watched values after the step (never losing a write, but unable to
// see reads) and say so in the event log. It arrives wrapped in a
// *DecodeError; test it with errors.Is.
var ErrUndecodable = errors.New("undecodable instruction")

// DecodeError reports an instruction that Decode or Accesses cannot
// handle. Err is ErrUndecodable.
type DecodeError struct {
	Code   []byte // the bytes given (at most MaxLen)
	Reason string // what went wrong, for the event log
	Err    error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	for i, c := range e.Code {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	return fmt.Sprintf("%v [%s]: %s", e.Err, b.String(), e.Reason)
}

func (e *DecodeError) Unwrap() error { return e.Err }

func undecodable(code []byte, format string, args ...any) error {
	if len(code) > MaxLen {
		code = code[:MaxLen]
	}
	return &DecodeError{Code: append([]byte(nil), code...), Reason: fmt.Sprintf(format, args...), Err: ErrUndecodable}
}

// Access is one range of memory that an instruction reads, writes or both.
//
// For a read-modify-write (ADD [m], r; XCHG; CMPXCHG, which writes even
// when the comparison fails) both Read and Write are set. Hardware cannot
// tell such a read from the write that follows it; a debugger reports it
// as an access.
type Access struct {
	Addr  uint64 // first byte (a linear address: FS/GS bases already added)
	Size  int    // bytes; large for FXSAVE/XSAVE and for a whole REP string
	Read  bool
	Write bool
	// Partial: the instruction may touch only part of the range. The range
	// is a bound, not the exact set: REPE/REPNE CMPS and SCAS stop at the
	// first (mis)match; a masked, gather or scatter access whose mask or
	// indices could not be read; XSAVEOPT, XSAVEC and XRSTOR, which skip
	// state components in their initial configuration. A write there is
	// confirmed by comparing values; a read there is a possible read.
	Partial bool
}

// End is the first byte past the range.
func (a Access) End() uint64 { return a.Addr + uint64(a.Size) }

func (a Access) String() string {
	var kind string
	switch {
	case a.Read && a.Write:
		kind = "rw"
	case a.Write:
		kind = "w"
	default:
		kind = "r"
	}
	p := ""
	if a.Partial {
		p = " partial"
	}
	return fmt.Sprintf("%s %#x+%d%s", kind, a.Addr, a.Size, p)
}

// Flow says how an instruction changes RIP.
type Flow uint8

// Flows. A conditional branch may also fall through.
const (
	FlowNext     Flow = iota // RIP moves to the next instruction
	FlowJump                 // unconditional jump (JMP, far JMP)
	FlowCondJump             // Jcc, JRCXZ, LOOP*, XBEGIN
	FlowCall                 // CALL, far CALL: pushes the return address
	FlowRet                  // RET, far RET, IRET: pops the target
)

var flowNames = [...]string{"next", "jump", "condjump", "call", "ret"}

func (f Flow) String() string {
	if int(f) < len(flowNames) {
		return flowNames[f]
	}
	return fmt.Sprintf("Flow(%d)", int(f))
}

// Effects are properties of an instruction that matter to a debugger
// single-stepping it.
type Effects uint16

// Effects.
const (
	// EffSyscall: enters the kernel (SYSCALL, SYSENTER, INT 0x80). The
	// kernel may read and write user memory, which neither hardware
	// watchpoints nor this package see (docs/x86-debug-registers.md "What
	// hardware never reports"): compare watched values at syscall exit.
	EffSyscall Effects = 1 << iota
	// EffTrap: raises an exception in user mode by design or privilege
	// (INT3, INT n, INTO, INT1, UD0/1/2, HLT, CLI, IN/OUT, LGDT, XSAVES...):
	// the step ends with a signal instead of a trace trap. Reported
	// accesses (SGDT's store, say) happen only where the CPU allows them.
	EffTrap
	// EffRep: a string instruction with a REP prefix. One single-step
	// executes one iteration (see StepAccesses); RIP stays on the
	// instruction until RCX reaches 0 (or the REPE/REPNE condition ends
	// it).
	EffRep
	// EffLock: an atomic read-modify-write (LOCK prefix, or XCHG with
	// memory, which is always locked).
	EffLock
	// EffTrapFlag: may write RFLAGS.TF (POPF, IRET); the kernel keeps its
	// own single-step flag apart from the user's (arch/x86/kernel/step.c).
	EffTrapFlag
	// EffTransaction: XBEGIN starts an RTM transaction; a debug exception
	// (single-step or watchpoint) inside one aborts it, so stepping XBEGIN
	// always lands in the abort path (SDM vol. 1 "Debugging RTM").
	EffTransaction
	// EffShadowStack: touches CET shadow-stack state (RDSSP, INCSSP,
	// WRSS); shadow-stack memory accesses are not reported.
	EffShadowStack
)

var effectNames = [...]string{"syscall", "trap", "rep", "lock", "trapflag", "transaction", "shadowstack"}

func (e Effects) String() string {
	if e == 0 {
		return "none"
	}
	var parts []string
	for i, n := range effectNames {
		if e&(1<<i) != 0 {
			parts = append(parts, n)
			e &^= 1 << i
		}
	}
	if e != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint16(e)))
	}
	return strings.Join(parts, "|")
}

// Reg names a register that Accesses reads through Registers. RAX..R15
// are numbered as in the instruction encoding (ModRM/SIB with REX bits).
type Reg uint8

// Registers.
const (
	RAX Reg = iota
	RCX
	RDX
	RBX
	RSP
	RBP
	RSI
	RDI
	R8
	R9
	R10
	R11
	R12
	R13
	R14
	R15
	// RIP is the address of the instruction being decoded, as ptrace
	// reports it at a stop before the instruction runs. Accesses adds
	// Inst.Len itself for RIP-relative operands, which are relative to
	// the next instruction.
	RIP
	RFLAGS // DF (bit 10) sets the direction of string instructions
	FSBase // fs_base: added to FS-prefixed addresses (TLS on Linux)
	GSBase // gs_base: added to GS-prefixed addresses
	// XCR0 is not a thread register but the target's XSAVE feature mask
	// (the xfeatures word of NT_X86_XSTATE, or XGETBV(0) on the same
	// machine). XSAVE and XRSTOR touch the components in XCR0 & EDX:EAX.
	XCR0
	numRegs

	regNone Reg = 0xff
)

var regNames = [...]string{
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"rip", "rflags", "fs_base", "gs_base", "xcr0",
}

func (r Reg) String() string {
	if int(r) < len(regNames) {
		return regNames[r]
	}
	return fmt.Sprintf("Reg(%d)", int(r))
}

// Registers gives Accesses the state of the thread about to execute the
// instruction. The server implements it over its ptrace register cache.
type Registers interface {
	// Reg returns the 64-bit value of r.
	Reg(r Reg) uint64
}

// VectorRegisters may also be implemented by a Registers value; with it,
// gathers, scatters and masked vector accesses get exact per-element
// ranges. Without it (or when a method reports false) they get one
// Partial range that bounds every element the instruction could touch.
type VectorRegisters interface {
	// VectorElement returns element i of size bytes (1, 2, 4 or 8) of
	// vector register n (XMMn/YMMn/ZMMn, n < 32), zero-extended.
	VectorElement(n, i, size int) (uint64, bool)
	// Opmask returns AVX-512 mask register k (0-7).
	Opmask(k int) (uint64, bool)
}

// MMXRegisters may also be implemented by a Registers value: MASKMOVQ's
// byte mask is an MMX register, which matters where the debug hardware
// honours the mask (AMD).
type MMXRegisters interface {
	// MMX returns mmN (n < 8): the significand of x87 physical register
	// n.
	MMX(n int) (uint64, bool)
}
