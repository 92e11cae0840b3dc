package insn

import (
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// Inst is one decoded instruction. It is a plain value (no pointers):
// copying it is cheap and a Decoder caches it.
type Inst struct {
	Len     int     // encoded length in bytes
	Flow    Flow    // how it changes RIP
	Effects Effects // what matters to a debugger stepping it

	op   x86asm.Op // 0 for instructions decoded by a fixup
	fix  fixID     // nonzero: decoded here, not by x86asm (fixup.go)
	kind kind      // special handling in Accesses (special.go)

	nmem uint8
	mem  [2]memOperand

	opSize uint8 // operand size in bytes where it matters (stack, strings)
	addr32 bool  // 0x67: 32-bit addresses and ECX/ESI/EDI
	rep    uint8 // 0, 0xf3 (REP/REPE) or 0xf2 (REPNE), on string instructions
	hasRel bool
	rel    int64 // direct branch displacement from the next instruction
	ind    Reg   // register holding an indirect branch target, or regNone
	imm    int64 // RET n, ENTER size, BT immediate, INT n
	imm2   uint8 // ENTER nesting level
	bitReg Reg   // BT/BTS/BTR/BTC register bit offset, or regNone

	kmask  uint8 // EVEX writemask k1-k7 (0: none)
	vmask  uint8 // vector register holding the VMASKMOV/VEX-gather mask
	elem   uint8 // element size of gathers, scatters, masked accesses
	ixElem uint8 // index element size of gathers and scatters
	nelem  uint8 // element count of gathers and scatters

	code    [MaxLen]byte
	codeLen uint8

	// What an emulator needs (Op, Operand, MemBytes): x86asm's opcode,
	// operands and memory-operand size, kept from the one decode.
	args     [len(x86asm.Args{})]Operand
	memBytes int32
}

// OperandKind is what one operand of an instruction is.
type OperandKind uint8

// Operand kinds.
const (
	OperandNone  OperandKind = iota // no operand at this position
	OperandReg                      // a register: Operand.Reg
	OperandMem                      // a memory operand (its range: Accesses)
	OperandImm                      // an immediate: Operand.Imm
	OperandOther                    // a branch displacement or anything else
)

// Operand is one operand as x86asm decoded it, for an emulator that does
// the instruction itself instead of stepping it (swwatch). It is a plain
// value, so that a Decoder's cache holds it with the instruction.
type Operand struct {
	Kind OperandKind
	Reg  x86asm.Reg // OperandReg
	Imm  int64      // OperandImm
}

func operandOf(a x86asm.Arg) Operand {
	switch a := a.(type) {
	case nil:
		return Operand{}
	case x86asm.Reg:
		return Operand{Kind: OperandReg, Reg: a}
	case x86asm.Mem:
		return Operand{Kind: OperandMem}
	case x86asm.Imm:
		return Operand{Kind: OperandImm, Imm: int64(a)}
	}
	return Operand{Kind: OperandOther}
}

// Op is the opcode as x86asm names it; 0 for the instructions x86asm
// mis-decodes (fixup.go), which no emulator should do by x86asm's word.
func (in Inst) Op() x86asm.Op { return in.op }

// Operand returns operand i (0-5) in x86asm's order (destination first;
// an EVEX writemask is the operand after the destination); OperandNone
// past the last.
func (in Inst) Operand(i int) Operand {
	if i < 0 || i >= len(in.args) {
		return Operand{}
	}
	return in.args[i]
}

// MemBytes is the size x86asm gives the memory operand (0 where it gives
// none; Accesses knows the real ranges).
func (in Inst) MemBytes() int { return int(in.memBytes) }

// memOperand is one explicit memory operand: seg:[base + index*scale + disp].
type memOperand struct {
	base, index Reg // regNone when absent; index is a vector register number when vindex
	vindex      bool
	scale       uint8
	seg         Reg // FSBase, GSBase, or regNone
	disp        int64
	size        uint32
	act         uint8 // actR | actW
}

// Memory operand actions, as in csvTable.
const (
	actR        = 1
	actW        = 2
	actRW       = actR | actW
	actInferred = 4 // from the AVX convention, not from a CSV row
)

// memActs is the action of a memory operand at argument positions 0-3.
type memActs [4]uint8

// prefixes is what Decode learns from the legacy prefixes itself: x86asm
// keeps VEX payload bytes in the same Prefix array (a 0x65 VEX byte reads
// as a GS override there), so the segment is taken from the raw bytes.
type prefixes struct {
	seg    Reg // FSBase, GSBase or regNone (ES/CS/SS/DS are ignored in 64-bit mode)
	opSize bool
	addr32 bool
	lock   bool
	rep    uint8 // last of 0xf2/0xf3
	rex    uint8 // 0 or 0x40-0x4f, when directly before the opcode
	n      int   // index of the first opcode byte (or VEX/EVEX escape)
}

func scanPrefixes(code []byte) prefixes {
	p := prefixes{seg: regNone}
	i := 0
	for ; i < len(code) && i < MaxLen; i++ {
		switch c := code[i]; c {
		case 0x26, 0x2e, 0x36, 0x3e:
			p.seg = regNone
		case 0x64:
			p.seg = FSBase
		case 0x65:
			p.seg = GSBase
		case 0x66:
			p.opSize = true
		case 0x67:
			p.addr32 = true
		case 0xf0:
			p.lock = true
		case 0xf2, 0xf3:
			p.rep = c
		default:
			if c&0xf0 == 0x40 {
				p.rex = c
				continue
			}
			p.n = i
			return p
		}
		p.rex = 0 // a REX prefix followed by a legacy prefix is ignored
	}
	p.n = i
	return p
}

// Decode decodes the instruction at the start of code, which should hold
// MaxLen bytes (fewer at the end of a mapping). mode must be Mode64.
//
// An instruction that x86asm cannot decode, or decodes wrongly, and that
// is not one of the fixups in fixup.go, gives an error wrapping
// ErrUndecodable. Decode allocates only inside x86asm (it boxes memory
// operands in interfaces); see Decoder for a cache that does not.
func Decode(code []byte, mode int) (Inst, error) {
	if mode != Mode64 {
		return Inst{}, undecodable(code, "mode %d not supported", mode)
	}
	if len(code) > MaxLen {
		code = code[:MaxLen]
	}
	var in Inst
	in.codeLen = uint8(copy(in.code[:], code))
	in.ind, in.bitReg = regNone, regNone
	p := scanPrefixes(code)
	if ok, err := decodeFixup(&in, code, p); ok {
		return in, err
	}
	x, err := x86asm.Decode(code, 64)
	if err != nil {
		return Inst{}, undecodable(code, "x86asm: %v", err)
	}
	if x.Op == 0 {
		// x86asm returns a lone prefix as a one-byte "instruction" when
		// what follows is truncated or unknown to it.
		return Inst{}, undecodable(code, "x86asm: unknown opcode or truncated")
	}
	if err := in.fromX86asm(&x, code, p); err != nil {
		return Inst{}, err
	}
	return in, nil
}

func (in *Inst) fromX86asm(x *x86asm.Inst, code []byte, p prefixes) error {
	in.Len = x.Len
	in.op = x.Op
	for i, a := range x.Args {
		in.args[i] = operandOf(a)
	}
	in.memBytes = int32(x.MemBytes)
	in.addr32 = x.AddrSize == 32
	sp := specialOf(x.Op)
	in.kind = sp.kind
	in.opSize = uint8(x.DataSize / 8)
	if sp.stack {
		// Stack operations default to 64 bits in long mode; 0x66 makes
		// them 16 (SDM vol. 1 "Stack Behavior in 64-Bit Mode").
		in.opSize = 8
		if p.opSize && p.rex&0x08 == 0 {
			in.opSize = 2
		}
	}
	evex := p.n < len(code) && code[p.n] == 0x62
	pos := 0
	haveImm := false
	for i, a := range x.Args {
		if a == nil {
			break
		}
		switch a := a.(type) {
		case x86asm.Reg:
			if evex && i == 1 && a >= x86asm.K0 && a <= x86asm.K7 {
				in.kmask = uint8(a - x86asm.K0)
				continue // the writemask is not an operand position
			}
			if i == 0 {
				in.ind = gpr64(a)
			}
		case x86asm.Rel:
			in.hasRel, in.rel = true, int64(a)
		case x86asm.Imm:
			if !haveImm {
				in.imm, haveImm = int64(a), true
			} else if x.Op == x86asm.ENTER {
				in.imm2 = uint8(a)
			}
		case x86asm.Mem:
			if err := in.addMem(x, a, pos, sp, code, p); err != nil {
				return err
			}
		}
		pos++
	}
	if x.Op == x86asm.CALL || x.Op == x86asm.JMP {
		if in.nmem > 0 {
			in.ind = regNone
		}
	} else {
		in.ind = regNone
	}
	in.classify(x, p)
	return in.finishSpecial(x, code, p)
}

// addMem adds memory operand a, at operand position pos of x, with its
// address, read/write action (special.go's, else the CSV table's) and
// size.
func (in *Inst) addMem(x *x86asm.Inst, a x86asm.Mem, pos int, sp special, code []byte, p prefixes) error {
	if int(in.nmem) == len(in.mem) {
		return undecodable(code, "%v: more than two memory operands", x.Op)
	}
	m, err := memFromX86asm(a, p.seg, moffs(code, p))
	if err != nil {
		return undecodable(code, "%v: %v", x.Op, err)
	}
	if m.base == regNone && m.index == regNone && vexRIPRelative(code, p) {
		// x86asm's AVX decoder reads mod=00 rm=101 as an absolute
		// disp32; in 64-bit mode it is RIP-relative (SDM vol. 2
		// "RIP-Relative Addressing").
		m.base = RIP
	}
	m.act = sp.act[min(pos, 3)]
	if m.act == 0 && int(x.Op) < len(csvTable) && pos < 4 {
		m.act = csvTable[x.Op][pos] &^ actInferred
	}
	m.size = uint32(x.MemBytes)
	if m.size == 0 {
		m.size = uint32(sp.size)
	}
	if m.act == 0 && in.kind == kindPlain {
		return undecodable(code, "%v: no read/write action known for memory operand %d", x.Op, pos)
	}
	if m.size == 0 && in.kind == kindPlain {
		return undecodable(code, "%v: memory operand size unknown", x.Op)
	}
	in.mem[in.nmem] = m
	in.nmem++
	return nil
}

// gpr64 maps an x86asm general register to a Reg, or regNone.
func gpr64(r x86asm.Reg) Reg {
	switch {
	case r >= x86asm.RAX && r <= x86asm.R15:
		return Reg(r - x86asm.RAX)
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return Reg(r - x86asm.EAX)
	case r >= x86asm.AX && r <= x86asm.R15W:
		return Reg(r - x86asm.AX) // BTW's bit offset
	case r == x86asm.RIP || r == x86asm.EIP:
		return RIP
	}
	return regNone
}

// vexRIPRelative reports whether a VEX or EVEX instruction's ModRM says
// RIP-relative: mod 00, r/m 101.
func vexRIPRelative(code []byte, p prefixes) bool {
	if p.n >= len(code) {
		return false
	}
	var i int
	switch code[p.n] {
	case 0xc5:
		i = p.n + 3 // C5 payload opcode ModRM
	case 0xc4:
		i = p.n + 4 // C4 payload payload opcode ModRM
	case 0x62:
		i = p.n + 5 // 62 P0 P1 P2 opcode ModRM
	default:
		return false
	}
	return i < len(code) && code[i]&0xc7 == 0x05
}

// moffs reports whether the instruction is MOV with a 64-bit absolute
// address (A0-A3), the one form whose displacement is not 32 bits.
func moffs(code []byte, p prefixes) bool {
	return p.n < len(code) && code[p.n] >= 0xa0 && code[p.n] <= 0xa3
}

func memFromX86asm(a x86asm.Mem, seg Reg, moffs bool) (memOperand, error) {
	m := memOperand{base: regNone, index: regNone, scale: a.Scale, disp: a.Disp, seg: seg}
	if !moffs && a.Disp >= 1<<31 && a.Disp < 1<<32 {
		// x86asm zero-extends 32-bit displacements of legacy
		// instructions (-0xa8(%rbp) comes back as 0xffffff58); the CPU
		// sign-extends them.
		m.disp = int64(int32(a.Disp))
	}
	if a.Base != 0 {
		if m.base = gpr64(a.Base); m.base == regNone {
			return m, fmt.Errorf("base register %v", a.Base)
		}
	}
	if a.Index != 0 {
		switch {
		case a.Index >= x86asm.X0 && a.Index <= x86asm.X31:
			m.index, m.vindex = Reg(a.Index-x86asm.X0), true
		case a.Index >= x86asm.Y0 && a.Index <= x86asm.Y31:
			m.index, m.vindex = Reg(a.Index-x86asm.Y0), true
		case a.Index >= x86asm.Z0 && a.Index <= x86asm.Z31:
			m.index, m.vindex = Reg(a.Index-x86asm.Z0), true
		default:
			if m.index = gpr64(a.Index); m.index == regNone {
				return m, fmt.Errorf("index register %v", a.Index)
			}
		}
	}
	if m.scale == 0 {
		m.scale = 1
	}
	return m, nil
}

// classify sets Flow and Effects.
func (in *Inst) classify(x *x86asm.Inst, p prefixes) {
	switch x.Op {
	case x86asm.JMP, x86asm.LJMP:
		in.Flow = FlowJump
	case x86asm.JA, x86asm.JAE, x86asm.JB, x86asm.JBE, x86asm.JE, x86asm.JG, x86asm.JGE,
		x86asm.JL, x86asm.JLE, x86asm.JNE, x86asm.JNO, x86asm.JNP, x86asm.JNS, x86asm.JO,
		x86asm.JP, x86asm.JS, x86asm.JCXZ, x86asm.JECXZ, x86asm.JRCXZ,
		x86asm.LOOP, x86asm.LOOPE, x86asm.LOOPNE:
		in.Flow = FlowCondJump
	case x86asm.XBEGIN:
		in.Flow = FlowCondJump
		in.Effects |= EffTransaction
	case x86asm.CALL, x86asm.LCALL:
		in.Flow = FlowCall
	case x86asm.RET, x86asm.LRET:
		in.Flow = FlowRet
	case x86asm.IRET, x86asm.IRETD, x86asm.IRETQ:
		in.Flow = FlowRet
		in.Effects |= EffTrapFlag
	case x86asm.POPF, x86asm.POPFD, x86asm.POPFQ:
		in.Effects |= EffTrapFlag
	case x86asm.SYSCALL, x86asm.SYSENTER:
		in.Effects |= EffSyscall
	case x86asm.INT:
		if x.Args[0] == x86asm.Imm(0x80) {
			in.Effects |= EffSyscall
		} else {
			in.Effects |= EffTrap
		}
	case x86asm.XCHG:
		if in.nmem > 0 {
			in.Effects |= EffLock
		}
	}
	if specialOf(x.Op).trap {
		in.Effects |= EffTrap
	}
	if p.lock {
		in.Effects |= EffLock
	}
}

// finishSpecial fills what the special kinds need beyond the operands.
func (in *Inst) finishSpecial(x *x86asm.Inst, code []byte, p prefixes) error {
	switch in.kind {
	case kindString:
		if p.rep != 0 {
			in.rep = p.rep
			in.Effects |= EffRep
		}
		s := stringOps[x.Op]
		in.elem = s.elem
		// x86asm lists [RDI]/[RSI] operands; rebuild them from the
		// string table so the order and actions are known.
		in.nmem = 0
		for _, o := range s.ops {
			if o.act == 0 {
				continue
			}
			m := memOperand{base: o.reg, index: regNone, scale: 1, seg: regNone, size: uint32(s.elem), act: o.act}
			if o.reg == RSI {
				m.seg = p.seg // only the RSI operand takes a segment override
			}
			in.mem[in.nmem] = m
			in.nmem++
		}
	case kindXlat:
		in.nmem = 1
		in.mem[0] = memOperand{base: RBX, index: regNone, scale: 1, seg: p.seg, size: 1, act: actR}
	case kindMaskMovImplicit:
		// MASKMOVQ/MASKMOVDQU store to DS:[RDI] under a byte mask in the
		// second operand; x86asm shows no memory operand at all.
		size := uint32(16)
		if x.Op == x86asm.MASKMOVQ {
			size = 8
		}
		in.nmem = 1
		in.mem[0] = memOperand{base: RDI, index: regNone, scale: 1, seg: p.seg, size: size, act: actW}
		in.vmask = vecRegNum(x.Args[1])
	case kindVMaskMov:
		in.vmask = vecRegNum(x.Args[1])
		in.elem = 4
		if x.Op == x86asm.VMASKMOVPD || x.Op == x86asm.VPMASKMOVQ {
			in.elem = 8
		}
	case kindBitString:
		if r, ok := x.Args[1].(x86asm.Reg); ok && in.nmem == 1 {
			in.bitReg = gpr64(r)
		}
	case kindGather, kindScatter:
		g := gathers[x.Op]
		in.elem, in.ixElem = g.data, g.index
		if in.nmem != 1 || !in.mem[0].vindex {
			return undecodable(code, "%v: no vector-indexed operand", x.Op)
		}
		in.nelem = uint8(x.MemBytes / int(g.data))
		if !evexAt(code, p) && x.Op != x86asm.VGATHERPF0DPS {
			in.vmask = vecRegNum(x.Args[2]) // VEX form: mask in a vector register
		}
	case kindFarCall, kindFarJump:
		// m16:16/32/64: offset then selector.
		if in.nmem == 1 {
			in.mem[0].size = uint32(x.DataSize/8) + 2
		}
	}
	if in.kmask != 0 && in.elem == 0 {
		in.elem = evexElemSize(x.Op)
	}
	return nil
}

func evexAt(code []byte, p prefixes) bool { return p.n < len(code) && code[p.n] == 0x62 }

func vecRegNum(a x86asm.Arg) uint8 {
	r, _ := a.(x86asm.Reg)
	switch {
	case r >= x86asm.X0 && r <= x86asm.X31:
		return uint8(r - x86asm.X0)
	case r >= x86asm.Y0 && r <= x86asm.Y31:
		return uint8(r - x86asm.Y0)
	case r >= x86asm.Z0 && r <= x86asm.Z31:
		return uint8(r - x86asm.Z0)
	case r >= x86asm.M0 && r <= x86asm.M7:
		return uint8(r - x86asm.M0)
	}
	return 0
}

// String formats the instruction in GNU (AT&T) syntax, as gdb shows it.
func (in Inst) String() string {
	if in.fix != 0 {
		return fixups[in.fix].name
	}
	x, err := x86asm.Decode(in.code[:in.codeLen], 64)
	if err != nil {
		return fmt.Sprintf("(bad: %v)", err)
	}
	return x86asm.GNUSyntax(x, 0, nil)
}

// Mnemonic is the opcode name: x86asm's, or the fixup's for instructions
// that x86asm mis-decodes.
func (in Inst) Mnemonic() string {
	if in.fix != 0 {
		return fixups[in.fix].name
	}
	return in.op.String()
}

// BranchTarget returns where a direct or register-indirect jump or call
// goes. It reports false for memory-indirect ones (the caller reads the
// pointer at the Access Accesses gives for the operand), for returns, and
// for instructions that do not branch.
func (in Inst) BranchTarget(regs Registers) (uint64, bool) {
	if in.Flow == FlowNext || in.Flow == FlowRet {
		return 0, false
	}
	if in.hasRel {
		return regs.Reg(RIP) + uint64(in.Len) + uint64(in.rel), true
	}
	if in.ind != regNone {
		return regs.Reg(in.ind), true
	}
	return 0, false
}
