package insn

import (
	"math/bits"

	"gdbserverx/internal/x86cpu"
)

// maxRange bounds one Access: the user half of the address space. A REP
// count or an index that would reach past it gives a clipped, Partial
// range.
const maxRange = 1 << 47

// dfFlag is RFLAGS.DF: string instructions go down when set.
const dfFlag = 1 << 10

// Machine is the CPU an instruction runs on, as far as what it touches
// depends on it: the XSAVE layout (CPUID leaf 0xD) and the vendor, where
// the debug hardware of Intel and AMD sees different bytes of the same
// instruction (doc.go, "What the hardware says"). The zero Machine is
// not valid; use Host or On.
type Machine struct{ cpu *x86cpu.CPU }

// Host is the CPU this program runs on, which is the traced program's
// (CPUID read once, x86cpu.Host).
func Host() Machine { return Machine{x86cpu.Host()} }

// On is the Machine of cpu (tests describe other CPUs with
// x86cpu.FromCPUID).
func On(cpu *x86cpu.CPU) Machine { return Machine{cpu} }

// CPU is the machine's CPU.
func (m Machine) CPU() *x86cpu.CPU { return m.cpu }

// Accesses appends to dst the memory ranges that in reads and writes when
// executed in full from the register state regs on this machine's CPU,
// and returns the extended slice. A REP string instruction is counted
// whole: RCX iterations, downwards when RFLAGS.DF is set. Ranges come in
// the order the instruction touches them where there is one (PUSH [m]:
// the read, then the stack write). Instructions that touch no memory give
// none.
//
// Accesses does not allocate when dst has room (16 entries cover every
// instruction but a 16-element gather or scatter, an AMX tile, or a
// masked access with many holes).
func (m Machine) Accesses(in Inst, regs Registers, dst []Access) ([]Access, error) {
	return in.accesses(m.cpu, regs, dst, false)
}

// StepAccesses is Accesses for one single-step: a REP string instruction
// executes one iteration per step (the CPU takes the single-step trap
// after each iteration, SDM vol. 3 "Single-Step Exception Condition"; see
// hwcheck_test.go), so this reports one element at RSI/RDI, or nothing
// when RCX is 0. Every other instruction completes in one step and gets
// the same answer as from Accesses.
func (m Machine) StepAccesses(in Inst, regs Registers, dst []Access) ([]Access, error) {
	return in.accesses(m.cpu, regs, dst, true)
}

// Accesses is Host().Accesses.
func Accesses(in Inst, regs Registers, dst []Access) ([]Access, error) {
	return Host().Accesses(in, regs, dst)
}

// StepAccesses is Host().StepAccesses.
func StepAccesses(in Inst, regs Registers, dst []Access) ([]Access, error) {
	return Host().StepAccesses(in, regs, dst)
}

func (in *Inst) accesses(cpu *x86cpu.CPU, regs Registers, dst []Access, step bool) ([]Access, error) {
	switch in.kind {
	case kindFXSave, kindFXRstor, kindXSave, kindXSaveOpt, kindXSaveC, kindXRstor, kindGather, kindScatter,
		kindVMaskMov, kindCompress, kindExpand, kindCacheLine, kindMovdir64b, kindEnqcmd, kindTile:
		if in.nmem == 0 {
			return dst, nil // a register form (VPEXPANDB zmm, zmm)
		}
	}
	switch in.kind {
	case kindNone:
		return dst, nil
	case kindPlain, kindBitString:
		for i := range in.mem[:in.nmem] {
			dst = in.plain(&in.mem[i], regs, dst)
		}
		return dst, nil
	case kindPush, kindPop, kindCall, kindRet, kindEnter, kindLeave, kindIret, kindFarRet, kindFarCall, kindFarJump:
		return in.stackAccesses(cpu, regs, dst), nil
	case kindString:
		return in.stringAccesses(regs, dst, step), nil
	case kindXlat:
		m := in.mem[0]
		a := regs.Reg(RBX) + regs.Reg(RAX)&0xff
		if in.addr32 {
			a = uint64(uint32(a))
		}
		if m.seg != regNone {
			a += regs.Reg(m.seg)
		}
		return append(dst, Access{Addr: a, Size: 1, Read: true}), nil
	case kindFXSave:
		return append(dst, Access{Addr: in.addr(&in.mem[0], regs), Size: fxsaveWritten, Write: true}), nil
	case kindFXRstor:
		// MXCSR_MASK (bytes 28-31) is not read.
		a := in.addr(&in.mem[0], regs)
		return append(dst, Access{Addr: a, Size: x86cpu.FxMXCSRMask, Read: true}, Access{Addr: a + x86cpu.FxST, Size: fxsaveWritten - x86cpu.FxST, Read: true}), nil
	case kindXSave, kindXSaveOpt, kindXSaveC, kindXRstor:
		return in.xsave(cpu, regs, dst)
	case kindGather, kindScatter:
		return in.gather(regs, dst), nil
	case kindMaskMovImplicit:
		return in.maskMovImplicit(cpu, regs, dst), nil
	case kindVMaskMov:
		return in.vectorMasked(cpu, regs, dst), nil
	case kindCacheLine:
		// CLFLUSH, CLFLUSHOPT, CLWB: the debug hardware sees a one-byte
		// read at the operand (hwcheck_test.go), not the whole line.
		return append(dst, Access{Addr: in.addr(&in.mem[0], regs), Size: 1, Read: true}), nil
	case kindCompress, kindExpand:
		return in.compress(regs, dst), nil
	case kindMovdir64b, kindEnqcmd:
		// 64 bytes read at the ModRM address, written at ES:[reg]; what
		// ENQCMD's device portal stores is the device's: a bound.
		a := in.addr(&in.mem[0], regs)
		b := in.addr(&in.mem[1], regs)
		return append(dst, Access{Addr: a, Size: 64, Read: true}, Access{Addr: b, Size: 64, Write: true, Partial: in.kind == kindEnqcmd}), nil
	case kindTile:
		return in.tileRows(regs, dst), nil
	case kindClzero:
		a := regs.Reg(RAX)
		if in.addr32 {
			a = uint64(uint32(a))
		}
		return append(dst, Access{Addr: a &^ 63, Size: 64, Write: true}), nil
	}
	return dst, undecodable(in.code[:in.codeLen], "kind %d not handled", in.kind)
}

// stackAccesses appends the accesses of the stack and branch kinds:
// PUSH, POP, CALL, RET, ENTER, LEAVE, IRET and the far transfers.
func (in *Inst) stackAccesses(cpu *x86cpu.CPU, regs Registers, dst []Access) []Access {
	sp, n := regs.Reg(RSP), uint64(in.opSize)
	switch in.kind {
	case kindPush:
		if in.nmem > 0 { // PUSH [m]: RSP-based addresses use RSP before the push
			dst = in.plain(&in.mem[0], regs, dst)
		}
		return append(dst, Access{Addr: sp - n, Size: int(n), Write: true})
	case kindPop:
		dst = append(dst, Access{Addr: sp, Size: int(n), Read: true})
		if in.nmem > 0 {
			// POP [m] computes an RSP-based address after the pop has
			// incremented RSP (SDM POP).
			m := in.mem[0]
			a := in.addr(&m, regs)
			if m.base == RSP {
				a += n
			}
			dst = append(dst, Access{Addr: a, Size: int(m.size), Write: true})
		}
		return dst
	case kindCall:
		if in.nmem > 0 {
			dst = in.plain(&in.mem[0], regs, dst)
		}
		return append(dst, Access{Addr: sp - 8, Size: 8, Write: true})
	case kindRet:
		// Near RET pops 64 bits in long mode whatever the operand size
		// (Intel ignores 0x66 on near branches; so do CALL's pushes).
		return append(dst, Access{Addr: sp, Size: 8, Read: true})
	case kindEnter:
		return in.enter(regs, dst)
	case kindLeave:
		return append(dst, Access{Addr: regs.Reg(RBP), Size: int(n), Read: true})
	case kindIret:
		// RIP, CS, RFLAGS, RSP, SS, one slot each; of the CS and SS
		// slots the debug hardware sees what the vendor reads
		// (appendSelectorSlot).
		dst = append(dst, Access{Addr: sp, Size: int(n), Read: true})
		dst = appendSelectorSlot(cpu, dst, sp+n, n, false)
		dst = append(dst, Access{Addr: sp + 2*n, Size: int(2 * n), Read: true})
		return appendSelectorSlot(cpu, dst, sp+4*n, n, false)
	case kindFarRet:
		dst = append(dst, Access{Addr: sp, Size: int(n), Read: true})
		return appendSelectorSlot(cpu, dst, sp+n, n, false)
	case kindFarCall:
		// Pushes CS, then the return address: CS's slot at RSP-2n.
		if in.nmem > 0 {
			dst = in.farPointer(cpu, regs, dst)
		}
		dst = appendSelectorSlot(cpu, dst, sp-2*n, n, true)
		return append(dst, Access{Addr: sp - n, Size: int(n), Write: true})
	case kindFarJump:
		if in.nmem > 0 {
			dst = in.farPointer(cpu, regs, dst)
		}
	}
	return dst
}

// tileRows appends the rows of an AMX tile load or store: one 64-byte
// bound per possible row at base + row * stride (the SIB index scaled),
// since the tile configuration that says how many rows and bytes is not
// a register insn can read.
func (in *Inst) tileRows(regs Registers, dst []Access) []Access {
	m := in.mem[0]
	var stride uint64
	if m.index != regNone {
		stride = regs.Reg(m.index) * uint64(m.scale)
	}
	m.index = regNone
	base := in.addr(&m, regs)
	read, write := m.act&actR != 0, m.act&actW != 0
	for row := uint64(0); row < 16; row++ {
		a := Access{Addr: base + row*stride, Size: 64, Read: read, Write: write, Partial: true}
		if row > 0 && stride == 0 {
			break
		}
		dst = append(dst, a)
	}
	return dst
}

// addr computes seg:[base + index*scale + disp] for a general-register
// operand. The address size truncates the effective address before the
// FS/GS base is added (SDM vol. 1 "Address Calculations in 64-Bit Mode").
func (in *Inst) addr(m *memOperand, regs Registers) uint64 {
	return in.addrPlus(m, regs, 0)
}

// addrPlus is addr with extra added to the effective address (a gather
// index, a bit-string offset).
func (in *Inst) addrPlus(m *memOperand, regs Registers, extra uint64) uint64 {
	ea := uint64(m.disp) + extra
	switch m.base {
	case regNone:
	case RIP:
		ea += regs.Reg(RIP) + uint64(in.Len)
	default:
		ea += regs.Reg(m.base)
	}
	if m.index != regNone && !m.vindex {
		ea += regs.Reg(m.index) * uint64(m.scale)
	}
	if in.addr32 {
		ea = uint64(uint32(ea))
	}
	if m.seg != regNone {
		ea += regs.Reg(m.seg)
	}
	return ea
}

// plain appends the access of an explicit operand, applying the bit-string
// offset of BT* and an EVEX writemask.
func (in *Inst) plain(m *memOperand, regs Registers, dst []Access) []Access {
	size := uint64(m.size)
	var extra uint64
	if in.kind == kindBitString && in.bitReg != regNone {
		// The offset is a signed integer of the operand size; the CPU
		// accesses the operand-sized word holding the bit (SDM BT).
		off := int64(regs.Reg(in.bitReg))
		switch size {
		case 2:
			off = int64(int16(off))
		case 4:
			off = int64(int32(off))
		}
		extra = uint64((off >> bits.TrailingZeros64(size*8)) * int64(size))
	}
	acc := Access{Addr: in.addrPlus(m, regs, extra), Size: int(size), Read: m.act&actR != 0, Write: m.act&actW != 0}
	if in.kmask == 0 {
		return append(dst, acc)
	}
	return in.masked(acc, uint64(in.elem), regs, dst)
}

// masked splits acc into the elements selected by the EVEX writemask,
// merging adjacent ones. Without the mask value or the element size it
// gives acc as a Partial bound.
func (in *Inst) masked(acc Access, elem uint64, regs Registers, dst []Access) []Access {
	vr, ok := regs.(VectorRegisters)
	var k uint64
	if ok {
		k, ok = vr.Opmask(int(in.kmask))
	}
	if !ok || elem == 0 || uint64(acc.Size) < elem {
		acc.Partial = true
		return append(dst, acc)
	}
	n := uint64(acc.Size) / elem
	return appendMaskRuns(dst, acc, elem, n, func(i uint64) bool { return k>>i&1 != 0 })
}

// appendMaskRuns appends the runs of consecutive selected elements of acc.
func appendMaskRuns(dst []Access, acc Access, elem, n uint64, sel func(uint64) bool) []Access {
	for i := uint64(0); i < n; {
		if !sel(i) {
			i++
			continue
		}
		j := i + 1
		for j < n && sel(j) {
			j++
		}
		r := acc
		r.Addr = acc.Addr + i*elem
		r.Size = int((j - i) * elem)
		dst = append(dst, r)
		i = j
	}
	return dst
}

func (in *Inst) enter(regs Registers, dst []Access) []Access {
	sp, bp := regs.Reg(RSP), regs.Reg(RBP)
	size := uint64(in.opSize)
	level := uint64(in.imm2 & 31)
	if level > 1 {
		// Copies level-1 frame pointers from the caller's display.
		dst = append(dst, Access{Addr: bp - (level-1)*size, Size: int((level - 1) * size), Read: true})
	}
	pushes := uint64(1)
	if level > 0 {
		pushes = level + 1
	}
	return append(dst, Access{Addr: sp - pushes*size, Size: int(pushes * size), Write: true})
}

func (in *Inst) stringAccesses(regs Registers, dst []Access, step bool) []Access {
	n := uint64(1)
	if in.rep != 0 {
		n = regs.Reg(RCX)
		if in.addr32 {
			n = uint64(uint32(n))
		}
		if n == 0 {
			return dst
		}
		if step {
			n = 1
		}
	}
	elem := uint64(in.elem)
	partial := false
	// REPE/REPNE on CMPS/SCAS may stop early.
	if n > 1 && in.mem[0].act == actR && (in.nmem == 1 && in.mem[0].base == RDI || in.nmem == 2 && in.mem[1].act == actR) {
		partial = true
	}
	total := n * elem
	if n > maxRange/elem {
		total, partial = maxRange, true
	}
	down := regs.Reg(RFLAGS)&dfFlag != 0
	for _, m := range in.mem[:in.nmem] {
		a := regs.Reg(m.base)
		if in.addr32 {
			a = uint64(uint32(a))
		}
		if m.seg != regNone {
			a += regs.Reg(m.seg)
		}
		if down {
			a = a + elem - total
		}
		dst = append(dst, Access{Addr: a, Size: int(total), Read: m.act&actR != 0, Write: m.act&actW != 0, Partial: partial})
	}
	return dst
}

// gather computes per-element addresses base + disp + index[i]*scale.
func (in *Inst) gather(regs Registers, dst []Access) []Access {
	m := &in.mem[0]
	write := in.kind == kindScatter
	elem, ixElem, n := uint64(in.elem), int(in.ixElem), int(in.nelem)
	vr, ok := regs.(VectorRegisters)
	var k uint64
	if ok && in.kmask != 0 {
		k, ok = vr.Opmask(int(in.kmask))
	}
	if ok {
		start := len(dst)
		for i := 0; i < n && ok; i++ {
			if in.kmask != 0 {
				if k>>i&1 == 0 {
					continue
				}
			} else {
				var mv uint64
				mv, ok = vr.VectorElement(int(in.vmask), i, int(elem))
				if mv>>(8*elem-1)&1 == 0 {
					continue
				}
			}
			var ix uint64
			ix, ok = vr.VectorElement(int(m.index), i, ixElem)
			if ixElem == 4 {
				ix = uint64(int64(int32(ix)))
			}
			a := in.addrPlus(m, regs, ix*uint64(m.scale))
			dst = append(dst, Access{Addr: a, Size: int(elem), Read: !write, Write: write})
		}
		if ok {
			return dst
		}
		dst = dst[:start]
	}
	// No register values: every element lies within base + any index.
	base := in.addr(m, regs)
	lo, size := uint64(0), uint64(maxRange)
	if ixElem == 4 && !in.addr32 {
		span := uint64(1) << 31 * uint64(m.scale)
		lo, size = base-span, 2*span+elem
	}
	return append(dst, Access{Addr: lo, Size: int(size), Read: !write, Write: write, Partial: true})
}

func regsSeg(m *memOperand, regs Registers) uint64 {
	if m.seg == regNone {
		return 0
	}
	return regs.Reg(m.seg)
}

// vectorMasked handles VMASKMOV*/VPMASKMOV*: the mask is the sign bit of
// each element of a vector register. Stores touch only the selected
// elements on every CPU measured. Loads: Intel's debug hardware sees only
// the selected elements; AMD's sees the whole operand read, whatever the
// mask (hwcheck_test.go "vpmaskmovd load"); another vendor's gets the
// selected elements and the whole operand as a bound.
func (in *Inst) vectorMasked(cpu *x86cpu.CPU, regs Registers, dst []Access) []Access {
	m := &in.mem[0]
	acc := Access{Addr: in.addr(m, regs), Size: int(m.size), Read: m.act&actR != 0, Write: m.act&actW != 0}
	if acc.Read && !acc.Write && cpu.Vendor == x86cpu.AMD {
		return append(dst, acc)
	}
	vr, ok := regs.(VectorRegisters)
	if !ok {
		acc.Partial = true
		return append(dst, acc)
	}
	elem := uint64(in.elem)
	n := uint64(acc.Size) / elem
	var mask uint64
	for i := uint64(0); i < n; i++ {
		v, ok := vr.VectorElement(int(in.vmask), int(i), int(elem))
		if !ok {
			acc.Partial = true
			return append(dst, acc)
		}
		mask |= (v >> (8*elem - 1) & 1) << i
	}
	dst = appendMaskRuns(dst, acc, elem, n, func(i uint64) bool { return mask>>i&1 != 0 })
	if acc.Read && !acc.Write && cpu.Vendor != x86cpu.Intel {
		acc.Partial = true
		dst = append(dst, acc)
	}
	return dst
}

// maskMovImplicit handles MASKMOVQ and MASKMOVDQU: a store to [RDI] of
// the bytes whose mask byte has its top bit set. Intel's debug hardware
// matches the whole 8 or 16 bytes whatever the mask; AMD's only the
// bytes stored, none for a zero mask (hwcheck_test.go "maskmovdqu");
// another vendor's gets the whole range as a bound, confirmed by
// comparing values. So does Intel's with a zero mask, where the SDM lets
// the CPU touch memory or not.
func (in *Inst) maskMovImplicit(cpu *x86cpu.CPU, regs Registers, dst []Access) []Access {
	m := &in.mem[0]
	a := regs.Reg(RDI)
	if in.addr32 {
		a = uint64(uint32(a))
	}
	acc := Access{Addr: a + regsSeg(m, regs), Size: int(m.size), Write: true}
	mask, ok := in.byteMask(regs, int(m.size))
	switch {
	case cpu.Vendor == x86cpu.Intel && (!ok || mask != 0):
		return append(dst, acc)
	case cpu.Vendor == x86cpu.AMD && ok:
		return appendMaskRuns(dst, acc, 1, uint64(m.size), func(i uint64) bool { return mask>>i&1 != 0 })
	}
	acc.Partial = true
	return append(dst, acc)
}

// byteMask reads the byte mask of MASKMOVQ (an MMX register) or
// MASKMOVDQU (an XMM register): bit i is the top bit of byte i.
func (in *Inst) byteMask(regs Registers, n int) (uint64, bool) {
	var mask uint64
	if n == 8 {
		mr, ok := regs.(MMXRegisters)
		if !ok {
			return 0, false
		}
		v, ok := mr.MMX(int(in.vmask))
		if !ok {
			return 0, false
		}
		for i := uint64(0); i < 8; i++ {
			mask |= (v >> (8*i + 7) & 1) << i
		}
		return mask, true
	}
	vr, ok := regs.(VectorRegisters)
	if !ok {
		return 0, false
	}
	for i := 0; i < n; i++ {
		v, ok := vr.VectorElement(int(in.vmask), i, 1)
		if !ok {
			return 0, false
		}
		mask |= (v >> 7 & 1) << i
	}
	return mask, true
}

// appendSelectorSlot appends the access to the n-byte stack slot at addr
// that holds a segment selector (the CS and SS slots of IRET, far RET and
// far CALL). What the debug hardware sees of it is the vendor's: Intel
// reads only the 2-byte selector of IRET's and far RET's slots; AMD reads
// and writes the whole slot (hwcheck_test.go "iretq", "lret", "lcall").
// Intel's far CALL writes at least the selector, and the SDM leaves the
// rest of the slot open ("may write only the selector"), so the rest is
// a bound there; so is every byte past the selector on another vendor.
func appendSelectorSlot(cpu *x86cpu.CPU, dst []Access, addr, n uint64, write bool) []Access {
	a := Access{Addr: addr, Size: int(n), Read: !write, Write: write}
	if cpu.Vendor == x86cpu.AMD || n <= 2 {
		return append(dst, a)
	}
	a.Size = 2
	dst = append(dst, a)
	if cpu.Vendor == x86cpu.Intel && !write {
		return dst
	}
	return append(dst, Access{Addr: addr + 2, Size: int(n - 2), Read: !write, Write: write, Partial: true})
}

// farPointer appends the read of the far pointer (offset, then a 2-byte
// selector) of a far CALL or JMP through memory. With REX.W, Intel reads
// an m16:64; AMD ignores REX.W there and reads an m16:32 (while the
// stack slots of its far CALL are 8 bytes: hwcheck_test.go "lcall
// rex.w"); another vendor's m16:64 bytes past an m16:32 are a bound.
func (in *Inst) farPointer(cpu *x86cpu.CPU, regs Registers, dst []Access) []Access {
	mm := in.mem[0]
	n := uint32(in.opSize)
	if n == 8 && cpu.Vendor != x86cpu.Intel {
		n = 4
	}
	mm.size = n + 2
	dst = in.plain(&mm, regs, dst)
	if uint32(in.opSize) != n && cpu.Vendor != x86cpu.AMD {
		last := &dst[len(dst)-1]
		dst = append(dst, Access{Addr: last.End(), Size: int(in.opSize) - int(n), Read: true, Partial: true})
	}
	return dst
}

// compress handles VCOMPRESS*/VEXPAND*: the selected elements are packed
// at the start of the memory operand.
func (in *Inst) compress(regs Registers, dst []Access) []Access {
	m := &in.mem[0]
	acc := Access{Addr: in.addr(m, regs), Size: int(m.size), Read: m.act&actR != 0, Write: m.act&actW != 0}
	elem := uint64(in.elem)
	if in.kmask == 0 || elem == 0 {
		return append(dst, acc) // k0: all elements
	}
	vr, ok := regs.(VectorRegisters)
	var k uint64
	if ok {
		k, ok = vr.Opmask(int(in.kmask))
	}
	if !ok {
		acc.Partial = true
		return append(dst, acc)
	}
	n := uint64(acc.Size) / elem
	if n < 64 {
		k &= 1<<n - 1
	}
	cnt := uint64(bits.OnesCount64(k))
	if cnt == 0 {
		return dst
	}
	acc.Size = int(cnt * elem)
	return append(dst, acc)
}
