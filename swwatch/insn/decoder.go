package insn

// decoderSlots is the size of a Decoder's cache: enough for the hot loop
// of a program being single-stepped.
const decoderSlots = 512

// Decoder is Decode with a cache of recent instructions, keyed by the
// bytes given. Software watchpoint emulation decodes the instruction at
// every single-step, mostly the same few in a loop; a cache hit costs a
// hash and a compare, and allocates nothing (x86asm allocates for each
// memory operand it decodes).
//
// The zero value is ready to use. A Decoder is not safe for concurrent
// use: it belongs to the owner of the target it decodes for (the
// software-watchpoint engine, on the core loop's thread).
type Decoder struct {
	slots [decoderSlots]decoderSlot
}

type decoderSlot struct {
	n    uint8 // bytes of key in use; 0: empty
	key  [MaxLen]byte
	inst Inst
}

// Decode is Decode(code, Mode64) through the cache. Errors are not
// cached.
func (d *Decoder) Decode(code []byte) (Inst, error) {
	if len(code) > MaxLen {
		code = code[:MaxLen]
	}
	h := uint32(2166136261) // FNV-1a
	for _, c := range code {
		h = (h ^ uint32(c)) * 16777619
	}
	s := &d.slots[h%decoderSlots]
	if s.n != 0 && int(s.n) == len(code) && string(s.key[:s.n]) == string(code) {
		return s.inst, nil
	}
	in, err := Decode(code, Mode64)
	if err != nil {
		return in, err
	}
	s.n = uint8(copy(s.key[:], code))
	s.inst = in
	return in, nil
}
