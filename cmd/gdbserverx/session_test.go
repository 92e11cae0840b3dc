package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gdbserverx/internal/gdbtest"
	"gdbserverx/internal/procfs"
)

// These tests start the real gdbserverx binary on real programs from
// testdata/ and drive real gdb against it, as a user would.

func TestMain(m *testing.M) {
	code := m.Run()
	gdbtest.Cleanup()
	os.Exit(code)
}

// serve starts gdbserverx on a free port with the given arguments after
// COMM and returns it.
func serve(t *testing.T, args ...string) *gdbtest.Proc {
	t.Helper()
	return gdbtest.StartServer(t, gdbtest.Server(t), append([]string{"127.0.0.1:0"}, args...)...)
}

// sideBySide are the servers a test runs against: gdbserverx and, when
// installed, GNU gdbserver, by name; the outcomes must be the same.
func sideBySide(t *testing.T) map[string]string {
	servers := map[string]string{"gdbserverx": gdbtest.Server(t)}
	if gnu, err := exec.LookPath("gdbserver"); err == nil {
		servers["gdbserver"] = gnu
	} else {
		t.Log("GNU gdbserver is not installed: no side-by-side run (apt-get install gdbserver)")
	}
	return servers
}

// gdb runs a batch gdb connected to srv with target remote, then cmds.
func gdb(t *testing.T, srv *gdbtest.Proc, cmds ...string) string {
	t.Helper()
	return gdbtest.Batch(t, append([]string{"target remote " + srv.Addr()}, cmds...)...)
}

// contains fails the test unless out matches every pattern.
func contains(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			t.Errorf("gdb output lacks %q\n--- output ---\n%s", p, out)
		}
	}
}

func TestBreakStepFinishPrint(t *testing.T) {
	prog := gdbtest.Program(t, "basic")
	srv := serve(t, prog, "7")
	out := gdb(t, srv,
		"break square",
		"continue",
		"bt",
		"next",
		"print r",
		"finish",
		"print counter",
		"set var counter = 99",
		"print counter",
		"print origin",
		"stepi",
		"info line *$pc",
		"continue",
	)
	contains(t, out,
		`Breakpoint 1, square \(v=5\) at .*basic\.c:18`,
		`#0  square \(v=5\) at .*basic\.c:18\n#1  0x[0-9a-f]+ in main \(argc=2, argv=0x[0-9a-f]+\) at .*basic\.c:27`,
		`\$1 = 25`,
		`Value returned is \$2 = 25`,
		`\$3 = 5`,
		`\$4 = 99`,
		`\$5 = \{x = 1, y = 2\}`,
		`\[Inferior 1 \(process \d+\) exited with code 07\]`,
	)
	// The program's output goes to the server's terminal.
	if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile(`^counter=25 origin=1,2$`), gdbtest.Timeout); err != nil {
		t.Error(err)
	}
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Child exited with status 7$`), gdbtest.Timeout); err != nil {
		t.Error(err)
	}
}

// TestBacktraceThroughLibc needs ld.so and libc from the target (the
// default sysroot "target:"): vFile, auxv and the svr4 library list.
func TestBacktraceThroughLibc(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "basic"))
	out := gdb(t, srv,
		"break printf",
		"continue",
		"bt",
		"info sharedlibrary",
		"kill",
	)
	contains(t, out,
		`from target:/lib64/ld-linux-x86-64.so.2`,
		`Breakpoint 1, (__)?printf \(format=`,
		`#1  0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at .*basic\.c:28`,
		`Yes\s+target:/lib/x86_64-linux-gnu/libc.so.6`,
		`\[Inferior 1 \(process \d+\) killed\]`,
	)
	if strings.Contains(out, "warning: while parsing") {
		t.Errorf("gdb could not parse what the server sent:\n%s", out)
	}
}

func TestInfoRegisters(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "basic"))
	out := gdb(t, srv,
		"break add",
		"continue",
		"info registers",
		"info registers fs_base gs_base",
		"print $fs_base != 0",
		"print $gs_base",
		"print/x $pc == $rip",
		"p/x $xmm0.v2_int64",
		"p $st0",
		"set var $rax = 0x1234",
		"print/x $rax",
		"kill",
	)
	contains(t, out,
		`rax\s+0x`, `rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <add\+\d+>`, `eflags\s+0x[0-9a-f]+\s+\[`,
		`fs_base\s+0x[0-9a-f]+`, `gs_base\s+0x0`,
		`\$1 = 1`, `\$2 = 0`, `\$3 = 0x1`, `\$6 = 0x1234`,
		// Set by the program before it calls add (basic.c, line 25):
		// MOVQ clears the upper half.
		`\$4 = \{0x600dcafe5eed, 0x0\}`,
	)
}

func TestThreadsComeAndGo(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "threads"), "2")
	out := gdb(t, srv,
		"break all_started",
		"continue",
		"info threads",
		"thread 2",
		"bt 1",
		"delete",
		"break wave_done",
		"continue",
		"info threads",
		"continue",
		"continue",
	)
	contains(t, out,
		`Breakpoint 1, all_started`,
		`\* 1    Thread \d+\.\d+ "threads"\s+all_started`,
		`Thread \d+\.\d+ "worker-\d"`,
		`\[Switching to thread 2 \(Thread \d+\.\d+\)\]`,
		`Breakpoint 2, wave_done \(wave=0\)`,
		`exited normally`,
	)
	// After the first wave is joined only the main thread is left.
	i := strings.Index(out, "Breakpoint 2, wave_done")
	if i < 0 || strings.Contains(out[i:], "worker-0\"") {
		t.Errorf("threads of the joined wave are still listed:\n%s", out)
	}
}

func TestSignals(t *testing.T) {
	t.Run("segv", func(t *testing.T) {
		srv := serve(t, gdbtest.Program(t, "signals"), "segv")
		out := gdb(t, srv, "continue", "bt 1", "print $_siginfo.si_signo", "kill")
		contains(t, out,
			`Program received signal SIGSEGV, Segmentation fault\.`,
			`0x[0-9a-f]+ in crash \(p=0x0\) at .*signals\.c:\d+|crash \(p=0x0\) at .*signals\.c:\d+`,
			`\$1 = 11`,
		)
	})
	t.Run("pass", func(t *testing.T) {
		srv := serve(t, gdbtest.Program(t, "signals"), "usr1")
		out := gdb(t, srv, "handle SIGUSR1 nostop noprint pass", "continue")
		contains(t, out, `exited normally`)
		if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile(`^handled=1$`), gdbtest.Timeout); err != nil {
			t.Error(err)
		}
	})
	t.Run("nopass", func(t *testing.T) {
		srv := serve(t, gdbtest.Program(t, "signals"), "usr1")
		out := gdb(t, srv, "handle SIGUSR1 stop print nopass", "continue", "continue")
		contains(t, out, `Program received signal SIGUSR1, User defined signal 1\.`, `exited normally`)
		if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile(`^handled=0$`), gdbtest.Timeout); err != nil {
			t.Error(err)
		}
	})
	t.Run("signal 0", func(t *testing.T) {
		srv := serve(t, gdbtest.Program(t, "signals"), "usr1")
		out := gdb(t, srv, "handle SIGUSR1 stop print pass", "continue", "signal 0")
		contains(t, out, `Program received signal SIGUSR1`, `exited normally`)
		if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile(`^handled=0$`), gdbtest.Timeout); err != nil {
			t.Error(err)
		}
	})
}

func TestExitAndDeath(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "basic"), "3")
	contains(t, gdb(t, srv, "continue"), `\[Inferior 1 \(process \d+\) exited with code 03\]`)
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Errorf("server did not exit after its program did: %v", err)
	}

	srv = serve(t, gdbtest.Program(t, "signals"), "abort")
	out := gdb(t, srv, "handle SIGABRT nostop noprint pass", "continue")
	contains(t, out, `Program terminated with signal SIGABRT, Aborted\.`)
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Child terminated with signal = 6`), gdbtest.Timeout); err != nil {
		t.Error(err)
	}
}

// TestInterrupt sends Ctrl-C to a running program, as an IDE's pause
// button does (gdb/MI -exec-interrupt).
func TestInterrupt(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "spin"))
	mi := gdbtest.StartMI(t)
	if r := mi.Cmd("-target-select remote " + srv.Addr()); r.Class != "connected" {
		t.Fatalf("-target-select: %+v", r)
	}
	if r := mi.Cmd("-exec-continue"); r.Class != "running" {
		t.Fatalf("-exec-continue: %+v", r)
	}
	// Wait until the program runs its loop for real.
	if _, _, err := srv.Stdout.Wait(0, regexp.MustCompile(`ready$`), gdbtest.Timeout); err != nil {
		t.Fatal(err)
	}
	mi.Cmd("-exec-interrupt")
	stopped := mi.Stopped()
	if !strings.Contains(stopped, `reason="signal-received",signal-name="SIGINT"`) {
		t.Errorf("stop after interrupt: %s", stopped)
	}
	r := mi.Cmd("-data-evaluate-expression spins")
	if !regexp.MustCompile(`value="[1-9]\d*"`).MatchString(r.Rest) {
		t.Errorf("spins after interrupt: %s", r.Rest)
	}
	// Resume and interrupt once more: nothing was lost on the way.
	mi.Cmd("-exec-continue")
	mi.Cmd("-exec-interrupt")
	if s := mi.Stopped(); !strings.Contains(s, "SIGINT") {
		t.Errorf("second interrupt: %s", s)
	}
	mi.Cmd("kill")
}

func TestMonitor(t *testing.T) {
	srv := serve(t, gdbtest.Program(t, "spin"))
	out := gdb(t, srv, "monitor help", "monitor bogus", "monitor set debug 2", "monitor exit")
	contains(t, out,
		`(?m)^The following monitor commands are supported:$`,
		`Unknown monitor command "bogus"`,
		`"2": want 0 or 1`,
	)
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Errorf("monitor exit: %v", err)
	}
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Killing process|^Exiting`), gdbtest.Timeout); err != nil {
		t.Error(err)
	}
}

// TestExtendedRemote covers gdb's extended-remote: run, kill, run again,
// attach and detach, against a --multi server.
func TestExtendedRemote(t *testing.T) {
	prog := gdbtest.Program(t, "basic")
	spin := gdbtest.Start(t, gdbtest.Program(t, "spin"))
	_, m, err := spin.Stdout.Wait(0, regexp.MustCompile(`^pid (\d+) ready$`), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--multi", "127.0.0.1:0")
	out := gdbtest.Batch(t,
		"target extended-remote "+srv.Addr(),
		"file "+prog,
		"set remote exec-file "+prog,
		"break square",
		"run",
		"kill",
		"run 5",
		"up",
		"print argc",
		"continue",
		"attach "+m[1],
		"print spins > 0",
		"detach",
		"monitor exit",
	)
	contains(t, out,
		`Breakpoint 1, square \(v=5\)`,
		`\[Inferior 1 \(process \d+\) killed\]`,
		`\$1 = 2`,
		`exited with code 05`,
		`\$2 = 1`,
		`\[Inferior 1 \(process `+m[1]+`\) detached\]`,
	)
	// The detached program still runs: a second attach finds it.
	if spin.Cmd.ProcessState != nil {
		t.Errorf("spin died after detach")
	}
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Errorf("monitor exit: %v", err)
	}
}

func TestAttachOnCommandLine(t *testing.T) {
	spin := gdbtest.Start(t, gdbtest.Program(t, "spin"))
	_, m, err := spin.Stdout.Wait(0, regexp.MustCompile(`^pid (\d+) ready$`), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--attach", "127.0.0.1:0", m[1])
	out := gdb(t, srv, "print spins > 0", "bt 1", "detach")
	contains(t, out, `\$1 = 1`, `#0  (0x[0-9a-f]+ in )?(spin_once|main) \(\)`, `\[Inferior 1 \(process `+m[1]+`\) detached\]`)
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Errorf("server after detach: %v", err)
	}
	// The program lives on untraced.
	pid, _ := strconv.Atoi(m[1])
	status, err := procfs.ReadStatus(pid)
	if tp, ok := status.Int("TracerPid"); err != nil || !ok || tp != 0 {
		t.Errorf("after detach, /proc/%d/status: TracerPid %d, %v (%v)", pid, tp, ok, err)
	}
}

func TestStdioAndUnixSocket(t *testing.T) {
	prog := gdbtest.Program(t, "basic")
	out := gdbtest.Batch(t, "target remote | "+gdbtest.Server(t)+" - "+prog+" 4", "continue")
	contains(t, out, `exited with code 04`)

	sock := t.TempDir() + "/gdbserverx.sock"
	srv := gdbtest.Start(t, gdbtest.Server(t), "unix:"+sock, prog, "6")
	if _, _, err := srv.Stderr.Wait(0, regexp.MustCompile(`^Listening on unix socket `), gdbtest.Timeout); err != nil {
		t.Fatal(err)
	}
	out = gdbtest.Batch(t, "target remote "+sock, "continue")
	contains(t, out, `exited with code 06`)
}

// TestCompareWithGDBServer runs one session against both servers: what
// gdb prints must be the same, addresses and pids aside.
func TestCompareWithGDBServer(t *testing.T) {
	gnu := gdbtest.GNUServer(t)
	prog := gdbtest.Program(t, "basic")
	script := []string{"break square", "continue", "bt", "next", "next", "step", "finish", "info frame", "x/4xb &counter", "continue"}
	norm := regexp.MustCompile(`0x[0-9a-f]+|process \d+|Thread \d+\.\d+|\d+\.\d+ms`)
	var outs []string
	for _, bin := range []string{gnu, gdbtest.Server(t)} {
		srv := gdbtest.StartServer(t, bin, "127.0.0.1:0", prog)
		out := gdb(t, srv, script...)
		outs = append(outs, norm.ReplaceAllString(out, "X"))
		srv.WaitExit(gdbtest.Timeout)
	}
	if outs[0] != outs[1] {
		t.Errorf("gdb printed different things\n--- gdbserver ---\n%s\n--- gdbserverx ---\n%s", outs[0], outs[1])
	}
}

// TestClientVanishes kills gdb while the program runs. With --once the
// server then ends, killing the program it started, as gdbserver does.
func TestClientVanishes(t *testing.T) {
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--once", "127.0.0.1:0", gdbtest.Program(t, "spin"))
	mi := gdbtest.StartMI(t)
	mi.Cmd("-target-select remote " + srv.Addr())
	mi.Cmd("-exec-continue")
	_, m, err := srv.Stdout.Wait(0, regexp.MustCompile(`^pid (\d+) ready$`), gdbtest.Timeout)
	if err != nil {
		t.Fatal(err)
	}
	mi.Kill()
	if _, err := srv.WaitExit(gdbtest.Timeout); err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(m[1])
	if err := gdbtest.WaitGone(pid, gdbtest.Timeout); err != nil {
		t.Errorf("the program outlived its server: %v", err)
	}
}

// TestRemoteGet copies files from the target with `remote get`: gdb reads
// them with vFile:pread in sequence, and the server answers a page first,
// then larger reads while they follow each other. Every byte must come
// through, escapes included.
func TestRemoteGet(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 1<<20+123)
	x := uint32(1)
	for i := range big {
		x = x*1664525 + 1013904223
		big[i] = byte(x >> 24)
	}
	for i := 0; i < len(big); i += 4099 {
		big[i] = "}$#*"[i%4] // the bytes the binary encoding escapes
	}
	files := map[string][]byte{"big": big, "small": []byte("seven b"), "empty": nil}
	var cmds []string
	for name, data := range files {
		if err := os.WriteFile(dir+"/"+name, data, 0o644); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, fmt.Sprintf("remote get %s/%s %s/%s.got", dir, name, dir, name))
	}
	srv := gdbtest.StartServer(t, gdbtest.Server(t), "--vfile-root", dir, "127.0.0.1:0", gdbtest.Program(t, "basic"))
	gdb(t, srv, append(cmds, "kill")...)
	for name, want := range files {
		got, err := os.ReadFile(dir + "/" + name + ".got")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: got %d bytes, want %d, or they differ", name, len(got), len(want))
		}
	}
}
