package insn

// Fixups: instructions that x86asm (golang.org/x/arch v0.32.0) does not
// know or decodes as something else. Decode matches them on the raw bytes
// before calling x86asm. Each can go when x86asm decodes it right; the
// test TestX86asmMisdecodes records what x86asm does with each.
//
// Found by decoding libc.so.6, ld.so and the testdata programs and
// comparing with objdump (corpus_test.go), and by hand for instructions
// newer than x86asm's tables. VZEROUPPER (c5 f8 77), once mis-decoded, is
// decoded right since x86asm's XED-based AVX tables (v0.32.0).

type fixID uint8

type fixup struct {
	name string
	kind kind
	act  uint8 // action on the ModRM memory operand, if any
	eff  Effects
}

const (
	fixNone fixID = iota
	fixEndbr64
	fixEndbr32
	fixRdssp
	fixHintNop
	fixCldemote
	fixPrefetchNop
	fixIncssp
	fixPtwrite
	fixUmonitor
	fixUmwait
	fixTpause
	fixClwb
	fixClflushopt
	fixRdpid
	fixRdseed
	fixRdpkru
	fixWrpkru
	fixSerialize
	fixXsusldtrk
	fixXresldtrk
	fixClzero
	fixMonitorx
	fixMwaitx
	fixAdcx
	fixAdox
	fixWrss
	fixMovdir64b
	fixMovdiri
	fixEnqcmd
	fixEnqcmds
	fixLdtilecfg
	fixSttilecfg
	fixTileloadd
	fixTileloaddt1
	fixTilestored
	fixTileNop
)

var fixups = [...]fixup{
	fixNone: {},
	// f3 0f 1e fa: x86asm returns a one-byte "rep" and no error, so the
	// next decode starts inside the instruction. CET landing pads; NOPs
	// when IBT is off.
	fixEndbr64: {name: "endbr64", kind: kindNone},
	fixEndbr32: {name: "endbr32", kind: kindNone},
	// f3 (48) 0f 1e /1 (register): read the shadow-stack pointer; a NOP
	// when shadow stacks are off. x86asm: "rep".
	fixRdssp: {name: "rdssp", kind: kindNone, eff: EffShadowStack},
	// 0f 19-0f 1e /r outside the above: reserved hint NOPs (and MPX
	// BND* instructions, NOPs since Linux dropped MPX). The ModRM operand
	// is never accessed. x86asm: unrecognized.
	fixHintNop: {name: "nop (hint)", kind: kindNone},
	// 0f 1c /0 (memory): cache-line demote hint. x86asm: unrecognized.
	fixCldemote: {name: "cldemote", kind: kindNone},
	// 0f 0d /0, /2-/7 (memory): AMD PREFETCH and PREFETCHWT1, hints.
	// x86asm knows only /1 (PREFETCHW).
	fixPrefetchNop: {name: "prefetch", kind: kindNone},
	// f3 (48) 0f ae /5 (register): x86asm says "rep lfence".
	fixIncssp: {name: "incssp", kind: kindNone, eff: EffShadowStack},
	// f3 (48) 0f ae /4: PTWRITE r/m32/64 reads its operand. x86asm says
	// "rep xsave", which would report a whole XSAVE area written.
	fixPtwrite: {name: "ptwrite", kind: kindPlain, act: actR},
	// f3 0f ae /6, f2 0f ae /6, 66 0f ae /6 (register): user-level wait.
	// x86asm decodes them as the unprefixed instruction.
	fixUmonitor: {name: "umonitor", kind: kindNone},
	fixUmwait:   {name: "umwait", kind: kindNone},
	fixTpause:   {name: "tpause", kind: kindNone},
	// 66 0f ae /6 (memory): CLWB, a cache write-back hint. x86asm says
	// "data16 xsaveopt": a whole XSAVE area written. 66 0f ae /7: x86asm
	// says "clflush", right in effect.
	fixClwb:       {name: "clwb", kind: kindCacheLine},
	fixClflushopt: {name: "clflushopt", kind: kindCacheLine},
	// f3 0f c7 /7 (register): x86asm "rep". 0f c7 /7: unrecognized.
	fixRdpid:  {name: "rdpid", kind: kindNone},
	fixRdseed: {name: "rdseed", kind: kindNone},
	// 0f 01 ee/ef (libc's pkey_get/pkey_set), 0f 01 e8 and others:
	// unrecognized by x86asm; no memory access.
	fixRdpkru:    {name: "rdpkru", kind: kindNone},
	fixWrpkru:    {name: "wrpkru", kind: kindNone},
	fixSerialize: {name: "serialize", kind: kindNone},
	fixXsusldtrk: {name: "xsusldtrk", kind: kindNone},
	fixXresldtrk: {name: "xresldtrk", kind: kindNone},
	fixClzero:    {name: "clzero", kind: kindClzero}, // AMD: zeroes the line at RAX
	fixMonitorx:  {name: "monitorx", kind: kindNone},
	fixMwaitx:    {name: "mwaitx", kind: kindNone},
	// 66/f3 0f 38 f6: ADCX/ADOX r, r/m (bignum code): x86asm returns a
	// one-byte "data16"/"rep" with no error.
	fixAdcx: {name: "adcx", kind: kindPlain, act: actR},
	fixAdox: {name: "adox", kind: kindPlain, act: actR},
	// 0f 38 f6 (memory, no prefix): WRSS writes the shadow stack.
	fixWrss: {name: "wrss", kind: kindPlain, act: actW, eff: EffShadowStack},
	// 66 0f 38 f8: MOVDIR64B r, m512 reads 64 bytes at the ModRM address
	// and writes them to ES:[r]. x86asm: one-byte "data16".
	fixMovdir64b: {name: "movdir64b", kind: kindMovdir64b},
	// 0f 38 f9: MOVDIRI m32/64, r: a direct store. x86asm: unrecognized.
	fixMovdiri: {name: "movdiri", kind: kindPlain, act: actW},
	// f2 0f 38 f8: ENQCMD r, m512 reads 64 bytes at the ModRM address
	// and sends them to the device portal at ES:[r]: what a portal
	// stores is the device's, so the write is a bound. f3 0f 38 f8,
	// ENQCMDS, is CPL0-only. x86asm: one-byte "repn"/"rep".
	fixEnqcmd:  {name: "enqcmd", kind: kindEnqcmd},
	fixEnqcmds: {name: "enqcmds", kind: kindNone, eff: EffTrap},
	// AMX (VEX 0f38 49 and 4b; x86asm: "unknown AVX Opcode"). The tile
	// configuration (64 bytes) is read and written whole; a tile row
	// is read or written per configured row, at base + row * stride
	// (stride: the SIB index << scale), colsb bytes each, rows and
	// colsb from the tile configuration, which is not a register the
	// engine can read: each of the 16 possible rows is a bound of 64
	// bytes. TILERELEASE, TILEZERO and the TDP* products touch no
	// memory.
	fixLdtilecfg:   {name: "ldtilecfg", kind: kindPlain, act: actR},
	fixSttilecfg:   {name: "sttilecfg", kind: kindPlain, act: actW},
	fixTileloadd:   {name: "tileloadd", kind: kindTile, act: actR},
	fixTileloaddt1: {name: "tileloaddt1", kind: kindTile, act: actR},
	fixTilestored:  {name: "tilestored", kind: kindTile, act: actW},
	fixTileNop:     {name: "amx (no memory)", kind: kindNone},
}

// modRM is a parsed ModRM byte with its SIB and displacement.
type modRM struct {
	mod, reg, rm uint8 // reg and rm with REX.R/REX.B
	isMem        bool
	mem          memOperand
	n            int // bytes of ModRM + SIB + displacement
}

// parseModRM parses the ModRM at code[i:] for a legacy-encoded
// instruction with the given prefixes. ok is false if code is too short.
func parseModRM(code []byte, i int, p prefixes) (m modRM, ok bool) {
	if i >= len(code) {
		return m, false
	}
	b := code[i]
	m.mod, m.reg, m.rm = b>>6, (b>>3)&7, b&7
	if p.rex&0x04 != 0 {
		m.reg |= 8
	}
	m.n = 1
	if m.mod == 3 {
		if p.rex&0x01 != 0 {
			m.rm |= 8
		}
		return m, true
	}
	m.isMem = true
	m.mem = memOperand{base: regNone, index: regNone, scale: 1, seg: p.seg}
	rm := b & 7
	dispSize := 0
	switch m.mod {
	case 1:
		dispSize = 1
	case 2:
		dispSize = 4
	}
	if rm == 4 {
		if i+1 >= len(code) {
			return m, false
		}
		sib := code[i+1]
		m.n++
		scale, index, base := sib>>6, (sib>>3)&7, sib&7
		if p.rex&0x02 != 0 {
			index |= 8
		}
		if index != 4 {
			m.mem.index = Reg(index)
			m.mem.scale = 1 << scale
		}
		if base == 5 && m.mod == 0 {
			dispSize = 4
		} else {
			if p.rex&0x01 != 0 {
				base |= 8
			}
			m.mem.base = Reg(base)
		}
	} else if rm == 5 && m.mod == 0 {
		m.mem.base = RIP
		dispSize = 4
	} else {
		if p.rex&0x01 != 0 {
			rm |= 8
		}
		m.mem.base = Reg(rm)
	}
	j := i + m.n
	if j+dispSize > len(code) {
		return m, false
	}
	switch dispSize {
	case 1:
		m.mem.disp = int64(int8(code[j]))
	case 4:
		m.mem.disp = int64(int32(uint32(code[j]) | uint32(code[j+1])<<8 | uint32(code[j+2])<<16 | uint32(code[j+3])<<24))
	}
	m.n += dispSize
	return m, true
}

// decodeFixup decodes the instructions listed above. It reports false
// for anything else, which goes to x86asm.
func decodeFixup(in *Inst, code []byte, p prefixes) (bool, error) {
	i := p.n
	if i < len(code) && code[i] == 0xc4 {
		return decodeAMX(in, code, p)
	}
	if i+1 >= len(code) || code[i] != 0x0f {
		return false, nil
	}
	fm, ok := matchFixup(code, p)
	if !ok {
		return false, nil
	}
	return true, in.fromFixup(fm, code, p)
}

// fixMatch is a fixup recognised in the bytes: which one, and where its
// ModRM byte is (or, for the 0f 01 xx forms, whose third byte belongs to
// the opcode, where that byte is, with modRM false).
type fixMatch struct {
	id    fixID
	at    int
	modRM bool
}

// matchFixup recognises a legacy two- or three-byte opcode (0f xx, 0f 38
// xx) of the table, by its prefixes and, where it selects the
// instruction, its ModRM.
func matchFixup(code []byte, p prefixes) (fixMatch, bool) {
	i := p.n
	at := i + 2 // where the ModRM is, for two-byte opcodes
	var peek modRM
	if at < len(code) {
		peek, _ = parseModRM(code, at, p)
	}
	var id fixID
	ok := true
	switch op2 := code[i+1]; op2 {
	case 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e:
		id = matchHintSpace(op2, code, at, peek, p)
	case 0x0d:
		// PREFETCHW (/1, memory) x86asm knows.
		id, ok = fixPrefetchNop, !(peek.isMem && peek.reg&7 == 1)
	case 0xae:
		id, ok = matchGroup15(peek, p)
	case 0xc7:
		id, ok = matchGroup9(peek, p)
	case 0x01:
		if at >= len(code) {
			return fixMatch{}, false
		}
		id, ok = match0F01(code[at], p)
		return fixMatch{id: id, at: at}, ok
	case 0x38:
		if i+2 >= len(code) {
			return fixMatch{}, false
		}
		at = i + 3
		peek, _ = parseModRM(code, at, p)
		id, ok = match0F38(code[i+2], peek, p)
	default:
		return fixMatch{}, false
	}
	return fixMatch{id: id, at: at, modRM: true}, ok
}

// matchHintSpace sorts 0f 19-0f 1e: CET's ENDBR and RDSSP, CLDEMOTE, and
// the reserved hint NOPs around them.
func matchHintSpace(op2 byte, code []byte, at int, peek modRM, p prefixes) fixID {
	switch {
	case op2 == 0x1e && p.rep == 0xf3 && at < len(code) && code[at] == 0xfa:
		return fixEndbr64
	case op2 == 0x1e && p.rep == 0xf3 && at < len(code) && code[at] == 0xfb:
		return fixEndbr32
	case op2 == 0x1e && p.rep == 0xf3 && !peek.isMem && peek.reg&7 == 1:
		return fixRdssp
	case op2 == 0x1c && p.rep == 0 && !p.opSize && peek.isMem && peek.reg&7 == 0:
		return fixCldemote
	}
	return fixHintNop
}

// matchGroup15 sorts the 0f ae forms x86asm gets wrong.
func matchGroup15(peek modRM, p prefixes) (fixID, bool) {
	r, osz := peek.reg&7, p.opSize
	switch {
	case p.rep == 0xf3 && !peek.isMem && r == 5:
		return fixIncssp, true
	case p.rep == 0xf3 && r == 4:
		return fixPtwrite, true
	case p.rep == 0xf3 && !peek.isMem && r == 6:
		return fixUmonitor, true
	case p.rep == 0xf2 && !peek.isMem && r == 6:
		return fixUmwait, true
	case osz && p.rep == 0 && !peek.isMem && r == 6:
		return fixTpause, true
	case osz && p.rep == 0 && peek.isMem && r == 6:
		return fixClwb, true
	case osz && p.rep == 0 && peek.isMem && r == 7:
		return fixClflushopt, true
	}
	return fixNone, false
}

// matchGroup9 sorts the 0f c7 /7 register forms.
func matchGroup9(peek modRM, p prefixes) (fixID, bool) {
	switch {
	case p.rep == 0xf3 && !peek.isMem && peek.reg&7 == 7:
		return fixRdpid, true
	case p.rep == 0 && !peek.isMem && peek.reg&7 == 7:
		return fixRdseed, true
	}
	return fixNone, false
}

// match0F01 sorts the 0f 01 xx forms by their third byte c.
func match0F01(c byte, p prefixes) (fixID, bool) {
	switch {
	case c == 0xee && p.rep == 0:
		return fixRdpkru, true
	case c == 0xef && p.rep == 0:
		return fixWrpkru, true
	case c == 0xe8 && p.rep == 0 && !p.opSize:
		return fixSerialize, true
	case c == 0xe8 && p.rep == 0xf2:
		return fixXsusldtrk, true
	case c == 0xe9 && p.rep == 0xf2:
		return fixXresldtrk, true
	case c == 0xfc:
		return fixClzero, true
	case c == 0xfa:
		return fixMonitorx, true
	case c == 0xfb:
		return fixMwaitx, true
	}
	return fixNone, false
}

// match0F38 sorts the 0f 38 op3 forms.
func match0F38(op3 byte, peek modRM, p prefixes) (fixID, bool) {
	osz := p.opSize
	switch {
	case op3 == 0xf6 && osz && p.rep == 0:
		return fixAdcx, true
	case op3 == 0xf6 && p.rep == 0xf3 && !osz:
		return fixAdox, true
	case op3 == 0xf6 && p.rep == 0 && !osz && peek.isMem:
		return fixWrss, true
	case op3 == 0xf8 && osz && p.rep == 0 && peek.isMem:
		return fixMovdir64b, true
	case op3 == 0xf9 && !osz && p.rep == 0 && peek.isMem:
		return fixMovdiri, true
	case op3 == 0xf8 && !osz && p.rep == 0xf2 && peek.isMem:
		return fixEnqcmd, true
	case op3 == 0xf8 && !osz && p.rep == 0xf3 && peek.isMem:
		return fixEnqcmds, true
	}
	return fixNone, false
}

// fromFixup fills in from a recognised fixup: its kind and effects, its
// length, and its memory operands.
func (in *Inst) fromFixup(fm fixMatch, code []byte, p prefixes) error {
	f := fixups[fm.id]
	in.fix = fm.id
	in.kind = f.kind
	in.Effects |= f.eff
	in.addr32 = p.addr32
	if p.lock {
		in.Effects |= EffLock
	}
	var m modRM
	if fm.modRM {
		var ok bool
		if m, ok = parseModRM(code, fm.at, p); !ok {
			return undecodable(code, "%s: truncated", f.name)
		}
		in.Len = fm.at + m.n
	} else {
		in.Len = fm.at + 1
	}
	if in.Len > MaxLen {
		return undecodable(code, "%s: longer than %d bytes", f.name, MaxLen)
	}
	size := uint32(4)
	if p.rex&0x08 != 0 {
		size = 8
	}
	switch {
	case f.kind == kindPlain && m.isMem:
		m.mem.act, m.mem.size = f.act, size
		in.mem[0], in.nmem = m.mem, 1
	case f.kind == kindMovdir64b || f.kind == kindEnqcmd:
		src := m.mem
		src.act, src.size = actR, 64
		// The destination is ES:[reg]: no segment override applies.
		dst := memOperand{base: Reg(m.reg), index: regNone, scale: 1, seg: regNone, act: actW, size: 64}
		in.mem[0], in.mem[1], in.nmem = src, dst, 2
	case m.isMem && f.kind == kindCacheLine:
		m.mem.act, m.mem.size = actR, 1
		in.mem[0], in.nmem = m.mem, 1
	case m.isMem:
		// Kept for callers that want the address (the hardware check
		// watches it); kindNone reports no access.
		in.mem[0], in.nmem = m.mem, 1
	case f.kind == kindClzero:
		in.mem[0] = memOperand{base: RAX, index: regNone, scale: 1, seg: p.seg, act: actW, size: 64}
		in.nmem = 1
	}
	return nil
}

// decodeAMX decodes the AMX instructions (three-byte VEX, map 0F38, L0,
// W0) that x86asm does not know; anything else goes to x86asm.
func decodeAMX(in *Inst, code []byte, p prefixes) (bool, error) {
	i := p.n
	if i+3 >= len(code) || code[i+1]&0x1f != 2 || code[i+2]&0x84 != 0 {
		return false, nil
	}
	op, pp := code[i+3], code[i+2]&3
	// VEX keeps R, X and B inverted in its first payload byte; as REX
	// bits they extend ModRM and SIB the same way.
	vp := p
	vp.rex = 0x40 | (^code[i+1]>>5)&7
	m, ok := parseModRM(code, i+4, vp)
	if !ok {
		if op == 0x49 || op == 0x4b || op == 0x5c || op == 0x5e {
			return true, undecodable(code, "amx: truncated")
		}
		return false, nil
	}
	var id fixID
	switch {
	case op == 0x49 && pp == 0 && m.isMem && m.reg&7 == 0:
		id = fixLdtilecfg
	case op == 0x49 && pp == 1 && m.isMem && m.reg&7 == 0:
		id = fixSttilecfg
	case op == 0x49 && (pp == 0 || pp == 3) && !m.isMem:
		id = fixTileNop // TILERELEASE, TILEZERO
	case op == 0x4b && m.isMem && code[i+4]&7 == 4:
		switch pp {
		case 3:
			id = fixTileloadd
		case 1:
			id = fixTileloaddt1
		case 2:
			id = fixTilestored
		default:
			return false, nil
		}
	case (op == 0x5c || op == 0x5e) && !m.isMem:
		id = fixTileNop // TDPBF16PS, TDPB[SU][SU]D
	default:
		return false, nil
	}
	f := fixups[id]
	in.fix, in.kind, in.Effects = id, f.kind, in.Effects|f.eff
	in.addr32 = p.addr32
	in.Len = i + 4 + m.n
	if in.Len > MaxLen {
		return true, undecodable(code, "%s: longer than %d bytes", f.name, MaxLen)
	}
	if m.isMem {
		m.mem.act, m.mem.size = f.act, 64
		in.mem[0], in.nmem = m.mem, 1
	}
	return true, nil
}
