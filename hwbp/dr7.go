package hwbp

import (
	"fmt"
	"iter"
	"strings"
)

// The layout of DR7 and the meaning of its fields follow the Intel SDM
// vol. 3B, section "Debug Registers", subsections "Debug Control Register
// (DR7)" and "Breakpoint Field Recognition" (16.2.4 and 16.2.5 in order no.
// 253668-032US; the numbers move between editions), and
// docs/x86-debug-registers.md "Encoding". All DR7 bit positions of this
// package are the constants and the table below; nothing else shifts DR7.

// NumSlots is the number of debug-register slots: DR0-DR3.
const NumSlots = 4

// DR7 per-slot fields: enable bits from bit 0, two per slot (Li = bit 2i,
// Gi = bit 2i+1); then from bit 16 a 4-bit group per slot holding R/Wi
// (low two bits) and LENi (high two bits).
const (
	dr7EnableStride = 2  // L and G per slot
	dr7LocalEnable  = 0  // offset of Li in its pair
	dr7GlobalEnable = 1  // offset of Gi in its pair
	dr7GroupBase    = 16 // R/W0 starts here
	dr7GroupStride  = 4  // R/Wi and LENi per slot
	dr7RWOffset     = 0  // R/Wi at the start of its group
	dr7LenOffset    = 2  // LENi after R/Wi
	dr7FieldWidth   = 2  // R/Wi and LENi are two bits each

	// dr7Reserved are the upper 32 bits, which must be zero in 64-bit
	// mode (SDM "Debug Registers and Intel 64 Processors": writing 1 is
	// #GP(0)).
	dr7Reserved uint64 = 0xffff_ffff_0000_0000
)

// DR7Enable is every enable bit of DR7, L0 G0 ... L3 G3 (bits 0-7): a DR7
// word w arms some slot exactly when w&DR7Enable != 0 (Image.Enabled says
// which). target/linux uses it to know, at a trace trap, that no slot
// could have fired with the step.
const DR7Enable uint64 = 1<<(NumSlots*dr7EnableStride) - 1

// dr7Encoding is the one table between DR7 field values and pieces, indexed
// by the 2-bit field value.
var dr7Encoding = struct {
	cond [4]Cond  // R/W field -> condition; 0 for 10 (I/O, refused by Linux)
	len  [4]uint8 // LEN field -> bytes
}{
	cond: [4]Cond{0b00: CondExecute, 0b01: CondWrite, 0b10: 0, 0b11: CondAccess},
	len:  [4]uint8{0b00: 1, 0b01: 2, 0b10: 8, 0b11: 4},
}

// rwBits returns the R/W field value for a valid condition.
func rwBits(c Cond) uint64 {
	for v, cc := range dr7Encoding.cond {
		if cc == c && c.valid() {
			return uint64(v)
		}
	}
	panic("hwbp: rwBits of unchecked condition " + c.String()) // callers validate first
}

// lenBits returns the LEN field value for a valid piece length.
func lenBits(n uint8) uint64 {
	for v, l := range dr7Encoding.len {
		if l == n {
			return uint64(v)
		}
	}
	panic(fmt.Sprintf("hwbp: lenBits of unchecked length %d", n)) // callers validate first
}

// field is a group of bits of DR7.
type field struct {
	shift uint
	width uint
}

func (f field) get(w uint64) uint64 { return w >> f.shift & (1<<f.width - 1) }

func (f field) set(w, v uint64) uint64 {
	mask := uint64(1<<f.width-1) << f.shift
	return w&^mask | v<<f.shift&mask
}

func localEnable(s Slot) field {
	return field{shift: uint(s)*dr7EnableStride + dr7LocalEnable, width: 1}
}

func globalEnable(s Slot) field {
	return field{shift: uint(s)*dr7EnableStride + dr7GlobalEnable, width: 1}
}

func rwField(s Slot) field {
	return field{shift: dr7GroupBase + uint(s)*dr7GroupStride + dr7RWOffset, width: dr7FieldWidth}
}

func lenField(s Slot) field {
	return field{shift: dr7GroupBase + uint(s)*dr7GroupStride + dr7LenOffset, width: dr7FieldWidth}
}

// Slot is a physical debug-register slot, 0 to NumSlots-1: DRn holds its
// address, DR7 its enable bits and fields. Clients never see slot numbers;
// the arbiter's debugpoint ids are another space.
type Slot uint8

func (s Slot) String() string { return fmt.Sprintf("slot %d", uint8(s)) }

// SlotSet is a set of slots, bit n for slot n.
type SlotSet uint8

// allSlots is the set of every slot.
const allSlots SlotSet = 1<<NumSlots - 1

// Has reports whether s is in the set.
func (ss SlotSet) Has(s Slot) bool { return s < NumSlots && ss&(1<<s) != 0 }

// With returns the set with s added.
func (ss SlotSet) With(s Slot) SlotSet {
	if s >= NumSlots {
		return ss
	}
	return ss | 1<<s
}

// Len returns the number of slots in the set.
func (ss SlotSet) Len() int {
	n := 0
	for range ss.All() {
		n++
	}
	return n
}

// All yields the slots of the set in increasing order.
func (ss SlotSet) All() iter.Seq[Slot] {
	return func(yield func(Slot) bool) {
		for s := Slot(0); s < NumSlots; s++ {
			if ss.Has(s) && !yield(s) {
				return
			}
		}
	}
}

// String lists the slot numbers, as in "{0,2}".
func (ss SlotSet) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for s := range ss.All() {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, uint8(s))
	}
	b.WriteByte('}')
	return b.String()
}

// Slots is what each slot holds: the piece, or the zero Piece for a vacant
// slot. It is the x86 side of an arbiter plan.
type Slots [NumSlots]Piece

// Used returns the set of slots that hold a piece.
func (sl Slots) Used() SlotSet {
	var ss SlotSet
	for i, p := range sl {
		if p != (Piece{}) {
			ss = ss.With(Slot(i))
		}
	}
	return ss
}

// Fired yields the slot and piece of each slot in fired that holds a piece,
// in slot order: the pieces a stop's DR6 (DecodeStatus) says were hit.
func (sl Slots) Fired(fired SlotSet) iter.Seq2[Slot, Piece] {
	return func(yield func(Slot, Piece) bool) {
		for s := range fired.All() {
			if p := sl[s]; p != (Piece{}) && !yield(s, p) {
				return
			}
		}
	}
}

// Image is the debug-register image every thread should hold: DR0-DR3 and
// DR7. Its shape is target.DebugRegisters', so the server converts with
// target.DebugRegisters(img).
type Image struct {
	Addr    [NumSlots]uint64
	Control uint64 // DR7
}

// String shows the registers, as in
// "dr0=0x1000 dr1=0x0 dr2=0x0 dr3=0x0 dr7=0xd0001".
func (img Image) String() string {
	return fmt.Sprintf("dr0=%#x dr1=%#x dr2=%#x dr3=%#x dr7=%#x",
		img.Addr[0], img.Addr[1], img.Addr[2], img.Addr[3], img.Control)
}

// Encode returns the image that arms each piece in its slot. A used slot
// gets its address and, in DR7, its L bit, R/W and LEN fields; a vacant
// slot gets address 0 and no DR7 bits, so a thread that never used it is
// not written to (each DRn write reserves a kernel slot for the thread:
// docs "Capacity is not a constant 4"). Only L bits are set, as gdb does:
// Linux reads the DR7 a tracer writes slot by slot (enable, R/W, LEN) and
// builds the hardware DR7 itself, so G and the LE/GE bits would change
// nothing (probe: LE and G are accepted and read back as written).
//
// A piece that fails Piece.Validate, or the same piece in two slots, gets a
// *SlotError and the zero Image.
func (sl Slots) Encode() (Image, error) {
	var img Image
	for i, p := range sl {
		s := Slot(i)
		if p == (Piece{}) {
			continue
		}
		if err := p.Validate(); err != nil {
			return Image{}, &SlotError{Slot: s, Piece: p, Err: err}
		}
		for j := range i {
			if sl[j] == p {
				return Image{}, &SlotError{Slot: s, Piece: p, Err: ErrDuplicatePiece}
			}
		}
		img.Addr[s] = p.Addr
		img.Control = localEnable(s).set(img.Control, 1)
		img.Control = rwField(s).set(img.Control, rwBits(p.Cond))
		img.Control = lenField(s).set(img.Control, lenBits(p.Len))
	}
	return img, nil
}

// MustEncode is Encode for pieces known to be valid: tests and examples
// that need a DR7 word, so that no DR7 bit is computed outside this
// package. It panics where Encode returns an error.
func (sl Slots) MustEncode() Image {
	img, err := sl.Encode()
	if err != nil {
		panic("hwbp: MustEncode: " + err.Error())
	}
	return img
}

// Enabled returns the slots DR7 enables: L or G set. Linux arms a slot for
// either (arch/x86/kernel/ptrace.c decode_dr7; probe: G alone is accepted).
func (img Image) Enabled() SlotSet {
	var ss SlotSet
	for s := Slot(0); s < NumSlots; s++ {
		if localEnable(s).get(img.Control) != 0 || globalEnable(s).get(img.Control) != 0 {
			ss = ss.With(s)
		}
	}
	return ss
}

// Decode returns the pieces an image arms, for tests and `monitor` output.
// Slots DR7 does not enable are vacant whatever their address and fields
// hold; bits 8-15 (LE, GE, GD and reserved) are ignored. An enabled slot
// that Linux would refuse gets a *SlotError: R/W 10 (ErrIOCondition),
// execute with LEN other than 00 (ErrExecuteLength), a misaligned or
// non-user address, a piece already in a lower slot (ErrDuplicatePiece);
// DR7 bits 32-63 set give ErrReservedBits. What decodes encodes again, and
// for every Slots s that encodes, Decode(Encode(s)) is s.
func (img Image) Decode() (Slots, error) {
	var sl Slots
	if img.Control&dr7Reserved != 0 {
		return Slots{}, fmt.Errorf("dr7 %#x: %w", img.Control, ErrReservedBits)
	}
	for s := range img.Enabled().All() {
		rw := rwField(s).get(img.Control)
		cond := dr7Encoding.cond[rw]
		if cond == 0 {
			return Slots{}, &SlotError{Slot: s, Err: fmt.Errorf("r/w %02b: %w", rw, ErrIOCondition)}
		}
		lenVal := lenField(s).get(img.Control)
		p := Piece{Addr: img.Addr[s], Len: dr7Encoding.len[lenVal], Cond: cond}
		if cond == CondExecute && lenVal != 0 {
			// Report the field, not a made-up piece length.
			return Slots{}, &SlotError{Slot: s, Err: fmt.Errorf("execute with len %02b: %w", lenVal, ErrExecuteLength)}
		}
		if err := p.Validate(); err != nil {
			return Slots{}, &SlotError{Slot: s, Piece: p, Err: err}
		}
		for _, q := range sl[:s] {
			if q == p {
				return Slots{}, &SlotError{Slot: s, Piece: p, Err: ErrDuplicatePiece}
			}
		}
		sl[s] = p
	}
	return sl, nil
}
