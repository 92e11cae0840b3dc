package linux

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/x86cpu"
	"gdbserverx/target"
)

// The register file, in the order of GDB's amd64 Linux target description
// (gdb/features/i386/64bit-{core,sse,linux,segments,avx,avx512,pkeys}.xml,
// checked against what GNU gdbserver 13 sends on this machine). Offsets
// are bytes into the buffer of ReadRegisters; those past offYMMH depend on
// the features present and are looked up in the description.
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
	// sizeAVX512: with org.gnu.gdb.i386.avx512 (xmm16-31, ymm16h-31h,
	// k0-7, zmm0h-31h).
	sizeAVX512 = sizeAVX + 16*16 + 16*16 + 8*8 + 32*32 // 2416
	fxsaveSize = x86cpu.LegacySize                     // the legacy area of fxsave and xsave
	xsaveHdrBV = x86cpu.HeaderOffset                   // XSTATE_BV in the xsave header
	xstateMax  = 16 << 10                              // larger than any xsave area (AMX included)
	xfeatureFP = 1<<x86cpu.CompX87 | 1<<x86cpu.CompSSE // x87 and SSE in XSTATE_BV
)

// features are the optional register groups of a description.
type features struct {
	avx    bool // org.gnu.gdb.i386.avx: XCR0 has AVX
	avx512 bool // org.gnu.gdb.i386.avx512: XCR0 has opmask, ZMM_Hi256 and Hi16_ZMM
	pkru   bool // org.gnu.gdb.i386.pkeys: XCR0 has PKRU
}

func (f features) String() string {
	s := "x87 sse"
	if f.avx {
		s += " avx"
	}
	if f.avx512 {
		s += " avx512"
	}
	if f.pkru {
		s += " pkeys"
	}
	return s
}

// descriptions are built once per set of features: every process of a
// server normally shares one.
var descriptions [8]struct {
	once sync.Once
	d    *target.Description
}

// description returns the register layout for the features f.
func description(f features) *target.Description {
	i := 0
	for b, on := range []bool{f.avx, f.avx512, f.pkru} {
		if on {
			i |= 1 << b
		}
	}
	e := &descriptions[i]
	e.once.Do(func() { e.d = describe(f) })
	return e.d
}

// describe builds the description of features f, one target feature per
// file of gdb's amd64 Linux description (gdb/features/i386/64bit-*.xml).
func describe(f features) *target.Description {
	d := &target.Description{
		Architecture: "i386:x86-64",
		OSABI:        "GNU/Linux",
		Features: []target.Feature{
			coreFeature(), sseFeature(),
			{Name: "org.gnu.gdb.i386.linux", Registers: []target.Register{reg("orig_rax", 64, "int", "")}},
			{Name: "org.gnu.gdb.i386.segments", Registers: []target.Register{
				reg("fs_base", 64, "int", ""), reg("gs_base", 64, "int", "")}},
		},
	}
	if f.avx {
		ft := target.Feature{Name: "org.gnu.gdb.i386.avx"}
		for i := 0; i < 16; i++ {
			ft.Registers = append(ft.Registers, reg(fmt.Sprintf("ymm%dh", i), 128, "uint128", ""))
		}
		d.Features = append(d.Features, ft)
	}
	// gdb accepts AVX-512 only beside AVX (i386_validate_tdesc_p).
	if f.avx && f.avx512 {
		d.Features = append(d.Features, avx512Feature())
	}
	if f.pkru {
		d.Features = append(d.Features, target.Feature{Name: "org.gnu.gdb.i386.pkeys",
			Registers: []target.Register{reg("pkru", 32, "uint32", "")}})
	}
	return d.Finish()
}

func reg(name string, bits int, typ, group string) target.Register {
	return target.Register{Name: name, Bits: bits, Type: typ, Group: group}
}

func boolField(name string, bit int) target.Field {
	return target.Field{Name: name, Type: "bool", Start: bit, End: bit}
}

func vec(id, elem string, n int) target.Type {
	return target.Type{Kind: target.TypeVector, ID: id, Elem: elem, Count: n}
}

// coreFeature is org.gnu.gdb.i386.core (64bit-core.xml): the general
// registers, eflags, the segment selectors and the x87 registers.
func coreFeature() target.Feature {
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
	return core
}

// vec128Types are vec128 and its element vectors, as 64bit-sse.xml and
// 64bit-avx512.xml each define them (types are per feature).
func vec128Types() []target.Type {
	return []target.Type{
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
	}
}

// sseFeature is org.gnu.gdb.i386.sse (64bit-sse.xml): xmm0-15 and mxcsr.
func sseFeature() target.Feature {
	sse := target.Feature{Name: "org.gnu.gdb.i386.sse"}
	sse.Types = append(vec128Types(), target.Type{Kind: target.TypeFlags, ID: "i386_mxcsr", Size: 4, Fields: []target.Field{
		boolField("IE", 0), boolField("DE", 1), boolField("ZE", 2), boolField("OE", 3),
		boolField("UE", 4), boolField("PE", 5), boolField("DAZ", 6), boolField("IM", 7),
		boolField("DM", 8), boolField("ZM", 9), boolField("OM", 10), boolField("UM", 11),
		boolField("PM", 12), boolField("FZ", 15),
	}})
	for i := 0; i < 16; i++ {
		sse.Registers = append(sse.Registers, reg(fmt.Sprintf("xmm%d", i), 128, "vec128", ""))
	}
	sse.Registers = append(sse.Registers, reg("mxcsr", 32, "i386_mxcsr", "vector"))
	return sse
}

// avx512Feature is org.gnu.gdb.i386.avx512 (64bit-avx512.xml): xmm16-31,
// ymm16h-31h, k0-7 and zmm0h-31h.
func avx512Feature() target.Feature {
	ft := target.Feature{Name: "org.gnu.gdb.i386.avx512"}
	ft.Types = append(vec128Types(), vec("v2ui128", "uint128", 2))
	for i := 16; i < 32; i++ {
		ft.Registers = append(ft.Registers, reg(fmt.Sprintf("xmm%d", i), 128, "vec128", ""))
	}
	for i := 16; i < 32; i++ {
		ft.Registers = append(ft.Registers, reg(fmt.Sprintf("ymm%dh", i), 128, "uint128", ""))
	}
	for i := 0; i < 8; i++ {
		ft.Registers = append(ft.Registers, reg(fmt.Sprintf("k%d", i), 64, "uint64", ""))
	}
	for i := 0; i < 32; i++ {
		ft.Registers = append(ft.Registers, reg(fmt.Sprintf("zmm%dh", i), 256, "v2ui128", ""))
	}
	return ft
}

// xreg is a run of register-file bytes that lives in one XSAVE state
// component: n bytes at file offset file, at xs in the standard-format
// XSAVE image (NT_X86_XSTATE).
type xreg struct {
	comp     int
	file, xs int
	n        int
}

// regLayout says where the registers of a process's description come
// from: the features, and for each register beyond x87/SSE its place in
// the XSAVE image, at the offsets this CPU reports (CPUID leaf 0xD; the
// kernel's NT_X86_XSTATE is the standard format at those offsets). GNU
// gdbserver 13 assumes Intel's offsets (1088 for the opmask, 1152 and
// 1664 for the upper zmm halves); on AMD, where they are 832, 896 and
// 1408, it reads and writes the wrong bytes. Immutable.
type regLayout struct {
	desc  *target.Description
	feat  features
	xsave bool   // registers beyond the general ones come from NT_X86_XSTATE (else PTRACE_GETFPREGS)
	size  int    // bytes of the NT_X86_XSTATE image
	xregs []xreg // every register-file run kept in a component >= 2
}

// newRegLayout builds the layout of a process whose NT_X86_XSTATE image
// (size bytes, or none: xsave false) says xcr0, on cpu. A component is
// shown only when the CPU describes it and the kernel's image holds it.
func newRegLayout(xsave bool, xcr0 uint64, size int, cpu *x86cpu.CPU) *regLayout {
	l := &regLayout{xsave: xsave, size: size}
	has := func(i int) bool {
		c := cpu.Components[i]
		return xsave && xcr0>>i&1 != 0 && c.Size != 0 && !c.Supervisor && int(c.Offset+c.Size) <= size
	}
	l.feat.avx = has(x86cpu.CompAVX)
	l.feat.avx512 = l.feat.avx && has(x86cpu.CompOpmask) && has(x86cpu.CompZMMHi256) && has(x86cpu.CompHi16ZMM)
	l.feat.pkru = has(x86cpu.CompPKRU)
	l.desc = description(l.feat)
	at := func(name string) int {
		r, ok := l.desc.Lookup(name)
		if !ok {
			panic("register " + name + " not in its own description")
		}
		return r.Offset
	}
	off := func(i int) int { return int(cpu.Components[i].Offset) }
	add := func(comp, file, xs, n int) {
		l.xregs = append(l.xregs, xreg{comp: comp, file: file, xs: xs, n: n})
	}
	if l.feat.avx {
		add(x86cpu.CompAVX, at("ymm0h"), off(x86cpu.CompAVX), 16*16)
	}
	if l.feat.avx512 {
		add(x86cpu.CompOpmask, at("k0"), off(x86cpu.CompOpmask), 8*8)
		add(x86cpu.CompZMMHi256, at("zmm0h"), off(x86cpu.CompZMMHi256), 16*32)
		hi := off(x86cpu.CompHi16ZMM)
		for i := 16; i < 32; i++ {
			z := hi + 64*(i-16) // zmm i: 64 bytes
			add(x86cpu.CompHi16ZMM, at(fmt.Sprintf("xmm%d", i)), z, 16)
			add(x86cpu.CompHi16ZMM, at(fmt.Sprintf("ymm%dh", i)), z+16, 16)
			add(x86cpu.CompHi16ZMM, at(fmt.Sprintf("zmm%dh", i)), z+32, 32)
		}
	}
	if l.feat.pkru {
		add(x86cpu.CompPKRU, at("pkru"), off(x86cpu.CompPKRU), 4)
	}
	return l
}

// regCache holds one stopped thread's registers, fetched lazily per group
// and kept until the thread resumes. Owned by the Tracer's thread.
type regCache struct {
	gp      unix.PtraceRegs
	gpValid bool
	gpDirty bool
	// fx is the xsave area (NT_X86_XSTATE) when the kernel gives one
	// (regLayout.xsave), else the 512-byte fxsave area
	// (PTRACE_GETFPREGS). Its first 512 bytes are the fxsave layout
	// either way.
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

// putFP stores the x87 and SSE registers of the fxsave area fx into buf,
// converting as gdb does for amd64 (gdb/i387-tdep.c i387_supply_fxsave,
// amd64_supply_fxsave): the full tag word is rebuilt from the abridged one
// and the register contents, and fiseg/fioff, foseg/fooff are the high and
// low halves of the 64-bit FIP and FDP.
func putFP(buf []byte, fx []byte) {
	for i := 0; i < 8; i++ {
		copy(buf[offST+10*i:offST+10*i+10], fx[x86cpu.FxST+16*i:])
	}
	fsw := le.Uint16(fx[x86cpu.FxFSW:])
	le.PutUint32(buf[offFctrl:], uint32(le.Uint16(fx[x86cpu.FxFCW:])))
	le.PutUint32(buf[offFctrl+4:], uint32(fsw))
	le.PutUint32(buf[offFctrl+8:], uint32(fullTag(fx[x86cpu.FxFTW], fsw, fx[x86cpu.FxST:])))
	le.PutUint32(buf[offFctrl+12:], le.Uint32(fx[x86cpu.FxFIP+4:])) // fiseg
	le.PutUint32(buf[offFctrl+16:], le.Uint32(fx[x86cpu.FxFIP:]))   // fioff
	le.PutUint32(buf[offFctrl+20:], le.Uint32(fx[x86cpu.FxFDP+4:])) // foseg
	le.PutUint32(buf[offFctrl+24:], le.Uint32(fx[x86cpu.FxFDP:]))   // fooff
	le.PutUint32(buf[offFctrl+28:], uint32(le.Uint16(fx[x86cpu.FxFOP:])&0x7ff))
	copy(buf[offXMM:offXMM+16*16], fx[x86cpu.FxXMM:])
	le.PutUint32(buf[offMXCSR:], le.Uint32(fx[x86cpu.FxMXCSR:]))
}

// getFP stores the x87 and SSE registers of buf into the fxsave area fx
// (the inverse of putFP; the abridged tag keeps "valid" for every
// register whose full tag is not 3, empty).
func getFP(buf []byte, fx []byte) {
	for i := 0; i < 8; i++ {
		copy(fx[x86cpu.FxST+16*i:x86cpu.FxST+16*i+10], buf[offST+10*i:])
	}
	le.PutUint16(fx[x86cpu.FxFCW:], uint16(le.Uint32(buf[offFctrl:])))
	le.PutUint16(fx[x86cpu.FxFSW:], uint16(le.Uint32(buf[offFctrl+4:])))
	tag := le.Uint32(buf[offFctrl+8:])
	var abridged byte
	for i := 0; i < 8; i++ {
		if (tag>>(2*i))&3 != 3 {
			abridged |= 1 << i
		}
	}
	fx[x86cpu.FxFTW] = abridged
	le.PutUint32(fx[x86cpu.FxFIP+4:], le.Uint32(buf[offFctrl+12:]))
	le.PutUint32(fx[x86cpu.FxFIP:], le.Uint32(buf[offFctrl+16:]))
	le.PutUint32(fx[x86cpu.FxFDP+4:], le.Uint32(buf[offFctrl+20:]))
	le.PutUint32(fx[x86cpu.FxFDP:], le.Uint32(buf[offFctrl+24:]))
	fop := le.Uint16(fx[x86cpu.FxFOP:])&^0x7ff | uint16(le.Uint32(buf[offFctrl+28:]))&0x7ff
	le.PutUint16(fx[x86cpu.FxFOP:], fop)
	copy(fx[x86cpu.FxXMM:x86cpu.FxXMM+16*16], buf[offXMM:])
	le.PutUint32(fx[x86cpu.FxMXCSR:], le.Uint32(buf[offMXCSR:]))
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

// putXState stores the registers kept in XSAVE components 2 and up
// (AVX, AVX-512, PKRU) from the image xs into buf. A component the
// hardware holds in its initial configuration (XSTATE_BV bit clear)
// reads as zeros, its architectural initial value, whatever the image
// holds there.
func (l *regLayout) putXState(buf, xs []byte) {
	bv := le.Uint64(xs[xsaveHdrBV:])
	for _, r := range l.xregs {
		dst := buf[r.file : r.file+r.n]
		if bv>>r.comp&1 == 0 || r.xs+r.n > len(xs) {
			clear(dst)
			continue
		}
		copy(dst, xs[r.xs:])
	}
}

// changedXState returns the components with a register whose bytes
// differ between the register files cur and buf.
func (l *regLayout) changedXState(cur, buf []byte) uint64 {
	var comps uint64
	for _, r := range l.xregs {
		if !bytes.Equal(cur[r.file:r.file+r.n], buf[r.file:r.file+r.n]) {
			comps |= 1 << r.comp
		}
	}
	return comps
}

// getXState stores the registers of the components comps from buf into
// the image xs, whole (a component is written with all its registers,
// initial ones as zeros), and marks them in use in XSTATE_BV so that
// the kernel loads them (PTRACE_SETREGSET takes a component whose bit
// is clear as initial).
func (l *regLayout) getXState(buf, xs []byte, comps uint64) {
	for _, r := range l.xregs {
		if comps>>r.comp&1 != 0 && r.xs+r.n <= len(xs) {
			copy(xs[r.xs:r.xs+r.n], buf[r.file:])
		}
	}
	le.PutUint64(xs[xsaveHdrBV:], le.Uint64(xs[xsaveHdrBV:])|comps)
}
