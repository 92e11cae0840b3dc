package target

import (
	"reflect"
	"testing"

	"gdbserverx/hwbp"
)

func TestPlanDebugWrites(t *testing.T) {
	const unknown = ^uint64(0)
	// DR7 words from hwbp's encoder (the address does not change them).
	control := func(sl hwbp.Slots) uint64 { return sl.MustEncode().Control }
	var (
		w0   = control(hwbp.Slots{0: {Addr: 0x1000, Len: 4, Cond: hwbp.CondWrite}})
		w1   = control(hwbp.Slots{1: {Addr: 0x1000, Len: 4, Cond: hwbp.CondWrite}})
		w01  = w0 | w1
		w0l8 = control(hwbp.Slots{0: {Addr: 0x1000, Len: 8, Cond: hwbp.CondWrite}})
		// w0g is w0 enabled by its G bit only (bit 1 for slot 0, SDM
		// "Debug Control Register (DR7)"), a word hwbp never makes (it
		// sets L bits, as gdb does) but a thread may hold.
		w0g = w0&^hwbp.DR7Enable | 1<<1
	)
	unk := [4]uint64{unknown, unknown, unknown, unknown}
	tests := []struct {
		name       string
		have, want DebugRegisters
		writes     []DebugWrite
	}{
		{"nothing to nothing", DebugRegisters{}, DebugRegisters{}, nil},
		{"equal images: no write",
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0}, nil},
		{"new thread, nothing wanted: no write",
			DebugRegisters{Addr: unk}, DebugRegisters{}, nil},
		{"new thread, disabled slot with address: no write (no slot reserved)",
			DebugRegisters{Addr: unk}, DebugRegisters{Addr: [4]uint64{0x1000, 0x2000}}, nil},
		{"new thread, one slot",
			DebugRegisters{Addr: unk}, DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			[]DebugWrite{{0, 0x1000}, {7, w0}}},
		{"new thread, G bit counts as enabled",
			DebugRegisters{Addr: unk}, DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0g},
			[]DebugWrite{{0, 0x1000}, {7, w0g}}},
		{"enable a second slot: address then DR7, no clear",
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			DebugRegisters{Addr: [4]uint64{0x1000, 0x2000}, Control: w01},
			[]DebugWrite{{1, 0x2000}, {7, w01}}},
		{"enabled slot moves: DR7 cleared first",
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			DebugRegisters{Addr: [4]uint64{0x1008}, Control: w0},
			[]DebugWrite{{7, 0}, {0, 0x1008}, {7, w0}}},
		{"disable a slot: one DR7 write, addresses untouched",
			DebugRegisters{Addr: [4]uint64{0x1000, 0x2000}, Control: w01},
			DebugRegisters{Addr: [4]uint64{0x1000, 0x2000}, Control: w1},
			[]DebugWrite{{7, w1}}},
		{"disable all: one DR7 write",
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			DebugRegisters{},
			[]DebugWrite{{7, 0}}},
		{"disable one, enable another elsewhere: address, then DR7",
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			DebugRegisters{Addr: [4]uint64{0x1000, 0x3000}, Control: w1},
			[]DebugWrite{{1, 0x3000}, {7, w1}}},
		{"re-enable at the address the slot still holds: DR7 only",
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: 0},
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			[]DebugWrite{{7, w0}}},
		{"length change in place: DR7 only",
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0l8},
			[]DebugWrite{{7, w0l8}}},
		{"disabled slot's stale address is not rewritten",
			DebugRegisters{Addr: [4]uint64{0x1000, 0x2000}, Control: w0},
			DebugRegisters{Addr: [4]uint64{0x1000, 0x9999}, Control: w0}, nil},
		{"two slots swap addresses",
			DebugRegisters{Addr: [4]uint64{0x1000, 0x2000}, Control: w01},
			DebugRegisters{Addr: [4]uint64{0x2000, 0x1000}, Control: w01},
			[]DebugWrite{{7, 0}, {0, 0x2000}, {1, 0x1000}, {7, w01}}},
		{"attached thread, control unknown, nothing wanted: clear DR7",
			DebugRegisters{Addr: unk, Control: unknown}, DebugRegisters{},
			[]DebugWrite{{7, 0}}},
		{"attached thread, control unknown, one slot",
			DebugRegisters{Addr: unk, Control: unknown},
			DebugRegisters{Addr: [4]uint64{0x1000}, Control: w0},
			[]DebugWrite{{7, 0}, {0, 0x1000}, {7, w0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanDebugWrites(tt.have, tt.want, nil)
			if !reflect.DeepEqual(got, tt.writes) {
				t.Fatalf("PlanDebugWrites(%+v, %+v) = %v, want %v", tt.have, tt.want, got, tt.writes)
			}
			// Applying the plan reaches the wanted image on every enabled
			// slot and DR7, and a second plan is empty.
			h := tt.have
			for _, w := range got {
				h = h.Apply(w)
			}
			if h.Control != tt.want.Control {
				t.Errorf("after the plan DR7 = %#x, want %#x", h.Control, tt.want.Control)
			}
			for i := 0; i < 4; i++ {
				if tt.want.enabled().Has(hwbp.Slot(i)) && h.Addr[i] != tt.want.Addr[i] {
					t.Errorf("after the plan DR%d = %#x, want %#x", i, h.Addr[i], tt.want.Addr[i])
				}
			}
			if again := PlanDebugWrites(h, tt.want, nil); len(again) != 0 {
				t.Errorf("second plan = %v, want none", again)
			}
		})
	}
}

func TestPlanDebugWritesAppends(t *testing.T) {
	dst := make([]DebugWrite, 1, 8)
	dst[0] = DebugWrite{Reg: 3, Value: 1}
	got := PlanDebugWrites(DebugRegisters{}, DebugRegisters{Addr: [4]uint64{0x10}, Control: 1}, dst)
	want := []DebugWrite{{3, 1}, {0, 0x10}, {7, 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
