package hwbp

import (
	"math/bits"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// genRequest draws a valid data request: addresses near zero, anywhere in
// user space and at its top; lengths mostly short, some long.
func genRequest(maxLen uint64) *rapid.Generator[Request] {
	return rapid.Custom(func(t *rapid.T) Request {
		kind := rapid.SampledFrom([]Kind{KindWrite, KindRead, KindAccess}).Draw(t, "kind")
		addr := rapid.OneOf(
			rapid.Uint64Range(0, 0x100),
			rapid.Uint64Range(0, UserLimit-1),
			rapid.Uint64Range(UserLimit-0x100, UserLimit-1),
		).Draw(t, "addr")
		n := rapid.OneOf(rapid.Uint64Range(1, 40), rapid.Uint64Range(1, maxLen)).Draw(t, "len")
		return Request{Kind: kind, Addr: addr, Len: min(n, UserLimit-addr)}
	})
}

// checkPiece fails unless p is a valid piece of r's condition.
func checkPiece(t *rapid.T, r Request, p Piece) {
	if err := p.Validate(); err != nil {
		t.Fatalf("%v: piece %v: %v", r, p, err)
	}
	if p.Cond != r.Kind.Cond() {
		t.Fatalf("%v: piece %v has the wrong condition", r, p)
	}
	if r.Inside(p) == 0 {
		t.Fatalf("%v: piece %v holds no byte of the range", r, p)
	}
}

func TestPropExactCover(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRequest(4096).Draw(t, "r")
		got := allPieces(ExactCover, r)
		if want := gdbPieces(r.Addr, r.Len, r.Kind.Cond()); !slices.Equal(got, want) {
			t.Fatalf("%v: pieces %v, gdb %v", r, got, want)
		}
		next := r.Addr
		for _, p := range got {
			checkPiece(t, r, p)
			if p.Addr != next {
				t.Fatalf("%v: gap or overlap at %v", r, p)
			}
			if r.Outside(p) != 0 {
				t.Fatalf("%v: exact piece %v has bytes outside", r, p)
			}
			next = p.Span().end()
		}
		if next != r.Addr+r.Len {
			t.Fatalf("%v: cover ends at %#x", r, next)
		}
		if n, err := ExactCover.Count(r); err != nil || n != uint64(len(got)) {
			t.Fatalf("%v: Count = %d, %v; %d pieces", r, n, err, len(got))
		}
	})
}

func TestPropFewestSlots(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRequest(4096).Draw(t, "r")
		got := allPieces(FewestSlots, r)
		exact := allPieces(ExactCover, r)
		if len(got) > len(exact) {
			t.Fatalf("%v: %d pieces, exact cover %d", r, len(got), len(exact))
		}
		firstBlock, lastBlock := r.Addr/8, (r.Addr+r.Len-1)/8
		if uint64(len(got)) != lastBlock-firstBlock+1 {
			t.Fatalf("%v: %d pieces for %d blocks", r, len(got), lastBlock-firstBlock+1)
		}
		if n, err := FewestSlots.Count(r); err != nil || n != uint64(len(got)) {
			t.Fatalf("%v: Count = %d, %v; %d pieces", r, n, err, len(got))
		}
		var covered uint64
		for i, p := range got {
			checkPiece(t, r, p)
			if i > 0 && p.Addr < got[i-1].Span().end() {
				t.Fatalf("%v: %v overlaps or precedes %v", r, p, got[i-1])
			}
			// The mask says exactly which bytes are the client's.
			in := r.Inside(p)
			for b := range uint(p.Len) {
				a := p.Addr + uint64(b)
				inRange := a >= r.Addr && a-r.Addr < r.Len
				if in.Has(b) != inRange || r.Outside(p).Has(b) == inRange {
					t.Fatalf("%v: piece %v byte %d: inside %v outside %v", r, p, b, in, r.Outside(p))
				}
			}
			covered += uint64(bits.OnesCount8(uint8(in)))
			// Smallest: the range's bytes in p do not fit in either half.
			if p.Len > 1 {
				half := uint64(p.Len / 2)
				lo := r.Inside(Piece{Addr: p.Addr, Len: uint8(half), Cond: p.Cond})
				hi := r.Inside(Piece{Addr: p.Addr + half, Len: uint8(half), Cond: p.Cond})
				if lo == 0 || hi == 0 {
					t.Fatalf("%v: piece %v is wider than needed", r, p)
				}
			}
			// Widened only when that saves a slot: where exact cover uses
			// one piece for this block, fewest uses the same one.
			var inBlock []Piece
			for _, e := range exact {
				if e.Addr/8 == p.Addr/8 {
					inBlock = append(inBlock, e)
				}
			}
			if r.Outside(p) != 0 && len(inBlock) < 2 {
				t.Fatalf("%v: %v widened, exact needs only %v", r, p, inBlock)
			}
			if len(inBlock) == 1 && inBlock[0] != p {
				t.Fatalf("%v: %v differs from exact %v", r, p, inBlock[0])
			}
		}
		if covered != r.Len {
			t.Fatalf("%v: pieces hold %d of the range's %d bytes", r, covered, r.Len)
		}
	})
}

func TestPropAppend(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRequest(64).Draw(t, "r")
		s := rapid.SampledFrom([]Strategy{ExactCover, FewestSlots}).Draw(t, "strategy")
		all := allPieces(s, r)
		got, err := s.Append(nil, r)
		if len(all) > NumSlots {
			if err == nil || got != nil {
				t.Fatalf("%v %v: Append = %v, %v; %d pieces", s, r, got, err, len(all))
			}
			return
		}
		if err != nil || !slices.Equal(got, all) {
			t.Fatalf("%v %v: Append = %v, %v; want %v", s, r, got, err, all)
		}
	})
}

// TestPropAppendHead: the first n pieces of the cover, however long the
// range, distinct, so that NumSlots+1 of them never fit in the slots.
func TestPropAppendHead(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRequest(4096).Draw(t, "r")
		s := rapid.SampledFrom([]Strategy{ExactCover, FewestSlots}).Draw(t, "strategy")
		n := rapid.IntRange(0, 2*NumSlots).Draw(t, "n")
		all := allPieces(s, r)
		got, err := s.AppendHead(nil, r, n)
		if err != nil || !slices.Equal(got, all[:min(n, len(all))]) {
			t.Fatalf("%v %v: AppendHead(%d) = %v, %v; cover %v", s, r, n, got, err, all)
		}
		for i := range got {
			if slices.Contains(got[:i], got[i]) {
				t.Fatalf("%v %v: piece %v twice", s, r, got[i])
			}
		}
	})
}

// genPiece draws a valid piece.
func genPiece(t *rapid.T, label string) Piece {
	sh := rapid.SampledFrom(validShapes).Draw(t, label+" shape")
	addr := rapid.Uint64Range(0, UserLimit-1).Draw(t, label+" addr")
	return Piece{Addr: addr - addr%uint64(sh.len), Len: sh.len, Cond: sh.cond}
}

func TestPropEncodeDecode(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var sl Slots
		for s := range sl {
			if rapid.Bool().Draw(t, "used") {
				sl[s] = genPiece(t, "piece")
			}
		}
		img, err := sl.Encode()
		dup := false
		for i := range sl {
			for j := range i {
				dup = dup || sl[i] != (Piece{}) && sl[i] == sl[j]
			}
		}
		if dup {
			if err == nil {
				t.Fatalf("%v: duplicate accepted", sl)
			}
			return
		}
		if err != nil {
			t.Fatalf("%v: %v", sl, err)
		}
		// Only L bits and the fields of used slots are set.
		var want uint64
		for s := range Slot(NumSlots) {
			if sl[s] != (Piece{}) {
				want |= sdmControl(s, sl[s])
			} else if img.Addr[s] != 0 {
				t.Fatalf("%v: vacant %v has address %#x", sl, s, img.Addr[s])
			}
		}
		if img.Control != want {
			t.Fatalf("%v: dr7 %#x, want %#x", sl, img.Control, want)
		}
		back, err := img.Decode()
		if err != nil || back != sl {
			t.Fatalf("%v: Decode = %v, %v", sl, back, err)
		}
	})
}

func TestPropDecodeEncode(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var img Image
		for s := range img.Addr {
			img.Addr[s] = rapid.OneOf(
				rapid.Uint64Range(0, 0x40),
				rapid.Custom(func(t *rapid.T) uint64 { return 8 * rapid.Uint64Range(0, 8).Draw(t, "block") }),
				rapid.Uint64(),
			).Draw(t, "addr")
		}
		img.Control = rapid.OneOf(rapid.Uint64Range(0, 0xffff_ffff), rapid.Uint64()).Draw(t, "dr7")
		sl, err := img.Decode()
		if err != nil {
			return
		}
		again, err := sl.Encode()
		if err != nil {
			t.Fatalf("%v decodes to %v, which does not encode: %v", img, sl, err)
		}
		if again.Enabled() != img.Enabled() {
			t.Fatalf("%v: enabled %v, re-encoded %v", img, img.Enabled(), again.Enabled())
		}
		for s := range img.Enabled().All() {
			if again.Addr[s] != img.Addr[s] ||
				rwField(s).get(again.Control) != rwField(s).get(img.Control) ||
				lenField(s).get(again.Control) != lenField(s).get(img.Control) {
				t.Fatalf("%v: %v re-encodes as %v", img, s, again)
			}
		}
		if back, err := again.Decode(); err != nil || back != sl {
			t.Fatalf("%v: second decode %v, %v; first %v", img, back, err, sl)
		}
	})
}

func TestPropJudgeStaysInRange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := genRequest(64).Draw(t, "r")
		s := rapid.SampledFrom([]Strategy{ExactCover, FewestSlots}).Draw(t, "strategy")
		pieces := allPieces(s, r)
		p := pieces[rapid.IntRange(0, len(pieces)-1).Draw(t, "piece")]
		ev := Evidence{
			Pair:   Pair(rapid.IntRange(0, 2).Draw(t, "pair")),
			Before: rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "before"),
			After:  rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, "after"),
		}
		if rapid.Bool().Draw(t, "access known") {
			ev.Access = Span{
				Addr: p.Addr - 8 + rapid.Uint64Range(0, 16).Draw(t, "access addr"),
				Len:  rapid.Uint64Range(1, 16).Draw(t, "access len"),
			}
		}
		v := r.Judge(p, ev)
		// A write or access hit on a piece wholly inside the range, with no
		// accessed bytes saying otherwise, is never dropped.
		if !v.Report && r.Kind != KindRead && r.Outside(p) == 0 && ev.Access.Len == 0 {
			t.Fatalf("%v %v %+v: dropped", r, p, ev)
		}
		if v.Report && !(v.Addr >= r.Addr && v.Addr-r.Addr < r.Len && v.Addr >= p.Addr && v.Addr < p.Span().end()) {
			t.Fatalf("%v %v %+v: reported %#x", r, p, ev, v.Addr)
		}
	})
}
