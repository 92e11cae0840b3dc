package server

import (
	"testing"

	"gdbserverx/rsp"
	"gdbserverx/target"
)

func TestSignalTranslation(t *testing.T) {
	for _, tc := range []struct {
		linux target.Signal
		gdb   rsp.GDBSignal
	}{
		{0, 0}, {1, 1}, {2, 2}, {5, 5}, {6, 6}, {7, 10}, {9, 9},
		{10, 30}, {11, 11}, {12, 31}, {17, 20}, {18, 19}, {19, 17},
		{20, 18}, {23, 16}, {29, 23}, {30, 32}, {31, 12},
		{32, 77}, {33, 45}, {34, 46}, {63, 75}, {64, 78},
	} {
		if g := gdbSignal(tc.linux); g != tc.gdb {
			t.Errorf("gdbSignal(%d) = %d, want %d", tc.linux, g, tc.gdb)
		}
		if l, ok := linuxSignal(tc.gdb); !ok || l != tc.linux {
			t.Errorf("linuxSignal(%d) = %d, %v; want %d", tc.gdb, l, ok, tc.linux)
		}
	}
	if g := gdbSignal(16); g != 143 {
		t.Errorf("SIGSTKFLT -> %d, want GDB_SIGNAL_UNKNOWN 143", g)
	}
	for _, g := range []rsp.GDBSignal{7, 29, 143, 150, 500} { // EMT, LOST, unknown, EXC_BREAKPOINT, junk
		if l, ok := linuxSignal(g); ok {
			t.Errorf("linuxSignal(%d) = %d, want not ok", g, l)
		}
	}
	// Every Linux signal round-trips.
	for s := target.Signal(1); s <= 64; s++ {
		if s == 16 {
			continue
		}
		if l, ok := linuxSignal(gdbSignal(s)); !ok || l != s {
			t.Errorf("round trip of Linux signal %d gave %d, %v", s, l, ok)
		}
	}
}
