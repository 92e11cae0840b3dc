package swwatch

import (
	"fmt"
	"testing"

	"gdbserverx/internal/x86cpu"
	"gdbserverx/target"
)

// TestMaskedVectorAccesses watches bytes of a buffer that AVX-512 masked
// moves, VPCOMPRESSD/VPEXPANDD and MASKMOVDQU touch (testdata/masked.c):
// a byte the mask selects is hit at every instruction, even though each
// stores the same values (so no value compare could see it), and a byte
// the mask leaves out is never hit. The engine reads the opmask and the
// vector registers from the target's register file, which the target
// reads from the XSAVE image at this CPU's offsets (CPUID leaf 0xD); with
// Intel's fixed offsets on AMD it read a zero mask. Which bytes
// MASKMOVDQU touches is the vendor's (x86cpu). Forms the CPU cannot run
// are skipped, by CPUID.
func TestMaskedVectorAccesses(t *testing.T) {
	const n = 20
	cpu := x86cpu.Host()
	avx512 := cpu.Usable(x86cpu.AVX512F) && cpu.Usable(x86cpu.AVX512BW)
	maskmovAll := 0 // hits on a masked-out byte of MASKMOVDQU: Intel's hardware sees all 16
	if cpu.Vendor == x86cpu.Intel {
		maskmovAll = n
	}
	type want struct{ r, w int }
	cases := []struct {
		mode   string
		off    uint64
		kind   Kind
		want   want
		avx512 bool
	}{
		{"store", 0, Write, want{w: n}, true},
		{"store", 11, Access, want{w: n}, true},
		{"store", 4, Access, want{}, true}, // a hole of the mask
		{"store", 60, Write, want{}, true},
		{"load", 8, Read, want{r: n}, true},
		{"load", 12, Access, want{}, true},
		{"zero", 0, Access, want{}, true},
		{"compress", 12, Write, want{w: n}, true},
		{"compress", 16, Access, want{}, true},
		{"expand", 4, Read, want{r: n}, true},
		{"expand", 8, Access, want{}, true},
		{"maskmov", 3, Write, want{w: n}, false},
		{"maskmov", 4, Write, want{w: maskmovAll}, false},
	}
	var ran, skipped []string
	for _, c := range cases {
		name := fmt.Sprintf("%s/%d/%v", c.mode, c.off, c.kind)
		if c.avx512 && !avx512 {
			skipped = append(skipped, name)
			continue
		}
		ran = append(ran, name)
		t.Run(name, func(t *testing.T) {
			s := start(t, "masked", c.mode, itoa(n))
			done := s.breakAt("done")
			s.watch(Watch{ID: 1, Addr: s.sym("buf") + c.off, Len: 1, Kind: c.kind})
			got, ev := s.runTo(done, nil)
			if ev.Kind != target.EventStopped {
				t.Fatalf("the program ended: %+v", ev)
			}
			g := want{r: got[1][target.WatchRead] + got[1][target.WatchAccess], w: got[1][target.WatchWrite]}
			if g != c.want {
				t.Errorf("hits %+v, want %+v (stats %+v, notes %v)", got[1], c.want, s.w.Stats(), s.notes)
			}
		})
	}
	t.Logf("%v; ran %v", cpu, ran)
	if len(skipped) > 0 {
		t.Logf("skipped (no AVX512F+BW enabled): %v", skipped)
	}
}
