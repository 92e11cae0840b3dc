package swwatch

import (
	"testing"

	"gdbserverx/target"
)

// TestAccessKinds runs each mode of testdata/access.c with write, read
// and access watches on the accessed variable, and compares the hits
// with the program's own count of its accesses.
func TestAccessKinds(t *testing.T) {
	const n = 50
	type want struct{ r, w, rw int } // hits of kind read, write, access (both)
	cases := []struct {
		mode, sym string
		size      uint64
		kind      Kind
		want      want
	}{
		{"w", "alone", 8, Write, want{w: n}},
		{"w", "alone", 8, Read, want{}},
		{"w", "alone", 8, Access, want{w: n}},
		{"same", "alone", 8, Write, want{w: n}},
		{"same", "alone", 8, Access, want{w: n}},
		{"r", "alone", 8, Read, want{r: n}},
		{"r", "alone", 8, Write, want{}},
		{"r", "alone", 8, Access, want{r: n}},
		{"rmw", "alone", 8, Write, want{w: n}},
		{"rmw", "alone", 8, Read, want{r: n}},
		{"rmw", "alone", 8, Access, want{rw: n}},
		{"mix", "alone", 8, Write, want{w: n}},
		{"mix", "alone", 8, Read, want{r: n}},
		{"mix", "alone", 8, Access, want{r: n, w: n}},
		{"hot", "shared", 8, Write, want{w: n}},
		{"vec", "v", 16, Write, want{w: n}},
		{"vecr", "v", 16, Read, want{r: n}},
		{"vecr", "v", 16, Write, want{}},
	}
	for _, c := range cases {
		t.Run(c.mode+"/"+c.kind.String(), func(t *testing.T) {
			s := start(t, "access", c.mode, itoa(n))
			done := s.breakAt("done")
			addr := s.sym(c.sym)
			if c.mode == "hot" {
				addr += 16 * 8 // shared.h
			}
			s.watch(Watch{ID: 1, Addr: addr, Len: c.size, Kind: c.kind})
			got, ev := s.runTo(done, nil)
			if ev.Kind != target.EventStopped {
				t.Fatalf("the program ended: %+v", ev)
			}
			g := want{r: got[1][target.WatchRead], w: got[1][target.WatchWrite], rw: got[1][target.WatchAccess]}
			if g != c.want {
				t.Errorf("hits %+v, want %+v (stats %+v)", g, c.want, s.w.Stats())
			}
			t.Logf("stats %+v", s.w.Stats())
		})
	}
}

// TestMemcpy watches a 16-byte struct that glibc's memcpy writes: every
// call is seen, each with the same number of stores, and the value is
// the last one copied.
func TestMemcpy(t *testing.T) {
	const n = 40
	s := start(t, "access", "memcpy", itoa(n))
	done := s.breakAt("done")
	v := s.sym("v")
	s.watch(Watch{ID: 9, Addr: v, Len: 16, Kind: Write})
	got, _ := s.runTo(done, nil)
	w := got[9][target.WatchWrite]
	if w < n || w%n != 0 || len(got[9]) != 1 {
		t.Errorf("hits %v, want a multiple of %d writes", got[9], n)
	}
	if a, b := s.readU64(v), s.readU64(v+8); a != n || b != n+1 {
		t.Errorf("v = {%d, %d}, want {%d, %d}", a, b, n, n+1)
	}
	t.Logf("%d writes for %d calls; stats %+v", w, n, s.w.Stats())
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestUndecodable makes every faulting instruction undecodable (a test
// hook: the decoder knows every instruction the tests can make fault):
// writes are still found, by comparing values after the step, and each
// fallback is noted; same-value stores and reads cannot be seen, as
// documented.
func TestUndecodable(t *testing.T) {
	const n = 30
	for _, c := range []struct {
		mode string
		kind Kind
		want int
	}{
		{"w", Write, n},
		{"same", Write, 1}, // the first store changes the value; the others store the same
		{"r", Read, 0},
	} {
		t.Run(c.mode, func(t *testing.T) {
			s := start(t, "access", c.mode, itoa(n))
			done := s.breakAt("done")
			s.w.e.undecodable = func(uint64) bool { return true }
			g := s.sym("alone")
			s.watch(Watch{ID: 1, Addr: g, Len: 8, Kind: c.kind})
			got, _ := s.runTo(done, nil)
			hits := 0
			for _, k := range got[1] {
				hits += k
			}
			if hits != c.want || got[1][target.WatchRead] != 0 {
				t.Errorf("hits %v, want %d writes", got[1], c.want)
			}
			if c.kind != Read && len(s.notesOf(NoteUndecodable)) != n {
				t.Errorf("%d notes, want %d", len(s.notesOf(NoteUndecodable)), n)
			}
		})
	}
}
