package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gdbserverx/internal/gdbtest"
)

// TestInterruptWhileSteppingOverBreakpoints: four threads hit a
// breakpoint with `silent; continue` commands all the time, so gdb keeps
// stepping threads over it; an interrupt then stops the program at once
// (the Ctrl-C is not lost among the steps), and gdb can read it, remove
// the breakpoint and run it to its end, through gdbserverx and GNU
// gdbserver alike (issue 14).
func TestInterruptWhileSteppingOverBreakpoints(t *testing.T) {
	prog := gdbtest.Program(t, "nonstop", "-pthread")
	for name, bin := range sideBySide(t) {
		t.Run(name, func(t *testing.T) {
			srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
			mi := ide(t, srv)
			mi.Cmd("-file-exec-and-symbols " + prog)
			mi.Cmd("-break-insert -t ready")
			mi.Cmd("-exec-continue")
			waitStop(t, mi, `reason="breakpoint-hit"`)
			if r := mi.Cmd("-break-insert mark"); r.Class != "done" {
				t.Fatalf("break mark: %+v", r)
			}
			mi.Cmd(`-break-commands 2 "silent" "continue"`)
			mi.Cmd("-exec-continue")
			// Wait until gdb has stepped threads over it many times.
			deadline := time.Now().Add(gdbtest.Timeout)
			for bpHits(t, mi) < 200 {
				if time.Now().After(deadline) {
					t.Fatalf("breakpoint 2 hit %d times in %v", bpHits(t, mi), gdbtest.Timeout)
				}
			}
			mi.Cmd("-exec-interrupt")
			waitStop(t, mi, `reason="signal-received",signal-name="SIGINT"`)
			if n := evalInt(t, mi, "counts[0]+counts[1]+counts[2]+counts[3]"); n < 200 {
				t.Errorf("the workers counted %d marks", n)
			}
			mi.Cmd("-break-delete")
			mi.Cmd("-gdb-set var finish = 1")
			mi.Cmd("-exec-continue")
			waitLine(t, mi, `^\*stopped,reason="exited",exit-code="05"`)
		})
	}
}

// bpHits is how many times breakpoint 2 was hit, as gdb counts.
func bpHits(t *testing.T, mi *gdbtest.MI) int {
	t.Helper()
	r := mi.Cmd("-break-info 2")
	m := regexp.MustCompile(`times="(\d+)"`).FindStringSubmatch(r.Rest)
	if m == nil || strings.Contains(r.Class, "error") {
		t.Fatalf("-break-info 2: %+v", r)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
