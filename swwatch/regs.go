package swwatch

import (
	"encoding/binary"
	"fmt"

	"gdbserverx/swwatch/insn"
	"gdbserverx/target"
)

// layout is where the registers the engine needs sit in the target's
// register file (target.Description); found once, at New.
type layout struct {
	size    int
	gp      [insn.RIP + 1]int // insn.RAX..insn.R15, insn.RIP
	eflags  int               // 32 bits in the file
	fsBase  int
	gsBase  int
	origRAX int
	xmm     [16]int // low 128 bits of ymm0-15
	ymmh    [16]int // high 128 bits; -1 without AVX
}

// gpNames are the names of insn.RAX..insn.R15 and insn.RIP in a GDB
// amd64 target description.
var gpNames = [...]string{
	"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip",
}

func newLayout(d *target.Description) (*layout, error) {
	l := &layout{size: d.Size()}
	find := func(name string, bits int) (int, error) {
		r, ok := d.Lookup(name)
		if !ok {
			return 0, fmt.Errorf("register description has no %s", name)
		}
		if r.Bits != bits {
			return 0, fmt.Errorf("register %s has %d bits, want %d", name, r.Bits, bits)
		}
		return r.Offset, nil
	}
	var err error
	for i, n := range gpNames {
		if l.gp[i], err = find(n, 64); err != nil {
			return nil, err
		}
	}
	if l.eflags, err = find("eflags", 32); err != nil {
		return nil, err
	}
	if l.fsBase, err = find("fs_base", 64); err != nil {
		return nil, err
	}
	if l.gsBase, err = find("gs_base", 64); err != nil {
		return nil, err
	}
	if l.origRAX, err = find("orig_rax", 64); err != nil {
		return nil, err
	}
	for i := range l.xmm {
		if l.xmm[i], err = find(fmt.Sprintf("xmm%d", i), 128); err != nil {
			return nil, err
		}
		l.ymmh[i] = -1
		if r, ok := d.Lookup(fmt.Sprintf("ymm%dh", i)); ok && r.Bits == 128 {
			l.ymmh[i] = r.Offset
		}
	}
	return l, nil
}

var le = binary.LittleEndian

// regs is one thread's register file as the target gives it, read
// through the layout. It implements insn.Registers and
// insn.VectorRegisters.
type regs struct {
	l   *layout
	buf []byte
}

// Reg returns r for insn.
func (r *regs) Reg(n insn.Reg) uint64 {
	switch {
	case n <= insn.RIP:
		return le.Uint64(r.buf[r.l.gp[n]:])
	case n == insn.RFLAGS:
		return uint64(le.Uint32(r.buf[r.l.eflags:]))
	case n == insn.FSBase:
		return le.Uint64(r.buf[r.l.fsBase:])
	case n == insn.GSBase:
		return le.Uint64(r.buf[r.l.gsBase:])
	case n == insn.XCR0:
		return xcr0()
	}
	return 0
}

func (r *regs) set(n insn.Reg, v uint64) { le.PutUint64(r.buf[r.l.gp[n]:], v) }

func (r *regs) pc() uint64      { return r.Reg(insn.RIP) }
func (r *regs) sp() uint64      { return r.Reg(insn.RSP) }
func (r *regs) origRAX() uint64 { return le.Uint64(r.buf[r.l.origRAX:]) }
func (r *regs) setOrigRAX(v uint64) {
	le.PutUint64(r.buf[r.l.origRAX:], v)
}

// syscallArgs are the six argument registers of the x86-64 Linux system
// call convention.
func (r *regs) syscallArgs() [6]uint64 {
	return [6]uint64{r.Reg(insn.RDI), r.Reg(insn.RSI), r.Reg(insn.RDX), r.Reg(insn.R10), r.Reg(insn.R8), r.Reg(insn.R9)}
}

// VectorElement gives insn the elements of xmm0-15 and ymm0-15 (the
// description has no zmm).
func (r *regs) VectorElement(n, i, size int) (uint64, bool) {
	off := i * size
	if n >= 16 || size <= 0 || size > 8 || off+size > 32 {
		return 0, false
	}
	var b []byte
	if off < 16 {
		b = r.buf[r.l.xmm[n]+off:]
	} else {
		if r.l.ymmh[n] < 0 {
			return 0, false
		}
		b = r.buf[r.l.ymmh[n]+off-16:]
	}
	var v uint64
	for j := size - 1; j >= 0; j-- {
		v = v<<8 | uint64(b[j])
	}
	return v, true
}

// Opmask: the description has no AVX-512 mask registers.
func (r *regs) Opmask(int) (uint64, bool) { return 0, false }

// xcr0 is XCR0 of this machine: the target runs on the same CPU and
// kernel as the server (insn.XCR0).
func xcr0() uint64 {
	eax, edx := xgetbv()
	return uint64(edx)<<32 | uint64(eax)
}

// xgetbv executes XGETBV with ECX 0 (xgetbv_amd64.s).
func xgetbv() (eax, edx uint32)
