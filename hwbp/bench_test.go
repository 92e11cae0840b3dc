package hwbp

import "testing"

// The server splits and encodes once per Z packet and decodes DR6 once per
// debug-exception stop; none of it may allocate when given room.

var (
	benchUnaligned = Request{Kind: KindWrite, Addr: 0x7ffd_1234_5671, Len: 4}   // 3 exact pieces, 1 fewest
	benchStruct    = Request{Kind: KindAccess, Addr: 0x7ffd_1234_5003, Len: 12} // 5 exact, 2 fewest
	benchHuge      = Request{Kind: KindWrite, Addr: 0x1001, Len: 1 << 40}
	benchSlots     = Slots{
		{Addr: 0x7ffd_1234_5670, Len: 8, Cond: CondWrite},
		{Addr: 0x7ffd_1234_5000, Len: 8, Cond: CondAccess},
		{Addr: 0x7ffd_1234_5008, Len: 4, Cond: CondAccess},
		{Addr: 0x40_1000, Len: 1, Cond: CondExecute},
	}
	sink struct {
		pieces  []Piece
		n       uint64
		img     Image
		slots   Slots
		status  Status
		verdict Verdict
		err     error
	}
)

func BenchmarkAppendExact(b *testing.B) {
	dst := make([]Piece, 0, NumSlots)
	b.ReportAllocs()
	for b.Loop() {
		sink.pieces, sink.err = ExactCover.Append(dst[:0], benchUnaligned)
	}
}

func BenchmarkAppendFewest(b *testing.B) {
	dst := make([]Piece, 0, NumSlots)
	b.ReportAllocs()
	for b.Loop() {
		sink.pieces, sink.err = FewestSlots.Append(dst[:0], benchStruct)
	}
}

func BenchmarkCountExactHuge(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink.n, sink.err = ExactCover.Count(benchHuge)
	}
}

// BenchmarkAppendHeadHuge: the pieces a range too long for the slots
// gets (the server's NumSlots+1), in time independent of its length.
func BenchmarkAppendHeadHuge(b *testing.B) {
	dst := make([]Piece, 0, NumSlots+1)
	b.ReportAllocs()
	for b.Loop() {
		sink.pieces, sink.err = FewestSlots.AppendHead(dst[:0], benchHuge, NumSlots+1)
	}
}

func BenchmarkEncode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sink.img, sink.err = benchSlots.Encode()
	}
}

func BenchmarkDecode(b *testing.B) {
	img, _ := benchSlots.Encode()
	b.ReportAllocs()
	for b.Loop() {
		sink.slots, sink.err = img.Decode()
	}
}

func BenchmarkDecodeStatus(b *testing.B) {
	img, _ := benchSlots.Encode()
	enabled := img.Enabled()
	b.ReportAllocs()
	for b.Loop() {
		sink.status = DecodeStatus(0xffff_4ff5, enabled)
	}
}

func BenchmarkJudge(b *testing.B) {
	p := Piece{Addr: 0x7ffd_1234_5670, Len: 8, Cond: CondWrite}
	before, after := make([]byte, 8), make([]byte, 8)
	after[3] = 1
	ev := Evidence{Before: before, After: after}
	b.ReportAllocs()
	for b.Loop() {
		sink.verdict = benchUnaligned.Judge(p, ev)
	}
}

// TestNoAllocs checks what the benchmarks report: the per-packet and
// per-stop paths do not allocate.
func TestNoAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts in -short")
	}
	dst := make([]Piece, 0, NumSlots)
	img, _ := benchSlots.Encode()
	p := Piece{Addr: 0x7ffd_1234_5670, Len: 8, Cond: CondWrite}
	ev := Evidence{Before: make([]byte, 8), After: make([]byte, 8), Pair: PairQuiet}
	for name, fn := range map[string]func(){
		"AppendExact":  func() { sink.pieces, sink.err = ExactCover.Append(dst[:0], benchUnaligned) },
		"AppendFewest": func() { sink.pieces, sink.err = FewestSlots.Append(dst[:0], benchStruct) },
		"Count":        func() { sink.n, sink.err = ExactCover.Count(benchHuge) },
		"AppendHead":   func() { sink.pieces, sink.err = FewestSlots.AppendHead(dst[:0], benchHuge, NumSlots) },
		"Validate":     func() { sink.err = benchStruct.Validate() },
		"Encode":       func() { sink.img, sink.err = benchSlots.Encode() },
		"Decode":       func() { sink.slots, sink.err = img.Decode() },
		"Enabled":      func() { sink.status.Fired = img.Enabled() },
		"DecodeStatus": func() { sink.status = DecodeStatus(0xffff_4ff5, img.Enabled()) },
		"Fired": func() {
			for _, q := range benchSlots.Fired(0b1011) {
				sink.n += q.Addr
			}
		},
		"Judge": func() { sink.verdict = benchStruct.Judge(p, ev) },
	} {
		if n := testing.AllocsPerRun(100, fn); n != 0 {
			t.Errorf("%s: %v allocations per run", name, n)
		}
	}
}
