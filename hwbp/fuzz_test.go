package hwbp

import (
	"errors"
	"math/bits"
	"strings"
	"testing"
)

// FuzzSplit validates and splits any request: no panic; a refused request
// gets a lower-case *RequestError; an accepted one splits into valid,
// aligned pieces that cover exactly the range (ExactCover) or hold it with
// correct masks (FewestSlots), as many as Count says; Append refuses more
// than NumSlots; AppendHead gives the first NumSlots+1 of any length.
func FuzzSplit(f *testing.F) {
	for _, seed := range []struct {
		kind     uint8
		addr, n  uint64
		strategy uint8
	}{
		{uint8(KindWrite), 0x1000, 4, uint8(ExactCover)},
		{uint8(KindWrite), 0x1001, 4, uint8(FewestSlots)},
		{uint8(KindAccess), 0x1003, 12, uint8(ExactCover)},
		{uint8(KindRead), 0x1004, 12, uint8(FewestSlots)},
		{uint8(KindExecute), 0x401000, 1, uint8(ExactCover)},
		{uint8(KindExecute), 0x401000, 2, uint8(ExactCover)},
		{uint8(KindWrite), 0x1000, 0, uint8(ExactCover)},
		{uint8(KindWrite), ^uint64(0), 2, uint8(ExactCover)},
		{uint8(KindWrite), UserLimit - 3, 8, uint8(FewestSlots)},
		{uint8(KindWrite), 1 << 47, 1, uint8(ExactCover)},
		{uint8(KindWrite), 0x1000, UserLimit, uint8(ExactCover)},
		{0, 0x1000, 4, 0},
	} {
		f.Add(seed.kind, seed.addr, seed.n, seed.strategy)
	}
	f.Fuzz(func(t *testing.T, kind uint8, addr, n uint64, strategy uint8) {
		r := Request{Kind: Kind(kind), Addr: addr, Len: n}
		s := Strategy(strategy)
		count, err := s.Count(r)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Request != r {
				t.Fatalf("%v %v: error %v is not a *RequestError", s, r, err)
			}
			if msg := err.Error(); msg == "" || msg != strings.ToLower(msg) {
				t.Fatalf("message %q", msg)
			}
			if got, err2 := s.Append(nil, r); got != nil || err2 == nil {
				t.Fatalf("%v %v: Count refused (%v), Append gave %v, %v", s, r, err, got, err2)
			}
			return
		}
		if r.Validate() != nil {
			t.Fatalf("%v: Count accepted an invalid request", r)
		}
		// Walk the pieces when there are not too many to walk.
		if count <= 1<<12 {
			checkCover(t, s, r, count)
		}
		got, err := s.Append(nil, r)
		if (count <= NumSlots) != (err == nil) || (err == nil && uint64(len(got)) != count) {
			t.Fatalf("%v %v: count %d, Append = %v, %v", s, r, count, got, err)
		}
		if err != nil && !errors.Is(err, ErrTooManyPieces) {
			t.Fatalf("%v %v: Append error %v", s, r, err)
		}
		// The head the server gives a range too long for the slots:
		// NumSlots+1 distinct pieces, or all of them when fewer.
		head, err := s.AppendHead(nil, r, NumSlots+1)
		if err != nil || uint64(len(head)) != min(count, NumSlots+1) {
			t.Fatalf("%v %v: count %d, AppendHead = %v, %v", s, r, count, head, err)
		}
		for i, p := range head {
			if err := p.Validate(); err != nil || i > 0 && p.Addr < head[i-1].Span().end() {
				t.Fatalf("%v %v: head %v", s, r, head)
			}
		}
	})
}

func checkCover(t *testing.T, s Strategy, r Request, count uint64) {
	t.Helper()
	pieces := allPieces(s, r)
	if uint64(len(pieces)) != count {
		t.Fatalf("%v %v: %d pieces, Count %d", s, r, len(pieces), count)
	}
	var held uint64
	for i, p := range pieces {
		if err := p.Validate(); err != nil {
			t.Fatalf("%v %v: piece %v: %v", s, r, p, err)
		}
		if p.Addr%uint64(p.Len) != 0 || p.Cond != r.Kind.Cond() {
			t.Fatalf("%v %v: piece %v", s, r, p)
		}
		if i > 0 && p.Addr < pieces[i-1].Span().end() {
			t.Fatalf("%v %v: %v overlaps %v", s, r, p, pieces[i-1])
		}
		if s == ExactCover && r.Outside(p) != 0 {
			t.Fatalf("%v %v: exact piece %v holds bytes outside", s, r, p)
		}
		held += uint64(bits.OnesCount8(uint8(r.Inside(p))))
	}
	if held != r.Len {
		t.Fatalf("%v %v: pieces hold %d bytes of %d", s, r, held, r.Len)
	}
	if s == ExactCover && (pieces[0].Addr != r.Addr || pieces[len(pieces)-1].Span().end() != r.Addr+r.Len) {
		t.Fatalf("%v %v: cover %v", s, r, pieces)
	}
}

// FuzzImage decodes any debug-register image: no panic; what decodes
// encodes again to an image that decodes the same.
func FuzzImage(f *testing.F) {
	f.Add(uint64(0x1000), uint64(0), uint64(0), uint64(0), uint64(0xd0001))
	f.Add(uint64(0x1001), uint64(0x2000), uint64(0), uint64(0x401000), uint64(0x0d30_0045))
	f.Add(uint64(0), uint64(0), uint64(0), uint64(0), ^uint64(0))
	f.Add(uint64(0x1000), uint64(0x1000), uint64(0), uint64(0), uint64(0x5))
	f.Fuzz(func(t *testing.T, a0, a1, a2, a3, control uint64) {
		img := Image{Addr: [NumSlots]uint64{a0, a1, a2, a3}, Control: control}
		sl, err := img.Decode()
		if err != nil {
			if sl != (Slots{}) {
				t.Fatalf("%v: error %v with slots %v", img, err, sl)
			}
			return
		}
		if sl.Used() != img.Enabled() {
			t.Fatalf("%v: used %v, enabled %v", img, sl.Used(), img.Enabled())
		}
		again, err := sl.Encode()
		if err != nil {
			t.Fatalf("%v decodes to %v, which does not encode: %v", img, sl, err)
		}
		if back, err := again.Decode(); err != nil || back != sl {
			t.Fatalf("%v: %v re-encodes as %v, which decodes to %v, %v", img, sl, again, back, err)
		}
		st := DecodeStatus(control, img.Enabled())
		if st.Fired&^img.Enabled() != 0 {
			t.Fatalf("%v: fired %v not enabled", img, st.Fired)
		}
	})
}

// FuzzJudge judges any hit: no panic, and a reported address is inside
// the request's range and the piece.
func FuzzJudge(f *testing.F) {
	f.Add(uint8(KindWrite), uint64(0x1001), uint64(4), uint8(FewestSlots), uint8(0), uint8(0),
		[]byte{0, 0, 0, 0, 0, 0, 0, 0}, []byte{0, 1, 0, 0, 0, 0, 0, 0}, uint64(0), uint64(0))
	f.Add(uint8(KindRead), uint64(0x1000), uint64(8), uint8(ExactCover), uint8(0), uint8(PairQuiet),
		[]byte(nil), []byte(nil), uint64(0x1004), uint64(4))
	f.Add(uint8(KindAccess), uint64(0x1003), uint64(12), uint8(FewestSlots), uint8(1), uint8(0),
		[]byte{1}, []byte{2}, uint64(0x1008), uint64(1))
	f.Fuzz(func(t *testing.T, kind uint8, addr, n uint64, strategy, index, pair uint8,
		before, after []byte, accessAddr, accessLen uint64) {
		r := Request{Kind: Kind(kind), Addr: addr, Len: n}
		s := Strategy(strategy)
		var p Piece
		if count, err := s.Count(r); err == nil && count <= 1<<12 {
			pieces := allPieces(s, r)
			p = pieces[int(index)%len(pieces)]
		} else {
			// Any piece at all, even an invalid one, must not panic.
			p = Piece{Addr: addr, Len: index, Cond: Cond(pair)}
		}
		ev := Evidence{Access: Span{Addr: accessAddr, Len: accessLen}, Pair: Pair(pair), Before: before, After: after}
		v := r.Judge(p, ev)
		if v.Report && !(r.Validate() == nil && v.Addr >= r.Addr && v.Addr-r.Addr < r.Len &&
			v.Addr >= p.Addr && v.Addr-p.Addr < uint64(p.Len)) {
			t.Fatalf("%v %v %+v: reported %#x", r, p, ev, v.Addr)
		}
		if a, ok := r.ReportAddress(p, ev.Access); ok && !(a >= r.Addr && a-r.Addr < r.Len) {
			t.Fatalf("ReportAddress %#x outside %v", a, r)
		}
	})
}
