package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
)

// lldbServe starts a server for lldb with prog and its arguments:
// gdbserverx, or lldb-server (which tells its port through a pipe, given
// port 0) for the same session against the reference. It returns the
// address.
func lldbServe(t *testing.T, server string, prog string, args ...string) string {
	t.Helper()
	if filepath.Base(server) != "gdbserverx" {
		dir := t.TempDir()
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(server, append([]string{"gdbserver", "--pipe", "3", "127.0.0.1:0", "--", prog}, args...)...)
		cmd.ExtraFiles = []*os.File{w}
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); r.Close() })
		port := make([]byte, 16)
		n, err := r.Read(port)
		if err != nil {
			t.Fatalf("lldb-server's port: %v", err)
		}
		return "127.0.0.1:" + string(bytes.TrimRight(port[:n], "\x00"))
	}
	return gdbtest.StartServer(t, server, append([]string{"127.0.0.1:0", prog}, args...)...).Addr()
}

// TestLLDB runs one lldb session, as a user types it, against gdbserverx
// and against lldb-server on the same program, with the same checks:
// breakpoints in the program and in libc (a pending one, resolved when
// libc loads: lldb reads the library list right), bt through libc, thread
// names, an expression calling a function, registers by set, write, read
// and read-write watchpoints with their hits, Ctrl-C while the program
// runs, step-out (finish), next and step, and kill; then detach in a
// second session, after which the program runs to its end.
func TestLLDB(t *testing.T) {
	lldb, lldbServer := gdbtest.LLDBTools(t)
	prog := gdbtest.Program(t, "clients")
	for _, server := range []string{gdbtest.Server(t), lldbServer} {
		t.Run(filepath.Base(server), func(t *testing.T) {
			t.Run("session", func(t *testing.T) { lldbSession(t, lldb, server, prog) })
			t.Run("detach", func(t *testing.T) { lldbDetach(t, lldb, server, prog) })
		})
	}
}

func lldbSession(t *testing.T, lldb, server, prog string) {
	l := gdbtest.StartLLDB(t, lldb, prog)
	l.Cmd("gdb-remote "+lldbServe(t, server, prog, "wait"), `stop reason = `)
	l.Cmd("breakpoint set -n ready", "Breakpoint 1: where = clients`ready")
	l.Cmd("breakpoint set -n usleep", `Breakpoint 2: `)
	l.Cmd("continue", `stop reason = breakpoint 1\.1`)
	// The pending libc breakpoint resolved when libc loaded.
	l.Cmd("breakpoint list 2", "2\\.1: where = libc\\.so\\.6`usleep")
	l.Cmd("thread list", `name = 'clients', stop reason = breakpoint 1\.1`, `name = 'worker-1'`)
	l.Cmd("bt", "frame #1: .* clients`main", "frame #2: .* libc\\.so\\.6`")
	l.Cmd("expression compute(4, 2)", `\(int\) \$0 = 42`)
	l.Cmd("register read", `General Purpose Registers:`, `rsp = 0x[0-9a-f]+`, "rip = 0x[0-9a-f]+ +clients`ready")
	l.Cmd("register read --all", `Floating Point Registers:`)

	// Each kind of watchpoint stops at its access, in order: bump(1)
	// writes counter, peek reads it, bump(seen) reads and writes it.
	l.Cmd("watchpoint set variable counter", `Watchpoint created: Watchpoint 1: .*type = w`)
	l.Cmd("continue", `stop reason = watchpoint 1`, "clients`bump")
	l.Cmd("watchpoint delete 1", `1 watchpoints deleted`)
	l.Cmd("watchpoint set variable -w read counter", `Watchpoint created: Watchpoint 2: .*type = r`)
	l.Cmd("continue", `stop reason = watchpoint 2`, "clients`peek")
	l.Cmd("watchpoint delete 2", `1 watchpoints deleted`)
	l.Cmd("watchpoint set variable -w read_write counter", `Watchpoint created: Watchpoint 3: .*type = rw`)
	l.Cmd("continue", `stop reason = watchpoint 3`, "clients`bump")
	l.Cmd("watchpoint delete 3", `1 watchpoints deleted`)

	// The program loops in main, calling usleep; Ctrl-C stops it.
	l.Cmd("breakpoint disable 2", `1 breakpoints disabled`)
	l.Cmd("continue", `Process \d+ resuming`)
	l.Interrupt(regexp.MustCompile(`stop reason = signal SIG(INT|STOP)`))
	l.Cmd("breakpoint enable 2", `1 breakpoints enabled`)
	l.Cmd("continue", `stop reason = breakpoint 2\.1`)
	l.Cmd("bt", "frame #0: .* libc\\.so\\.6`usleep", "frame #1: .* clients`main")
	l.Cmd("thread step-out", `stop reason = step out`, "clients`main")
	l.Cmd("breakpoint disable 2", `1 breakpoints disabled`)
	l.Cmd("expression waiting = 0", `= 0`)
	l.Cmd("next", `stop reason = step over`, "clients`main")
	l.Cmd("step", `stop reason = step in`, "clients`compute")
	l.Cmd("thread step-out", `stop reason = step out`, "clients`main")
	l.Cmd("process kill", `Process \d+ exited with status = 9`)
}

func lldbDetach(t *testing.T, lldb, server, prog string) {
	l := gdbtest.StartLLDB(t, lldb, prog)
	l.Cmd("gdb-remote "+lldbServe(t, server, prog), `stop reason = `)
	l.Cmd("breakpoint set -n ready", "Breakpoint 1: where = clients`ready")
	l.Cmd("continue", `stop reason = breakpoint 1\.1`)
	m := regexp.MustCompile(`Process (\d+) stopped`).FindStringSubmatch(l.Transcript())
	if m == nil {
		t.Fatal("no pid in lldb's transcript")
	}
	pid, _ := strconv.Atoi(m[1])
	l.Cmd("process detach", `Process \d+ detached`)
	// Untraced and without its breakpoint, it runs to its end.
	if err := gdbtest.WaitGone(pid, gdbtest.Timeout); err != nil {
		t.Errorf("after detach: %v", err)
	}
	if strings.Contains(l.Transcript(), "error:") {
		t.Errorf("lldb printed an error")
	}
}
