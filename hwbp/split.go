package hwbp

import "math/bits"

// Count returns how many pieces the strategy uses for the request (for a
// read request: access pieces, not counting write pairs), in time
// independent of the length. It validates the request first. A count above
// NumSlots means the request cannot be in hardware as a whole; with the
// `error` policy that is gdbserver's E01 when the strategy is ExactCover.
func (s Strategy) Count(r Request) (uint64, error) {
	if err := s.check(r); err != nil {
		return 0, err
	}
	return s.count(r), nil
}

// Append validates the request, appends its pieces in address order to dst
// and returns the extended slice. It allocates nothing when dst has room
// for NumSlots more pieces. A request that needs more pieces than NumSlots
// gets a *RequestError wrapping ErrTooManyPieces (with Pieces set) and dst
// unchanged, so a client's length never decides how much is allocated.
func (s Strategy) Append(dst []Piece, r Request) ([]Piece, error) {
	if err := s.check(r); err != nil {
		return dst, err
	}
	if n := s.count(r); n > NumSlots {
		return dst, &RequestError{Request: r, Err: ErrTooManyPieces, Pieces: n}
	}
	c := s.cursor(r)
	for p, ok := c.next(); ok; p, ok = c.next() {
		dst = append(dst, p)
	}
	return dst, nil
}

// AppendHead validates the request and appends its first n pieces in
// address order (all of them when it has fewer) to dst, in time
// independent of the length. A range too long for the slots is given to
// the arbiter as its first NumSlots+1 pieces: a debugpoint holds slots
// only with all its pieces, and that many distinct pieces never fit, so
// the rest of the cover (up to 2^44 pieces for a length a client may
// send) would cost memory and time and change nothing. The pieces are
// distinct: a cover's pieces never overlap.
func (s Strategy) AppendHead(dst []Piece, r Request, n int) ([]Piece, error) {
	if err := s.check(r); err != nil {
		return dst, err
	}
	c := s.cursor(r)
	for ; n > 0; n-- {
		p, ok := c.next()
		if !ok {
			break
		}
		dst = append(dst, p)
	}
	return dst, nil
}

func (s Strategy) check(r Request) error {
	if !s.valid() {
		// A programming error in the caller, not bad client input; still
		// an error rather than a panic (STYLE 6).
		return &RequestError{Request: r, Err: ErrUnknownStrategy}
	}
	return r.Validate()
}

// count returns the number of pieces of a valid request.
func (s Strategy) count(r Request) uint64 {
	if s == FewestSlots {
		// One piece per aligned 8-byte block touched.
		last := r.Addr + (r.Len - 1)
		return last/MaxPieceLen - r.Addr/MaxPieceLen + 1
	}
	// ExactCover: walk the head up to an 8-byte boundary (at most 7 bytes,
	// so at most 7 pieces), then whole 8-byte pieces, then a tail of less
	// than 8 bytes starting on an 8-byte boundary, where the greedy choice
	// takes one piece per set bit of the tail's length (4, 2, 1).
	var n uint64
	addr, rem := r.Addr, r.Len
	for rem > 0 && addr%MaxPieceLen != 0 {
		size := exactSize(addr, rem)
		addr, rem, n = addr+size, rem-size, n+1
	}
	return n + rem/MaxPieceLen + uint64(bits.OnesCount64(rem%MaxPieceLen))
}

// exactSize returns the length of the first piece of gdb's exact cover of
// rem bytes from addr: the largest of 8, 4, 2, 1 that is at most rem and
// that addr is aligned to. This is gdb's size_try_array lookup
// (x86_handle_nonaligned_watchpoint) written as the rule the table encodes;
// split_test.go holds the table and checks the two agree.
func exactSize(addr, rem uint64) uint64 {
	size := uint64(MaxPieceLen)
	for size > rem || addr%size != 0 {
		size /= 2
	}
	return size
}

// fewestSize returns the length of the smallest aligned piece that holds
// [lo, hi), a non-empty range inside one aligned 8-byte block.
func fewestSize(lo, hi uint64) uint64 {
	size := uint64(1)
	for lo/size != (hi-1)/size {
		size *= 2
	}
	return size
}

// cursor walks the pieces of a valid request without allocating.
type cursor struct {
	addr   uint64 // first byte not yet covered
	rem    uint64 // bytes not yet covered
	cond   Cond
	fewest bool
}

func (s Strategy) cursor(r Request) cursor {
	return cursor{addr: r.Addr, rem: r.Len, cond: r.Kind.Cond(), fewest: s == FewestSlots}
}

func (c *cursor) next() (Piece, bool) {
	if c.rem == 0 {
		return Piece{}, false
	}
	if !c.fewest {
		size := exactSize(c.addr, c.rem)
		p := Piece{Addr: c.addr, Len: uint8(size), Cond: c.cond}
		c.addr, c.rem = c.addr+size, c.rem-size
		return p, true
	}
	// The range's bytes in this 8-byte block are [lo, hi). Valid requests
	// end below UserLimit, so blockEnd does not overflow.
	lo := c.addr
	blockEnd := lo - lo%MaxPieceLen + MaxPieceLen
	hi := blockEnd
	if c.rem < hi-lo {
		hi = lo + c.rem
	}
	size := fewestSize(lo, hi)
	p := Piece{Addr: lo - lo%size, Len: uint8(size), Cond: c.cond}
	c.addr, c.rem = hi, c.rem-(hi-lo)
	return p, true
}
