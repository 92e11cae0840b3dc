package hwbp

import "fmt"

// Kind is what a client asks to watch, one per gdb Z packet type:
// Z1 hardware breakpoint, Z2 write, Z3 read and Z4 access watchpoint
// (GDB manual, "Packets", `Z1`..`Z4`). The zero Kind is invalid.
type Kind uint8

// Kinds of request.
const (
	KindExecute Kind = iota + 1 // Z1: break before the instruction at the address runs
	KindWrite                   // Z2: stop after a write to the range
	KindRead                    // Z3: stop after a read of the range
	KindAccess                  // Z4: stop after a read or a write of the range
)

var kindNames = [...]string{
	KindExecute: "execute",
	KindWrite:   "write",
	KindRead:    "read",
	KindAccess:  "access",
}

func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindExecute && k <= KindAccess }

// Cond is the condition of the pieces that watch a request of this kind.
// x86 has no read-only condition: a read request is watched by access
// pieces and told from writes by a write pair or a value check (see Judge).
// Cond returns 0 for an invalid kind.
func (k Kind) Cond() Cond {
	switch k {
	case KindExecute:
		return CondExecute
	case KindWrite:
		return CondWrite
	case KindRead, KindAccess:
		return CondAccess
	}
	return 0
}

// Cond is the breakpoint condition of one slot, the meaning of its DR7
// R/W field. The I/O condition (R/W = 10) is not offered: Linux refuses it
// (docs/x86-debug-registers.md, "Encoding"). The zero Cond is invalid.
type Cond uint8

// Conditions.
const (
	CondExecute Cond = iota + 1 // R/W 00: instruction fetch (a fault: stops before it runs)
	CondWrite                   // R/W 01: data write (a trap: stops after it)
	CondAccess                  // R/W 11: data read or write (a trap)
)

var condNames = [...]string{
	CondExecute: "execute",
	CondWrite:   "write",
	CondAccess:  "access",
}

func (c Cond) String() string {
	if c.valid() {
		return condNames[c]
	}
	return fmt.Sprintf("cond(%d)", uint8(c))
}

func (c Cond) valid() bool { return c >= CondExecute && c <= CondAccess }

// Strategy is how a request is split into pieces. Both strategies watch
// exactly the client's range as far as the client can tell; they differ in
// slots used and in how much filtering a hit needs.
type Strategy uint8

// Strategies.
const (
	// ExactCover splits the range into the aligned pieces gdb and gdbserver
	// choose (gdb/nat/x86-dregs.c x86_handle_nonaligned_watchpoint): from
	// the start, repeatedly the largest of 8, 4, 2, 1 that the remaining
	// length allows and the address is aligned to. Every byte of every
	// piece is inside the range, so a hit needs no filtering, and a request
	// needs more slots than NumSlots exactly when gdbserver would refuse it.
	ExactCover Strategy = iota + 1

	// FewestSlots uses one piece per aligned 8-byte block the range
	// touches: the smallest aligned piece that holds the range's bytes in
	// that block. This is the fewest slots any cover can use, and never more
	// than ExactCover. A piece may then hold bytes outside the range
	// (Request.Outside); Judge filters hits on them.
	FewestSlots
)

var strategyNames = [...]string{
	ExactCover:  "exact",
	FewestSlots: "fewest",
}

func (s Strategy) String() string {
	if s.valid() {
		return strategyNames[s]
	}
	return fmt.Sprintf("strategy(%d)", uint8(s))
}

func (s Strategy) valid() bool { return s == ExactCover || s == FewestSlots }

// Pair says what the write pair of a read request's access piece did at a
// stop. The write pair (Piece.WritePair) watches the same bytes for writes
// only, so an access hit without a write hit was a read.
type Pair uint8

// Pair states. The zero value, PairAbsent, means no pair was installed for
// the piece: Judge then tells a read from a write by comparing values.
const (
	PairAbsent Pair = iota // no write pair in a slot for this piece
	PairQuiet              // the pair was installed and did not fire
	PairFired              // the pair was installed and fired: the piece was written
)

var pairNames = [...]string{
	PairAbsent: "absent",
	PairQuiet:  "quiet",
	PairFired:  "fired",
}

func (p Pair) String() string {
	if int(p) < len(pairNames) {
		return pairNames[p]
	}
	return fmt.Sprintf("pair(%d)", uint8(p))
}
