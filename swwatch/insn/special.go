package insn

import (
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// kind selects how Accesses treats an instruction beyond its explicit
// operands and the CSV table.
type kind uint8

const (
	kindPlain           kind = iota // explicit operands, actions from csvTable
	kindNone                        // no data access whatever the operands look like
	kindPush                        // write opSize at RSP-opSize (+ read of a memory source)
	kindPop                         // read opSize at RSP (+ write of a memory destination)
	kindCall                        // write 8 at RSP-8 (+ read of a memory target)
	kindRet                         // read 8 at RSP
	kindEnter                       // push RBP, copy nesting-level frame pointers
	kindLeave                       // read 8 at RBP (RSP = RBP; POP RBP)
	kindIret                        // read 5 slots at RSP
	kindFarRet                      // read 2 slots at RSP
	kindFarCall                     // read m16:xx, push CS and RIP
	kindFarJump                     // read m16:xx
	kindString                      // MOVS/CMPS/STOS/LODS/SCAS/INS/OUTS
	kindXlat                        // read 1 at RBX+AL
	kindFXSave                      // write the 512-byte FXSAVE image (bytes 0-463)
	kindFXRstor                     // read it
	kindXSave                       // XSAVE: components in RFBM, standard format
	kindXSaveOpt                    // XSAVEOPT: as XSAVE, but may skip unmodified state
	kindXSaveC                      // XSAVEC: compacted format, may skip init state
	kindXRstor                      // XRSTOR: read header and components
	kindBitString                   // BT* m, r: the bit offset moves the address
	kindGather                      // per-element reads through a vector index
	kindScatter                     // per-element writes through a vector index
	kindMaskMovImplicit             // MASKMOVQ/MASKMOVDQU: masked store to [RDI]
	kindVMaskMov                    // VMASKMOVPS/PD, VPMASKMOVD/Q: masked by element sign bits
	kindCompress                    // VCOMPRESS*/VPCOMPRESS*: popcount(k) elements stored contiguously
	kindExpand                      // VEXPAND*/VPEXPAND*: popcount(k) elements loaded contiguously
	kindMovdir64b                   // read 64 at [r/m], write 64 at [reg]
	kindClzero                      // write the 64-byte line at RAX
	kindCacheLine                   // CLFLUSH/CLFLUSHOPT/CLWB: a 1-byte read at the operand
	kindEnqcmd                      // read 64 at [r/m], a bounded write of 64 at [reg]
	kindTile                        // AMX tile rows: up to 16 bounded rows of 64 at base + row*stride
)

// special is a hand-written override of what the CSV says or cannot say.
// Every entry says why in its comment.
type special struct {
	kind  kind
	act   memActs // nonzero positions replace the CSV's action
	size  uint16  // memory operand size, used where x86asm gives 0
	stack bool    // operand size defaults to 64 bits (stack instructions)
	trap  bool    // faults in user mode (privileged or by design)
}

func specialOf(op x86asm.Op) special {
	if int(op) < len(specials) {
		return specials[op]
	}
	return special{}
}

var (
	rmwAll   = memActs{actRW, actRW, actRW, actRW}
	rmwFirst = memActs{actRW}
)

// specials is indexed by x86asm.Op.
var specials = [...]special{
	// Address computations and hints: the operand is an address, not data.
	// CSV says "r" for NOP r/m and LEA's m; no data is read (SDM NOP,
	// LEA). Prefetches and CLDEMOTE do not trigger data breakpoints
	// (hwcheck_test.go).
	x86asm.LEA:         {kind: kindNone},
	x86asm.NOP:         {kind: kindNone},
	x86asm.PREFETCHNTA: {kind: kindNone},
	x86asm.PREFETCHT0:  {kind: kindNone},
	x86asm.PREFETCHT1:  {kind: kindNone},
	x86asm.PREFETCHT2:  {kind: kindNone},
	x86asm.PREFETCHW:   {kind: kindNone},
	// CLFLUSH: CSV "w"; the debug hardware sees a one-byte read.
	x86asm.CLFLUSH: {kind: kindCacheLine},
	// UD0/UD1 take a ModRM operand only to define their length; they
	// raise #UD before any access.
	x86asm.UD0: {kind: kindNone, trap: true},
	x86asm.UD1: {kind: kindNone, trap: true},
	x86asm.UD2: {kind: kindNone, trap: true},

	// CSV errata: destinations that are read and written but listed as
	// "w", reads listed as writes, writes listed as reads.
	x86asm.SBB:  {act: rmwFirst}, // SBB r/m, x: "w,r"; dest = dest - (src + CF)
	x86asm.RCL:  {act: rmwFirst}, // rotates read their operand: "w,r" in the CSV
	x86asm.RCR:  {act: rmwFirst},
	x86asm.ROL:  {act: rmwFirst},
	x86asm.ROR:  {act: rmwFirst},
	x86asm.SHLD: {act: rmwFirst}, // "w,r,r": the destination is shifted, so read
	x86asm.SHRD: {act: rmwFirst},
	x86asm.DIV:  {act: memActs{actR}}, // DIV r/m: "w"; the divisor is only read
	x86asm.IMUL: {act: memActs{actR, actR, actR}},
	// IMUL r/m (one operand, RDX:RAX = RAX * r/m): "rw"; only read.
	x86asm.SETA:  {act: memActs{actW}}, // SETcc r/m8: "r"; SETcc stores 0 or 1
	x86asm.SETAE: {act: memActs{actW}},
	x86asm.SETB:  {act: memActs{actW}},
	x86asm.SETBE: {act: memActs{actW}},
	x86asm.SETE:  {act: memActs{actW}},
	x86asm.SETG:  {act: memActs{actW}},
	x86asm.SETGE: {act: memActs{actW}},
	x86asm.SETL:  {act: memActs{actW}},
	x86asm.SETLE: {act: memActs{actW}},
	x86asm.SETNE: {act: memActs{actW}},
	x86asm.SETNO: {act: memActs{actW}},
	x86asm.SETNP: {act: memActs{actW}},
	x86asm.SETNS: {act: memActs{actW}},
	x86asm.SETO:  {act: memActs{actW}},
	x86asm.SETP:  {act: memActs{actW}},
	x86asm.SETS:  {act: memActs{actW}},

	// Atomics. XCHG with memory reads and writes it whatever the operand
	// order (CSV: "rw,r" or, for the reg-first spelling, "w,r"), and is
	// locked without a prefix. CMPXCHG, CMPXCHG8B/16B write the
	// destination even when the comparison fails (SDM CMPXCHG: "the
	// destination operand is written back if the comparison fails"), so a
	// failed compare is a write of the same value, which a write
	// watchpoint reports. XADD: the CSV's "rw,w" is right for memory.
	x86asm.XCHG:       {act: rmwAll},
	x86asm.CMPXCHG:    {act: rmwFirst},
	x86asm.CMPXCHG8B:  {act: rmwFirst},
	x86asm.CMPXCHG16B: {act: rmwFirst},
	x86asm.XADD:       {act: rmwFirst},

	// Bit-string addressing: with a register offset the operand is the
	// bit string starting at the address, not the word at it (SDM BT).
	x86asm.BT:  {kind: kindBitString, act: memActs{actR}},
	x86asm.BTS: {kind: kindBitString, act: rmwFirst},
	x86asm.BTR: {kind: kindBitString, act: rmwFirst},
	x86asm.BTC: {kind: kindBitString, act: rmwFirst},

	// Implicit stack operands. The CSV lists only the explicit operand.
	x86asm.PUSH:   {kind: kindPush, stack: true, act: memActs{actR}},
	x86asm.POP:    {kind: kindPop, stack: true, act: memActs{actW}},
	x86asm.PUSHF:  {kind: kindPush, stack: true},
	x86asm.PUSHFQ: {kind: kindPush, stack: true},
	x86asm.POPF:   {kind: kindPop, stack: true},
	x86asm.POPFQ:  {kind: kindPop, stack: true},
	x86asm.CALL:   {kind: kindCall, stack: true, act: memActs{actR}},
	x86asm.RET:    {kind: kindRet, stack: true},
	x86asm.ENTER:  {kind: kindEnter, stack: true},
	x86asm.LEAVE:  {kind: kindLeave, stack: true},
	x86asm.IRET:   {kind: kindIret},
	x86asm.IRETD:  {kind: kindIret},
	x86asm.IRETQ:  {kind: kindIret},
	x86asm.LRET:   {kind: kindFarRet},
	x86asm.LCALL:  {kind: kindFarCall, act: memActs{actR}},
	x86asm.LJMP:   {kind: kindFarJump, act: memActs{actR}},
	x86asm.JMP:    {act: memActs{actR}},

	// String instructions: implicit RSI/RDI operands, REP counts, DF.
	x86asm.MOVSB: {kind: kindString}, x86asm.MOVSW: {kind: kindString},
	x86asm.MOVSD: {kind: kindString}, x86asm.MOVSQ: {kind: kindString},
	x86asm.CMPSB: {kind: kindString}, x86asm.CMPSW: {kind: kindString},
	x86asm.CMPSD: {kind: kindString}, x86asm.CMPSQ: {kind: kindString},
	x86asm.STOSB: {kind: kindString}, x86asm.STOSW: {kind: kindString},
	x86asm.STOSD: {kind: kindString}, x86asm.STOSQ: {kind: kindString},
	x86asm.LODSB: {kind: kindString}, x86asm.LODSW: {kind: kindString},
	x86asm.LODSD: {kind: kindString}, x86asm.LODSQ: {kind: kindString},
	x86asm.SCASB: {kind: kindString}, x86asm.SCASW: {kind: kindString},
	x86asm.SCASD: {kind: kindString}, x86asm.SCASQ: {kind: kindString},
	x86asm.INSB: {kind: kindString, trap: true}, x86asm.INSW: {kind: kindString, trap: true},
	x86asm.INSD: {kind: kindString, trap: true}, x86asm.OUTSB: {kind: kindString, trap: true},
	x86asm.OUTSW: {kind: kindString, trap: true}, x86asm.OUTSD: {kind: kindString, trap: true},
	// XLAT reads [RBX + zero-extended AL]; x86asm shows [RBX] only.
	x86asm.XLATB: {kind: kindXlat},

	// Save areas. x86asm gives no operand size for them.
	x86asm.FXSAVE:     {kind: kindFXSave},
	x86asm.FXSAVE64:   {kind: kindFXSave},
	x86asm.FXRSTOR:    {kind: kindFXRstor},
	x86asm.FXRSTOR64:  {kind: kindFXRstor},
	x86asm.XSAVE:      {kind: kindXSave},
	x86asm.XSAVE64:    {kind: kindXSave},
	x86asm.XSAVEOPT:   {kind: kindXSaveOpt},
	x86asm.XSAVEOPT64: {kind: kindXSaveOpt},
	x86asm.XSAVEC:     {kind: kindXSaveC},
	x86asm.XSAVEC64:   {kind: kindXSaveC},
	x86asm.XRSTOR:     {kind: kindXRstor},
	x86asm.XRSTOR64:   {kind: kindXRstor},
	// XSAVES/XRSTORS are CPL0-only: #GP in user mode, nothing touched.
	x86asm.XSAVES:    {kind: kindNone, trap: true},
	x86asm.XSAVES64:  {kind: kindNone, trap: true},
	x86asm.XRSTORS:   {kind: kindNone, trap: true},
	x86asm.XRSTORS64: {kind: kindNone, trap: true},
	// x87 environment and state images, 32-bit operand size in long mode
	// (SDM vol. 1 "Saving the x87 FPU State": 28 and 108 bytes).
	x86asm.FLD:     {size: 10}, // FLD m80fp: x86asm gives 0 (m32fp, m64fp have sizes)
	x86asm.FSTP:    {size: 10},
	x86asm.FNSTENV: {size: 28},
	x86asm.FLDENV:  {size: 28},
	x86asm.FNSAVE:  {size: 108},
	x86asm.FRSTOR:  {size: 108},
	// 80-bit forms, where x86asm reports MemBytes 0 (m80fp, m80bcd).
	x86asm.FBLD:  {size: 10},
	x86asm.FBSTP: {size: 10},
	// Descriptor-table stores: 10 bytes in long mode; with UMIP (this
	// project's CPUs) they #GP in user mode and Linux does not emulate
	// them for 64-bit processes.
	x86asm.SGDT: {size: 10, trap: true},
	x86asm.SIDT: {size: 10, trap: true},
	x86asm.SLDT: {trap: true},
	x86asm.SMSW: {trap: true},
	x86asm.STR:  {trap: true},

	// Gathers and scatters: one access per element through a vector of
	// indices, under a mask (VEX: sign bits of a vector; EVEX: k).
	x86asm.VPGATHERDD: {kind: kindGather}, x86asm.VPGATHERDQ: {kind: kindGather},
	x86asm.VPGATHERQD: {kind: kindGather}, x86asm.VPGATHERQQ: {kind: kindGather},
	x86asm.VGATHERDPS: {kind: kindGather}, x86asm.VGATHERDPD: {kind: kindGather},
	x86asm.VGATHERQPS: {kind: kindGather}, x86asm.VGATHERQPD: {kind: kindGather},
	x86asm.VPSCATTERDD: {kind: kindScatter}, x86asm.VPSCATTERDQ: {kind: kindScatter},
	x86asm.VPSCATTERQD: {kind: kindScatter}, x86asm.VPSCATTERQQ: {kind: kindScatter},
	x86asm.VSCATTERDPS: {kind: kindScatter}, x86asm.VSCATTERDPD: {kind: kindScatter},
	x86asm.VSCATTERQPS: {kind: kindScatter}, x86asm.VSCATTERQPD: {kind: kindScatter},
	// Xeon Phi gather/scatter prefetches: hints, no data access.
	x86asm.VGATHERPF0DPS: {kind: kindNone}, x86asm.VGATHERPF0DPD: {kind: kindNone},
	x86asm.VGATHERPF0QPS: {kind: kindNone}, x86asm.VGATHERPF0QPD: {kind: kindNone},
	x86asm.VGATHERPF1DPS: {kind: kindNone}, x86asm.VGATHERPF1DPD: {kind: kindNone},
	x86asm.VGATHERPF1QPS: {kind: kindNone}, x86asm.VGATHERPF1QPD: {kind: kindNone},
	x86asm.VSCATTERPF0DPS: {kind: kindNone}, x86asm.VSCATTERPF0DPD: {kind: kindNone},
	x86asm.VSCATTERPF0QPS: {kind: kindNone}, x86asm.VSCATTERPF0QPD: {kind: kindNone},
	x86asm.VSCATTERPF1DPS: {kind: kindNone}, x86asm.VSCATTERPF1DPD: {kind: kindNone},
	x86asm.VSCATTERPF1QPS: {kind: kindNone}, x86asm.VSCATTERPF1QPD: {kind: kindNone},

	// Masked stores and loads: only elements whose mask bit is set are
	// accessed (and only they can fault).
	x86asm.MASKMOVQ:    {kind: kindMaskMovImplicit},
	x86asm.MASKMOVDQU:  {kind: kindMaskMovImplicit},
	x86asm.VMASKMOVDQU: {kind: kindMaskMovImplicit},
	x86asm.VMASKMOVPS:  {kind: kindVMaskMov},
	x86asm.VMASKMOVPD:  {kind: kindVMaskMov},
	x86asm.VPMASKMOVD:  {kind: kindVMaskMov},
	x86asm.VPMASKMOVQ:  {kind: kindVMaskMov},
	x86asm.VCOMPRESSPS: {kind: kindCompress}, x86asm.VCOMPRESSPD: {kind: kindCompress},
	x86asm.VPCOMPRESSB: {kind: kindCompress}, x86asm.VPCOMPRESSW: {kind: kindCompress},
	x86asm.VPCOMPRESSD: {kind: kindCompress}, x86asm.VPCOMPRESSQ: {kind: kindCompress},
	x86asm.VEXPANDPS: {kind: kindExpand}, x86asm.VEXPANDPD: {kind: kindExpand},
	x86asm.VPEXPANDB: {kind: kindExpand}, x86asm.VPEXPANDW: {kind: kindExpand},
	x86asm.VPEXPANDD: {kind: kindExpand}, x86asm.VPEXPANDQ: {kind: kindExpand},

	// Far pointers m16:16/32/64 (LSS/LFS/LGS): offset plus selector.
	x86asm.LSS: {act: memActs{0, actR}},
	x86asm.LFS: {act: memActs{0, actR}},
	x86asm.LGS: {act: memActs{0, actR}},

	// Privileged or I/O: #GP in user mode (ring 3 without IOPL).
	x86asm.HLT: {trap: true}, x86asm.CLI: {trap: true}, x86asm.STI: {trap: true},
	x86asm.IN: {trap: true}, x86asm.OUT: {trap: true}, x86asm.ICEBP: {trap: true},
	x86asm.INTO: {trap: true}, x86asm.LGDT: {kind: kindNone, trap: true},
	x86asm.LIDT: {kind: kindNone, trap: true}, x86asm.LLDT: {kind: kindNone, trap: true},
	x86asm.LTR: {kind: kindNone, trap: true}, x86asm.LMSW: {kind: kindNone, trap: true},
	x86asm.INVLPG: {kind: kindNone, trap: true}, x86asm.INVPCID: {kind: kindNone, trap: true},
	x86asm.INVD: {trap: true}, x86asm.WBINVD: {trap: true}, x86asm.RDMSR: {trap: true},
	x86asm.WRMSR: {trap: true}, x86asm.CLTS: {trap: true}, x86asm.SWAPGS: {trap: true},
	x86asm.SYSEXIT: {trap: true}, x86asm.SYSRET: {trap: true}, x86asm.XSETBV: {trap: true},
	x86asm.MONITOR: {trap: true}, x86asm.MWAIT: {trap: true}, x86asm.RSM: {trap: true},
}

// stringOp describes a string instruction: its element size and, per
// implicit operand, the register and action.
type stringOp struct {
	elem uint8
	ops  [2]struct {
		reg Reg
		act uint8
	}
}

func strOp(elem uint8, r0 Reg, a0 uint8, r1 Reg, a1 uint8) stringOp {
	s := stringOp{elem: elem}
	s.ops[0].reg, s.ops[0].act = r0, a0
	s.ops[1].reg, s.ops[1].act = r1, a1
	return s
}

// stringOps: MOVS reads [RSI] then writes [RDI]; CMPS reads both; STOS
// and INS write [RDI]; LODS and OUTS read [RSI]; SCAS reads [RDI].
var stringOps = map[x86asm.Op]stringOp{
	x86asm.MOVSB: strOp(1, RSI, actR, RDI, actW), x86asm.MOVSW: strOp(2, RSI, actR, RDI, actW),
	x86asm.MOVSD: strOp(4, RSI, actR, RDI, actW), x86asm.MOVSQ: strOp(8, RSI, actR, RDI, actW),
	x86asm.CMPSB: strOp(1, RSI, actR, RDI, actR), x86asm.CMPSW: strOp(2, RSI, actR, RDI, actR),
	x86asm.CMPSD: strOp(4, RSI, actR, RDI, actR), x86asm.CMPSQ: strOp(8, RSI, actR, RDI, actR),
	x86asm.STOSB: strOp(1, RDI, actW, 0, 0), x86asm.STOSW: strOp(2, RDI, actW, 0, 0),
	x86asm.STOSD: strOp(4, RDI, actW, 0, 0), x86asm.STOSQ: strOp(8, RDI, actW, 0, 0),
	x86asm.LODSB: strOp(1, RSI, actR, 0, 0), x86asm.LODSW: strOp(2, RSI, actR, 0, 0),
	x86asm.LODSD: strOp(4, RSI, actR, 0, 0), x86asm.LODSQ: strOp(8, RSI, actR, 0, 0),
	x86asm.SCASB: strOp(1, RDI, actR, 0, 0), x86asm.SCASW: strOp(2, RDI, actR, 0, 0),
	x86asm.SCASD: strOp(4, RDI, actR, 0, 0), x86asm.SCASQ: strOp(8, RDI, actR, 0, 0),
	x86asm.INSB: strOp(1, RDI, actW, 0, 0), x86asm.INSW: strOp(2, RDI, actW, 0, 0),
	x86asm.INSD:  strOp(4, RDI, actW, 0, 0),
	x86asm.OUTSB: strOp(1, RSI, actR, 0, 0), x86asm.OUTSW: strOp(2, RSI, actR, 0, 0),
	x86asm.OUTSD: strOp(4, RSI, actR, 0, 0),
}

// gathers gives data and index element sizes of gathers and scatters.
var gathers = map[x86asm.Op]struct{ data, index uint8 }{
	x86asm.VPGATHERDD: {4, 4}, x86asm.VPGATHERDQ: {8, 4}, x86asm.VPGATHERQD: {4, 8}, x86asm.VPGATHERQQ: {8, 8},
	x86asm.VGATHERDPS: {4, 4}, x86asm.VGATHERDPD: {8, 4}, x86asm.VGATHERQPS: {4, 8}, x86asm.VGATHERQPD: {8, 8},
	x86asm.VPSCATTERDD: {4, 4}, x86asm.VPSCATTERDQ: {8, 4}, x86asm.VPSCATTERQD: {4, 8}, x86asm.VPSCATTERQQ: {8, 8},
	x86asm.VSCATTERDPS: {4, 4}, x86asm.VSCATTERDPD: {8, 4}, x86asm.VSCATTERQPS: {4, 8}, x86asm.VSCATTERQPD: {8, 8},
}

// evexElemSize guesses the element size that an EVEX writemask applies
// to from the mnemonic, for the plain moves where memory element i is
// vector element i. Anything else gets 0, and a masked memory operand of
// it is reported as one Partial range.
func evexElemSize(op x86asm.Op) uint8 {
	switch op {
	case x86asm.VMOVDQU8:
		return 1
	case x86asm.VMOVDQU16:
		return 2
	case x86asm.VMOVDQU32, x86asm.VMOVDQA32, x86asm.VMOVUPS, x86asm.VMOVAPS:
		return 4
	case x86asm.VMOVDQU64, x86asm.VMOVDQA64, x86asm.VMOVUPD, x86asm.VMOVAPD:
		return 8
	case x86asm.VMOVSS:
		return 4
	case x86asm.VMOVSD:
		return 8
	}
	if k := specialOf(op).kind; k == kindCompress || k == kindExpand {
		n := op.String()
		switch {
		case strings.HasSuffix(n, "B"):
			return 1
		case strings.HasSuffix(n, "W"):
			return 2
		case strings.HasSuffix(n, "D"), strings.HasSuffix(n, "PS"):
			return 4
		default:
			return 8
		}
	}
	return 0
}
