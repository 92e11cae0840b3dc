package hwbp

import "fmt"

// DR6 bits, Intel SDM vol. 3B "Debug Registers", subsection "Debug Status
// Register (DR6)" (16.2.3 in order no. 253668-032US): B0-B3 (bits 0-3) say
// which breakpoint condition was met, BS (bit 14) that the single-step trap
// (TF) caused the exception. The other bits (BD, BT, RTM and the reserved
// ones, which read as 1 on hardware and through Linux ptrace) say nothing
// about slots and are ignored.
//
// They are exported for the packages that look at a stop's DR6 without
// decoding it against an image: the target, which makes up the DR6 of a
// step it did not read (target/linux), and the software-watchpoint engine,
// which tells its own steps from the caller's hardware traps (swwatch).
// DecodeStatus is the whole meaning; these are the words.
const (
	dr6Hit0 = 0 // Bn is bit dr6Hit0+n

	// DR6Hits is B0-B3: a breakpoint condition of slot n was met (bit n).
	DR6Hits uint64 = (1<<NumSlots - 1) << dr6Hit0
	// DR6SingleStep is BS: the exception is the single-step trap.
	DR6SingleStep uint64 = 1 << 14
)

// DR6Hit returns the DR6 bit (Bn) of slot s.
func DR6Hit(s Slot) uint64 { return 1 << (dr6Hit0 + uint(s)) }

// Status is what a DR6 value says about one stop.
type Status struct {
	// Fired is every enabled slot whose condition was met. One instruction
	// can meet two (an 8-byte store over two 4-byte pieces: one SIGTRAP,
	// both bits set; probe), and each is a hit to report.
	Fired SlotSet
	// SingleStep is BS: the thread was single-stepped. A step over a
	// watched store sets BS and Bn together (probe), so a step can also
	// carry hits.
	SingleStep bool
}

func (st Status) String() string {
	return fmt.Sprintf("fired %v step %t", st.Fired, st.SingleStep)
}

// DecodeStatus decodes a thread's DR6. enabled is the set of slots armed
// for that thread (Image.Enabled of the image it runs with): the processor
// may set Bn for a slot whose condition is met even when the slot is not
// enabled (SDM "Debug Status Register (DR6)"), so only bits of enabled
// slots count.
//
// Call it only at a stop caused by a debug exception (SIGTRAP with si_code
// TRAP_HWBKPT or TRAP_TRACE): DR6 is never cleared after a hit, and at any
// other stop it still shows the last one (docs/x86-debug-registers.md,
// "Semantics").
func DecodeStatus(dr6 uint64, enabled SlotSet) Status {
	var st Status
	for s := range (enabled & allSlots).All() {
		if dr6&DR6Hit(s) != 0 {
			st.Fired = st.Fired.With(s)
		}
	}
	st.SingleStep = dr6&DR6SingleStep != 0
	return st
}
