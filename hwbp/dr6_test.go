package hwbp

import "testing"

// DR6 as Intel SDM vol. 3B draws it (subsection "Debug Status Register
// (DR6)"): B0-B3 at bits 0-3, BD 13, BS 14, BT 15; bits 4-11 and 16-31 read
// as 1 (bit 16 is RTM, active low), bit 12 as 0.
const (
	sdmB0, sdmB1, sdmB2, sdmB3 = 1 << 0, 1 << 1, 1 << 2, 1 << 3
	sdmBD, sdmBS, sdmBT        = 1 << 13, 1 << 14, 1 << 15
	sdmDR6Ones                 = 0xffff_0ff0 // reserved bits as the processor sets them
)

func TestDecodeStatusTable(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dr6     uint64
		enabled SlotSet
		want    Status
	}{
		{"nothing", 0, 0b1111, Status{}},
		{"reserved ones only", sdmDR6Ones, 0b1111, Status{}},
		{"B0", sdmDR6Ones | sdmB0, 0b0001, Status{Fired: 0b0001}},
		// One 8-byte store over two 4-byte pieces: both bits (probe).
		{"B1 and B2", sdmDR6Ones | sdmB1 | sdmB2, 0b0110, Status{Fired: 0b0110}},
		{"all four", sdmB0 | sdmB1 | sdmB2 | sdmB3, 0b1111, Status{Fired: 0b1111}},
		// The processor may flag a met condition of a slot DR7 does not
		// enable; it is not a hit.
		{"B3 of a disabled slot", sdmB3 | sdmB0, 0b0001, Status{Fired: 0b0001}},
		{"no slot enabled", sdmB0 | sdmB1 | sdmB2 | sdmB3, 0, Status{}},
		{"step", sdmDR6Ones | sdmBS, 0b1111, Status{SingleStep: true}},
		// A step over a watched store: BS and Bn together (probe).
		{"step and B2", sdmBS | sdmB2, 0b0100, Status{Fired: 0b0100, SingleStep: true}},
		{"BD and BT are not hits", sdmBD | sdmBT, 0b1111, Status{}},
		{"enabled bits beyond slot 3 ignored", 0xff, 0xff, Status{Fired: 0b1111}},
		{"Linux ptrace view", 0x4001, 0b0001, Status{Fired: 0b0001, SingleStep: true}},
	} {
		if got := DecodeStatus(tc.dr6, tc.enabled); got != tc.want {
			t.Errorf("%s: DecodeStatus(%#x, %v) = %v, want %v", tc.name, tc.dr6, tc.enabled, got, tc.want)
		}
	}
}

// TestDecodeStatusExhaustive tries every value of DR6's low 16 bits, with
// and without the reserved ones, against every enabled set.
func TestDecodeStatusExhaustive(t *testing.T) {
	bn := [NumSlots]uint64{sdmB0, sdmB1, sdmB2, sdmB3}
	for low := range uint64(1 << 16) {
		for _, high := range []uint64{0, sdmDR6Ones &^ 0xffff, 0xffff_ffff_0000_0000} {
			dr6 := low | high
			for enabled := range SlotSet(1 << NumSlots) {
				var want Status
				for s := range Slot(NumSlots) {
					if enabled.Has(s) && dr6&bn[s] != 0 {
						want.Fired = want.Fired.With(s)
					}
				}
				want.SingleStep = dr6&sdmBS != 0
				if got := DecodeStatus(dr6, enabled); got != want {
					t.Fatalf("DecodeStatus(%#x, %v) = %v, want %v", dr6, enabled, got, want)
				}
			}
		}
	}
}

// TestStopToPieces runs the path of a stop: image, DR6, fired pieces.
func TestStopToPieces(t *testing.T) {
	sl := Slots{
		1: {Addr: 0x1000, Len: 4, Cond: CondWrite},
		2: {Addr: 0x1004, Len: 4, Cond: CondWrite},
	}
	img, err := sl.Encode()
	if err != nil {
		t.Fatal(err)
	}
	// An 8-byte store at 0x1000 meets both; B0 is stale noise of a
	// vacant slot.
	st := DecodeStatus(sdmDR6Ones|sdmB0|sdmB1|sdmB2, img.Enabled())
	var hit []Piece
	for _, p := range sl.Fired(st.Fired) {
		hit = append(hit, p)
	}
	if len(hit) != 2 || hit[0] != sl[1] || hit[1] != sl[2] || st.SingleStep {
		t.Errorf("hits %v, status %v", hit, st)
	}
}

// TestDR6Words checks the exported DR6 words against the SDM's picture
// (B0-B3 at bits 0-3, BS at 14) and against DecodeStatus.
func TestDR6Words(t *testing.T) {
	if DR6Hits != 0b1111 || DR6SingleStep != 1<<14 {
		t.Errorf("DR6Hits %#x, DR6SingleStep %#x; the SDM puts B0-B3 at bits 0-3 and BS at bit 14", DR6Hits, DR6SingleStep)
	}
	for s := range Slot(NumSlots) {
		st := DecodeStatus(DR6Hit(s), allSlots)
		if st.Fired != SlotSet(0).With(s) || st.SingleStep {
			t.Errorf("DR6Hit(%v) = %#x decodes as %v", s, DR6Hit(s), st)
		}
		if DR6Hit(s)&^DR6Hits != 0 {
			t.Errorf("DR6Hit(%v) = %#x is outside DR6Hits", s, DR6Hit(s))
		}
	}
	if st := DecodeStatus(DR6SingleStep, allSlots); !st.SingleStep || st.Fired != 0 {
		t.Errorf("DR6SingleStep decodes as %v", st)
	}
}
