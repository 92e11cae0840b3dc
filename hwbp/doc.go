// Package hwbp is the x86-64 debug-register math of gdbserverx: it checks
// what a client asks to watch, splits it into pieces one slot can hold,
// encodes slots into DR0-DR3 and DR7, decodes DR6 at a stop, and says what
// a hit means for each request.
//
// It is pure: values and functions, no state, no ptrace, no I/O, and no
// import of another gdbserverx package (internal/deps checks it, with the
// standard packages it may use).
// Whoever holds its values owns them; in the server that is the core loop.
// It knows nothing of clients, priorities or threads: the arbiter decides
// which pieces get slots, the target writes images into threads (and plans
// the order of the writes), the server wires the three.
//
// It is the one home of x86 debug-register facts: the target (which slots
// an image enables, for its write planner; DR6.BS for a step it did not
// read DR6 for; RFLAGS.RF and TF) and the software-watchpoint engine
// (DR6's hit and step bits; the slots of the caller's image) import its
// named words (DR6Hits, DR6Hit, DR6SingleStep, DR7Enable, FlagTF,
// FlagRF, Image.Enabled) instead of keeping copies, and tests build DR7
// words with Slots.MustEncode.
//
// # The model
//
// A Request (Kind, Addr, Len) is what one Z packet asks: execute (Z1),
// write (Z2), read (Z3) or access (Z4) on Len bytes. Validate refuses what
// no debug register can watch: zero length, execute longer than 1, a range
// past 2^64, a byte outside user space (UserLimit; Linux answers EINVAL).
//
// A Strategy splits a valid request into Pieces: Len 1, 2, 4 or 8 at an
// address aligned to it, with a Cond (execute, write, access: the DR7 R/W
// field). Pieces are comparable; the arbiter keys slots by them, and equal
// pieces of different debugpoints share one slot.
//
//   - ExactCover cuts exactly as gdb and gdbserver do, so every byte of
//     every piece is the client's, and the `error` policy can refuse
//     exactly when gdbserver answers E01: when the request's pieces that
//     are not already in a slot outnumber the free slots.
//   - FewestSlots takes one piece per aligned 8-byte block the range
//     touches, widened to the smallest aligned piece holding the range's
//     bytes there: 0x1001 len 4 is one 8-byte piece at 0x1000 instead of
//     three. Request.Inside and Request.Outside give each piece's byte
//     mask; Judge filters hits on the outside bytes.
//
// Count and Append refuse to enumerate more pieces than there are slots,
// so a client's length never decides how much is computed; a range too
// long for the slots is known to an arbiter by its first NumSlots+1
// pieces (AppendHead), which can never all hold slots.
//
// Slots (four pieces, zero = vacant) encode into an Image, the four
// address registers and DR7, shaped like target.DebugRegisters. At a stop
// from a debug exception, DecodeStatus(dr6, image.Enabled()) gives every
// slot that fired (not only the first) and the single-step bit;
// Slots.Fired maps them back to pieces; the arbiter maps pieces to
// debugpoints; Request.Judge says, per debugpoint, whether to report the
// hit and at which address, always inside the client's range.
//
// # The seeds' words in this code
//
// The 2007 kwatch thread (seeds/) calls a request for a debug register a
// debugpoint: type, length, address, priority, and callbacks for
// installed, uninstalled and triggered.
//
//   - debugpoint: the arbiter's debugpoint; its type, address and length
//     are a Request here, its priority and owner live in the arbiter.
//   - virtualized registers ("a ptrace call might request dr0, but it could
//     end up that the physical register used is really dr2"): a Piece is
//     what is watched, a Slot is the physical register; clients never see
//     a Slot, and a piece may move between slots at any time.
//   - installed: the debugpoint's pieces are in the Slots the server
//     encodes, and the target has written that Image into the thread.
//   - uninstalled: its pieces are gone from Slots (evicted, released).
//   - triggered: DecodeStatus shows the slot, Slots.Fired names the piece,
//     and Judge reports the hit for the debugpoint.
//   - "By looking at your %dr6 the debugger can see that both watchpoints
//     hit. (gdb does not handle this case, but it should.)": DecodeStatus
//     returns every Bn of an enabled slot. (Accesses the kernel makes for
//     a system call raise no debug exception at all:
//     docs/x86-debug-registers.md.)
//
// # Read watchpoints
//
// x86 has no read-only condition: R/W 11 fires on reads and writes. A read
// request is watched by access pieces, and a hit on one must be told from
// a write. Two ways are provided, each per piece:
//
//   - Write pair (primary): Piece.WritePair, a write piece on the same
//     bytes, in a slot of its own. When the access piece fires and its pair
//     does not, the bytes were read and not written; when both fire, they
//     were written.
//   - Value check (fallback, when no slot is free for the pair): compare
//     the piece's bytes from the server's copy at the last resume with the
//     bytes at the stop; unchanged means read.
//
// The pair is primary because it is exact and per thread: the hardware
// says, in the stopped thread's own DR6, whether that instruction wrote.
// The value check cannot see a store of the value already there (it looks
// like a read), sees other threads' and the kernel's changes since the
// resume as this thread's, and needs a memory read at every hit; it is the
// emulation gdb does itself when a server refuses Z3 (docs: it misreports
// same-value stores). The pair costs one slot per piece; the server may
// ask for it at a lower priority than the access piece, so it is the first
// thing evicted under pressure and the request falls back to the value
// check instead of to software. A pair and a write request's piece on the
// same bytes are the same Piece and share a slot.
//
// A read-modify-write instruction (`add [mem], 1`) reads and writes: both
// slots fire, exactly as for a plain store, and no slot can tell the two
// apart. Such an instruction counts as a write and is not reported to a
// read watchpoint. The other choice would report every plain store as a
// read, which is the error gdb's emulation makes; an access watchpoint
// (awatch) sees read-modify-writes.
//
// # Filtering widened pieces
//
// A data hit is a trap, reported after the instruction, so the server
// seldom knows which bytes were accessed. On a FewestSlots piece with
// bytes outside the range, Judge decides:
//
//   - write: report when a byte inside the range changed, at the first
//     changed byte; drop otherwise. gdb shows a write watchpoint only when
//     its value changes, so the client sees what exact pieces would show.
//   - access and read: the outside bytes cannot be ruled out unless a byte
//     inside changed or the server knows the accessed bytes
//     (Evidence.Access). Judge then reports the hit with Certain false
//     rather than lose it. A server that wants no stray stops keeps
//     ExactCover for access and read requests when the slots allow.
//
// Execute pieces are always one byte and never widened.
package hwbp
