package hwbp

import "fmt"

// MaxPieceLen is the longest piece one slot can watch on x86-64 (LEN 10,
// 8 bytes; SDM "Debug Control Register (DR7)").
const MaxPieceLen = 8

// Piece is what one slot watches: Len bytes (1, 2, 4 or 8) at Addr, aligned
// to Len, for the condition Cond. Pieces are comparable values: the arbiter
// uses them as opaque map keys, and debugpoints whose pieces are equal share
// one slot. The zero Piece is no piece (a vacant slot in Slots).
type Piece struct {
	Addr uint64
	Len  uint8
	Cond Cond
}

// String gives the piece as monitor output names it, such as
// "write 0x1000 len 4".
func (p Piece) String() string { return fmt.Sprintf("%v %#x len %d", p.Cond, p.Addr, p.Len) }

// Span returns the bytes the piece watches.
func (p Piece) Span() Span { return Span{Addr: p.Addr, Len: uint64(p.Len)} }

// AllBytes returns the mask of all the piece's bytes.
func (p Piece) AllBytes() ByteMask {
	if p.Len >= MaxPieceLen {
		return 0xff
	}
	return ByteMask(1<<p.Len - 1)
}

// WritePair returns the write piece over the same bytes as p. Installed
// beside a read request's access piece, it tells a read from a write
// exactly: when only the access piece fires, the bytes were read and not
// written (see Judge). A write request's piece over the same bytes is the
// same Piece, so the two share a slot.
func (p Piece) WritePair() Piece { return Piece{Addr: p.Addr, Len: p.Len, Cond: CondWrite} }

// Validate reports whether p can go into a slot: a known condition, a
// length of 1, 2, 4 or 8 (1 for execute), an address aligned to it, and
// all bytes in user space. The error wraps ErrUnknownCond, ErrPieceLength,
// ErrExecuteLength, ErrMisaligned, ErrNonCanonical or ErrKernelAddress.
func (p Piece) Validate() error {
	switch {
	case !p.Cond.valid():
		return ErrUnknownCond
	case p.Len != 1 && p.Len != 2 && p.Len != 4 && p.Len != 8:
		return ErrPieceLength
	case p.Cond == CondExecute && p.Len != 1:
		return ErrExecuteLength
	case p.Addr%uint64(p.Len) != 0:
		return ErrMisaligned
	}
	// Aligned pieces of at most 8 bytes never wrap: the last byte of the
	// address space is the end of an aligned 8-byte block.
	return checkUser(p.Addr, p.Addr+uint64(p.Len-1))
}

// ByteMask says which bytes of a piece are meant: bit i is the byte at
// Addr+i.
type ByteMask uint8

// Has reports whether byte i of the piece is in the mask.
func (m ByteMask) Has(i uint) bool { return i < 8 && m&(1<<i) != 0 }

// String shows the eight possible bytes from the piece's first: "x" for a
// byte in the mask, "." for one outside. The middle two bytes of a 4-byte
// piece are ".xx.....".
func (m ByteMask) String() string {
	var buf [8]byte
	for i := range buf {
		buf[i] = '.'
		if m.Has(uint(i)) {
			buf[i] = 'x'
		}
	}
	return string(buf[:])
}
