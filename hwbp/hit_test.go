package hwbp

import "testing"

func TestJudge(t *testing.T) {
	var (
		write  = Request{Kind: KindWrite, Addr: 0x1001, Len: 4}  // bytes 0x1001-0x1004
		access = Request{Kind: KindAccess, Addr: 0x1001, Len: 4} // same bytes
		read8  = Request{Kind: KindRead, Addr: 0x1000, Len: 8}
		read2  = Request{Kind: KindRead, Addr: 0x1001, Len: 2}
		exec   = Request{Kind: KindExecute, Addr: 0x401000, Len: 1}

		w8  = Piece{Addr: 0x1000, Len: 8, Cond: CondWrite}  // FewestSlots piece of write
		w2  = Piece{Addr: 0x1002, Len: 2, Cond: CondWrite}  // ExactCover piece of write
		a8  = Piece{Addr: 0x1000, Len: 8, Cond: CondAccess} // both covers of read8; widened for access
		a2  = Piece{Addr: 0x1002, Len: 2, Cond: CondAccess} // ExactCover piece of access
		a4  = Piece{Addr: 0x1000, Len: 4, Cond: CondAccess} // FewestSlots piece of read2
		x1  = Piece{Addr: 0x401000, Len: 1, Cond: CondExecute}
		far = Piece{Addr: 0x2000, Len: 8, Cond: CondWrite}

		zero8 = []byte{0, 0, 0, 0, 0, 0, 0, 0}
	)
	// with returns 8 bytes with the given offsets set to 1.
	with := func(offsets ...int) []byte {
		b := make([]byte, 8)
		for _, o := range offsets {
			b[o] = 1
		}
		return b
	}
	report := func(addr uint64, certain bool) Verdict { return Verdict{Report: true, Addr: addr, Certain: certain} }
	drop := func(certain bool) Verdict { return Verdict{Certain: certain} }

	for _, tc := range []struct {
		name string
		r    Request
		p    Piece
		ev   Evidence
		want Verdict
	}{
		{"execute", exec, x1, Evidence{}, report(0x401000, true)},

		{"write exact", write, w2, Evidence{}, report(0x1002, true)},
		{"write exact same value", write, w2, Evidence{Before: zero8[:2], After: zero8[:2]}, report(0x1002, true)},
		{"write exact changed second byte", write, w2, Evidence{Before: zero8[:2], After: []byte{0, 7}}, report(0x1003, true)},
		{"write widened no evidence", write, w8, Evidence{}, report(0x1001, false)},
		{"write widened unchanged", write, w8, Evidence{Before: zero8, After: zero8}, drop(true)},
		{"write widened changed outside only", write, w8, Evidence{Before: zero8, After: with(0, 5, 7)}, drop(true)},
		{"write widened changed inside", write, w8, Evidence{Before: zero8, After: with(0, 3, 4)}, report(0x1003, true)},
		{"write widened short values", write, w8, Evidence{Before: zero8[:4], After: with(3)}, report(0x1001, false)},
		{"write widened access outside", write, w8, Evidence{Access: Span{Addr: 0x1006, Len: 2}}, drop(true)},
		{"write widened access across", write, w8, Evidence{Access: Span{Addr: 0x1000, Len: 8}}, report(0x1001, true)},
		{"write widened access inside, value changed later in it", write, w8,
			Evidence{Access: Span{Addr: 0x1002, Len: 2}, Before: zero8, After: with(3)}, report(0x1003, true)},

		{"access exact", access, a2, Evidence{}, report(0x1002, true)},
		{"access widened no evidence", access, a8, Evidence{}, report(0x1001, false)},
		{"access widened unchanged", access, a8, Evidence{Before: zero8, After: zero8}, report(0x1001, false)},
		{"access widened changed inside", access, a8, Evidence{Before: zero8, After: with(2)}, report(0x1002, true)},
		{"access widened changed outside", access, a8, Evidence{Before: zero8, After: with(6)}, report(0x1001, false)},
		{"access widened access inside", access, a8, Evidence{Access: Span{Addr: 0x1004, Len: 4}}, report(0x1004, true)},
		{"access widened access outside", access, a8, Evidence{Access: Span{Addr: 0x1005, Len: 1}}, drop(true)},

		{"read pair fired", read8, a8, Evidence{Pair: PairFired}, drop(true)},
		{"read pair quiet", read8, a8, Evidence{Pair: PairQuiet}, report(0x1000, true)},
		{"read pair quiet, access known", read8, a8, Evidence{Pair: PairQuiet, Access: Span{Addr: 0x1004, Len: 4}}, report(0x1004, true)},
		{"read pair fired beats values", read8, a8, Evidence{Pair: PairFired, Before: zero8, After: zero8}, drop(true)},
		{"read by value unchanged", read8, a8, Evidence{Before: zero8, After: zero8}, report(0x1000, false)},
		{"read by value changed", read8, a8, Evidence{Before: zero8, After: with(7)}, drop(false)},
		{"read no evidence", read8, a8, Evidence{}, report(0x1000, false)},
		{"read widened pair quiet", read2, a4, Evidence{Pair: PairQuiet}, report(0x1001, false)},
		{"read widened pair quiet access outside", read2, a4, Evidence{Pair: PairQuiet, Access: Span{Addr: 0x1000, Len: 1}}, drop(true)},
		{"read widened pair quiet access inside", read2, a4, Evidence{Pair: PairQuiet, Access: Span{Addr: 0x1002, Len: 2}}, report(0x1002, true)},
		{"read widened pair fired", read2, a4, Evidence{Pair: PairFired}, drop(true)},
		// A store to a neighbour in the widened piece is a write, as the
		// pair would have said.
		{"read widened changed outside", read2, a4, Evidence{Before: zero8[:4], After: with(3)[:4]}, drop(false)},

		{"piece of another range", write, far, Evidence{}, drop(true)},
		{"invalid request", Request{Kind: KindWrite, Addr: 0x1000}, w8, Evidence{}, drop(true)},
		{"unknown kind", Request{Kind: 0, Addr: 0x1000, Len: 4}, w8, Evidence{}, drop(true)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.r.Judge(tc.p, tc.ev)
			if got != tc.want {
				t.Errorf("Judge(%v, %v) = %+v, want %+v", tc.r, tc.p, got, tc.want)
			}
			if got.Report && !(got.Addr >= tc.r.Addr && got.Addr-tc.r.Addr < tc.r.Len) {
				t.Errorf("reported address %#x outside %v", got.Addr, tc.r)
			}
		})
	}
}

func TestReportAddress(t *testing.T) {
	r := Request{Kind: KindWrite, Addr: 0x1003, Len: 12} // 0x1003-0x100e
	for _, tc := range []struct {
		p      Piece
		access Span
		addr   uint64
		ok     bool
	}{
		{Piece{Addr: 0x1000, Len: 8, Cond: CondWrite}, Span{Addr: 0x1000, Len: 8}, 0x1003, true},
		{Piece{Addr: 0x1000, Len: 8, Cond: CondWrite}, Span{Addr: 0x1000, Len: 3}, 0, false},
		{Piece{Addr: 0x1000, Len: 8, Cond: CondWrite}, Span{Addr: 0x1002, Len: 2}, 0x1003, true},
		{Piece{Addr: 0x1008, Len: 8, Cond: CondWrite}, Span{Addr: 0x1008, Len: 8}, 0x1008, true},
		{Piece{Addr: 0x1008, Len: 8, Cond: CondWrite}, Span{Addr: 0x100f, Len: 1}, 0, false},
		{Piece{Addr: 0x1008, Len: 8, Cond: CondWrite}, Span{Addr: 0x100e, Len: 64}, 0x100e, true},
		{Piece{Addr: 0x1008, Len: 8, Cond: CondWrite}, Span{Addr: ^uint64(0) - 3, Len: 100}, 0, false}, // saturates
		{Piece{Addr: 0x2000, Len: 8, Cond: CondWrite}, Span{Addr: 0x2000, Len: 8}, 0, false},
	} {
		addr, ok := r.ReportAddress(tc.p, tc.access)
		if addr != tc.addr || ok != tc.ok {
			t.Errorf("ReportAddress(%v, %v) = %#x, %t; want %#x, %t", tc.p, tc.access, addr, ok, tc.addr, tc.ok)
		}
	}
}

func TestInsideOutside(t *testing.T) {
	r := Request{Kind: KindAccess, Addr: 0x1003, Len: 3} // 0x1003-0x1005
	for _, tc := range []struct {
		p               Piece
		inside, outside ByteMask
	}{
		{Piece{Addr: 0x1000, Len: 8, Cond: CondAccess}, 0b0011_1000, 0b1100_0111},
		{Piece{Addr: 0x1004, Len: 4, Cond: CondAccess}, 0b0011, 0b1100},
		{Piece{Addr: 0x1004, Len: 2, Cond: CondAccess}, 0b11, 0},
		{Piece{Addr: 0x1003, Len: 1, Cond: CondAccess}, 0b1, 0},
		{Piece{Addr: 0x1006, Len: 2, Cond: CondAccess}, 0, 0b11},
		{Piece{Addr: 0x0ff8, Len: 8, Cond: CondAccess}, 0, 0xff},
	} {
		if in, out := r.Inside(tc.p), r.Outside(tc.p); in != tc.inside || out != tc.outside {
			t.Errorf("%v: inside %v outside %v, want %v %v", tc.p, in, out, tc.inside, tc.outside)
		}
	}
}
