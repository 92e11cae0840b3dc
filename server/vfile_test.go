package server

import "testing"

// TestReadWindow: a pread answers a page, and four times more at each
// read that starts where the last one ended, up to the packet's limit;
// a read elsewhere starts over.
func TestReadWindow(t *testing.T) {
	const max = 60000
	var h hostFile
	steps := []struct {
		off         int64
		count, want int
	}{
		{0, 0x20000, 4096},
		{4096, 0x20000, 16384},
		{20480, 0x20000, 60000},
		{80480, 0x20000, 60000},
		{140480, 100, 100},     // gdb asked for less
		{140580, 0x20000, max}, // still in sequence
		{40, 0x20000, 4096},    // elsewhere: a page again
		{50000, 64, 64},
	}
	for i, s := range steps {
		got := h.readWindow(s.off, s.count, max)
		if got != s.want {
			t.Fatalf("step %d: read at %d of %d: answered %d bytes, want %d", i, s.off, s.count, got, s.want)
		}
		h.next = s.off + int64(got)
	}
}
