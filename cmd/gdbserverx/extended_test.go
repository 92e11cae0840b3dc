package main

import (
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
	for name, bin := range sideBySide(t) {
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

// TestRWatchTwoThreads: two threads read a watched variable 50 times
// each in quick succession (their hits often come in the same stop);
// rwatch with `silent; continue` counts exactly 100 hits, none lost and
// none told twice, and the program ends normally, on target remote and
// extended-remote, beside GNU gdbserver (issue 14).
func TestRWatchTwoThreads(t *testing.T) {
	prog := gdbtest.Program(t, "rwatch2", "-pthread")
	for name, bin := range sideBySide(t) {
		for _, how := range []string{"remote", "extended-remote"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog, "50")
				out := gdbtest.Script(t, "file "+prog+"\ntarget "+how+" "+srv.Addr()+`
break main
continue
rwatch g
commands
silent
continue
end
continue
info breakpoints
`)
				contains(t, out,
					`\[Inferior 1 \(process \d+\) exited normally\]`,
					`read watchpoint keep y +g\n\s+breakpoint already hit 100 times`,
				)
			})
		}
	}
}
