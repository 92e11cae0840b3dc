package swwatch

import (
	"encoding/binary"
	"fmt"

	"gdbserverx/internal/x86cpu"
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
	fstat   int     // x87 status word (TOP), 32 bits in the file
	st      [8]int  // st0-7, 80 bits each, in stack order
	xmm     [32]int // low 128 bits of zmm0-31; -1 for xmm16-31 without AVX-512
	ymmh    [32]int // bits 128-255; -1 without AVX (0-15) or AVX-512 (16-31)
	zmmh    [32]int // bits 256-511; -1 without AVX-512
	k       [8]int  // opmask registers; -1 without AVX-512
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
	if l.fstat, err = find("fstat", 32); err != nil {
		return nil, err
	}
	for i := range l.st {
		if l.st[i], err = find(fmt.Sprintf("st%d", i), 80); err != nil {
			return nil, err
		}
	}
	// Optional registers, by their names in gdb's features
	// (org.gnu.gdb.i386.avx, .avx512): absent ones are -1.
	opt := func(name string, bits int) int {
		if r, ok := d.Lookup(name); ok && r.Bits == bits {
			return r.Offset
		}
		return -1
	}
	for i := range l.xmm {
		if i < 16 {
			if l.xmm[i], err = find(fmt.Sprintf("xmm%d", i), 128); err != nil {
				return nil, err
			}
		} else {
			l.xmm[i] = opt(fmt.Sprintf("xmm%d", i), 128)
		}
		l.ymmh[i] = opt(fmt.Sprintf("ymm%dh", i), 128)
		l.zmmh[i] = opt(fmt.Sprintf("zmm%dh", i), 256)
	}
	for i := range l.k {
		l.k[i] = opt(fmt.Sprintf("k%d", i), 64)
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

// VectorElement gives insn the elements of xmm, ymm and zmm 0-31, from
// the register file: the target reads them from the XSAVE image at the
// offsets CPUID gives (target/linux/regs.go), so that masks and gather
// indices are what the CPU holds on any vendor.
func (r *regs) VectorElement(n, i, size int) (uint64, bool) {
	off := i * size
	if n < 0 || n >= 32 || size <= 0 || size > 8 || off+size > 64 {
		return 0, false
	}
	var at int
	switch {
	case off < 16:
		at = r.l.xmm[n] + off
		if r.l.xmm[n] < 0 {
			return 0, false
		}
	case off < 32:
		at = r.l.ymmh[n] + off - 16
		if r.l.ymmh[n] < 0 {
			return 0, false
		}
	default:
		at = r.l.zmmh[n] + off - 32
		if r.l.zmmh[n] < 0 {
			return 0, false
		}
	}
	if off%16+size > 16 {
		return 0, false // an element across two registers of the file: none is
	}
	b := r.buf[at:]
	var v uint64
	for j := size - 1; j >= 0; j-- {
		v = v<<8 | uint64(b[j])
	}
	return v, true
}

// Opmask gives insn AVX-512 mask register k.
func (r *regs) Opmask(k int) (uint64, bool) {
	if k < 0 || k >= 8 || r.l.k[k] < 0 {
		return 0, false
	}
	return le.Uint64(r.buf[r.l.k[k]:]), true
}

// MMX gives insn mmN: x87 physical register n, which the register file
// holds in stack order (st(i) is physical (TOP+i) mod 8).
func (r *regs) MMX(n int) (uint64, bool) {
	if n < 0 || n >= 8 {
		return 0, false
	}
	top := int(le.Uint32(r.buf[r.l.fstat:])>>11) & 7
	return le.Uint64(r.buf[r.l.st[(n-top+8)%8]:]), true
}

// xcr0 is XCR0 of this machine: the target runs on the same CPU and
// kernel as the server (insn.XCR0).
func xcr0() uint64 { return x86cpu.Host().XCR0 }
