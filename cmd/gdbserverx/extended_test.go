package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// TestWatchInNewThreadsExtended: in extended-remote, a watchpoint set
// before threads exist fires in threads gdb has not been told of yet;
// gdb, switched to another thread between continues, reports each hit
// with its thread and values, and no internal error (issue 14), as with
// GNU gdbserver.
func TestWatchInNewThreadsExtended(t *testing.T) {
	prog := gdbtest.Program(t, "threads", "-pthread")
	servers := map[string]string{"gdbserverx": gdbtest.Server(t)}
	if gnu, err := exec.LookPath("gdbserver"); err == nil {
		servers["gdbserver"] = gnu
	}
	for name, bin := range servers {
		t.Run(name, func(t *testing.T) {
			srv := gdbtest.StartServer(t, bin, "--multi", "127.0.0.1:0")
			cmds := []string{"target extended-remote " + srv.Addr(), "set remote exec-file " + prog, "file " + prog,
				"break main", "run", "watch work_total", "continue", "thread 2"}
			for range 6 {
				cmds = append(cmds, "continue")
			}
			out := gdbtest.Batch(t, append(cmds, "kill")...)
			if strings.Contains(out, "internal-error") || strings.Contains(out, "internal error") {
				t.Fatalf("gdb internal error:\n%s", out)
			}
			hits := regexp.MustCompile(`Thread \d+ "worker-\d" hit Hardware watchpoint 2: work_total`).FindAllString(out, -1)
			if len(hits) != 7 {
				t.Errorf("%d watchpoint hits in worker threads, want 7 (one per continue):\n%s", len(hits), out)
			}
		})
	}
}
