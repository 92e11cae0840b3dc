package hwbp

import (
	"errors"
	"testing"
)

// DR7 as Intel SDM vol. 3B draws it (figure "Debug Registers", subsection
// "Debug Control Register (DR7)"), transcribed bit by bit rather than
// computed the way dr7.go computes it.
var (
	sdmL   = [NumSlots]uint{0, 2, 4, 6}     // L0-L3
	sdmG   = [NumSlots]uint{1, 3, 5, 7}     // G0-G3
	sdmRW  = [NumSlots]uint{16, 20, 24, 28} // R/W0-R/W3, low bit
	sdmLEN = [NumSlots]uint{18, 22, 26, 30} // LEN0-LEN3, low bit

	sdmRWValue  = map[Cond]uint64{CondExecute: 0b00, CondWrite: 0b01, CondAccess: 0b11}
	sdmLENValue = map[uint8]uint64{1: 0b00, 2: 0b01, 4: 0b11, 8: 0b10}
)

// sdmControl is the DR7 value arming p in slot s, by the SDM's picture.
func sdmControl(s Slot, p Piece) uint64 {
	return 1<<sdmL[s] | sdmRWValue[p.Cond]<<sdmRW[s] | sdmLENValue[p.Len]<<sdmLEN[s]
}

// validShapes are the condition and length pairs a slot can hold.
var validShapes = []struct {
	cond Cond
	len  uint8
}{
	{CondExecute, 1},
	{CondWrite, 1}, {CondWrite, 2}, {CondWrite, 4}, {CondWrite, 8},
	{CondAccess, 1}, {CondAccess, 2}, {CondAccess, 4}, {CondAccess, 8},
}

func TestEncodeLiterals(t *testing.T) {
	for _, tc := range []struct {
		slot Slot
		p    Piece
		dr7  uint64
	}{
		// Values the probes wrote and Linux accepted.
		{0, Piece{Addr: 0x7fffffffefff, Len: 1, Cond: CondWrite}, 0x10001},
		{0, Piece{Addr: 0x7fffffffeff8, Len: 8, Cond: CondWrite}, 0x90001},
		{0, Piece{Addr: 0x1000, Len: 4, Cond: CondWrite}, 0xd0001},
		{0, Piece{Addr: 0x401000, Len: 1, Cond: CondExecute}, 0x1},
		{1, Piece{Addr: 0x1002, Len: 2, Cond: CondAccess}, 0x0070_0004},
		{2, Piece{Addr: 0x1004, Len: 4, Cond: CondWrite}, 0x0d00_0010},
		{3, Piece{Addr: 0x1008, Len: 8, Cond: CondAccess}, 0xb000_0040},
		{3, Piece{Addr: 0x401001, Len: 1, Cond: CondExecute}, 0x40},
	} {
		var sl Slots
		sl[tc.slot] = tc.p
		img, err := sl.Encode()
		if err != nil {
			t.Fatalf("%v %v: %v", tc.slot, tc.p, err)
		}
		want := Image{Control: tc.dr7}
		want.Addr[tc.slot] = tc.p.Addr
		if img != want {
			t.Errorf("%v %v: %v, want %v", tc.slot, tc.p, img, want)
		}
	}
}

// TestEncodeExhaustive encodes every assignment of vacant or one of the nine
// valid shapes to each of the four slots (10^4 images) and compares with the
// SDM's picture, then decodes back.
func TestEncodeExhaustive(t *testing.T) {
	const choices = 1 + 9
	for code := range choices * choices * choices * choices {
		var sl Slots
		var want Image
		c := code
		for s := range Slot(NumSlots) {
			choice := c % choices
			c /= choices
			if choice == 0 {
				continue
			}
			sh := validShapes[choice-1]
			// Distinct, aligned addresses per slot so no two pieces are equal.
			p := Piece{Addr: 0x10000*uint64(s+1) + 8*uint64(choice), Len: sh.len, Cond: sh.cond}
			sl[s] = p
			want.Addr[s] = p.Addr
			want.Control |= sdmControl(s, p)
		}
		img, err := sl.Encode()
		if err != nil {
			t.Fatalf("%v: %v", sl, err)
		}
		if img != want {
			t.Fatalf("%v: %v, want %v", sl, img, want)
		}
		if img.Enabled() != sl.Used() {
			t.Fatalf("%v: enabled %v, used %v", sl, img.Enabled(), sl.Used())
		}
		back, err := img.Decode()
		if err != nil || back != sl {
			t.Fatalf("Decode(%v) = %v, %v; want %v", img, back, err, sl)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	ok := Piece{Addr: 0x1000, Len: 4, Cond: CondWrite}
	for _, tc := range []struct {
		name  string
		slots Slots
		slot  Slot
		err   error
		msg   string
	}{
		{"misaligned", Slots{ok, {Addr: 0x1001, Len: 4, Cond: CondWrite}}, 1, ErrMisaligned,
			"slot 1: write 0x1001 len 4: address not aligned to length"},
		{"misaligned 8", Slots{2: {Addr: 0x1004, Len: 8, Cond: CondAccess}}, 2, ErrMisaligned, ""},
		{"length 3", Slots{{Addr: 0x1000, Len: 3, Cond: CondWrite}}, 0, ErrPieceLength,
			"slot 0: write 0x1000 len 3: piece length is not 1, 2, 4 or 8"},
		{"length 16", Slots{{Addr: 0x1000, Len: 16, Cond: CondWrite}}, 0, ErrPieceLength, ""},
		{"length 0", Slots{3: {Addr: 0x1000, Cond: CondWrite}}, 3, ErrPieceLength, ""},
		{"execute length 2", Slots{{Addr: 0x1000, Len: 2, Cond: CondExecute}}, 0, ErrExecuteLength, ""},
		{"no condition", Slots{{Addr: 0x1000, Len: 1}}, 0, ErrUnknownCond,
			"slot 0: cond(0) 0x1000 len 1: unknown condition"},
		{"condition 4", Slots{{Addr: 0x1000, Len: 1, Cond: 4}}, 0, ErrUnknownCond, ""},
		{"guard page", Slots{{Addr: UserLimit, Len: 1, Cond: CondWrite}}, 0, ErrKernelAddress, ""},
		{"non-canonical", Slots{{Addr: 1 << 47, Len: 8, Cond: CondWrite}}, 0, ErrNonCanonical, ""},
		{"kernel", Slots{{Addr: 0xffff_ffff_ffff_fff8, Len: 8, Cond: CondAccess}}, 0, ErrKernelAddress, ""},
		{"duplicate", Slots{ok, {}, ok}, 2, ErrDuplicatePiece,
			"slot 2: write 0x1000 len 4: piece already in another slot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img, err := tc.slots.Encode()
			var se *SlotError
			if !errors.Is(err, tc.err) || !errors.As(err, &se) || se.Slot != tc.slot || img != (Image{}) {
				t.Fatalf("Encode = %v, %v; want %v in slot %d", img, err, tc.err, tc.slot)
			}
			if tc.msg != "" && err.Error() != tc.msg {
				t.Errorf("message %q, want %q", err.Error(), tc.msg)
			}
		})
	}
	// An access piece and its write pair are different pieces.
	p := Piece{Addr: 0x1000, Len: 8, Cond: CondAccess}
	if _, err := (Slots{p, p.WritePair()}).Encode(); err != nil {
		t.Errorf("piece and pair: %v", err)
	}
}

// TestDecodeExhaustive decodes every value of one slot's enable bits and
// 4-bit R/W-LEN group, in each slot, with the other slots vacant.
func TestDecodeExhaustive(t *testing.T) {
	const addr = 0x2000 // aligned for every length
	for s := range Slot(NumSlots) {
		for enable := range 4 { // bit 0: L, bit 1: G
			for group := range uint64(16) {
				rw, lenVal := group&0b11, group>>2
				img := Image{Control: uint64(enable&1)<<sdmL[s] | uint64(enable>>1)<<sdmG[s] |
					rw<<sdmRW[s] | lenVal<<sdmLEN[s]}
				img.Addr[s] = addr
				got, err := img.Decode()

				var wantErr error
				var want Slots
				switch {
				case enable == 0: // vacant whatever the fields say
				case rw == 0b10:
					wantErr = ErrIOCondition
				case rw == 0b00 && lenVal != 0b00:
					wantErr = ErrExecuteLength
				default:
					var c Cond
					for k, v := range sdmRWValue {
						if v == rw {
							c = k
						}
					}
					var n uint8
					for k, v := range sdmLENValue {
						if v == lenVal {
							n = k
						}
					}
					want[s] = Piece{Addr: addr, Len: n, Cond: c}
				}
				if wantErr != nil {
					var se *SlotError
					if !errors.Is(err, wantErr) || !errors.As(err, &se) || se.Slot != s {
						t.Errorf("%v: Decode error %v, want %v in %v", img, err, wantErr, s)
					}
					continue
				}
				if err != nil || got != want {
					t.Errorf("%v: Decode = %v, %v; want %v", img, got, err, want)
				}
				if wantEnabled := (SlotSet(0)).With(s); enable == 0 {
					if img.Enabled() != 0 {
						t.Errorf("%v: enabled %v", img, img.Enabled())
					}
				} else if img.Enabled() != wantEnabled {
					t.Errorf("%v: enabled %v, want %v", img, img.Enabled(), wantEnabled)
				}
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	if _, err := (Image{Control: 1 << 32}).Decode(); !errors.Is(err, ErrReservedBits) {
		t.Errorf("bit 32: %v", err)
	}
	if _, err := (Image{Control: 1 << 63}).Decode(); !errors.Is(err, ErrReservedBits) {
		t.Errorf("bit 63: %v", err)
	}
	// Bits 8-15 (LE, GE, GD, reserved) are ignored; gdb sets LE.
	img := Image{Addr: [4]uint64{0x1000}, Control: 0x10001 | 0xff00}
	if sl, err := img.Decode(); err != nil || sl[0] != (Piece{Addr: 0x1000, Len: 1, Cond: CondWrite}) {
		t.Errorf("with bits 8-15: %v, %v", sl, err)
	}
	// Enabled slots are checked as Encode checks pieces.
	for _, tc := range []struct {
		img  Image
		slot Slot
		err  error
		msg  string
	}{
		{Image{Addr: [4]uint64{0x1001}, Control: 0xd0001}, 0, ErrMisaligned, "slot 0: write 0x1001 len 4: address not aligned to length"},
		{Image{Addr: [4]uint64{3: 0x1000}, Control: 0x2000_0040}, 3, ErrIOCondition, "slot 3: r/w 10: i/o condition not supported"},
		{Image{Addr: [4]uint64{1: 0x1000}, Control: 0x00c0_0004}, 1, ErrExecuteLength, "slot 1: execute with len 11: execute length is not 1"},
		{Image{Addr: [4]uint64{UserLimit}, Control: 0x1}, 0, ErrKernelAddress, ""},
		{Image{Addr: [4]uint64{0x1000, 0x1000}, Control: 0x1 | 0x4}, 1, ErrDuplicatePiece, ""},
	} {
		_, err := tc.img.Decode()
		var se *SlotError
		if !errors.Is(err, tc.err) || !errors.As(err, &se) || se.Slot != tc.slot {
			t.Errorf("Decode(%v) = %v, want %v in slot %d", tc.img, err, tc.err, tc.slot)
			continue
		}
		if tc.msg != "" && err.Error() != tc.msg {
			t.Errorf("message %q, want %q", err.Error(), tc.msg)
		}
	}
	// A vacant slot's address and fields do not matter.
	// Slot 0: write len 1; slots 1-3: not enabled, garbage fields and
	// addresses.
	img = Image{Addr: [4]uint64{0x1001, 0xffff_ffff_ffff_ffff, 3, 5}, Control: 0x10001 | 0xfff0_0000}
	sl, err := img.Decode()
	if err != nil || sl != (Slots{{Addr: 0x1001, Len: 1, Cond: CondWrite}}) {
		t.Errorf("vacant garbage: %v, %v", sl, err)
	}
}

func TestFiredPieces(t *testing.T) {
	sl := Slots{
		0: {Addr: 0x1000, Len: 8, Cond: CondAccess},
		2: {Addr: 0x1000, Len: 8, Cond: CondWrite},
		3: {Addr: 0x2004, Len: 4, Cond: CondWrite},
	}
	var got []Slot
	var pieces []Piece
	for s, p := range sl.Fired(0b1111) {
		got = append(got, s)
		pieces = append(pieces, p)
	}
	if len(got) != 3 || got[0] != 0 || got[1] != 2 || got[2] != 3 || pieces[1] != sl[2] {
		t.Errorf("Fired = %v %v", got, pieces)
	}
	for s := range sl.Fired(0b0001) {
		if s != 0 {
			t.Errorf("Fired(0b0001) yielded %v", s)
		}
	}
	for range sl.Fired(0) {
		t.Error("Fired(0) yielded")
	}
	for s := range sl.Fired(0b1111) {
		if s != 0 {
			t.Errorf("early stop ignored: %v", s)
		}
		break
	}
	if sl.Used() != 0b1101 {
		t.Errorf("Used = %v", sl.Used())
	}
}

func TestSlotSet(t *testing.T) {
	var ss SlotSet
	ss = ss.With(3).With(1).With(9) // 9 is not a slot
	if ss != 0b1010 || ss.Len() != 2 || !ss.Has(1) || ss.Has(0) || ss.Has(9) {
		t.Errorf("set %v", ss)
	}
	var order []Slot
	for s := range allSlots.All() {
		order = append(order, s)
		if s == 2 {
			break
		}
	}
	if len(order) != 3 || order[2] != 2 {
		t.Errorf("All with break: %v", order)
	}
}

func TestImageString(t *testing.T) {
	img, err := (Slots{{Addr: 0x1000, Len: 4, Cond: CondWrite}}).Encode()
	if want := "dr0=0x1000 dr1=0x0 dr2=0x0 dr3=0x0 dr7=0xd0001"; err != nil || img.String() != want {
		t.Errorf("%v, %v; want %s", img, err, want)
	}
}

// TestDR7Enable checks the exported enable mask against the SDM's L and G
// bits, and that it says what Image.Enabled says.
func TestDR7Enable(t *testing.T) {
	var sdm uint64
	for s := range Slot(NumSlots) {
		sdm |= 1<<sdmL[s] | 1<<sdmG[s]
	}
	if DR7Enable != sdm {
		t.Errorf("DR7Enable = %#x, the SDM's L0-G3 are %#x", DR7Enable, sdm)
	}
	for ctl := range uint64(1 << 8) {
		img := Image{Control: ctl | 0xd<<16}
		if got, want := img.Enabled() != 0, ctl&DR7Enable != 0; got != want {
			t.Errorf("dr7 %#x: Enabled %v, DR7Enable says %v", img.Control, img.Enabled(), want)
		}
	}
}

// TestMustEncode: MustEncode is Encode where Encode succeeds, and panics
// where it fails.
func TestMustEncode(t *testing.T) {
	sl := Slots{1: {Addr: 0x1008, Len: 8, Cond: CondAccess}}
	want, err := sl.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got := sl.MustEncode(); got != want {
		t.Errorf("MustEncode = %v, Encode = %v", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("MustEncode of a misaligned piece did not panic")
		}
	}()
	Slots{{Addr: 0x1001, Len: 8, Cond: CondWrite}}.MustEncode()
}
