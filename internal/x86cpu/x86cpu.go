// Package x86cpu says what the x86-64 CPU under the server is, as far as
// debugging a program on it depends on that: the vendor (whose debug
// hardware differs in a few places, swwatch/insn/doc.go), the features
// that decide which instructions exist and which registers gdb is shown,
// and the XSAVE state components: which the CPU has and the OS enabled
// (XCR0), and where each sits in an XSAVE image (CPUID leaf 0xD).
//
// A traced program runs on the same CPU and kernel as the server, so the
// server's own CPUID is the program's. Nothing here is a table from one
// CPU model: every value is read with CPUID and XGETBV, once (Host).
//
// It imports no package of the project and has no mutable state: Host is
// computed once and never changed; FromCPUID builds other CPUs for tests.
package x86cpu

import (
	"fmt"
	"strings"
	"sync"
)

// Vendor is who made the CPU, where the debug hardware of vendors
// differs.
type Vendor uint8

// Vendors.
const (
	// VendorOther is a vendor whose debug hardware this project has not
	// measured (Zhaoxin, Centaur, VIA, a hypervisor's made-up ID): where
	// Intel's and AMD's differ, callers assume neither.
	VendorOther Vendor = iota
	// Intel is GenuineIntel.
	Intel
	// AMD is AuthenticAMD, and HygonGenuine (Hygon's Dhyana is AMD's Zen).
	AMD
)

func (v Vendor) String() string {
	switch v {
	case Intel:
		return "Intel"
	case AMD:
		return "AMD"
	}
	return "other"
}

// Feature is one CPUID feature flag that the project depends on.
type Feature uint8

// Features, with the CPUID bit each comes from.
const (
	MMX           Feature = iota // CPUID.1:EDX[23]
	FXSR                         // CPUID.1:EDX[24]: FXSAVE/FXRSTOR
	SSE2                         // CPUID.1:EDX[26]
	SSE41                        // CPUID.1:ECX[19]
	SSE42                        // CPUID.1:ECX[20]
	MOVBE                        // CPUID.1:ECX[22]
	XSAVE                        // CPUID.1:ECX[26]
	OSXSAVE                      // CPUID.1:ECX[27]: the OS set CR4.OSXSAVE (XGETBV works)
	AVX                          // CPUID.1:ECX[28]
	AVX2                         // CPUID.7.0:EBX[5]
	AVX512F                      // CPUID.7.0:EBX[16]
	AVX512DQ                     // CPUID.7.0:EBX[17]
	ADX                          // CPUID.7.0:EBX[19]: ADCX, ADOX
	CLFLUSHOPT                   // CPUID.7.0:EBX[23]
	CLWB                         // CPUID.7.0:EBX[24]
	AVX512BW                     // CPUID.7.0:EBX[30]
	AVX512VL                     // CPUID.7.0:EBX[31]
	PKU                          // CPUID.7.0:ECX[3]: protection keys
	OSPKE                        // CPUID.7.0:ECX[4]: the OS enabled them (RDPKRU works)
	AVX512VBMI2                  // CPUID.7.0:ECX[6]: VPCOMPRESSB/W, VPEXPANDB/W
	CLDEMOTE                     // CPUID.7.0:ECX[25]
	MOVDIRI                      // CPUID.7.0:ECX[27]
	MOVDIR64B                    // CPUID.7.0:ECX[28]
	ENQCMD                       // CPUID.7.0:ECX[29]
	AMXTile                      // CPUID.7.0:EDX[24]
	XSAVEOPT                     // CPUID.0DH.1:EAX[0]
	XSAVEC                       // CPUID.0DH.1:EAX[1]
	XSAVES                       // CPUID.0DH.1:EAX[3]
	Prefetch3DNow                // CPUID.80000001H:ECX[8]: AMD PREFETCH/PREFETCHW
	CLZERO                       // CPUID.80000008H:EBX[0] (AMD)
	numFeatures
)

var featureNames = [...]string{
	"mmx", "fxsr", "sse2", "sse4.1", "sse4.2", "movbe", "xsave", "osxsave", "avx", "avx2",
	"avx512f", "avx512dq", "adx",
	"clflushopt", "clwb", "avx512bw", "avx512vl", "pku", "ospke", "avx512vbmi2",
	"cldemote", "movdiri", "movdir64b", "enqcmd", "amx-tile", "xsaveopt", "xsavec",
	"xsaves", "3dnowprefetch", "clzero",
}

func (f Feature) String() string {
	if int(f) < len(featureNames) {
		return featureNames[f]
	}
	return fmt.Sprintf("Feature(%d)", int(f))
}

// XSAVE state components (SDM vol. 1 13.1 "XSAVE-Supported Features and
// State-Component Bitmaps"), by number.
const (
	CompX87       = 0
	CompSSE       = 1
	CompAVX       = 2 // YMM_Hi128: upper halves of ymm0-15
	CompBndregs   = 3 // MPX
	CompBndcsr    = 4 // MPX
	CompOpmask    = 5 // AVX-512 k0-7
	CompZMMHi256  = 6 // AVX-512: upper halves of zmm0-15
	CompHi16ZMM   = 7 // AVX-512: zmm16-31
	CompPKRU      = 9
	CompTileCfg   = 17 // AMX
	CompTileData  = 18 // AMX
	MaskAVX512    = 1<<CompOpmask | 1<<CompZMMHi256 | 1<<CompHi16ZMM
	LegacySize    = 512 // the FXSAVE-format region of an XSAVE image
	HeaderOffset  = 512 // XSTATE_BV, then XCOMP_BV
	HeaderSize    = 64
	ExtendedStart = LegacySize + HeaderSize // 576: where components 2 and up may start
	// XFeaturesOffset is where Linux's NT_X86_XSTATE regset puts the
	// process's enabled user components (the xfeatures word of the
	// software-reserved bytes 464-511 of the FXSAVE region, struct
	// user_xstateregs in arch/x86/include/asm/user.h).
	XFeaturesOffset = 464
)

// The legacy region of an XSAVE image: the 64-bit FXSAVE format (SDM vol.
// 1 10.5.1 "FXSAVE Area", table "Layout of the 64-bit-mode FXSAVE64 Map"),
// which the register file (target/linux) converts and the instruction
// table (swwatch/insn) reports as accessed.
const (
	FxFCW       = 0   // x87 control word, 16 bits
	FxFSW       = 2   // x87 status word, 16 bits
	FxFTW       = 4   // abridged tag: one bit per physical register, 1 = valid
	FxFOP       = 6   // last x87 opcode, 11 bits
	FxFIP       = 8   // 64-bit FPU instruction pointer
	FxFDP       = 16  // 64-bit FPU data pointer
	FxMXCSR     = 24  // SSE control and status, 32 bits
	FxMXCSRMask = 28  // 32 bits
	FxST        = 32  // st0..st7 (mm0..mm7), in 16-byte slots
	FxXMM       = 160 // xmm0..xmm15, 16 bytes each
	// FxEnd is the end of xmm15: bytes 416-463 are reserved and 464-511
	// are the software's (XFeaturesOffset), and FXSAVE writes neither
	// (swwatch/insn/hwcheck_test.go).
	FxEnd = FxXMM + 16*16
)

// Component is CPUID.(EAX=0DH, ECX=i) for state component i >= 2.
type Component struct {
	Size       uint32 // EAX: bytes
	Offset     uint32 // EBX: offset in the standard format (0 for a supervisor component)
	Supervisor bool   // ECX[0]: an IA32_XSS component, saved only by XSAVES
	Align64    bool   // ECX[1]: 64-byte aligned in the compacted format
}

// CPU is what the project knows of one x86-64 CPU.
type CPU struct {
	VendorID string // "GenuineIntel", "AuthenticAMD", ...
	Vendor   Vendor
	Family   int // display family (base + extended)
	Model    int // display model
	Brand    string

	features uint64 // bit per Feature
	// XCR0 is the set of state components the OS enabled (XGETBV(0));
	// 0 without OSXSAVE.
	XCR0 uint64
	// UserComponents are the components the CPU supports in XCR0
	// (CPUID.(0DH,0) EDX:EAX).
	UserComponents uint64
	// Components describes each component >= 2 the CPU supports.
	Components [64]Component
}

// Has reports whether the CPU has feature f.
func (c *CPU) Has(f Feature) bool { return c.features>>f&1 != 0 }

// Usable reports whether a program can use feature f here: the CPU has
// it and, for the features with register state (AVX, AVX-512, AMX), the
// OS enabled that state in XCR0; otherwise their instructions raise #UD.
func (c *CPU) Usable(f Feature) bool {
	if !c.Has(f) {
		return false
	}
	const sse, avx = 1 << CompSSE, 1 << CompAVX
	var need uint64
	switch f {
	case AVX, AVX2:
		need = sse | avx
	case AVX512F, AVX512DQ, AVX512BW, AVX512VL, AVX512VBMI2:
		need = sse | avx | MaskAVX512
	case AMXTile:
		need = 1<<CompTileCfg | 1<<CompTileData
	}
	return c.XCR0&need == need
}

// Features lists the features the CPU has, for logs.
func (c *CPU) Features() []Feature {
	var out []Feature
	for f := Feature(0); f < numFeatures; f++ {
		if c.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// String describes the CPU in one line, for test logs.
func (c *CPU) String() string {
	var fs []string
	for _, f := range c.Features() {
		fs = append(fs, f.String())
	}
	return fmt.Sprintf("%s (%s, family %#x model %#x %q) xcr0 %#x features %s",
		c.Vendor, c.VendorID, c.Family, c.Model, c.Brand, c.XCR0, strings.Join(fs, ","))
}

// Enabled reports whether the OS enabled state component i (XCR0[i]).
func (c *CPU) Enabled(i int) bool { return i >= 0 && i < 64 && c.XCR0>>i&1 != 0 }

// StandardEnd is the end of a standard-format XSAVE image that holds the
// components in mask: the legacy region and header, and every component
// of mask at its CPUID offset.
func (c *CPU) StandardEnd(mask uint64) uint32 {
	end := uint32(ExtendedStart)
	for i := 2; i < 64; i++ {
		if mask>>i&1 != 0 {
			end = max(end, c.Components[i].Offset+c.Components[i].Size)
		}
	}
	return end
}

// CompactedOffset is where component i (>= 2) sits in a compacted-format
// XSAVE image (XSAVEC, XSAVES) whose XCOMP_BV is xcomp: after the header,
// components in xcomp packed in ascending order, each aligned to 64 bytes
// where CPUID says so (SDM vol. 1 13.4.3 "Extended Region of an XSAVE
// Area").
func (c *CPU) CompactedOffset(xcomp uint64, i int) uint32 {
	off := uint32(ExtendedStart)
	for j := 2; j < 64; j++ {
		if xcomp>>j&1 == 0 {
			continue
		}
		if c.Components[j].Align64 {
			off = (off + 63) &^ 63
		}
		if j == i {
			return off
		}
		off += c.Components[j].Size
	}
	return off
}

// CPUIDFunc answers CPUID for leaf and subleaf.
type CPUIDFunc func(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

var host = sync.OnceValue(func() *CPU {
	var xcr0 uint64
	c := FromCPUID(cpuid, 0)
	if c.Has(OSXSAVE) {
		lo, hi := xgetbv()
		xcr0 = uint64(hi)<<32 | uint64(lo)
	}
	c.XCR0 = xcr0
	return c
})

// Host is the CPU this program runs on, read once.
func Host() *CPU { return host() }

// FromCPUID describes the CPU that answers CPUID with f and whose OS
// enabled xcr0. Host uses it with the real instruction; tests describe
// other CPUs with it.
func FromCPUID(f CPUIDFunc, xcr0 uint64) *CPU {
	c := &CPU{XCR0: xcr0}
	max0, b, cx, d := f(0, 0)
	id := make([]byte, 0, 12)
	for _, r := range []uint32{b, d, cx} {
		id = append(id, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	c.VendorID = string(id)
	switch c.VendorID {
	case "GenuineIntel":
		c.Vendor = Intel
	case "AuthenticAMD", "HygonGenuine":
		c.Vendor = AMD
	}
	set := func(f Feature, on bool) {
		if on {
			c.features |= 1 << f
		}
	}
	bit := func(r uint32, n uint) bool { return r>>n&1 != 0 }
	if max0 >= 1 {
		a, _, cx, d := f(1, 0)
		fam, model := int(a>>8&0xf), int(a>>4&0xf)
		if fam == 0xf {
			fam += int(a >> 20 & 0xff)
		}
		if fam >= 6 {
			model |= int(a>>16&0xf) << 4
		}
		c.Family, c.Model = fam, model
		set(MMX, bit(d, 23))
		set(FXSR, bit(d, 24))
		set(SSE2, bit(d, 26))
		set(SSE41, bit(cx, 19))
		set(SSE42, bit(cx, 20))
		set(MOVBE, bit(cx, 22))
		set(XSAVE, bit(cx, 26))
		set(OSXSAVE, bit(cx, 27))
		set(AVX, bit(cx, 28))
	}
	if max0 >= 7 {
		_, b, cx, d := f(7, 0)
		set(AVX2, bit(b, 5))
		set(AVX512F, bit(b, 16))
		set(AVX512DQ, bit(b, 17))
		set(ADX, bit(b, 19))
		set(CLFLUSHOPT, bit(b, 23))
		set(CLWB, bit(b, 24))
		set(AVX512BW, bit(b, 30))
		set(AVX512VL, bit(b, 31))
		set(PKU, bit(cx, 3))
		set(OSPKE, bit(cx, 4))
		set(AVX512VBMI2, bit(cx, 6))
		set(CLDEMOTE, bit(cx, 25))
		set(MOVDIRI, bit(cx, 27))
		set(MOVDIR64B, bit(cx, 28))
		set(ENQCMD, bit(cx, 29))
		set(AMXTile, bit(d, 24))
	}
	if max0 >= 0xd && c.Has(XSAVE) {
		a, _, _, d := f(0xd, 0)
		c.UserComponents = uint64(d)<<32 | uint64(a)
		a1, _, cx1, d1 := f(0xd, 1)
		set(XSAVEOPT, bit(a1, 0))
		set(XSAVEC, bit(a1, 1))
		set(XSAVES, bit(a1, 3))
		all := c.UserComponents | uint64(d1)<<32 | uint64(cx1) // with IA32_XSS components
		for i := 2; i < 64; i++ {
			if all>>i&1 == 0 {
				continue
			}
			sa, sb, sc, _ := f(0xd, uint32(i))
			c.Components[i] = Component{Size: sa, Offset: sb, Supervisor: bit(sc, 0), Align64: bit(sc, 1)}
		}
	}
	if maxE, _, _, _ := f(0x80000000, 0); maxE >= 0x80000001 {
		_, _, cx, _ := f(0x80000001, 0)
		set(Prefetch3DNow, bit(cx, 8))
		if maxE >= 0x80000004 {
			var brand []byte
			for l := uint32(0x80000002); l <= 0x80000004; l++ {
				a, b, cx, d := f(l, 0)
				for _, r := range []uint32{a, b, cx, d} {
					brand = append(brand, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
				}
			}
			c.Brand = strings.TrimSpace(strings.TrimRight(string(brand), "\x00"))
		}
		if maxE >= 0x80000008 {
			_, b, _, _ := f(0x80000008, 0)
			set(CLZERO, bit(b, 0))
		}
	}
	return c
}
