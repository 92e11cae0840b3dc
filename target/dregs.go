package target

import "gdbserverx/hwbp"

// DebugWrite is one debug-register write: Reg is 0-3 for an address
// register or 7 for the control register (DR7).
type DebugWrite struct {
	Reg   int
	Value uint64
}

// enabled is the set of slots an image's DR7 enables (its local or global
// enable bits). This is the only DR7 meaning the planner needs; it is
// hwbp's, as the rest of the encoding (DebugRegisters has hwbp.Image's
// shape).
func (d DebugRegisters) enabled() hwbp.SlotSet { return hwbp.Image(d).Enabled() }

// PlanDebugWrites appends to dst the writes that bring a thread holding
// have to the image want, in a safe order, and returns the extended slice.
//
// It writes as little as possible: an address register only when the slot
// is enabled in want and its address differs from have (writing DR0-DR3
// reserves a kernel perf slot for the thread until exec or exit, see
// docs/x86-debug-registers.md "Capacity"), and DR7 only when it differs.
// Equal images give no write at all.
//
// The order is gdb's (gdb/nat/x86-linux-dregs.c): when a slot that have
// enables gets a new address, DR7 is cleared first, because the kernel
// checks an address write against the slot's current length and type (an
// address aligned for the new length may be misaligned for the old one);
// then the changed addresses; then the new DR7. Disabling a slot without
// moving any needs only the one DR7 write. A caller that records a
// thread's state applies the writes in order and stops at the first error:
// the kernel keeps what it accepted and rolls DR7 back on refusal.
//
// An address in have that is not known (a new or attached thread) should be
// given as a value no address can take, such as ^uint64(0), so that an
// enabled slot always gets its address written.
func PlanDebugWrites(have, want DebugRegisters, dst []DebugWrite) []DebugWrite {
	var moved [4]bool
	anyMoved, clearFirst := false, false
	wantOn, haveOn := want.enabled(), have.enabled()
	for i := 0; i < 4; i++ {
		if wantOn.Has(hwbp.Slot(i)) && want.Addr[i] != have.Addr[i] {
			moved[i] = true
			anyMoved = true
			if haveOn.Has(hwbp.Slot(i)) {
				clearFirst = true
			}
		}
	}
	if !anyMoved && have.Control == want.Control {
		return dst
	}
	ctl := have.Control
	if clearFirst {
		dst = append(dst, DebugWrite{Reg: 7, Value: 0})
		ctl = 0
	}
	for i := 0; i < 4; i++ {
		if moved[i] {
			dst = append(dst, DebugWrite{Reg: i, Value: want.Addr[i]})
		}
	}
	if ctl != want.Control {
		dst = append(dst, DebugWrite{Reg: 7, Value: want.Control})
	}
	return dst
}

// Apply returns the image a thread holds after write w succeeded.
func (d DebugRegisters) Apply(w DebugWrite) DebugRegisters {
	switch {
	case w.Reg >= 0 && w.Reg < 4:
		d.Addr[w.Reg] = w.Value
	case w.Reg == 7:
		d.Control = w.Value
	}
	return d
}
