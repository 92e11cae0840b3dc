package insn

import "gdbserverx/internal/x86cpu"

// XSAVE area layout (SDM vol. 1 ch. 13 "Managing State Using the XSAVE
// Feature Set"). The legacy region (bytes 0-511) has the FXSAVE layout;
// the 64-byte header follows at 512; state components 2 and up sit at
// the offsets CPUID.(EAX=0DH,ECX=i) reports in the standard format, or
// packed in ascending order from 576 in the compacted format (XSAVEC).
// Those offsets differ between CPUs (Intel puts the AVX-512 opmask at
// 1088, after MPX's 960-1087; AMD Zen 4, which has no MPX, at 832), so
// they are read from the CPU (x86cpu), never from a table.

const (
	// fxsaveWritten: FXSAVE stores bytes 0-415 (up to XMM15); 416-463
	// are reserved and 464-511 available to software, and neither is
	// touched (hwcheck_test.go). FXRSTOR reads the same bytes except
	// MXCSR_MASK (28-31).
	fxsaveWritten = x86cpu.FxEnd

	xsaveHeader     = x86cpu.HeaderOffset // XSTATE_BV at 512, XCOMP_BV at 520
	xsaveHeaderSize = x86cpu.HeaderSize
)

// xsaveExact reports whether XSAVE writes component i whatever its state.
// The AMX components are not: with AMX, Linux arms extended feature
// disable (XFD) for TILEDATA until the process asks for it, and XSAVE
// then treats the component as in its initial configuration (SDM vol. 1
// 13.14 "Extended Feature Disable"); no machine of the project's has AMX
// to measure what it writes, so those ranges are bounds.
func xsaveExact(i int) bool { return i != x86cpu.CompTileCfg && i != x86cpu.CompTileData }

// xsave appends the ranges of XSAVE, XSAVEOPT, XSAVEC and XRSTOR on cpu.
//
// XSAVE writes exactly the components in RFBM = XCR0 & EDX:EAX, standard
// format, and reads and writes XSTATE_BV (it keeps the bits outside
// RFBM). XSAVEOPT writes the same ranges but skips components that are
// unmodified since the last XRSTOR or in their initial configuration, so
// its ranges are Partial. XSAVEC skips initial components too and packs
// what it writes. XRSTOR reads the header and, for each component in
// RFBM whose XSTATE_BV bit is set, its data; the image may be standard or
// compacted, which only memory tells, so one Partial read bounds both.
func (in *Inst) xsave(cpu *x86cpu.CPU, regs Registers, dst []Access) ([]Access, error) {
	base := in.addr(&in.mem[0], regs)
	rfbm := regs.Reg(XCR0) & (regs.Reg(RDX)<<32 | regs.Reg(RAX)&0xffffffff)
	for i := 2; i < 64; i++ {
		if rfbm>>i&1 != 0 && cpu.Components[i].Size == 0 {
			return dst, undecodable(in.code[:in.codeLen], "xsave component %d: not described by this CPU's CPUID leaf 0xd", i)
		}
	}
	switch in.kind {
	case kindXRstor:
		// A compacted image holds the components of its XCOMP_BV (a
		// subset of XCR0) packed: bound it by the standard image of
		// RFBM and the compacted image of all of XCR0.
		end := uint64(max(cpu.StandardEnd(rfbm), cpu.CompactedOffset(regs.Reg(XCR0), 64)))
		return append(dst, Access{Addr: base, Size: int(end), Read: true, Partial: true}), nil
	case kindXSaveC:
		dst = appendLegacy(dst, base, rfbm, true)
		// XSTATE_BV and XCOMP_BV; the rest of the header is not
		// written (hwcheck_test.go).
		dst = append(dst, Access{Addr: base + xsaveHeader, Size: 16, Write: true})
		for i := 2; i < 64; i++ {
			if rfbm>>i&1 == 0 {
				continue
			}
			off := uint64(cpu.CompactedOffset(rfbm, i))
			dst = append(dst, Access{Addr: base + off, Size: int(cpu.Components[i].Size), Write: true, Partial: true})
		}
		return dst, nil
	}
	partial := in.kind == kindXSaveOpt
	dst = appendLegacy(dst, base, rfbm, partial)
	dst = append(dst, Access{Addr: base + xsaveHeader, Size: 8, Read: true, Write: true})
	for i := 2; i < 64; i++ {
		if c := cpu.Components[i]; rfbm>>i&1 != 0 {
			dst = append(dst, Access{Addr: base + uint64(c.Offset), Size: int(c.Size), Write: true, Partial: partial || !xsaveExact(i)})
		}
	}
	return dst, nil
}

// appendLegacy appends the legacy-region writes for x87 (component 0) and
// SSE (component 1): FCW..FDP at 0-23, MXCSR and MXCSR_MASK at 24-31
// (saved with SSE or AVX), ST0-7 at 32-159, XMM0-15 at 160-415
// (x86cpu's FXSAVE layout).
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
	w(x87, x86cpu.FxFCW, x86cpu.FxMXCSR)
	w(sse || avx, x86cpu.FxMXCSR, x86cpu.FxST-x86cpu.FxMXCSR)
	w(x87, x86cpu.FxST, x86cpu.FxXMM-x86cpu.FxST)
	w(sse, x86cpu.FxXMM, x86cpu.FxEnd-x86cpu.FxXMM)
	return dst
}
