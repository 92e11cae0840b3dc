package main

import (
	"os/exec"
	"regexp"
	"strconv"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// TestRangeStepping: gdb's next and step over lines of many instructions
// (vCont;r, which gdbserverx offers) end on the same lines, with the same
// values, as through GNU gdbserver, and a breakpoint inside a line's range
// stops the next there; monitor stats shows the steps the server took by
// itself.
func TestRangeStepping(t *testing.T) {
	prog := gdbtest.Program(t, "rangestep")
	script := []string{
		"break main",
		"continue",
		// A breakpoint on the third instruction of the long line: the
		// first next stops there, inside the line's range.
		"python a = gdb.selected_frame().architecture().disassemble(gdb.selected_frame().pc(), count=3)[2]['addr']; gdb.execute('tbreak *%d' % a)",
		"next",
		"next", // the rest of the long line
		"print d",
		"next", // the line that calls: stepped over
		"print c",
		"next", // the loop line: 100 turns in one next
		"print d",
		"break mid",
		"next", // into mid, called in the middle of the line
		"bt 1",
		"finish",
		"step", // the rest of the line
		"info line *$pc",
		"monitor stats", // gdbserverx's only
		"kill",
	}
	run := func(bin string) string {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
		return gdb(t, srv, script...)
	}
	x := run(gdbtest.Server(t))
	contains(t, x,
		`Temporary breakpoint 2, main \(\) at .*rangestep\.c:13`,
		`(?m)^14\s+c = triple\(a\) \+ triple\(b\); /\* calls \*/`,
		`(?m)^15\s+for \(long i`,
		`(?m)^16\s+a = b \+ c; mid\(\);`,
		`#0  mid \(\) at`,
	)
	m := regexp.MustCompile(`range steps: (\d+)`).FindStringSubmatch(x)
	if m == nil {
		t.Fatalf("monitor stats has no range steps:\n%s", x)
	}
	if n, _ := strconv.Atoi(m[1]); n < 20 {
		t.Errorf("%d steps of range steps taken by the server; gdb sends vCont;r for next, and the long line alone has more than 20 instructions:\n%s", n, x)
	}
	values := regexp.MustCompile(`(?m)^\$\d+ = .*$|^Line \d+ .*starts at address|^#0  mid .*|^Temporary breakpoint 2, .*`)
	xv := values.FindAllString(x, -1)
	if len(xv) < 4 {
		t.Fatalf("too few values in gdbserverx's session:\n%s", x)
	}
	gnu, err := exec.LookPath("gdbserver")
	if err != nil {
		t.Log("GNU gdbserver is not installed: no side-by-side run (apt-get install gdbserver)")
		return
	}
	g := run(gnu)
	gv := values.FindAllString(g, -1)
	if len(gv) != len(xv) {
		t.Fatalf("gdbserverx showed %q, GNU gdbserver %q\n--- gdbserverx ---\n%s\n--- gdbserver ---\n%s", xv, gv, x, g)
	}
	for i := range xv {
		if regexp.MustCompile(`0x[0-9a-f]+`).ReplaceAllString(xv[i], "ADDR") != regexp.MustCompile(`0x[0-9a-f]+`).ReplaceAllString(gv[i], "ADDR") {
			t.Errorf("value %d: gdbserverx %q, GNU gdbserver %q", i, xv[i], gv[i])
		}
	}
}
