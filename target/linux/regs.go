package linux

import (
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// The register file, in the order of GDB's amd64 Linux target description
// (gdb/features/i386/64bit-{core,sse,linux,segments,avx}.xml, checked
// against what GNU gdbserver 13 sends on this machine). Offsets are bytes
// into the buffer of ReadRegisters.
const (
	offRIP     = 16 * 8          // after rax..r15
	offEflags  = offRIP + 8      // 32 bits
	offSegs    = offEflags + 4   // cs ss ds es fs gs, 32 bits each
	offST      = offSegs + 6*4   // st0..st7, 10 bytes each
	offFctrl   = offST + 8*10    // fctrl fstat ftag fiseg fioff foseg fooff fop
	offXMM     = offFctrl + 8*4  // xmm0..xmm15
	offMXCSR   = offXMM + 16*16  // 32 bits
	offOrigRAX = offMXCSR + 4    // org.gnu.gdb.i386.linux
	offFSBase  = offOrigRAX + 8  // org.gnu.gdb.i386.segments
	offGSBase  = offFSBase + 8   //
	offYMMH    = offGSBase + 8   // org.gnu.gdb.i386.avx: ymm0h..ymm15h
	sizeNoAVX  = offYMMH         // 560
	sizeAVX    = offYMMH + 16*16 // 816
	fxsaveSize = 512             // the legacy area of fxsave and xsave
	xsaveHdrBV = 512             // XSTATE_BV in the xsave header
	ymmHOffset = 576             // YMM_Hi128 in the standard xsave format (CPUID 0xD.2 EBX, architectural)
	xstateMax  = 16 << 10        // larger than any xsave area (AMX included)
	rfFlag     = 1 << 16         // EFLAGS.RF
	xfeatureFP = 1 | 2           // x87 and SSE in XSTATE_BV
	xfeatureYM = 4               // AVX (YMM_Hi128) in XSTATE_BV
)

var describeOnce = sync.OnceValue(func() *target.Description { return describe(cpu.X86.HasAVX) })

// description returns the register layout of this machine: with the AVX
// feature when the CPU and the kernel support it.
func description() *target.Description { return describeOnce() }

func describe(avx bool) *target.Description {
	reg := func(name string, bits int, typ, group string) target.Register {
		return target.Register{Name: name, Bits: bits, Type: typ, Group: group}
	}
	boolField := func(name string, bit int) target.Field {
		return target.Field{Name: name, Type: "bool", Start: bit, End: bit}
	}
	core := target.Feature{Name: "org.gnu.gdb.i386.core"}
	core.Types = []target.Type{{
		Kind: target.TypeFlags, ID: "i386_eflags", Size: 4,
		Fields: []target.Field{
			boolField("CF", 0), boolField("", 1), boolField("PF", 2), boolField("AF", 4),
			boolField("ZF", 6), boolField("SF", 7), boolField("TF", 8), boolField("IF", 9),
			boolField("DF", 10), boolField("OF", 11), boolField("NT", 14), boolField("RF", 16),
			boolField("VM", 17), boolField("AC", 18), boolField("VIF", 19), boolField("VIP", 20),
			boolField("ID", 21),
		},
	}}
	for _, n := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"} {
		typ := "int64"
		if n == "rbp" || n == "rsp" {
			typ = "data_ptr"
		}
		core.Registers = append(core.Registers, reg(n, 64, typ, ""))
	}
	core.Registers = append(core.Registers, reg("rip", 64, "code_ptr", ""), reg("eflags", 32, "i386_eflags", ""))
	for _, n := range []string{"cs", "ss", "ds", "es", "fs", "gs"} {
		core.Registers = append(core.Registers, reg(n, 32, "int32", ""))
	}
	for i := 0; i < 8; i++ {
		core.Registers = append(core.Registers, reg(fmt.Sprintf("st%d", i), 80, "i387_ext", ""))
	}
	for _, n := range []string{"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"} {
		core.Registers = append(core.Registers, reg(n, 32, "int", "float"))
	}

	sse := target.Feature{Name: "org.gnu.gdb.i386.sse"}
	vec := func(id, elem string, n int) target.Type {
		return target.Type{Kind: target.TypeVector, ID: id, Elem: elem, Count: n}
	}
	sse.Types = []target.Type{
		vec("v8bf16", "bfloat16", 8), vec("v8h", "ieee_half", 8), vec("v4f", "ieee_single", 4),
		vec("v2d", "ieee_double", 2), vec("v16i8", "int8", 16), vec("v8i16", "int16", 8),
		vec("v4i32", "int32", 4), vec("v2i64", "int64", 2),
		{Kind: target.TypeUnion, ID: "vec128", Fields: []target.Field{
			{Name: "v8_bfloat16", Type: "v8bf16"}, {Name: "v8_half", Type: "v8h"},
			{Name: "v4_float", Type: "v4f"}, {Name: "v2_double", Type: "v2d"},
			{Name: "v16_int8", Type: "v16i8"}, {Name: "v8_int16", Type: "v8i16"},
			{Name: "v4_int32", Type: "v4i32"}, {Name: "v2_int64", Type: "v2i64"},
			{Name: "uint128", Type: "uint128"},
		}},
		{Kind: target.TypeFlags, ID: "i386_mxcsr", Size: 4, Fields: []target.Field{
			boolField("IE", 0), boolField("DE", 1), boolField("ZE", 2), boolField("OE", 3),
			boolField("UE", 4), boolField("PE", 5), boolField("DAZ", 6), boolField("IM", 7),
			boolField("DM", 8), boolField("ZM", 9), boolField("OM", 10), boolField("UM", 11),
			boolField("PM", 12), boolField("FZ", 15),
		}},
	}
	for i := 0; i < 16; i++ {
		sse.Registers = append(sse.Registers, reg(fmt.Sprintf("xmm%d", i), 128, "vec128", ""))
	}
	sse.Registers = append(sse.Registers, reg("mxcsr", 32, "i386_mxcsr", "vector"))

	d := &target.Description{
		Architecture: "i386:x86-64",
		OSABI:        "GNU/Linux",
		Features: []target.Feature{
			core, sse,
			{Name: "org.gnu.gdb.i386.linux", Registers: []target.Register{reg("orig_rax", 64, "int", "")}},
			{Name: "org.gnu.gdb.i386.segments", Registers: []target.Register{
				reg("fs_base", 64, "int", ""), reg("gs_base", 64, "int", "")}},
		},
	}
	if avx {
		f := target.Feature{Name: "org.gnu.gdb.i386.avx"}
		for i := 0; i < 16; i++ {
			f.Registers = append(f.Registers, reg(fmt.Sprintf("ymm%dh", i), 128, "uint128", ""))
		}
		d.Features = append(d.Features, f)
	}
	return d.Finish()
}

// regCache holds one stopped thread's registers, fetched lazily per group
// and kept until the thread resumes. Owned by the tracer goroutine.
type regCache struct {
	gp      unix.PtraceRegs
	gpValid bool
	gpDirty bool
	// fx is the xsave area (NT_X86_XSTATE) when the description has AVX,
	// else the 512-byte fxsave area (PTRACE_GETFPREGS). Its first 512
	// bytes are the fxsave layout either way.
	fx      []byte
	fxValid bool
	fxDirty bool
}

func (c *regCache) invalidate() {
	c.gpValid, c.gpDirty, c.fxValid, c.fxDirty = false, false, false, false
}

var le = binary.LittleEndian

// gpSlots lists the general registers in description order with their
// place in user_regs_struct, and their width in the register file.
func gpSlots(r *unix.PtraceRegs) []struct {
	off  int
	v    *uint64
	bits int
} {
	return []struct {
		off  int
		v    *uint64
		bits int
	}{
		{0, &r.Rax, 64}, {8, &r.Rbx, 64}, {16, &r.Rcx, 64}, {24, &r.Rdx, 64},
		{32, &r.Rsi, 64}, {40, &r.Rdi, 64}, {48, &r.Rbp, 64}, {56, &r.Rsp, 64},
		{64, &r.R8, 64}, {72, &r.R9, 64}, {80, &r.R10, 64}, {88, &r.R11, 64},
		{96, &r.R12, 64}, {104, &r.R13, 64}, {112, &r.R14, 64}, {120, &r.R15, 64},
		{offRIP, &r.Rip, 64}, {offEflags, &r.Eflags, 32},
		{offSegs, &r.Cs, 32}, {offSegs + 4, &r.Ss, 32}, {offSegs + 8, &r.Ds, 32},
		{offSegs + 12, &r.Es, 32}, {offSegs + 16, &r.Fs, 32}, {offSegs + 20, &r.Gs, 32},
		{offOrigRAX, &r.Orig_rax, 64}, {offFSBase, &r.Fs_base, 64}, {offGSBase, &r.Gs_base, 64},
	}
}

// putGP stores the general registers into the register file buf.
func putGP(buf []byte, r *unix.PtraceRegs) {
	for _, s := range gpSlots(r) {
		if s.bits == 64 {
			le.PutUint64(buf[s.off:], *s.v)
		} else {
			le.PutUint32(buf[s.off:], uint32(*s.v))
		}
	}
}

// getGP reads the general registers from buf into r (32-bit registers
// replace the low half and clear the rest, as gdbserver does).
func getGP(buf []byte, r *unix.PtraceRegs) {
	for _, s := range gpSlots(r) {
		if s.bits == 64 {
			*s.v = le.Uint64(buf[s.off:])
		} else {
			*s.v = uint64(le.Uint32(buf[s.off:]))
		}
	}
}

// fxsave layout (Intel SDM vol. 1, 10.5.1, 64-bit format).
const (
	fxFCW   = 0
	fxFSW   = 2
	fxFTW   = 4 // abridged tag: one bit per physical register, 1 = valid
	fxFOP   = 6
	fxFIP   = 8  // 64-bit FPU instruction pointer
	fxFDP   = 16 // 64-bit FPU data pointer
	fxMXCSR = 24
	fxST    = 32  // st0..st7 in 16-byte slots
	fxXMM   = 160 // xmm0..xmm15
)

// putFP stores the x87 and SSE registers of the fxsave area fx into buf,
// converting as gdb does for amd64 (gdb/i387-tdep.c i387_supply_fxsave,
// amd64_supply_fxsave): the full tag word is rebuilt from the abridged one
// and the register contents, and fiseg/fioff, foseg/fooff are the high and
// low halves of the 64-bit FIP and FDP.
func putFP(buf []byte, fx []byte) {
	for i := 0; i < 8; i++ {
		copy(buf[offST+10*i:offST+10*i+10], fx[fxST+16*i:])
	}
	fsw := le.Uint16(fx[fxFSW:])
	le.PutUint32(buf[offFctrl:], uint32(le.Uint16(fx[fxFCW:])))
	le.PutUint32(buf[offFctrl+4:], uint32(fsw))
	le.PutUint32(buf[offFctrl+8:], uint32(fullTag(fx[fxFTW], fsw, fx[fxST:])))
	le.PutUint32(buf[offFctrl+12:], le.Uint32(fx[fxFIP+4:])) // fiseg
	le.PutUint32(buf[offFctrl+16:], le.Uint32(fx[fxFIP:]))   // fioff
	le.PutUint32(buf[offFctrl+20:], le.Uint32(fx[fxFDP+4:])) // foseg
	le.PutUint32(buf[offFctrl+24:], le.Uint32(fx[fxFDP:]))   // fooff
	le.PutUint32(buf[offFctrl+28:], uint32(le.Uint16(fx[fxFOP:])&0x7ff))
	copy(buf[offXMM:offXMM+16*16], fx[fxXMM:])
	le.PutUint32(buf[offMXCSR:], le.Uint32(fx[fxMXCSR:]))
}

// getFP stores the x87 and SSE registers of buf into the fxsave area fx
// (the inverse of putFP; the abridged tag keeps "valid" for every
// register whose full tag is not 3, empty).
func getFP(buf []byte, fx []byte) {
	for i := 0; i < 8; i++ {
		copy(fx[fxST+16*i:fxST+16*i+10], buf[offST+10*i:])
	}
	le.PutUint16(fx[fxFCW:], uint16(le.Uint32(buf[offFctrl:])))
	le.PutUint16(fx[fxFSW:], uint16(le.Uint32(buf[offFctrl+4:])))
	tag := le.Uint32(buf[offFctrl+8:])
	var abridged byte
	for i := 0; i < 8; i++ {
		if (tag>>(2*i))&3 != 3 {
			abridged |= 1 << i
		}
	}
	fx[fxFTW] = abridged
	le.PutUint32(fx[fxFIP+4:], le.Uint32(buf[offFctrl+12:]))
	le.PutUint32(fx[fxFIP:], le.Uint32(buf[offFctrl+16:]))
	le.PutUint32(fx[fxFDP+4:], le.Uint32(buf[offFctrl+20:]))
	le.PutUint32(fx[fxFDP:], le.Uint32(buf[offFctrl+24:]))
	fop := le.Uint16(fx[fxFOP:])&^0x7ff | uint16(le.Uint32(buf[offFctrl+28:]))&0x7ff
	le.PutUint16(fx[fxFOP:], fop)
	copy(fx[fxXMM:fxXMM+16*16], buf[offXMM:])
	le.PutUint32(fx[fxMXCSR:], le.Uint32(buf[offMXCSR:]))
}

// fullTag rebuilds the x87 tag word (2 bits per physical register: 0
// valid, 1 zero, 2 special, 3 empty) from the abridged fxsave tag. st
// holds the registers in stack order (ST(i) in 16-byte slot i); physical
// register p is ST((p - TOP) mod 8).
func fullTag(abridged byte, fsw uint16, st []byte) uint16 {
	top := int(fsw>>11) & 7
	var tag uint16
	for p := 0; p < 8; p++ {
		var t uint16 = 3
		if abridged&(1<<p) != 0 {
			r := st[16*((p-top+8)%8):]
			exp := le.Uint16(r[8:]) & 0x7fff
			mant := le.Uint64(r[0:])
			switch {
			case exp == 0x7fff:
				t = 2
			case exp == 0:
				if mant == 0 {
					t = 1
				} else {
					t = 2
				}
			case mant&(1<<63) != 0:
				t = 0
			default:
				t = 2
			}
		}
		tag |= t << (2 * p)
	}
	return tag
}

// putYMMH stores the upper halves of ymm0..15 from the xsave area; a
// component the hardware holds in its initial state (XSTATE_BV bit clear)
// reads as zeros.
func putYMMH(buf []byte, xs []byte) {
	dst := buf[offYMMH : offYMMH+16*16]
	if len(xs) < ymmHOffset+256 || le.Uint64(xs[xsaveHdrBV:])&xfeatureYM == 0 {
		clear(dst)
		return
	}
	copy(dst, xs[ymmHOffset:])
}

func getYMMH(buf []byte, xs []byte) {
	copy(xs[ymmHOffset:ymmHOffset+256], buf[offYMMH:])
	bv := le.Uint64(xs[xsaveHdrBV:])
	le.PutUint64(xs[xsaveHdrBV:], bv|xfeatureYM)
}
