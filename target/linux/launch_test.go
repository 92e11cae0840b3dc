package linux

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gdbserverx/target"
)

// children lists the pids whose parent is this test process.
func children(t testing.TB) map[int]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]bool{}
	me := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(me) {
			out[pid] = true
		}
	}
	return out
}

func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+2:])[0]
}

func TestLaunchStopsAtExec(t *testing.T) {
	p, bin := launch(t, "loop")
	// The trampoline's Go threads died at execve: one thread is left.
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("%d threads after the exec, want 1", len(ents))
	}
	threads, err := p.Threads()
	if err != nil || len(threads) != 1 || threads[0].Tid != target.Tid(p.Pid()) || threads[0].Name != "loop" {
		t.Errorf("Threads() = %v, %v; want the main thread named loop", threads, err)
	}
	if got, err := p.ExecPath(); err != nil || got != bin {
		t.Errorf("ExecPath() = %q, %v; want %q", got, err, bin)
	}
	auxv, err := p.Auxv()
	if err != nil || len(auxv) < 16 || len(auxv)%16 != 0 {
		t.Errorf("Auxv() = %d bytes, %v", len(auxv), err)
	}
	// The PC is the program interpreter's entry (AT_ENTRY is the
	// program's; AT_BASE the interpreter's load address).
	r := regs(t, p, target.Tid(p.Pid()))
	if pc := reg64(t, p, r, "rip"); pc == 0 {
		t.Errorf("rip = 0")
	}
	// A fresh image's x87 and SSE state, as gdb shows it (info registers
	// at the first instruction under GNU gdbserver): fctrl 0x37f, ftag
	// 0xffff (all empty), mxcsr 0x1f80; user segments cs 0x33, ss 0x2b.
	for name, want := range map[string]uint32{"fctrl": 0x37f, "fstat": 0, "ftag": 0xffff, "fop": 0, "mxcsr": 0x1f80, "cs": 0x33, "ss": 0x2b} {
		reg, _ := p.Description().Lookup(name)
		if got := le.Uint32(r[reg.Offset:]); got != want {
			t.Errorf("%s = %#x, want %#x", name, got, want)
		}
	}
	if st := procState(p.Pid()); st != "t" {
		t.Errorf("process state %q, want t (traced)", st)
	}
	// Its own process group, as gdbserver does.
	if pg, _ := syscall.Getpgid(p.Pid()); pg != p.Pid() {
		t.Errorf("process group %d, want %d", pg, p.Pid())
	}
}

func TestLaunchArgsEnvDir(t *testing.T) {
	bin := program(t, "exit")
	for _, shell := range []bool{false, true} {
		t.Run(fmt.Sprintf("shell=%v", shell), func(t *testing.T) {
			p, err := launchCfg(t, Config{Path: bin, Args: []string{bin, "env"}, Env: []string{"FOO=bar", "PATH=/usr/bin:/bin"}, StartupWithShell: shell})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cleanup(t, p) })
			cont(t, p)
			if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 0 {
				t.Errorf("env: %+v, want exit 0 (FOO=bar, no trampoline variable)", ev)
			}
			// Arguments with spaces and quotes stay one word each.
			p2, err := launchCfg(t, Config{Path: bin, Args: []string{bin, "args", "a b", "it's", "$HOME"}, StartupWithShell: shell, Dir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cleanup(t, p2) })
			cont(t, p2)
			if ev := next(t, p2); ev.Kind != target.EventExited || ev.ExitCode != 5 {
				t.Errorf("args: %+v, want exit 5 (argc)", ev)
			}
		})
	}
}

// TestLaunchDefaultSignals: the program starts with no signal ignored or
// blocked, whatever the server ignores (it ignores SIGINT and SIGPIPE, and
// may run under nohup), with the trampoline and with the shell that stops
// itself; and the server's own signals are ignored again afterwards.
func TestLaunchDefaultSignals(t *testing.T) {
	bin := program(t, "exit")
	ignored := []os.Signal{syscall.SIGINT, syscall.SIGPIPE, syscall.SIGHUP, syscall.SIGTTOU}
	signal.Ignore(ignored...)
	defer signal.Reset(ignored...)
	for _, shell := range []string{"", "/bin/sh"} {
		t.Run("shell="+shell, func(t *testing.T) {
			p, err := launchCfg(t, Config{Path: bin, Args: []string{bin, "sigdfl"}, StartupWithShell: shell != "", Shell: shell})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cleanup(t, p) })
			cont(t, p)
			if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 0 {
				t.Errorf("%+v, want exit 0 (else the number of a signal ignored or blocked)", ev)
			}
			for _, sig := range ignored {
				if !signal.Ignored(sig) {
					t.Errorf("the server no longer ignores %v", sig)
				}
			}
		})
	}
}

func TestLaunchRelativeAndDir(t *testing.T) {
	bin := program(t, "exit")
	p, err := launchCfg(t, Config{Path: "./" + filepath.Base(bin), Dir: filepath.Dir(bin)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanup(t, p) })
	cont(t, p)
	if ev := next(t, p); ev.Kind != target.EventExited || ev.ExitCode != 42 {
		t.Errorf("%+v, want exit 42", ev)
	}
}

func TestLaunchDisableRandomization(t *testing.T) {
	bin := program(t, "loop")
	stackOf := func(noASLR bool, shell string) string {
		p, err := launchCfg(t, Config{Path: bin, DisableRandomization: noASLR, StartupWithShell: shell != "", Shell: shell})
		if err != nil {
			t.Fatal(err)
		}
		defer cleanup(t, p)
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", p.Pid()))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasSuffix(l, "[stack]") {
				return l
			}
		}
		return ""
	}
	for _, shell := range []string{"", "/bin/sh"} {
		a, b := stackOf(true, shell), stackOf(true, shell)
		if a == "" || a != b {
			t.Errorf("shell %q: with randomization disabled the stacks differ:\n%s\n%s", shell, a, b)
		}
	}
}

func TestLaunchErrors(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644)
	garbage := filepath.Join(dir, "garbage")
	os.WriteFile(garbage, []byte("\x7fELF but not really"), 0o755)
	exit127 := filepath.Join(dir, "exit127")
	os.WriteFile(exit127, []byte("#!/bin/sh\nexit 127\n"), 0o755)
	exit126 := filepath.Join(dir, "exit126")
	os.WriteFile(exit126, []byte("#!/bin/sh\nexit 126\n"), 0o755)
	loop := program(t, "loop")
	before := children(t)
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error
		is   error
	}{
		{"missing", Config{Path: filepath.Join(dir, "missing")}, []string{"missing", "no such file"}, syscall.ENOENT},
		{"missing in PATH", Config{Path: "no-such-program-here", Env: []string{"PATH=" + dir}}, []string{"no-such-program-here", "not found"}, syscall.ENOENT},
		{"not executable", Config{Path: noexec}, []string{"noexec", "permission denied"}, syscall.EACCES},
		{"directory", Config{Path: dir}, []string{dir, "is a directory"}, syscall.EISDIR},
		{"exec format", Config{Path: garbage}, []string{"garbage", "exec format error"}, nil},
		{"bad dir", Config{Path: loop, Dir: filepath.Join(dir, "nodir")}, []string{"loop", "nodir"}, syscall.ENOENT},
		{"shell 127", Config{Path: loop, StartupWithShell: true, Shell: exit127}, []string{"loop", "127"}, nil},
		{"shell 126", Config{Path: loop, StartupWithShell: true, Shell: exit126}, []string{"loop", "126"}, nil},
		{"missing shell", Config{Path: loop, StartupWithShell: true, Shell: filepath.Join(dir, "nosh")}, []string{"loop", "nosh"}, nil},
		{"exec format, sh", Config{Path: garbage, StartupWithShell: true, Shell: "/bin/sh"}, []string{"garbage", "126"}, nil},
		{"missing sh", Config{Path: loop, StartupWithShell: true, Shell: filepath.Join(dir, "sh")}, []string{"loop", dir + "/sh", "no such file"}, syscall.ENOENT},
		{"bad dir, sh", Config{Path: loop, Dir: filepath.Join(dir, "nodir"), StartupWithShell: true, Shell: "/bin/sh"}, []string{"loop", "nodir"}, syscall.ENOENT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := launchCfg(t, tt.cfg)
			if err == nil {
				cleanup(t, p)
				t.Fatal("Launch succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %v", err, tt.is)
			}
		})
	}
	after := children(t)
	for pid := range after {
		if !before[pid] {
			t.Errorf("process %d left behind", pid)
		}
	}
}

func TestExitAndSignaled(t *testing.T) {
	p, _ := launch(t, "exit")
	cont(t, p)
	ev := next(t, p)
	if ev.Kind != target.EventExited || ev.ExitCode != 42 {
		t.Fatalf("%+v, want exit 42", ev)
	}
	if ev, ok := p.NextEvent(); ok {
		t.Fatalf("event %+v after the final event", ev)
	}
	if err := p.Resume(nil); !errors.Is(err, target.ErrExited) {
		t.Errorf("Resume after exit: %v, want ErrExited", err)
	}
	if _, err := p.ReadMemory(0x400000, make([]byte, 4)); !errors.Is(err, target.ErrExited) {
		t.Errorf("ReadMemory after exit: %v, want ErrExited", err)
	}

	p, _ = launch(t, "exit", "signal")
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopSignal || st.Signal != target.Signal(unix.SIGTERM) {
		t.Fatalf("%+v, want SIGTERM", st)
	}
	if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: st.Signal}}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, p); ev.Kind != target.EventSignaled || ev.Signal != target.Signal(unix.SIGTERM) {
		t.Fatalf("%+v, want killed by SIGTERM", ev)
	}
}

func TestSignals(t *testing.T) {
	p, _ := launch(t, "signals")
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopSignal || st.Signal != target.Signal(unix.SIGUSR1) || len(st.SigInfo) != 128 {
		t.Fatalf("%+v, want SIGUSR1 with siginfo", st)
	}
	if st.SigCode != siTkill { // raise() is tgkill
		t.Errorf("si_code %d, want SI_TKILL", st.SigCode)
	}
	cont(t, p) // discard SIGUSR1 (its default action would kill)
	st = onlyStop(t, next(t, p))
	if st.Reason != target.StopSignal || st.Signal != target.SIGSEGV {
		t.Fatalf("%+v, want SIGSEGV", st)
	}
	if err := p.Resume([]target.Action{{Kind: target.Continue, Signal: target.SIGSEGV}}); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, p); ev.Kind != target.EventSignaled || ev.Signal != target.SIGSEGV {
		t.Fatalf("%+v, want killed by SIGSEGV", ev)
	}
}

func TestKill(t *testing.T) {
	t.Run("stopped", func(t *testing.T) {
		p, _ := launch(t, "loop")
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, p); ev.Kind != target.EventSignaled || ev.Signal != target.SIGKILL {
			t.Fatalf("%+v, want SIGKILL", ev)
		}
	})
	t.Run("running", func(t *testing.T) {
		p, _ := launch(t, "many", "8", "spin")
		cont(t, p)
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, p); ev.Kind != target.EventSignaled || ev.Signal != target.SIGKILL {
			t.Fatalf("%+v, want SIGKILL", ev)
		}
		if err := p.Kill(); !errors.Is(err, target.ErrExited) {
			t.Errorf("second Kill: %v, want ErrExited", err)
		}
	})
}

func TestAttachDetach(t *testing.T) {
	bin := program(t, "many")
	cmd := exec.Command(bin, "4", "spin")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pid := cmd.Process.Pid
	// Wait until the 4 workers exist and have named themselves.
	deadline := time.Now().Add(eventTimeout)
	for {
		ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		named := 0
		for _, e := range ents {
			if tid, _ := strconv.Atoi(e.Name()); threadName(pid, tid) == "worker" {
				named++
			}
		}
		if len(ents) == 5 && named == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d threads, want 5", len(ents))
		}
		runtime.Gosched()
	}
	p, err := attachPid(t, pid)
	if err != nil {
		t.Fatal(err)
	}
	threads, err := p.Threads()
	if err != nil || len(threads) != 5 || threads[0].Tid != target.Tid(pid) {
		t.Fatalf("Threads() = %v, %v; want 5, main first", threads, err)
	}
	for _, th := range threads[1:] {
		if th.Name != "worker" {
			t.Errorf("thread %d named %q, want worker", th.Tid, th.Name)
		}
	}
	for _, th := range threads {
		if st := procState(int(th.Tid)); st != "t" {
			t.Errorf("thread %d state %q, want t", th.Tid, st)
		}
	}
	// Already traced: a second attach names us.
	if _, err := attachPid(t, pid); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("already traced by process %d", os.Getpid())) {
		t.Errorf("second Attach: %v, want already traced by %d", err, os.Getpid())
	}
	cont(t, p)
	p.Interrupt()
	if ev := next(t, p); !ev.Interrupted || len(ev.Threads) != 5 {
		t.Fatalf("%+v, want interrupted with 5 threads", ev)
	}
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	if ev, ok := p.NextEvent(); ok {
		t.Fatalf("event %+v after Detach", ev)
	}
	// Untraced and running on.
	if tp := tracerTid(pid, pid); tp != 0 {
		t.Errorf("TracerPid %d after Detach", tp)
	}
	for _, th := range threads {
		if st := procState(int(th.Tid)); st == "t" || st == "T" {
			t.Errorf("thread %d state %q after Detach", th.Tid, st)
		}
	}
	if err := p.Resume(nil); !errors.Is(err, target.ErrExited) {
		t.Errorf("Resume after Detach: %v", err)
	}
}

func TestAttachErrors(t *testing.T) {
	if _, err := attachPid(t, 1<<22); err == nil || !errors.Is(err, unix.ESRCH) || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("Attach(missing) = %v, want no such process (ESRCH)", err)
	}
	p, _ := launch(t, "loop")
	if _, err := attachPid(t, p.Pid()); err == nil || !strings.Contains(err.Error(), "already traced by process") {
		t.Errorf("Attach(traced) = %v, want already traced", err)
	}
}

func TestDetachLaunched(t *testing.T) {
	p, bin := launch(t, "loop")
	tick := symbol(t, bin, "tick")
	if err := p.InsertBreakpoint(tick); err != nil {
		t.Fatal(err)
	}
	cont(t, p)
	st := onlyStop(t, next(t, p))
	if st.Reason != target.StopBreakpoint {
		t.Fatalf("%+v", st)
	}
	// A watchpoint image too: Detach clears it.
	if err := p.SetDebugRegisters(debugRegs(watchWrite(symbol(t, bin, "counter"), 8))); err != nil {
		t.Fatal(err)
	}
	pid := p.Pid()
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	// Not killed, running, the int3 gone (it would kill it with SIGTRAP).
	// Watch it run: counter grows.
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	f.ReadAt(b[:], int64(tick))
	if b[0] == int3 {
		t.Errorf("int3 left at tick after Detach")
	}
	counter := symbol(t, bin, "counter")
	read := func() uint64 {
		var c [8]byte
		f.ReadAt(c[:], int64(counter))
		return le.Uint64(c[:])
	}
	c0 := read()
	deadline := time.Now().Add(eventTimeout)
	for read() == c0 {
		if time.Now().After(deadline) {
			t.Fatal("the detached program does not run")
		}
		runtime.Gosched()
	}
	if st := procState(pid); st != "R" && st != "S" {
		t.Errorf("state %q after Detach", st)
	}
	unix.Kill(pid, unix.SIGKILL)
	var ws unix.WaitStatus
	unix.Wait4(pid, &ws, 0, nil) // it is our child: the tracer thread forked it
}

// TestTracerForgets: processes that ended or were detached leave the
// Tracer's tables, and tracing starts no goroutine.
func TestTracerForgets(t *testing.T) {
	tr := tracerFor(t)
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		p, _ := launch(t, "exit")
		cont(t, p)
		next(t, p)
		if ev, ok := p.NextEvent(); ok {
			t.Fatalf("event %+v after the last", ev)
		}
	}
	p, _ := launch(t, "loop")
	if err := p.Detach(); err != nil {
		t.Fatal(err)
	}
	unix.Kill(p.Pid(), unix.SIGKILL)
	var ws unix.WaitStatus
	unix.Wait4(p.Pid(), &ws, 0, nil) // a child of this thread
	if len(tr.procs) != 0 || len(tr.tids) != 0 {
		t.Errorf("tracer still holds %d processes and %d threads", len(tr.procs), len(tr.tids))
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines, %d before", n, before)
	}
}

// TestTerminalForeground runs only with a controlling terminal on stderr
// (for example under `script`): the program gets the terminal's
// foreground, and the server gets it back at the end.
func TestTerminalForeground(t *testing.T) {
	fg, err := unix.IoctlGetInt(2, unix.TIOCGPGRP)
	if err != nil || fg != unix.Getpgrp() {
		t.Skip("stderr is not a terminal this process group holds")
	}
	p, _ := launch(t, "loop")
	if got, _ := unix.IoctlGetInt(2, unix.TIOCGPGRP); got != p.Pid() {
		t.Errorf("foreground group %d after Launch, want the program's %d", got, p.Pid())
	}
	cleanup(t, p)
	if got, _ := unix.IoctlGetInt(2, unix.TIOCGPGRP); got != fg {
		t.Errorf("foreground group %d at the end, want ours %d", got, fg)
	}
}
