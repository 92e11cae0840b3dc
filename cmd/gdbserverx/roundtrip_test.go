package main

import (
	"regexp"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// TestRoundTripsPerStop counts the packets gdb sends per event, from its
// own `set debug remote 1` log, against gdbserverx and GNU gdbserver in
// the same session: gdbserverx must never cost gdb more round trips, and a
// stop must never make gdb fetch registers with g (the stop reply carries
// what it reads). A change that adds a round trip fails here.
func TestRoundTripsPerStop(t *testing.T) {
	prog := gdbtest.Program(t, "loop", "-O1")
	gnu := gdbtest.GNUServer(t)
	for _, tc := range []struct{ name, setup, step string }{
		{"breakpoint", "break hit\ncontinue", "continue"},
		{"stepi", "break hit\ncontinue\ndelete", "stepi"},
		{"watchpoint", "break hit\ncontinue\ndelete\nwatch sink", "continue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			count := func(bin string) []string {
				srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, "100")
				script := "target remote " + srv.Addr() + "\nset sysroot /\n" + tc.setup +
					"\nset debug remote 1\n" + strings.Repeat(tc.step+"\n", 3) + "set debug remote 0\nkill\n"
				out := gdbtest.Script(t, script)
				var names []string
				for _, m := range regexp.MustCompile(`Sending packet: \$([^#]*)#`).FindAllStringSubmatch(out, -1) {
					names = append(names, m[1])
				}
				if len(names) == 0 {
					t.Fatalf("%s: no packets logged:\n%s", bin, out)
				}
				return names
			}
			x, gs := count(gdbtest.Server(t)), count(gnu)
			t.Logf("gdbserverx: %d packets for 3 %ss: %s", len(x), tc.step, strings.Join(x, " "))
			t.Logf("gdbserver:  %d packets: %s", len(gs), strings.Join(gs, " "))
			if len(x) > len(gs) {
				t.Errorf("gdb sent gdbserverx %d packets, gdbserver %d", len(x), len(gs))
			}
			for _, p := range x {
				if p == "g" {
					t.Errorf("gdb sent a g packet: a stop reply lacks a register gdb reads")
				}
			}
		})
	}
}
