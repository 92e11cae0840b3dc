package insn

import "math/bits"

// maxRange bounds one Access: the user half of the address space. A REP
// count or an index that would reach past it gives a clipped, Partial
// range.
const maxRange = 1 << 47

// dfFlag is RFLAGS.DF: string instructions go down when set.
const dfFlag = 1 << 10

// Accesses appends to dst the memory ranges that in reads and writes when
// executed in full from the register state regs, and returns the
// extended slice. A REP string instruction is counted whole: RCX
// iterations, downwards when RFLAGS.DF is set. Ranges come in the order
// the instruction touches them where there is one (PUSH [m]: the read,
// then the stack write). Instructions that touch no memory give none.
//
// Accesses does not allocate when dst has room (16 entries cover every
// instruction but a 16-element gather or scatter).
func Accesses(in Inst, regs Registers, dst []Access) ([]Access, error) {
	return in.accesses(regs, dst, false)
}

// StepAccesses is Accesses for one single-step: a REP string instruction
// executes one iteration per step (the CPU takes the single-step trap
// after each iteration, SDM vol. 3 "Single-Step Exception Condition"; see
// hwcheck_test.go), so this reports one element at RSI/RDI, or nothing
// when RCX is 0. Every other instruction completes in one step and gets
// the same answer as from Accesses.
func StepAccesses(in Inst, regs Registers, dst []Access) ([]Access, error) {
	return in.accesses(regs, dst, true)
}

func (in *Inst) accesses(regs Registers, dst []Access, step bool) ([]Access, error) {
	switch in.kind {
	case kindFXSave, kindFXRstor, kindXSave, kindXSaveOpt, kindXSaveC, kindXRstor, kindGather, kindScatter,
		kindVMaskMov, kindCompress, kindExpand, kindCacheLine, kindMovdir64b:
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
	case kindPush:
		if in.nmem > 0 { // PUSH [m]: RSP-based addresses use RSP before the push
			dst = in.plain(&in.mem[0], regs, dst)
		}
		sp := regs.Reg(RSP)
		return append(dst, Access{Addr: sp - uint64(in.opSize), Size: int(in.opSize), Write: true}), nil
	case kindPop:
		sp := regs.Reg(RSP)
		dst = append(dst, Access{Addr: sp, Size: int(in.opSize), Read: true})
		if in.nmem > 0 {
			// POP [m] computes an RSP-based address after the pop has
			// incremented RSP (SDM POP).
			m := in.mem[0]
			a := in.addr(&m, regs)
			if m.base == RSP {
				a += uint64(in.opSize)
			}
			dst = append(dst, Access{Addr: a, Size: int(m.size), Write: true})
		}
		return dst, nil
	case kindCall:
		if in.nmem > 0 {
			dst = in.plain(&in.mem[0], regs, dst)
		}
		return append(dst, Access{Addr: regs.Reg(RSP) - 8, Size: 8, Write: true}), nil
	case kindRet:
		// Near RET pops 64 bits in long mode whatever the operand size
		// (Intel ignores 0x66 on near branches; so do CALL's pushes).
		return append(dst, Access{Addr: regs.Reg(RSP), Size: 8, Read: true}), nil
	case kindEnter:
		return in.enter(regs, dst), nil
	case kindLeave:
		return append(dst, Access{Addr: regs.Reg(RBP), Size: int(in.opSize), Read: true}), nil
	case kindIret:
		// RIP, CS, RFLAGS, RSP, SS, one slot each; only the 16-bit
		// selector of the CS and SS slots is read (hwcheck_test.go).
		sp, n := regs.Reg(RSP), uint64(in.opSize)
		return append(dst,
			Access{Addr: sp, Size: int(n), Read: true},
			Access{Addr: sp + n, Size: 2, Read: true},
			Access{Addr: sp + 2*n, Size: int(2 * n), Read: true},
			Access{Addr: sp + 4*n, Size: 2, Read: true}), nil
	case kindFarRet:
		sp, n := regs.Reg(RSP), uint64(in.opSize)
		return append(dst, Access{Addr: sp, Size: int(n), Read: true}, Access{Addr: sp + n, Size: 2, Read: true}), nil
	case kindFarCall:
		if in.nmem > 0 {
			dst = in.plain(&in.mem[0], regs, dst)
		}
		n := 2 * uint64(in.opSize)
		return append(dst, Access{Addr: regs.Reg(RSP) - n, Size: int(n), Write: true}), nil
	case kindFarJump:
		if in.nmem > 0 {
			dst = in.plain(&in.mem[0], regs, dst)
		}
		return dst, nil
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
		return append(dst, Access{Addr: a, Size: 28, Read: true}, Access{Addr: a + 32, Size: fxsaveWritten - 32, Read: true}), nil
	case kindXSave, kindXSaveOpt, kindXSaveC, kindXRstor:
		return in.xsave(regs, dst)
	case kindGather, kindScatter:
		return in.gather(regs, dst), nil
	case kindMaskMovImplicit:
		// The byte mask selects what is stored, but the debug hardware
		// matches the whole 8 or 16 bytes whatever the mask
		// (hwcheck_test.go "maskmovdqu"), and an emulated watchpoint
		// must fire where a hardware one would.
		m := &in.mem[0]
		a := regs.Reg(RDI)
		if in.addr32 {
			a = uint64(uint32(a))
		}
		return append(dst, Access{Addr: a + regsSeg(m, regs), Size: int(m.size), Write: true}), nil
	case kindVMaskMov:
		return in.vectorMasked(regs, dst), nil
	case kindCacheLine:
		// CLFLUSH, CLFLUSHOPT, CLWB: the debug hardware sees a one-byte
		// read at the operand (hwcheck_test.go), not the whole line.
		return append(dst, Access{Addr: in.addr(&in.mem[0], regs), Size: 1, Read: true}), nil
	case kindCompress, kindExpand:
		return in.compress(regs, dst), nil
	case kindMovdir64b:
		a := in.addr(&in.mem[0], regs)
		b := in.addr(&in.mem[1], regs)
		return append(dst, Access{Addr: a, Size: 64, Read: true}, Access{Addr: b, Size: 64, Write: true}), nil
	case kindClzero:
		a := regs.Reg(RAX)
		if in.addr32 {
			a = uint64(uint32(a))
		}
		return append(dst, Access{Addr: a &^ 63, Size: 64, Write: true}), nil
	}
	return dst, undecodable(in.code[:in.codeLen], "kind %d not handled", in.kind)
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
// each element of a vector register, and the debug hardware honours it
// (hwcheck_test.go).
func (in *Inst) vectorMasked(regs Registers, dst []Access) []Access {
	m := &in.mem[0]
	acc := Access{Addr: in.addr(m, regs), Size: int(m.size), Read: m.act&actR != 0, Write: m.act&actW != 0}
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
	return appendMaskRuns(dst, acc, elem, n, func(i uint64) bool { return mask>>i&1 != 0 })
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
