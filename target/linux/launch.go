package linux

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"gdbserverx/internal/procfs"
)

// Config says how Launch starts a program, as gdbserver's command line
// and gdb's `run` (vRun and the Q packets before it) say.
type Config struct {
	// Path is the program. Without a slash it is searched in the PATH of
	// Env (of the server's environment when Env is nil), as execvp does.
	Path string
	// Args is argv, argv[0] included; nil means {Path}. With the shell,
	// argv[0] is the path (a shell's exec cannot set it).
	Args []string
	// Env is the environment; nil means the server's.
	Env []string
	// Dir is the working directory; "" means the server's.
	Dir string
	// StartupWithShell runs `$SHELL -c "exec PROG ARGS"`, each word
	// quoted, as gdbserver does by default (its --startup-with-shell).
	StartupWithShell bool
	// Shell is the shell for StartupWithShell; "" means $SHELL, else
	// /bin/sh.
	Shell string
	// DisableRandomization sets personality(ADDR_NO_RANDOMIZE).
	DisableRandomization bool
	// Stdin, Stdout and Stderr are the program's; nil means the server's
	// own (the program shares the server's terminal, as with gdbserver).
	Stdin, Stdout, Stderr *os.File
}

// ptrace options. EXITKILL only for a launched process: if the server
// dies, the program it started dies with it; an attached one lives on.
const (
	seizeOptions = unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_TRACESYSGOOD |
		unix.PTRACE_O_TRACEEXIT | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
		unix.PTRACE_O_TRACEVFORKDONE
	launchOptions = seizeOptions | unix.PTRACE_O_EXITKILL
)

// trampolineEnv names the environment variable that turns a copy of this
// binary into the launch trampoline (see init below).
const trampolineEnv = "GDBSERVERX_TRAMPOLINE"

// File descriptors of the trampoline.
const (
	trampolineConfigFD = 3 // a memfd with the gob-encoded trampolineConfig
	trampolineErrorFD  = 4 // close-on-exec pipe: why execve failed
)

// trampolineConfig is what the trampoline needs to start the program.
type trampolineConfig struct {
	Path    string // absolute path of the program, or of the shell
	Argv    []string
	Env     []string
	NoASLR  bool
	Program string // the program as the user named it, for messages
	// Shell: Argv is a shell's command (its exit status 126 and 127 mean
	// it could not run the program). Direct: that command stops the shell
	// itself first, and the shell is started without the trampoline.
	Shell, Direct bool
}

// launch starts cfg's program stopped at its first instruction (the
// PTRACE_EVENT_EXEC stop of the program: with the shell, the shell's own
// exec passes by) and returns the traced process. No event is sent for
// this first stop.
//
// How: PTRACE_SEIZE needs a process to exist before its exec, stopped.
// A fresh copy of this binary (/proc/self/exe) is started as a trampoline
// in its own process group, the way gdbserver puts its inferior in one;
// it stops itself with SIGSTOP; the tracer seizes it, continues it, and it
// calls execve. The trampoline's other (Go runtime) threads are not traced
// and die at the execve. With startup-with-shell and a POSIX shell, the
// shell itself is the trampoline (forkShell).
//
// Launch fails, naming the program and leaving no process behind, when
// the program is missing or not executable, when execve fails, or when
// the shell exits before running it (126, 127).
func launchOn(t *Tracer, cfg Config) (*Process, error) {
	if cfg.Path == "" {
		return nil, errors.New("launch: no program")
	}
	env := cfg.Env
	if env == nil {
		env = os.Environ()
	}
	path, err := findProgram(cfg.Path, cfg.Dir, env)
	if err != nil {
		return nil, fmt.Errorf("launch %s: %w", cfg.Path, err)
	}
	argv := cfg.Args
	if len(argv) == 0 {
		argv = []string{cfg.Path}
	}
	tc := trampolineConfig{Path: path, Argv: argv, Env: env, NoASLR: cfg.DisableRandomization, Program: cfg.Path}
	execs := 1
	if cfg.StartupWithShell {
		shell := cfg.Shell
		if shell == "" {
			shell = os.Getenv("SHELL")
		}
		if shell == "" {
			shell = "/bin/sh"
		}
		cmd := "exec " + shellQuote(path)
		for _, a := range argv[1:] {
			cmd += " " + shellQuote(a)
		}
		tc.Path, tc.Argv, tc.Shell = shell, []string{shell, "-c", cmd}, true
		execs = 2
		if stopsItself(shell) {
			// The shell stops itself (untraced, as the trampoline does)
			// and is seized there; then its exec is the program's.
			tc.Argv[2] = "kill -STOP $$ && " + cmd
			tc.Direct, execs = true, 1
		}
	}
	p := newProcess(t)
	if err := p.startProgram(cfg, tc, execs); err != nil {
		t.forget(p)
		return nil, err
	}
	p.probeRegisters()
	p.worldStopped = true
	t.adopt(p)
	return p, nil
}

// stopsItself says whether shell is one whose `kill -STOP $$ && exec
// ...` the launch can rely on: the POSIX shells by name.
func stopsItself(shell string) bool {
	switch filepath.Base(shell) {
	case "sh", "bash", "dash", "zsh", "ksh", "mksh", "ash":
		return true
	}
	return false
}

// findProgram resolves the program as execvp would and checks that it is
// an executable file, so that the common mistakes are reported before
// anything is forked.
func findProgram(name, dir string, env []string) (string, error) {
	check := func(p string) error {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() {
			return syscall.EISDIR
		}
		if err := unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS); err != nil {
			return err
		}
		return nil
	}
	if strings.Contains(name, "/") {
		p := name
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		p, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		if err := check(p); err != nil {
			return "", unwrapPath(err)
		}
		return p, nil
	}
	pathVar := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathVar = v
		}
	}
	var first error
	for _, d := range filepath.SplitList(pathVar) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, name)
		if !filepath.IsAbs(p) && dir != "" {
			p = filepath.Join(dir, p)
		}
		err := check(p)
		if err == nil {
			return filepath.Abs(p)
		}
		if first == nil && !errors.Is(err, os.ErrNotExist) {
			first = unwrapPath(err)
		}
	}
	if first != nil {
		return "", first
	}
	return "", fmt.Errorf("not found in PATH: %w", syscall.ENOENT)
}

// unwrapPath drops the *PathError wrapper: the caller names the program.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// shellQuote quotes s as one word for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '_' || r == '-' || r == '+' || r == ',' || r == ':' || r == '=' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// startProgram runs on the Tracer's thread, which becomes the parent and
// the tracer of the trampoline (or of the shell that stops itself).
func (p *Process) startProgram(cfg Config, tc trampolineConfig, execs int) (err error) {
	var pid int
	var errR *os.File // why execve failed, from the trampoline
	if tc.Direct {
		pid, err = forkShell(cfg, tc)
	} else {
		pid, errR, err = forkTrampoline(cfg, tc)
	}
	if err != nil {
		return forkError(cfg, tc, err)
	}
	if errR != nil {
		defer errR.Close()
	}
	p.pid = pid
	reaped := false
	defer func() {
		if err != nil && !reaped {
			// Leave nothing behind: kill the trampoline (or the program)
			// and reap it.
			unix.Kill(pid, unix.SIGKILL)
			for {
				_, ws, werr := p.c.wait4(pid, true)
				if werr != nil || ws.Exited() || ws.Signaled() {
					break
				}
			}
		}
	}()
	failed := func(ws unix.WaitStatus) error {
		reaped = true
		return launchFailed(tc, ws, errR)
	}

	// 1. The trampoline stops itself (not traced yet: WUNTRACED).
	ws, err := p.waitUntraced(pid)
	if err != nil {
		return fmt.Errorf("launch %s: wait: %w", tc.Program, err)
	}
	if ws.Exited() || ws.Signaled() {
		return failed(ws)
	}
	// 2. Seize it, then end its group-stop. Seizing a stopped task makes
	// it re-trap with PTRACE_EVENT_STOP; SIGCONT ends the job-control
	// stop for every thread (the trampoline's untraced ones included).
	if err := p.c.ptrace(unix.PTRACE_SEIZE, pid, 0, launchOptions); err != nil {
		return fmt.Errorf("launch %s: seize: %w", tc.Program, err)
	}
	if err := unix.Kill(pid, unix.SIGCONT); err != nil {
		return fmt.Errorf("launch %s: continue: %w", tc.Program, err)
	}
	// 3. Let it run to the program's exec.
	return p.runToExec(pid, cfg, tc, execs, failed)
}

// forkError says why the trampoline or the shell could not be started.
func forkError(cfg Config, tc trampolineConfig, err error) error {
	if cfg.Dir != "" && errors.Is(err, syscall.ENOENT) {
		if _, serr := os.Stat(cfg.Dir); serr != nil {
			return fmt.Errorf("launch %s: working directory %s: %w", tc.Program, cfg.Dir, err)
		}
	}
	if tc.Direct {
		return fmt.Errorf("launch %s: shell %s: %w", tc.Program, tc.Path, err)
	}
	return fmt.Errorf("launch %s: %w", tc.Program, err)
}

// launchFailed says why the program ended (status ws) before its exec:
// the trampoline's message on errR, or the shell's exit status.
func launchFailed(tc trampolineConfig, ws unix.WaitStatus, errR *os.File) error {
	var msg []byte
	if errR != nil {
		msg, _ = io.ReadAll(errR)
	}
	switch {
	case len(msg) > 0:
		return fmt.Errorf("launch %s: %s", tc.Program, msg)
	case tc.Shell && ws.Exited() && ws.ExitStatus() == 126:
		return fmt.Errorf("launch %s: the shell could not execute it (exit status 126)", tc.Program)
	case tc.Shell && ws.Exited() && ws.ExitStatus() == 127:
		return fmt.Errorf("launch %s: the shell could not find it (exit status 127)", tc.Program)
	case ws.Exited():
		return fmt.Errorf("launch %s: exited with status %d before it started", tc.Program, ws.ExitStatus())
	default:
		return fmt.Errorf("launch %s: killed by signal %d before it started", tc.Program, ws.Signal())
	}
}

// waitUntraced waits until child pid, not traced yet, stops or ends.
func (p *Process) waitUntraced(pid int) (unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WUNTRACED|waitAll, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ws, err
		}
		p.c.waits++
		if ws.Exited() || ws.Signaled() || ws.Stopped() {
			return ws, nil
		}
	}
}

// runToExec runs the seized trampoline or shell pid until the program's
// exec (the execs-th PTRACE_EVENT_EXEC), passing its own signals and
// letting a child it forks go untraced; failed reports an end before it.
func (p *Process) runToExec(pid int, cfg Config, tc trampolineConfig, execs int, failed func(unix.WaitStatus) error) error {
	for {
		_, ws, err := p.c.wait4(pid, true)
		if err != nil {
			return fmt.Errorf("launch %s: wait: %w", tc.Program, err)
		}
		if ws.Exited() || ws.Signaled() {
			return failed(ws)
		}
		sig := 0
		switch ev := stopEvent(ws); ev {
		case unix.PTRACE_EVENT_EXEC:
			execs--
			if execs == 0 {
				return p.launched(cfg)
			}
		case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
			// A shell that forks: let the child go untraced.
			if msg, err := p.c.eventMsg(pid); err == nil {
				p.c.wait4(int(msg), true)
				p.c.ptrace(unix.PTRACE_DETACH, int(msg), 0, 0)
			}
		case 0:
			s := ws.StopSignal()
			if s != unix.SIGCONT && s != unix.SIGSTOP && s != unix.SIGTRAP|0x80 {
				sig = int(s) // the trampoline's (Go runtime) or the shell's own
			}
		}
		if err := p.c.ptrace(unix.PTRACE_CONT, pid, 0, uintptr(sig)); err != nil {
			return fmt.Errorf("launch %s: continue: %w", tc.Program, err)
		}
	}
}

// stdio is the descriptor a child gets for f: f's, or def, the server's
// own, untouched (Fd would make it blocking).
func stdio(f *os.File, def uintptr) uintptr {
	if f != nil {
		return f.Fd()
	}
	return def
}

// forkTrampoline starts a copy of this binary as the trampoline, with tc
// in a memfd and a pipe for why execve failed, which it returns.
func forkTrampoline(cfg Config, tc trampolineConfig) (pid int, errR *os.File, err error) {
	var blob bytes.Buffer
	if err := gob.NewEncoder(&blob).Encode(tc); err != nil {
		return 0, nil, err
	}
	mfd, err := unix.MemfdCreate("gdbserverx-launch", unix.MFD_CLOEXEC)
	if err != nil {
		return 0, nil, err
	}
	cfgFile := os.NewFile(uintptr(mfd), "launch-config")
	defer cfgFile.Close()
	if _, err := cfgFile.Write(blob.Bytes()); err != nil {
		return 0, nil, err
	}
	if _, err := cfgFile.Seek(0, io.SeekStart); err != nil {
		return 0, nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return 0, nil, err
	}
	attr := &syscall.ProcAttr{
		Dir: cfg.Dir,
		// No asynchronous preemption in the trampoline: a SIGURG the Go
		// runtime sent to the main thread just before execve would stay
		// pending into the program.
		Env: append(os.Environ(), trampolineEnv+"=1", "GODEBUG="+godebug()),
		Files: []uintptr{
			stdio(cfg.Stdin, 0), stdio(cfg.Stdout, 1), stdio(cfg.Stderr, 2),
			cfgFile.Fd(), errW.Fd(),
		},
		Sys: &syscall.SysProcAttr{
			// A process group of its own, as gdbserver gives its inferior
			// (gdbserver/fork-child.cc postfork_child_hook).
			Setpgid: true,
			// Until it is seized (then PTRACE_O_EXITKILL takes over), the
			// trampoline dies with this thread. It clears this before
			// execve: the program must survive Detach.
			Pdeathsig: syscall.SIGKILL,
		},
	}
	// ForkExec forks on this (locked) thread: the child is this thread's,
	// which wait4 with __WNOTHREAD needs.
	pid, err = syscall.ForkExec("/proc/self/exe", []string{"gdbserverx-launch"}, attr)
	errW.Close()
	runtime.KeepAlive(cfg) // its files, whose descriptors were passed as numbers
	if err != nil {
		errR.Close()
		return 0, nil, err
	}
	return pid, errR, nil
}

// forkShell starts tc's shell, whose command stops it before the exec of
// the program, without the trampoline: a second Go runtime starting cost
// milliseconds of the server's start (bench.py -b connect, "server start
// to Listening on port"; the figure is in bench/RESULTS.md, section
// "target/linux"). What the trampoline does in the child is done here
// instead:
//   - no address randomization: personality is inherited through fork
//     and execve from the forking thread, this locked one; it is set for
//     the fork and then put back;
//   - default signal dispositions: the kernel resets caught signals at
//     execve but keeps ignored ones, and the server ignores SIGINT and
//     SIGPIPE (and may have been started with SIGHUP ignored), which a
//     shell cannot undo (POSIX: "signals that were ignored on entry to a
//     non-interactive shell cannot be trapped or reset"). For the fork
//     they are caught instead (and dropped), then ignored again.
//
// No parent-death signal: it would outlive the exec into the program,
// which must survive Detach. If the server dies before it seizes the
// shell, the stopped shell's process group is orphaned and the kernel
// sends it SIGHUP.
func forkShell(cfg Config, tc trampolineConfig) (int, error) {
	attr := &syscall.ProcAttr{
		Dir:   cfg.Dir,
		Env:   tc.Env,
		Files: []uintptr{stdio(cfg.Stdin, 0), stdio(cfg.Stdout, 1), stdio(cfg.Stderr, 2)},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	if tc.NoASLR {
		restore, err := noRandomization()
		if err != nil {
			return 0, err
		}
		defer restore()
	}
	defer catchIgnored()()
	pid, err := syscall.ForkExec(tc.Path, tc.Argv, attr)
	runtime.KeepAlive(cfg)
	return pid, err
}

// noRandomization sets ADDR_NO_RANDOMIZE in the calling thread's
// personality, which the programs it executes (and its children's)
// inherit; restore puts the previous personality back.
func noRandomization() (restore func(), err error) {
	const addrNoRandomize = 0x0040000
	persona, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, 0xffffffff, 0, 0)
	if e == 0 {
		_, _, e = unix.RawSyscall(unix.SYS_PERSONALITY, persona|addrNoRandomize, 0, 0)
	}
	if e != 0 {
		return nil, fmt.Errorf("disable address randomization: %w", e)
	}
	return func() { unix.RawSyscall(unix.SYS_PERSONALITY, persona, 0, 0) }, nil
}

var ignoredMu sync.Mutex

// catchIgnored makes every ignored signal caught (and dropped) until the
// returned function ignores them again.
func catchIgnored() (restore func()) {
	ignoredMu.Lock()
	var sigs []os.Signal
	for sig := 1; sig < 65; sig++ {
		// SIGKILL and SIGSTOP cannot be caught; 32 and 33 are glibc's
		// and unknown to os/signal.
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) || sig == 32 || sig == 33 {
			continue
		}
		if signal.Ignored(syscall.Signal(sig)) {
			sigs = append(sigs, syscall.Signal(sig))
		}
	}
	if len(sigs) == 0 {
		ignoredMu.Unlock()
		return func() {}
	}
	drop := make(chan os.Signal, 1)
	signal.Notify(drop, sigs...)
	return func() {
		signal.Ignore(sigs...)
		ignoredMu.Unlock()
	}
}

// godebug is the server's GODEBUG with asynchronous preemption off.
func godebug() string {
	if v := os.Getenv("GODEBUG"); v != "" {
		return v + ",asyncpreemptoff=1"
	}
	return "asyncpreemptoff=1"
}

// launched sets up the tracer's tables at the program's exec stop.
func (p *Process) launched(cfg Config) error {
	pid := p.pid
	mem, err := openMemory(pid)
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	h, err := os.FindProcess(pid)
	if err != nil {
		mem.close()
		return fmt.Errorf("launch: %w", err)
	}
	p.mem, p.handle = mem, h
	th := p.addThread(pid, stopped, unknownDR)
	th.dr.Control = 0 // exec flushed the debug registers
	th.stop = stopInSyscall
	th.launchExec = true
	// Give the terminal to the program's process group, as gdbserver does
	// (fork-child.cc post_fork_inferior), if it is ours to give.
	fd := 2
	if cfg.Stderr != nil {
		fd = int(cfg.Stderr.Fd())
	}
	p.term = foreground(fd, pid)
	runtime.KeepAlive(cfg)
	return nil
}

// terminal remembers the foreground process group to give back.
type terminal struct {
	fd, pgrp int
}

// foreground makes pgrp the foreground process group of the terminal fd
// when that terminal's foreground group is ours now.
func foreground(fd, pgrp int) *terminal {
	cur, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
	if err != nil || cur != unix.Getpgrp() {
		return nil
	}
	// Once the program has the terminal, the server is in the background
	// and setting it back would stop it with SIGTTOU (gdbserver ignores
	// it too).
	signal.Ignore(syscall.SIGTTOU)
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pgrp); err != nil {
		return nil
	}
	return &terminal{fd: fd, pgrp: cur}
}

func (t *terminal) restore() {
	if t != nil {
		unix.IoctlSetPointerInt(t.fd, unix.TIOCSPGRP, t.pgrp)
	}
}

// The trampoline. A copy of the server's binary started by launch runs
// this from a package init, before main and before the other packages'
// inits: it must not depend on them.
func init() {
	if os.Getenv(trampolineEnv) == "" {
		return
	}
	// The main goroutine stays on the main thread, whose tid is the pid:
	// the tracer seizes that thread, and it is the one that calls execve.
	runtime.LockOSThread()
	trampoline()
}

func trampoline() {
	errPipe := os.NewFile(trampolineErrorFD, "launch-errors")
	fail := func(format string, args ...any) {
		fmt.Fprintf(errPipe, format, args...)
		os.Exit(127)
	}
	unix.CloseOnExec(trampolineErrorFD)
	cfgFile := os.NewFile(trampolineConfigFD, "launch-config")
	var tc trampolineConfig
	if err := gob.NewDecoder(cfgFile).Decode(&tc); err != nil {
		fail("trampoline: read configuration: %v", err)
	}
	cfgFile.Close()
	if tc.NoASLR {
		if _, err := noRandomization(); err != nil {
			fail("%v", err)
		}
	}
	// Stop until the tracer has seized this thread. A SIGCONT from anyone
	// else would let it go on untraced: check, and stop again.
	for !traced() {
		if err := unix.Kill(unix.Getpid(), unix.SIGSTOP); err != nil {
			fail("trampoline: stop: %v", err)
		}
	}
	unix.Prctl(unix.PR_SET_PDEATHSIG, 0, 0, 0, 0)
	resetSignals()
	err := syscall.Exec(tc.Path, tc.Argv, tc.Env)
	fail("exec %s: %v", tc.Path, err)
}

// traced says whether this process has a tracer (/proc/self/status).
func traced() bool {
	st, err := procfs.ReadSelfStatus()
	if err != nil {
		return false
	}
	tp, ok := st.Int("TracerPid")
	return ok && tp != 0
}

// resetSignals gives the program default dispositions and an empty
// signal mask. Ignored signals survive execve: the server ignores SIGINT
// and SIGPIPE (and the Go runtime of the trampoline keeps an ignored
// SIGHUP), which the program must not inherit.
func resetSignals() {
	// SIG_IGN first: it also discards any signal still pending (pending
	// signals survive execve).
	ign, dfl := kernelSigaction{handler: 1}, kernelSigaction{}
	for sig := 1; sig <= 64; sig++ {
		if sig == int(unix.SIGKILL) || sig == int(unix.SIGSTOP) {
			continue
		}
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&ign)), 0, 8, 0, 0)
		unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&dfl)), 0, 8, 0, 0)
	}
	var empty uint64
	unix.RawSyscall6(unix.SYS_RT_SIGPROCMASK, unix.SIG_SETMASK, uintptr(unsafe.Pointer(&empty)), 0, 8, 0, 0)
}
