package hwbp

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// gdbSizeTry is gdb's splitting table, size_try_array of
// x86_handle_nonaligned_watchpoint in gdb/nat/x86-dregs.c, for 8-byte debug
// registers (x86-64): the piece length to try, row min(len, 8)-1, column
// addr % 8.
var gdbSizeTry = [8][8]uint64{
	{1, 1, 1, 1, 1, 1, 1, 1}, // 1 byte left
	{2, 1, 2, 1, 2, 1, 2, 1}, // 2
	{2, 1, 2, 1, 2, 1, 2, 1}, // 3
	{4, 1, 2, 1, 4, 1, 2, 1}, // 4
	{4, 1, 2, 1, 4, 1, 2, 1}, // 5
	{4, 1, 2, 1, 4, 1, 2, 1}, // 6
	{4, 1, 2, 1, 4, 1, 2, 1}, // 7
	{8, 1, 2, 1, 4, 1, 2, 1}, // 8 or more
}

// gdbPieces is how gdb and gdbserver split a range (x86_dr_insert_watchpoint:
// an aligned 1/2/4/8 range is one piece, anything else goes through the
// table), written independently of the package's rule.
func gdbPieces(addr, n uint64, cond Cond) []Piece {
	if (n == 1 || n == 2 || n == 4 || n == 8) && addr%n == 0 {
		return []Piece{{Addr: addr, Len: uint8(n), Cond: cond}}
	}
	var ps []Piece
	for n > 0 {
		size := gdbSizeTry[min(n, 8)-1][addr%8]
		ps = append(ps, Piece{Addr: addr, Len: uint8(size), Cond: cond})
		addr, n = addr+size, n-size
	}
	return ps
}

// ps builds pieces from (len, addr) pairs.
func ps(cond Cond, lenAddr ...uint64) []Piece {
	var out []Piece
	for i := 0; i < len(lenAddr); i += 2 {
		out = append(out, Piece{Addr: lenAddr[i+1], Len: uint8(lenAddr[i]), Cond: cond})
	}
	return out
}

// allPieces walks the cursor with no slot limit, for tests of long ranges.
func allPieces(s Strategy, r Request) []Piece {
	var out []Piece
	c := s.cursor(r)
	for p, ok := c.next(); ok; p, ok = c.next() {
		out = append(out, p)
	}
	return out
}

func TestExactCoverTable(t *testing.T) {
	for _, tc := range []struct {
		addr, len uint64
		want      []Piece
	}{
		{0x1000, 1, ps(CondWrite, 1, 0x1000)},
		{0x1000, 4, ps(CondWrite, 4, 0x1000)},
		{0x1000, 8, ps(CondWrite, 8, 0x1000)},
		{0x1004, 4, ps(CondWrite, 4, 0x1004)},
		{0x1001, 4, ps(CondWrite, 1, 0x1001, 2, 0x1002, 1, 0x1004)},
		{0x1001, 1, ps(CondWrite, 1, 0x1001)},
		{0x1001, 2, ps(CondWrite, 1, 0x1001, 1, 0x1002)},
		{0x1002, 4, ps(CondWrite, 2, 0x1002, 2, 0x1004)},
		{0x1003, 12, ps(CondWrite, 1, 0x1003, 4, 0x1004, 4, 0x1008, 2, 0x100c, 1, 0x100e)},
		{0x1000, 32, ps(CondWrite, 8, 0x1000, 8, 0x1008, 8, 0x1010, 8, 0x1018)},
		{0x1004, 12, ps(CondWrite, 4, 0x1004, 8, 0x1008)}, // a 12-byte struct field
		{0x1000, 3, ps(CondWrite, 2, 0x1000, 1, 0x1002)},
		{0x1000, 7, ps(CondWrite, 4, 0x1000, 2, 0x1004, 1, 0x1006)},
		{0x1006, 4, ps(CondWrite, 2, 0x1006, 2, 0x1008)},
		{0x1007, 2, ps(CondWrite, 1, 0x1007, 1, 0x1008)},
		{0x1001, 7, ps(CondWrite, 1, 0x1001, 2, 0x1002, 4, 0x1004)},
		{0x1001, 6, ps(CondWrite, 1, 0x1001, 2, 0x1002, 2, 0x1004, 1, 0x1006)},
		{0x1002, 16, ps(CondWrite, 2, 0x1002, 4, 0x1004, 8, 0x1008, 2, 0x1010)},
		{0x1004, 8, ps(CondWrite, 4, 0x1004, 4, 0x1008)},
		{0, 16, ps(CondWrite, 8, 0, 8, 8)},
		{UserLimit - 8, 8, ps(CondWrite, 8, UserLimit-8)},
	} {
		r := Request{Kind: KindWrite, Addr: tc.addr, Len: tc.len}
		t.Run(r.String(), func(t *testing.T) {
			if gdb := gdbPieces(tc.addr, tc.len, CondWrite); !slices.Equal(gdb, tc.want) {
				t.Fatalf("table entry disagrees with gdb's split: gdb %v", gdb)
			}
			got := allPieces(ExactCover, r)
			if !slices.Equal(got, tc.want) {
				t.Errorf("pieces %v, want %v", got, tc.want)
			}
			n, err := ExactCover.Count(r)
			if err != nil || n != uint64(len(tc.want)) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(tc.want))
			}
			app, err := ExactCover.Append(nil, r)
			switch {
			case len(tc.want) > NumSlots:
				if !errors.Is(err, ErrTooManyPieces) || app != nil {
					t.Errorf("Append = %v, %v; want ErrTooManyPieces", app, err)
				}
			case err != nil || !slices.Equal(app, tc.want):
				t.Errorf("Append = %v, %v", app, err)
			}
		})
	}
}

// TestExactCoverMatchesGDB compares with gdb's table for every start
// alignment and every length up to 40, and a few long ones.
func TestExactCoverMatchesGDB(t *testing.T) {
	for base := range uint64(16) {
		addr := 0x7f00_0000_1000 + base
		for n := uint64(1); n <= 40; n++ {
			checkAgainstGDB(t, addr, n)
		}
		for _, n := range []uint64{63, 64, 65, 255, 4096, 4097} {
			checkAgainstGDB(t, addr, n)
		}
	}
}

func checkAgainstGDB(t *testing.T, addr, n uint64) {
	t.Helper()
	for _, kind := range []Kind{KindWrite, KindRead, KindAccess} {
		r := Request{Kind: kind, Addr: addr, Len: n}
		want := gdbPieces(addr, n, kind.Cond())
		if got := allPieces(ExactCover, r); !slices.Equal(got, want) {
			t.Fatalf("%v: pieces %v, gdb %v", r, got, want)
		}
		if c := ExactCover.count(r); c != uint64(len(want)) {
			t.Fatalf("%v: count %d, gdb %d pieces", r, c, len(want))
		}
	}
}

func TestExactSizeIsGDBTable(t *testing.T) {
	for row := range 8 {
		for col := range 8 {
			// rem = row+1 (row 7 stands for 8 or more), addr%8 = col; the
			// higher address bits must not matter.
			for _, hi := range []uint64{0, 8, 0x1000, 0x7fff_ffff_e000} {
				if got, want := exactSize(hi+uint64(col), uint64(row+1)), gdbSizeTry[row][col]; got != want {
					t.Errorf("exactSize(%#x, %d) = %d, gdb table %d", hi+uint64(col), row+1, got, want)
				}
			}
			if row == 7 {
				if got, want := exactSize(uint64(col), 100), gdbSizeTry[7][col]; got != want {
					t.Errorf("exactSize(%d, 100) = %d, gdb table %d", col, got, want)
				}
			}
		}
	}
}

func TestFewestSlotsTable(t *testing.T) {
	type pm struct {
		p      Piece
		inside ByteMask
	}
	w := func(n, addr uint64, inside ByteMask) pm {
		return pm{Piece{Addr: addr, Len: uint8(n), Cond: CondWrite}, inside}
	}
	for _, tc := range []struct {
		addr, len uint64
		want      []pm
	}{
		{0x1000, 4, []pm{w(4, 0x1000, 0b1111)}},
		{0x1001, 4, []pm{w(8, 0x1000, 0b0001_1110)}},                 // one 8-byte piece, not three
		{0x1001, 2, []pm{w(4, 0x1000, 0b0110)}},                      // 2 bytes across a 2-boundary
		{0x1003, 2, []pm{w(8, 0x1000, 0b0001_1000)}},                 // across a 4-boundary
		{0x1001, 1, []pm{w(1, 0x1001, 0b1)}},                         // already one piece
		{0x1006, 4, []pm{w(2, 0x1006, 0b11), w(2, 0x1008, 0b11)}},    // same as exact
		{0x1003, 12, []pm{w(8, 0x1000, 0xf8), w(8, 0x1008, 0x7f)}},   // 2 instead of 5
		{0x1004, 12, []pm{w(4, 0x1004, 0b1111), w(8, 0x1008, 0xff)}}, // exact already fewest
		{0x1000, 32, []pm{w(8, 0x1000, 0xff), w(8, 0x1008, 0xff), w(8, 0x1010, 0xff), w(8, 0x1018, 0xff)}},
		{0x1007, 2, []pm{w(1, 0x1007, 1), w(1, 0x1008, 1)}},
		{0x1005, 10, []pm{w(4, 0x1004, 0b1110), w(8, 0x1008, 0b0111_1111)}},
	} {
		r := Request{Kind: KindWrite, Addr: tc.addr, Len: tc.len}
		t.Run(r.String(), func(t *testing.T) {
			got, err := FewestSlots.Append(nil, r)
			if err != nil {
				t.Fatal(err)
			}
			var gotPM []pm
			for _, p := range got {
				gotPM = append(gotPM, pm{p, r.Inside(p)})
				if out := r.Outside(p); out != p.AllBytes()&^r.Inside(p) {
					t.Errorf("Outside(%v) = %v", p, out)
				}
			}
			if !slices.Equal(gotPM, tc.want) {
				t.Errorf("pieces %v, want %v", gotPM, tc.want)
			}
			if n, err := FewestSlots.Count(r); err != nil || n != uint64(len(tc.want)) {
				t.Errorf("Count = %d, %v; want %d", n, err, len(tc.want))
			}
		})
	}
}

func TestExecuteAndRead(t *testing.T) {
	for _, s := range []Strategy{ExactCover, FewestSlots} {
		got, err := s.Append(nil, Request{Kind: KindExecute, Addr: 0x401003, Len: 1})
		if want := ps(CondExecute, 1, 0x401003); err != nil || !slices.Equal(got, want) {
			t.Errorf("%v execute: %v, %v; want %v", s, got, err, want)
		}
		got, err = s.Append(nil, Request{Kind: KindRead, Addr: 0x1000, Len: 8})
		if want := ps(CondAccess, 8, 0x1000); err != nil || !slices.Equal(got, want) {
			t.Errorf("%v read: %v, %v; want %v", s, got, err, want)
		}
	}
	p := Piece{Addr: 0x1000, Len: 8, Cond: CondAccess}
	if got, want := p.WritePair(), (Piece{Addr: 0x1000, Len: 8, Cond: CondWrite}); got != want {
		t.Errorf("WritePair = %v, want %v", got, want)
	}
	// A read request's pair is the same key as a write request's piece:
	// they share a slot.
	w, _ := ExactCover.Append(nil, Request{Kind: KindWrite, Addr: 0x1000, Len: 8})
	if w[0] != p.WritePair() {
		t.Errorf("write piece %v is not the pair %v", w[0], p.WritePair())
	}
}

func TestAppendReusesDst(t *testing.T) {
	dst := make([]Piece, 1, 1+NumSlots)
	dst[0] = Piece{Addr: 8, Len: 8, Cond: CondWrite}
	got, err := ExactCover.Append(dst, Request{Kind: KindWrite, Addr: 0x1001, Len: 4})
	if err != nil {
		t.Fatal(err)
	}
	if want := append(ps(CondWrite, 8, 8), ps(CondWrite, 1, 0x1001, 2, 0x1002, 1, 0x1004)...); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if &got[0] != &dst[0] {
		t.Error("Append reallocated although dst had room")
	}
	// A refused request leaves dst as it was.
	got, err = ExactCover.Append(dst, Request{Kind: KindWrite, Addr: 0x1001, Len: 40})
	if !errors.Is(err, ErrTooManyPieces) || len(got) != 1 {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestValidate(t *testing.T) {
	const max = ^uint64(0)
	for _, tc := range []struct {
		r       Request
		err     error
		message string
	}{
		{Request{KindWrite, 0x1000, 4}, nil, ""},
		{Request{KindWrite, 0, 1}, nil, ""},
		{Request{KindAccess, 0x1001, 1 << 20}, nil, ""},
		{Request{KindWrite, UserLimit - 1, 1}, nil, ""},
		{Request{KindExecute, UserLimit - 1, 1}, nil, ""},
		{Request{KindRead, 0x1000, UserLimit - 0x1000}, nil, ""},
		{Request{0, 0x1000, 4}, ErrUnknownKind, "kind(0) 0x1000 len 4: unknown kind"},
		{Request{9, 0x1000, 4}, ErrUnknownKind, "kind(9) 0x1000 len 4: unknown kind"},
		{Request{KindWrite, 0x1000, 0}, ErrZeroLength, "write 0x1000 len 0: zero length"},
		{Request{KindExecute, 0x1000, 0}, ErrZeroLength, "execute 0x1000 len 0: zero length"},
		{Request{KindExecute, 0x401000, 2}, ErrExecuteLength, "execute 0x401000 len 2: execute length is not 1"},
		{Request{KindExecute, 0x401000, 8}, ErrExecuteLength, "execute 0x401000 len 8: execute length is not 1"},
		{Request{KindWrite, max, 2}, ErrWraps, "write 0xffffffffffffffff len 2: range wraps past 2^64"},
		{Request{KindWrite, 0x1000, max}, ErrWraps, "write 0x1000 len 18446744073709551615: range wraps past 2^64"},
		{Request{KindWrite, 2, max}, ErrWraps, ""},
		{Request{KindWrite, 1, max}, ErrNonCanonical, ""}, // bytes 1..2^64-1: no wrap
		{Request{KindWrite, 0, max}, ErrNonCanonical, ""}, // ends exactly at 2^64-1: no wrap
		{Request{KindWrite, max, 1}, ErrKernelAddress, ""},
		{Request{KindWrite, UserLimit, 1}, ErrKernelAddress, "write 0x7ffffffff000 len 1: not a user-space address"},
		{Request{KindWrite, UserLimit - 4, 8}, ErrKernelAddress, ""},
		{Request{KindExecute, UserLimit, 1}, ErrKernelAddress, ""},
		{Request{KindWrite, 1<<47 - 1, 1}, ErrKernelAddress, ""}, // last guard-page byte (probe: EINVAL)
		{Request{KindWrite, 1 << 47, 1}, ErrNonCanonical, "write 0x800000000000 len 1: non-canonical address"},
		{Request{KindWrite, 1<<47 - 1, 2}, ErrNonCanonical, ""},
		{Request{KindWrite, 0x1000, 1 << 47}, ErrNonCanonical, ""},
		{Request{KindWrite, 0xffff_7fff_ffff_fff8, 8}, ErrNonCanonical, ""},
		{Request{KindWrite, 0xffff_7fff_ffff_fffc, 8}, ErrNonCanonical, ""}, // straddles into kernel half
		{Request{KindWrite, 0xffff_8000_0000_0000, 8}, ErrKernelAddress, "write 0xffff800000000000 len 8: not a user-space address"},
		{Request{KindRead, 0xffff_ffff_ff60_0000, 8}, ErrKernelAddress, ""}, // vsyscall page
	} {
		t.Run(tc.r.String(), func(t *testing.T) {
			err := tc.r.Validate()
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) {
				t.Fatalf("Validate = %v, want %v", err, tc.err)
			}
			if err == nil {
				return
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Request != tc.r {
				t.Errorf("error %v is not a *RequestError for the request", err)
			}
			if tc.message != "" && err.Error() != tc.message {
				t.Errorf("message %q, want %q", err.Error(), tc.message)
			}
			for _, s := range []Strategy{ExactCover, FewestSlots} {
				if _, err := s.Count(tc.r); !errors.Is(err, tc.err) {
					t.Errorf("%v.Count: %v", s, err)
				}
				if got, err := s.Append(nil, tc.r); !errors.Is(err, tc.err) || got != nil {
					t.Errorf("%v.Append: %v, %v", s, got, err)
				}
			}
		})
	}
}

func TestTooManyPieces(t *testing.T) {
	r := Request{Kind: KindWrite, Addr: 0x1003, Len: 12}
	_, err := ExactCover.Append(nil, r)
	var re *RequestError
	if !errors.As(err, &re) || !errors.Is(err, ErrTooManyPieces) || re.Pieces != 5 {
		t.Fatalf("err = %#v", err)
	}
	if want := "write 0x1003 len 12: needs 5 pieces, more than the 4 slots"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
	// FewestSlots needs two for the same range.
	if got, err := FewestSlots.Append(nil, r); err != nil || len(got) != 2 {
		t.Errorf("FewestSlots: %v, %v", got, err)
	}
	// A huge range is refused without allocating its pieces.
	huge := Request{Kind: KindAccess, Addr: 0x1000, Len: UserLimit - 0x1000}
	n, err := ExactCover.Count(huge)
	if err != nil || n != (UserLimit-0x1000)/8 {
		t.Errorf("Count(huge) = %d, %v", n, err)
	}
	if _, err := FewestSlots.Append(make([]Piece, 0, NumSlots), huge); !errors.Is(err, ErrTooManyPieces) {
		t.Errorf("Append(huge) = %v", err)
	}
}

func TestUnknownStrategy(t *testing.T) {
	r := Request{Kind: KindWrite, Addr: 0x1000, Len: 4}
	if _, err := Strategy(0).Append(nil, r); !errors.Is(err, ErrUnknownStrategy) {
		t.Errorf("Append: %v", err)
	}
	if _, err := Strategy(7).Count(r); !errors.Is(err, ErrUnknownStrategy) {
		t.Errorf("Count: %v", err)
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct {
		v    fmt.Stringer
		want string
	}{
		{KindExecute, "execute"}, {KindWrite, "write"}, {KindRead, "read"}, {KindAccess, "access"}, {Kind(0), "kind(0)"},
		{CondExecute, "execute"}, {CondWrite, "write"}, {CondAccess, "access"}, {Cond(4), "cond(4)"},
		{ExactCover, "exact"}, {FewestSlots, "fewest"}, {Strategy(3), "strategy(3)"},
		{PairAbsent, "absent"}, {PairQuiet, "quiet"}, {PairFired, "fired"}, {Pair(3), "pair(3)"},
		{Piece{Addr: 0x1000, Len: 4, Cond: CondAccess}, "access 0x1000 len 4"},
		{Request{Kind: KindRead, Addr: 0x1001, Len: 3}, "read 0x1001 len 3"},
		{ByteMask(0b0110), ".xx....."}, {ByteMask(0xff), "xxxxxxxx"}, {ByteMask(0), "........"},
		{Slot(2), "slot 2"}, {SlotSet(0b1010), "{1,3}"}, {SlotSet(0), "{}"},
		{Status{Fired: 0b0011, SingleStep: true}, "fired {0,1} step true"},
		{Span{Addr: 0x10, Len: 3}, "0x10 len 3"},
	} {
		if got := tc.v.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
	for k := KindExecute; k <= KindAccess; k++ {
		if !k.Cond().valid() {
			t.Errorf("%v.Cond() = %v", k, k.Cond())
		}
	}
	if Kind(0).Cond() != 0 {
		t.Error("invalid kind has a condition")
	}
}
