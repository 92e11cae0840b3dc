package insn

// XSAVE area layout (SDM vol. 1 ch. 13 "Managing State Using the XSAVE
// Feature Set"). The legacy region (bytes 0-511) has the FXSAVE layout;
// the 64-byte header follows at 512; state components 2 and up sit at
// offsets that CPUID.(EAX=0DH,ECX=i) reports in the standard format, or
// packed in ascending order from 576 in the compacted format (XSAVEC).

const (
	// fxsaveWritten: FXSAVE stores bytes 0-415 (up to XMM15); 416-463
	// are reserved and 464-511 available to software, and neither is
	// touched (hwcheck_test.go). FXRSTOR reads the same bytes except
	// MXCSR_MASK (28-31).
	fxsaveWritten = 416

	xsaveHeader     = 512 // XSTATE_BV at 512, XCOMP_BV at 520
	xsaveHeaderSize = 64
)

// xsaveComponent is CPUID.(EAX=0DH,ECX=i): size (EAX), standard-format
// offset (EBX), and ECX bit 1, 64-byte alignment in the compacted format.
type xsaveComponent struct {
	size, offset uint32
	align64      bool
}

// xsaveComponents are the user state components (those XCR0 can enable)
// with the offsets every CPU to date reports; TestXSaveLayoutCPUID checks
// them against this machine's CPUID. Supervisor components (IA32_XSS)
// are only saved by XSAVES, which user mode cannot execute.
var xsaveComponents = [...]xsaveComponent{
	2:  {256, 576, false},   // AVX: upper halves of YMM0-15
	3:  {64, 960, false},    // MPX BNDREGS
	4:  {64, 1024, false},   // MPX BNDCSR
	5:  {64, 1088, false},   // AVX-512 opmask k0-7
	6:  {512, 1152, false},  // AVX-512 ZMM_Hi256: upper halves of ZMM0-15
	7:  {1024, 1664, false}, // AVX-512 Hi16_ZMM: ZMM16-31
	9:  {8, 2688, false},    // PKRU
	17: {64, 2752, false},   // AMX TILECFG
	18: {8192, 2816, true},  // AMX TILEDATA
}

// xsave appends the ranges of XSAVE, XSAVEOPT, XSAVEC and XRSTOR.
//
// XSAVE writes exactly the components in RFBM = XCR0 & EDX:EAX, standard
// format, and reads and writes XSTATE_BV (it keeps the bits outside
// RFBM). XSAVEOPT writes the same ranges but skips components that are
// unmodified since the last XRSTOR or in their initial configuration, so
// its ranges are Partial. XSAVEC skips initial components too and packs
// what it writes. XRSTOR reads the header and, for each component in
// RFBM whose XSTATE_BV bit is set, its data; the image may be standard or
// compacted, which only memory tells, so one Partial read bounds both.
func (in *Inst) xsave(regs Registers, dst []Access) ([]Access, error) {
	base := in.addr(&in.mem[0], regs)
	rfbm := regs.Reg(XCR0) & (regs.Reg(RDX)<<32 | regs.Reg(RAX)&0xffffffff)
	for i := 2; i < 64; i++ {
		if rfbm>>i&1 != 0 && (i >= len(xsaveComponents) || xsaveComponents[i].size == 0) {
			return dst, undecodable(in.code[:in.codeLen], "xsave component %d: layout not known", i)
		}
	}
	switch in.kind {
	case kindXRstor:
		end := uint64(xsaveHeader + xsaveHeaderSize)
		for i := 2; i < len(xsaveComponents); i++ {
			if c := xsaveComponents[i]; rfbm>>i&1 != 0 {
				end = max(end, uint64(c.offset+c.size))
			}
		}
		return append(dst, Access{Addr: base, Size: int(end), Read: true, Partial: true}), nil
	case kindXSaveC:
		dst = appendLegacy(dst, base, rfbm, true)
		// XSTATE_BV and XCOMP_BV; the rest of the header is not
		// written (hwcheck_test.go).
		dst = append(dst, Access{Addr: base + xsaveHeader, Size: 16, Write: true})
		off := uint64(xsaveHeader + xsaveHeaderSize)
		for i := 2; i < len(xsaveComponents); i++ {
			c := xsaveComponents[i]
			if rfbm>>i&1 == 0 {
				continue
			}
			if c.align64 {
				off = (off + 63) &^ 63
			}
			dst = append(dst, Access{Addr: base + off, Size: int(c.size), Write: true, Partial: true})
			off += uint64(c.size)
		}
		return dst, nil
	}
	partial := in.kind == kindXSaveOpt
	dst = appendLegacy(dst, base, rfbm, partial)
	dst = append(dst, Access{Addr: base + xsaveHeader, Size: 8, Read: true, Write: true})
	for i := 2; i < len(xsaveComponents); i++ {
		if c := xsaveComponents[i]; rfbm>>i&1 != 0 {
			dst = append(dst, Access{Addr: base + uint64(c.offset), Size: int(c.size), Write: true, Partial: partial})
		}
	}
	return dst, nil
}

// appendLegacy appends the legacy-region writes for x87 (component 0) and
// SSE (component 1): FCW..FDP at 0-23, MXCSR and MXCSR_MASK at 24-31
// (saved with SSE or AVX), ST0-7 at 32-159, XMM0-15 at 160-415.
func appendLegacy(dst []Access, base, rfbm uint64, partial bool) []Access {
	x87, sse, avx := rfbm&1 != 0, rfbm&2 != 0, rfbm&4 != 0
	start := len(dst)
	w := func(on bool, off, size uint64) {
		if !on {
			return
		}
		if n := len(dst); n > start && dst[n-1].End() == base+off {
			dst[n-1].Size += int(size) // adjacent: one range
			return
		}
		dst = append(dst, Access{Addr: base + off, Size: int(size), Write: true, Partial: partial})
	}
	w(x87, 0, 24)
	w(sse || avx, 24, 8)
	w(x87, 32, 128)
	w(sse, 160, 256)
	return dst
}
