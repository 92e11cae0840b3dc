package hwbp

// Evidence is what the server knows about one fired piece at a stop.
type Evidence struct {
	// Access is the bytes the stopped instruction accessed, when the server
	// knows them (for instance from decoding it); Len 0 when not known.
	// A data hit is a trap, reported after the instruction, so the server
	// usually does not know them.
	Access Span

	// Pair is what the piece's write pair did, for a read request.
	Pair Pair

	// Before and After are the piece's bytes (p.Len of them, byte 0 at
	// p.Addr): Before from the server's own copy taken when the thread last
	// resumed, After read at the stop. Nil, or shorter than the piece, when
	// the server did not read them. A comparison sees the net change since
	// the resume, including other threads' and the kernel's writes, and no
	// store of the value already there.
	Before, After []byte
}

// Verdict is what a hit on one piece means for one request.
type Verdict struct {
	// Report says the stop is to be reported to the request's owner.
	Report bool
	// Addr is the address to report (the `watch:`, `rwatch:` or `awatch:`
	// value of the stop reply), always inside the request's range. Set when
	// Report is.
	Addr uint64
	// Certain says the verdict is what hardware watching exactly the
	// request would have given, as far as the client can tell. False means
	// the evidence could not decide and Report is the guess that loses
	// nothing: a hit is reported rather than dropped.
	Certain bool
}

// Judge decides what a hit on piece p, one of the request's pieces, means
// for the request. The rules, by kind (see doc.go for why):
//
//   - execute: always reported, at the breakpoint address.
//   - Where the hit was: with Evidence.Access known, a hit whose accessed
//     bytes miss the range is dropped, and the address reported is the
//     first accessed byte in the range. Without it, a piece whose bytes are
//     all inside the range (every ExactCover piece) is certainly hit, at
//     its first byte; a widened piece (FewestSlots) may have been hit on
//     bytes outside the range only.
//   - write on a widened piece: reported when a byte of the range changed,
//     at the first changed byte; dropped when none did. gdb shows a write
//     watchpoint only when the value changes, so the client sees the same
//     as with exact pieces. Without Before/After it is reported, uncertain.
//   - access on a widened piece: reported; certain only when a byte of the
//     range changed (it was then certainly accessed).
//   - read: first, was the piece written? A fired write pair says yes, a
//     quiet one no, exactly. Without a pair, any changed byte of the piece
//     says yes and none says no, uncertain: a store of the same value looks
//     like a read. A written piece is not reported: an instruction that
//     reads and writes the piece (`add [mem], 1`) counts as a write, since
//     slots cannot tell it from a plain store. An unwritten piece is
//     reported as a read, with the "where" rule above.
//
// A piece that shares no byte with the range gets a dropped, certain
// verdict; so does anything for an invalid request.
func (r Request) Judge(p Piece, ev Evidence) Verdict {
	inside := r.Inside(p)
	if inside == 0 || r.check() != nil {
		return Verdict{Certain: true}
	}
	if r.Kind == KindExecute {
		return Verdict{Report: true, Addr: r.Addr, Certain: true}
	}

	// Where: the bytes of the range the hit can be on, and whether the
	// hit is certainly on them.
	where := r.Span().intersect(p.Span())
	located := inside == p.AllBytes()
	if ev.Access.Len > 0 {
		where = where.intersect(ev.Access)
		if where.Len == 0 {
			return Verdict{Certain: true} // only bytes outside the range
		}
		located = true
	}
	report := func(addr uint64, certain bool) Verdict {
		return Verdict{Report: true, Addr: addr, Certain: certain}
	}

	changed, valueKnown := changedBytes(p, ev.Before, ev.After)
	switch r.Kind {
	case KindWrite:
		if first, ok := firstIn(p, where, changed&inside); ok {
			return report(first, true)
		}
		switch {
		case located:
			return report(where.Addr, true)
		case valueKnown:
			return Verdict{Certain: true} // nothing of the range changed
		}
		return report(where.Addr, false)

	case KindAccess:
		if located {
			return report(where.Addr, true)
		}
		if first, ok := firstIn(p, where, changed&inside); ok {
			return report(first, true)
		}
		return report(where.Addr, false)

	case KindRead:
		var written, sure bool
		switch ev.Pair {
		case PairFired:
			written, sure = true, true
		case PairQuiet:
			written, sure = false, true
		default:
			// Compare every byte of the piece, as the pair would watch
			// them: a store to a neighbour in a widened piece is a write.
			written, sure = changed != 0, false
			if !valueKnown {
				return report(where.Addr, false)
			}
		}
		if written {
			return Verdict{Certain: sure}
		}
		return report(where.Addr, sure && located)
	}
	return Verdict{Certain: true}
}

// changedBytes returns the bytes of p that differ between before and after,
// and whether both hold the whole piece.
func changedBytes(p Piece, before, after []byte) (ByteMask, bool) {
	n := int(p.Len)
	if n > MaxPieceLen || len(before) < n || len(after) < n {
		return 0, false
	}
	var m ByteMask
	for i := range n {
		if before[i] != after[i] {
			m |= 1 << i
		}
	}
	return m, true
}

// firstIn returns the lowest address of span s (within piece p) whose byte
// is in mask m.
func firstIn(p Piece, s Span, m ByteMask) (uint64, bool) {
	for a := s.Addr; a < s.end(); a++ {
		if m.Has(uint(a - p.Addr)) {
			return a, true
		}
	}
	return 0, false
}
