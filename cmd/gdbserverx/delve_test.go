package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/constant"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-delve/delve/pkg/proc"
	"github.com/go-delve/delve/pkg/proc/gdbserial"
	"golang.org/x/sys/unix"

	"gdbserverx/internal/gdbtest"
)

// delveFixture builds testdata/delve (a Go program: Delve debugs Go) without
// optimisations or inlining, as Delve's own tests do.
func delveFixture(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "delveprog")
	cmd := exec.Command("go", "build", "-gcflags=all=-N -l", "-o", out, ".")
	cmd.Dir = filepath.Join(gdbtest.Root(t), "testdata", "delve")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build testdata/delve: %v\n%s", err, b)
	}
	return out
}

// delveWrapper is the lldb-server README's "Delve" puts first in PATH:
// Delve's gdbserial backend runs `lldb-server gdbserver [HOST]:PORT --
// PROG ARGS...`, which gdbserverx reads as its own command line (serving
// one connection, as lldb-server does), and --pass-signals SIGURG takes
// the Go runtime's preemption signals off the wire.
const delveWrapper = `#!/bin/sh
exec gdbserverx --pass-signals SIGURG "$@"
`

// delveStub writes the README's lldb-server wrapper into a directory that
// PATH then holds alone, so that Delve's gdbserial.LLDBLaunch (with no
// debugserver: DELVE_DEBUGSERVER_PATH is cleared) starts gdbserverx. The
// tests' additions: the server's path, its pid (to the returned pid
// file), every packet on its stderr (to the returned log file) and its
// debug-register events (--event-log, to the returned event log). The
// program gets the default GODEBUG: asynchronous preemption on.
func delveStub(t *testing.T, server string) (logFile, pidFile, eventLog string) {
	t.Helper()
	dir := t.TempDir()
	logFile = filepath.Join(dir, "server.log")
	pidFile = filepath.Join(dir, "server.pid")
	eventLog = filepath.Join(dir, "events.jsonl")
	script := strings.Replace(delveWrapper, "exec gdbserverx ", "echo $$ >"+shellQuote(pidFile)+"\nexec "+shellQuote(server)+" ", 1)
	script = strings.Replace(script, `"$@"`, `--remote-debug --event-log `+shellQuote(eventLog)+` "$@" 2>>`+shellQuote(logFile), 1)
	if err := os.WriteFile(filepath.Join(dir, "lldb-server"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	t.Setenv("DELVE_DEBUGSERVER_PATH", "")
	t.Setenv("GODEBUG", "")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("gdbserverx stderr (--remote-debug):\n%s", readFile(logFile))
		}
	})
	return logFile, pidFile, eventLog
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// delveSession is a program started under gdbserverx through Delve.
type delveSession struct {
	t       *testing.T
	grp     *proc.TargetGroup
	p       *proc.Target
	pid     int    // the program's, from the server's "Process ... created; pid = N"
	pidFile string // where the stand-in wrote the server's pid
	events  string // the server's --event-log
	ended   bool   // the test detached
}

var createdRE = regexp.MustCompile(`(?m)^Process .* created; pid = (\d+)$`)

// errNoRegisters is how LLDBLaunch fails when it finds no register list it
// can read: neither qRegisterInfo (lldb) nor a target.xml whose <reg>s are
// children of <target> or of xi:included annexes.
var errNoRegisters = regexp.MustCompile(`^could not find \w+ register$`)

// delveLaunch starts prog under gdbserverx through Delve. Unless the test
// ends the session itself, the server is killed when the test ends (the
// program with it) and Delve let go.
func delveLaunch(t *testing.T, prog string) *delveSession {
	t.Helper()
	logFile, pidFile, events := delveStub(t, gdbtest.Server(t))
	s := &delveSession{t: t, pidFile: pidFile, events: events}
	// Unless the test ended the session: kill the server (the program
	// goes with it), which also ends a Delve call waiting on it, and let
	// Delve go.
	t.Cleanup(func() {
		if s.ended {
			return
		}
		s.killServer()
		if s.grp != nil {
			s.do("Detach at cleanup", func() error { return s.grp.Detach(true) })
		}
	})
	var grp *proc.TargetGroup
	err := s.do("LLDBLaunch", func() (err error) {
		grp, err = gdbserial.LLDBLaunch([]string{prog}, "", 0, nil, "", [3]string{})
		return err
	})
	if err != nil {
		t.Fatalf("LLDBLaunch through gdbserverx: %v", err)
	}
	s.grp, s.p = grp, grp.Selected
	// The server prints this line before it listens; Delve has connected.
	b, err := os.ReadFile(logFile)
	m := createdRE.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %q in the server's stderr (%v)", createdRE, err)
	}
	s.pid, _ = strconv.Atoi(string(m[1]))
	if s.serverPid() == 0 {
		t.Fatalf("the lldb-server stand-in left no pid in %s", pidFile)
	}
	return s
}

// serverPid is the pid of the server (the stand-in exec'd it), 0 if it has
// not started.
func (s *delveSession) serverPid() int {
	b, err := os.ReadFile(s.pidFile)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// killServer kills the server if it still runs. Delve reaps it, so its pid
// may be another process's by now: the kill goes through a pidfd, to the
// process whose command line names this session's event log.
func (s *delveSession) killServer() {
	pid := s.serverPid()
	if pid == 0 {
		return
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && strings.Contains(string(cmdline), s.events) {
		unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
	}
}

// do runs a Delve call, which waits for the server with no deadline of its
// own. If the call has not returned within gdbtest.Timeout, the test fails
// and the server is killed, which ends the call (its connection closes).
func (s *delveSession) do(what string, f func() error) error {
	s.t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(gdbtest.Timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
	}
	s.t.Errorf("%s: no answer from the server within %v; killing it", what, gdbtest.Timeout)
	s.killServer()
	return fmt.Errorf("%s timed out (then: %v)", what, <-done)
}

// cont resumes the program (Delve's stepping over breakpoints included)
// until its next stop.
func (s *delveSession) cont() error {
	s.t.Helper()
	return s.do("Continue", s.grp.Continue)
}

// detach ends the session with Delve's Detach and checks that the program
// is gone.
func (s *delveSession) detach(kill bool) {
	s.t.Helper()
	grp := s.grp
	s.ended = true
	if err := s.do(fmt.Sprintf("Detach(kill=%v)", kill), func() error { return grp.Detach(kill) }); err != nil {
		s.t.Errorf("Detach(kill=%v): %v", kill, err)
	}
	if err := gdbtest.WaitGone(s.pid, gdbtest.Timeout); err != nil {
		s.t.Errorf("program: %v", err)
	}
}

var delveLoadConfig = proc.LoadConfig{MaxStringLen: 64, MaxStructFields: -1}

// delveInt evaluates expr in the current goroutine's scope.
func delveInt(t *testing.T, p *proc.Target, expr string) int64 {
	t.Helper()
	scope, err := proc.GoroutineScope(p, p.CurrentThread())
	if err != nil {
		t.Fatalf("GoroutineScope: %v", err)
	}
	v, err := scope.EvalExpression(expr, delveLoadConfig)
	if err != nil {
		t.Fatalf("eval %s: %v", expr, err)
	}
	if v.Unreadable != nil {
		t.Fatalf("eval %s: unreadable: %v", expr, v.Unreadable)
	}
	n, ok := constant.Int64Val(v.Value)
	if !ok {
		t.Fatalf("eval %s: %v is not an integer", expr, v.Value)
	}
	return n
}

// delveStopFunc is the function the current thread is stopped in.
func delveStopFunc(t *testing.T, p *proc.Target) (*proc.Location, string) {
	t.Helper()
	loc, err := proc.ThreadLocation(p.CurrentThread())
	if err != nil {
		t.Fatalf("Location: %v", err)
	}
	if loc.Fn == nil {
		return loc, ""
	}
	return loc, loc.Fn.Name
}

// delveBreak sets a breakpoint at the entry of function fn (after its
// prologue, as Delve's "break fn" does).
func delveBreak(t *testing.T, p *proc.Target, id int, fn string) *proc.Breakpoint {
	t.Helper()
	addrs, err := proc.FindFunctionLocation(p, fn, 0)
	if err != nil || len(addrs) != 1 {
		t.Fatalf("FindFunctionLocation(%s): %v, %v", fn, addrs, err)
	}
	bp, err := p.SetBreakpoint(id, addrs[0], proc.UserBreakpoint, nil)
	if err != nil {
		t.Fatalf("SetBreakpoint(%s): %v", fn, err)
	}
	return bp
}

// hardwareSlots returns the debug-register slots the server's event log
// last gave a write watchpoint at addr, nil if it holds none.
func (s *delveSession) hardwareSlots(addr uint64) []int {
	s.t.Helper()
	b, err := os.ReadFile(s.events)
	if err != nil {
		s.t.Fatalf("event log: %v", err)
	}
	var slots []int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ev struct {
			Kind, Addr, New string
			Slots           []int
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			s.t.Fatalf("event log line %q: %v", line, err)
		}
		if ev.Kind == "write" && ev.Addr == fmt.Sprintf("%#x", addr) {
			slots = ev.Slots
		}
	}
	return slots
}

// TestDelve drives gdbserverx with Delve's gdbserial backend, an RSP
// client independent of gdb: launch (qSupported, target.xml, the thread
// list), a breakpoint, registers (fs_base: Delve finds the goroutine
// through it), reading globals, a hardware write watchpoint reported with
// watch:ADDR in the stop reply, the exit status, and kill.
func TestDelve(t *testing.T) {
	prog := delveFixture(t)

	t.Run("break watch exit", func(t *testing.T) {
		s := delveLaunch(t, prog)
		p := s.p
		// Delve reads the pid from a thread id (pPID.TID) as decimal,
		// though it is hex; only when that fails does it ask
		// qProcessInfo. So the check holds when the hex pid has a letter.
		if strings.ContainsAny(strconv.FormatInt(int64(s.pid), 16), "abcdef") && p.Pid() != s.pid {
			t.Errorf("Delve thinks the program is pid %d; it is %d (qProcessInfo)", p.Pid(), s.pid)
		}

		bp := delveBreak(t, p, 1, "main.work")
		if err := s.cont(); err != nil {
			t.Fatalf("Continue to main.work: %v", err)
		}
		loc, fn := delveStopFunc(t, p)
		if fn != "main.work" || loc.PC != bp.Addr {
			t.Fatalf("stopped at %#x in %q (%s:%d), want %#x in main.work", loc.PC, fn, loc.File, loc.Line, bp.Addr)
		}
		if cur := p.CurrentThread().Breakpoint().Breakpoint; cur == nil || cur.LogicalID() != bp.LogicalID() {
			t.Errorf("current breakpoint %v, want the one at main.work", cur)
		}
		regs, err := p.CurrentThread().Registers()
		if err != nil {
			t.Fatalf("Registers: %v", err)
		}
		if regs.PC() != bp.Addr {
			t.Errorf("rip %#x, want %#x", regs.PC(), bp.Addr)
		}
		if regs.TLS() == 0 {
			t.Errorf("fs_base reads as 0")
		}
		if g, err := proc.GetG(p.CurrentThread()); err != nil || g == nil || g.ID != 1 {
			t.Errorf("current goroutine: %+v, %v; want goroutine 1 (main)", g, err)
		}
		if n := delveInt(t, p, "main.counter"); n != 40 {
			t.Errorf("main.counter = %d, want 40", n)
		}
		if n := delveInt(t, p, "n"); n != 2 {
			t.Errorf("argument n = %d, want 2", n)
		}
		if err := p.ClearBreakpoint(bp.Addr); err != nil {
			t.Fatalf("ClearBreakpoint: %v", err)
		}

		scope, err := proc.GoroutineScope(p, p.CurrentThread())
		if err != nil {
			t.Fatalf("GoroutineScope: %v", err)
		}
		wp, err := p.SetWatchpoint(2, scope, "main.watched", proc.WatchWrite, nil)
		if err != nil {
			t.Fatalf("SetWatchpoint(main.watched): %v", err)
		}
		if err := s.cont(); err != nil {
			t.Fatalf("Continue to the watchpoint: %v", err)
		}
		if slots := s.hardwareSlots(wp.Addr); len(slots) == 0 {
			t.Errorf("the watchpoint on main.watched (%#x) holds no debug register; event log:\n%s", wp.Addr, readFile(s.events))
		}
		cur := p.CurrentThread().Breakpoint().Breakpoint
		if cur == nil || cur != wp || cur.LogicalID() != 2 || !cur.WatchType.Write() || cur.WatchType.Read() {
			t.Fatalf("stopped on breakpoint %v, want the write watchpoint on main.watched (%v)", cur, wp)
		}
		if _, fn := delveStopFunc(t, p); fn != "main.main" {
			t.Errorf("watchpoint stop in %q, want main.main", fn)
		}
		if n := delveInt(t, p, "main.watched"); n != 84 {
			t.Errorf("main.watched = %d after the write, want 84", n)
		}
		if err := p.ClearBreakpoint(wp.Addr); err != nil {
			t.Fatalf("ClearBreakpoint(watchpoint): %v", err)
		}

		err = s.cont()
		var exited proc.ErrProcessExited
		if !errors.As(err, &exited) {
			t.Fatalf("Continue to the end: %v, want the process to exit", err)
		}
		if exited.Status != 3 {
			t.Errorf("exit status %d, want 3", exited.Status)
		}
		// Delve's Detach skips an exited target: it neither closes the
		// connection nor ends the stub (lldb-server exits with its
		// program; gdbserver, and gdbserverx, wait for the client to
		// go). The cleanup ends the server.
		s.detach(false)
	})

	t.Run("kill", func(t *testing.T) {
		s := delveLaunch(t, prog)
		delveBreak(t, s.p, 1, "main.work")
		if err := s.cont(); err != nil {
			t.Fatalf("Continue to main.work: %v", err)
		}
		serverPid := s.serverPid()
		// Delve kills with a bare k, then waits for a stop reply
		// (lldb-server: X09) or for the connection to close
		// (gdbserver, in target remote mode, exits).
		s.detach(true)
		// Delve ends the stub after the kill.
		if err := gdbtest.WaitGone(serverPid, gdbtest.Timeout); err != nil {
			t.Errorf("server: %v", err)
		}
	})
}

// delveCLI is the dlv binary the version of go.mod names (`.ci/run`
// installs it with go install), or the test is skipped.
func delveCLI(t *testing.T) string {
	t.Helper()
	dlv, err := exec.LookPath("dlv")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		dlv = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "dlv")
		if _, err := os.Stat(dlv); err != nil {
			t.Skip("dlv is not installed (go install github.com/go-delve/delve/cmd/dlv@<go.mod's version>; .ci/run does)")
		}
	}
	return dlv
}

// delveScript is a Delve session as a user types it: a breakpoint,
// print, next, step, the goroutines and the stack, a watchpoint and its
// hit, and a continue to the end. delveChecks are what it must print, in
// order.
const delveScript = `break main.work
continue
print counter
next
step
print n
goroutines
stack
clearall
watch -w main.watched
continue
print main.watched
clearall
continue
exit
`

var delveChecks = []*regexp.Regexp{
	regexp.MustCompile(`Breakpoint 1 set at 0x[0-9a-f]+ for main\.work\(\)`),
	regexp.MustCompile(`> \[Breakpoint 1\] main\.work\(\) \S+main\.go:\d+`),
	regexp.MustCompile(`\(dlv\) 40\n`),
	regexp.MustCompile(`> main\.work\(\) \S+main\.go:\d+`),
	regexp.MustCompile(`> main\.work\(\) \S+main\.go:\d+`),
	regexp.MustCompile(`\(dlv\) 2\n`),
	regexp.MustCompile(`\* Goroutine 1 - User: \S+main\.go:\d+ main\.work`),
	regexp.MustCompile(`0  0x[0-9a-f]+ in main\.work\n.*\n1  0x[0-9a-f]+ in main\.main`),
	regexp.MustCompile(`Watchpoint main\.watched set at 0x[0-9a-f]+`),
	regexp.MustCompile(`> watchpoint on \[main\.watched\] main\.main\(\)`),
	regexp.MustCompile(`\(dlv\) 84\n`),
	regexp.MustCompile(`Process \d+ has exited with status 3`),
}

// TestDelveCLI debugs a Go program with the real dlv, through the
// README's lldb-server wrapper, with the default GODEBUG (asynchronous
// preemption: the runtime sends its goroutines SIGURG), 20 times in a row
// (3 with -short): each session must go through, and no SIGURG may reach
// Delve (issue 19: 5 sessions of 20 hung, one thread stopped 171,385
// times for SIGURG at one pc).
func TestDelveCLI(t *testing.T) {
	dlv := delveCLI(t)
	if out, err := exec.Command(dlv, "version").CombinedOutput(); err == nil {
		t.Logf("%s", bytes.TrimSpace(out))
	}
	prog := delveFixture(t)
	runs := 20
	if testing.Short() {
		runs = 3
	}
	start := time.Now()
	urg := 0
	for i := 0; i < runs; i++ {
		out, log := delveCLIRun(t, dlv, prog)
		if t.Failed() {
			t.Fatalf("run %d of %d failed; dlv printed:\n%s\nserver:\n%s", i+1, runs, out, log)
		}
		// A stop for SIGURG (GDB's 0x10) told to Delve.
		urg += strings.Count(log, `putpkt ("T10`)
	}
	t.Logf("%d sessions in %v (%v each)", runs, time.Since(start).Round(time.Millisecond), (time.Since(start) / time.Duration(runs)).Round(time.Millisecond))
	if urg > 0 {
		t.Errorf("%d stops for SIGURG reached Delve (--pass-signals SIGURG passes them)", urg)
	}
}

// delveCLIRun runs delveScript once and checks what dlv printed.
func delveCLIRun(t *testing.T, dlv, prog string) (out, log string) {
	t.Helper()
	logFile, pidFile, events := delveStub(t, gdbtest.Server(t))
	s := &delveSession{t: t, pidFile: pidFile, events: events}
	t.Cleanup(s.killServer)
	ctx, cancel := context.WithTimeout(context.Background(), gdbtest.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, dlv, "--backend=lldb", "exec", prog, "--allow-non-terminal-interactive=true")
	cmd.Dir = filepath.Dir(prog)
	cmd.Stdin = strings.NewReader(delveScript)
	cmd.Env = append(os.Environ(), "TERM=dumb", "XDG_CONFIG_HOME="+t.TempDir())
	b, err := cmd.CombinedOutput()
	out, log = string(b), readFile(logFile)
	if ctx.Err() != nil {
		t.Errorf("dlv did not finish within %v", gdbtest.Timeout)
		return out, log
	}
	if err != nil {
		t.Errorf("dlv: %v", err)
	}
	rest := out
	for _, re := range delveChecks {
		loc := re.FindStringIndex(rest)
		if loc == nil {
			t.Errorf("no %q in dlv's output (after what matched before)", re)
			return out, log
		}
		rest = rest[loc[1]:]
	}
	return out, log
}
